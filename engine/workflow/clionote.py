"""The note on the Clio matter that records an import (issue 19), and its status in the ledger.

Stage: after the import. In: an `ImportResult` (the client is already recorded: the folder is in
place and the ledger row committed), the Clio user (`who_am_i`) and the computer. Out: the note
written on the matter (`engine.clio.closeloop.create_note`) or why not, kept in the ledger's
`clio_notes` table so that `mapctl clients` shows a failure and `mapctl clients note` can write
it later. A failed note never fails or undoes the import: `write_note` returns the failure,
it does not raise it. No printing, no click.

The table sits next to the ledger's own (engineer A's firm-wide ledger can take it over as it
is): one row per Clio contact, the note's subject and detail as composed at the import (a retry
writes the same words), its status (`written`, `failed`, `off`), the note's id, and what went
wrong.
"""

from __future__ import annotations

import datetime
import socket
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..clio.closeloop import create_note
from ..errors import MapctlError
from .firmledger import FirmClient, FirmLedger, TurnTaken, Workstation
from .importing import ImportResult
from .ledger import ClientEntry, Ledger
from .records import Listed, firm_ledger_for, is_personal, opened

_TABLE = """
CREATE TABLE IF NOT EXISTS clio_notes (
    clio_contact_id INTEGER PRIMARY KEY,
    matter_id       INTEGER NOT NULL,
    status          TEXT NOT NULL,
    note_id         INTEGER,
    message         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    at              TEXT NOT NULL
)
"""
WRITTEN, FAILED, OFF = "written", "failed", "off"


@dataclass(frozen=True)
class NoteStatus:
    """Whether the import's note is on the matter: `written` (with `note_id`), `failed` (with
    what went wrong in `message`) or `off` (`--no-note` / `clio_note: false`)."""

    clio_contact_id: int
    matter_id: int
    status: str
    note_id: int | None
    message: str
    subject: str
    detail: str
    at: str

    def as_json(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["subject"], shown["detail"], shown["clio_contact_id"]
        return shown

    def as_shared(self) -> dict[str, Any]:
        """For a shared output folder's ledger (`extra.note`): `as_json` and the note's words,
        so that any workstation can write the note later (`retry_note_anywhere`). The words are
        the note's own (who, when, the answer file, the counts, the contacts removed and roles
        set, the required answers' names): never an answer's value, so never a sensitive one."""
        shown = asdict(self)
        del shown["clio_contact_id"]
        return shown

    @classmethod
    def from_shared(cls, contact_id: int, data: Any) -> NoteStatus | None:
        """A status as `as_shared` (or an older `as_json`: no words) left it; None for none."""
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            return None

        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return cls(
            contact_id,
            number("matter_id") or 0,
            text("status"),
            number("note_id"),
            text("message"),
            text("subject"),
            text("detail"),
            text("at"),
        )


class NoteAlreadyWritten(MapctlError):
    """`retry_note_anywhere`: the note is on the matter already (`status`: the record that says
    so); nothing was written."""

    def __init__(self, name: str, status: NoteStatus) -> None:
        super().__init__(
            f"the note for {name} is already on the matter (Clio note {status.note_id})",
            hint="nothing to do",
        )
        self.status = status


class NoteBeingWritten(MapctlError):
    """`retry_note_anywhere`: another workstation (`by`, since `since`) is writing the note in
    its turn right now; nothing was written here."""

    def __init__(self, name: str, by: Workstation, since: str) -> None:
        super().__init__(
            f"{by.label} is writing the note for {name} on the matter now (since {since})",
            hint="`mapctl clients` shows in a moment whether it was written; if it failed, try "
            "again",
        )
        self.by = by
        self.since = since


def newest(*statuses: NoteStatus | None) -> NoteStatus | None:
    """Of a client's note statuses in several records (this home's, the shared folder's): a
    written one (the note is on the matter, whichever record says so), else the latest."""
    known = [s for s in statuses if s is not None]
    written = [s for s in known if s.status == WRITTEN]
    if written:
        return written[0]
    return max(known, key=lambda s: s.at, default=None)


def computer_name() -> str:
    return socket.gethostname() or "this computer"


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _listed(items: list[str]) -> str:
    return "; ".join(items) if items else "none"


def import_note(
    result: ImportResult, user: str, computer: str, when: datetime.datetime
) -> tuple[str, str]:
    """(subject, detail) of the note, in plain words."""
    preview = result.preview
    removed = [f"{c.name} ({c.id})" for c in preview.excluded]
    roles = [f"{c.name} ({c.id}): {c.role}" for c in preview.roles_set]
    lines = [
        f"{result.entry.name} was imported to InterActive LegalSuite (ILS) as a new client by "
        "mapctl.",
        f"Who: {user} (Clio user), on the computer {computer}",
        f"When: {_when(when)}",
        f"Answer file: {result.answer_file.name}",
        f"Folder: {result.folder}",
        f"Answers pre-filled: {result.filled} of {result.total}",
        f"Contacts removed: {_listed(removed)}",
        f"Roles set by hand: {_listed(roles)}",
        f"Required answers still missing: {_listed(list(result.unanswered))}",
    ]
    return f"Imported to ILS: {result.entry.name}", "\n".join(lines)


def forget_note(
    entry: ClientEntry, user: str, computer: str, when: datetime.datetime
) -> tuple[str, str]:
    """(subject, detail) of the note `mapctl clients forget` leaves on the matter."""
    lines = [
        f"mapctl forgot the ILS client {entry.name} (Clio contact {entry.clio_contact_id}): "
        "this matter's client may be imported to ILS again.",
        f"Who: {user} (Clio user), on the computer {computer}",
        f"When: {_when(when)}",
        f"It was imported {entry.created_at}; its answer file was {entry.answer_file}",
    ]
    return f"ILS import forgotten: {entry.name}", "\n".join(lines)


def user_name(user: dict[str, Any]) -> str:
    """The Clio user's name as `who_am_i` gives it."""
    return str(user.get("name") or user.get("email") or "a Clio user")


def write_note(
    open_client: Callable[[], Any],
    matter_id: int,
    compose: Callable[[str], tuple[str, str]],
    user: str | None = None,
) -> tuple[str, int | None, str, str, str]:
    """Ask who is connected (unless `user` is known: the CLI asks while it fetches), compose
    the note with that name, write it on the matter. -> (status, note id, message, subject,
    detail); never raises a `MapctlError` (no permission, Clio down, a timeout, not connected:
    a `failed` status with Clio's words)."""
    subject, detail = compose(user or "a Clio user")
    try:
        with open_client() as client:
            if user is None:
                subject, detail = compose(user_name(client.who_am_i()))
            note = create_note(client, matter_id, subject, detail)
    except MapctlError as error:
        hint = f" ({error.hint})" if error.hint else ""
        return FAILED, None, error.message + hint, subject, detail
    ident = note.get("id")
    return WRITTEN, ident if isinstance(ident, int) else None, "", subject, detail


def record_note(ledger: Ledger, status: NoteStatus) -> None:
    """Keep (replace) the note's status for this contact in the ledger file."""
    db: sqlite3.Connection = ledger._db  # the ledger's own connection: one file, one lock
    try:
        db.execute(_TABLE)
        db.execute(
            "INSERT OR REPLACE INTO clio_notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                status.clio_contact_id,
                status.matter_id,
                status.status,
                status.note_id,
                status.message,
                status.subject,
                status.detail,
                status.at,
            ),
        )
    except sqlite3.Error as error:
        raise MapctlError(f"cannot write the client ledger {ledger.path}: {error}") from error


def note_statuses(ledger: Ledger) -> dict[int, NoteStatus]:
    """Every contact's note status ({} for a ledger that never had one)."""
    db: sqlite3.Connection = ledger._db
    try:
        if not db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'clio_notes'"
        ).fetchone():
            return {}
        rows = db.execute("SELECT * FROM clio_notes").fetchall()
    except sqlite3.Error as error:
        raise MapctlError(f"cannot read the client ledger {ledger.path}: {error}") from error
    return {row[0]: NoteStatus(*row) for row in rows}


def note_after_import(
    result: ImportResult,
    ledger: Ledger,
    open_client: Callable[[], Any],
    *,
    now: datetime.datetime,
    wanted: bool,
    user: str | None = None,
) -> NoteStatus:
    """The import's note (or `off`), written and recorded; a failure comes back as a status.
    `user`: the Clio user's name when already known (else `who_am_i` is asked)."""
    matter_id = result.entry.matter_id
    contact = result.entry.clio_contact_id
    computer = computer_name()
    at = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not wanted or matter_id is None:
        subject, detail = import_note(result, "a Clio user", computer, now)
        status = NoteStatus(contact, matter_id or 0, OFF, None, "", subject, detail, at)
    else:
        outcome = write_note(
            open_client, matter_id, lambda who: import_note(result, who, computer, now), user
        )
        status = NoteStatus(contact, matter_id, outcome[0], outcome[1], outcome[2],
                            outcome[3], outcome[4], at)  # fmt: skip
    record_note(ledger, status)
    return status


def retry_note(
    ledger: Ledger, contact_id: int, open_client: Callable[[], Any], *, now: datetime.datetime
) -> NoteStatus:
    """Write the note an import could not write (or chose not to) now, with the words composed
    at the import; `MapctlError` when the ledger has no such client or its note is written."""
    entry = ledger.find_by_contact(contact_id)
    if entry is None:
        raise ledger.not_in_ledger(contact_id)
    if entry.matter_id is None:
        raise MapctlError(f"{entry.name} (Clio contact {contact_id}) has no Clio matter recorded")
    known = note_statuses(ledger).get(contact_id)
    if known is not None and known.status == WRITTEN:
        raise NoteAlreadyWritten(entry.name, known)
    if known is None:  # imported before notes existed: a short note from the ledger row
        subject, detail = _short_note(entry)
    else:
        subject, detail = known.subject, known.detail
    outcome = write_note(open_client, entry.matter_id, lambda user: (subject, detail))
    at = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = NoteStatus(contact_id, entry.matter_id, outcome[0], outcome[1], outcome[2],
                        subject, detail, at)  # fmt: skip
    record_note(ledger, status)
    return status


def _short_note(entry: ClientEntry) -> tuple[str, str]:
    """The words for a client whose import composed none (imported before notes existed)."""
    subject = f"Imported to ILS: {entry.name}"
    detail = (
        f"{entry.name} was imported to InterActive LegalSuite (ILS) as a new client by "
        f"mapctl on {_when(known_time(entry))}; answer file {entry.answer_file}"
    )
    return subject, detail


def _already_written(name: str, known: NoteStatus) -> MapctlError:
    return NoteAlreadyWritten(name, known)


@dataclass(frozen=True)
class Retried:
    """What `retry_note_anywhere` did: the note's status now, and what could not be recorded
    (the note stands; lines for stderr)."""

    status: NoteStatus
    warnings: tuple[str, ...] = ()


def _shared_folder_of(
    home: Path, out_dir: Path | str | None, entry: ClientEntry | None
) -> FirmLedger | None:
    """The shared ledger that records this client: for a client of this home's ledger, the one
    of the folder its answer file is in (whatever `out_dir` says), else `out_dir`'s; None when
    that is the personal folder or has no shared ledger."""
    folder: Path | str | None = out_dir
    if entry is not None:
        answer_file = Path(entry.answer_file)
        if not answer_file.is_absolute() or is_personal(home, answer_file.parent.parent):
            return None
        folder = answer_file.parent.parent
    firm = firm_ledger_for(home, folder)
    return firm if firm is not None and firm.exists() else None


def retry_note_anywhere(
    home: Path,
    out_dir: Path | str | None,
    contact_id: int,
    open_client: Callable[[], Any],
    *,
    now: datetime.datetime,
    who: Workstation,
) -> Retried:
    """`mapctl clients note` on any workstation: write the note an import could not write.

    A client of this home's ledger in the personal folder (or in a folder without a shared
    ledger): `retry_note`. A client of a shared output folder, imported here or at another
    workstation: the note's words come from this home's ledger, else from the shared ledger's
    `extra.note` (as composed at the import); refused when either record says the note is
    written; written in this workstation's turn (`FirmLedger.turn`: two desks retrying at once
    write one note; the shared record is read again in the turn, just before writing); the
    outcome recorded firm-wide, and in this home's ledger when it holds the client.
    `MapctlError` when no ledger has the client, its note is written, or another workstation
    is writing it now."""
    with Ledger.open(home) as ledger:
        entry = ledger.find_by_contact(contact_id)
        firm = _shared_folder_of(home, out_dir, entry)
        shared = firm.get(contact_id) if firm is not None else None
        if entry is not None and (shared is None or not shared.done):
            shared = None  # the shared ledger does not (yet) hold this home's client
        if firm is None or shared is None:
            if entry is None and firm is not None:
                client = firm.get(contact_id)
                if client is not None and not client.done:
                    raise MapctlError(
                        f"the import of {client.entry.name} (Clio contact {contact_id}) has not "
                        f"finished: {client.imported_by.label} started it at {client.claimed_at}",
                        hint="`mapctl clients` lists the imports not finished",
                    )
                raise firm.not_in_ledger(contact_id)
            return Retried(retry_note(ledger, contact_id, open_client, now=now))
        return _retry_shared(ledger, entry, firm, shared, open_client, now=now, who=who)


def _retry_shared(
    ledger: Ledger,
    entry: ClientEntry | None,
    firm: FirmLedger,
    shared: FirmClient,
    open_client: Callable[[], Any],
    *,
    now: datetime.datetime,
    who: Workstation,
) -> Retried:
    contact_id, name = shared.contact_id, shared.entry.name
    matter_id = (entry or shared.entry).matter_id
    if matter_id is None:
        raise MapctlError(f"{name} (Clio contact {contact_id}) has no Clio matter recorded")
    mine = note_statuses(ledger).get(contact_id) if entry is not None else None
    known = newest(mine, NoteStatus.from_shared(contact_id, shared.extra.get("note")))
    if known is not None and known.status == WRITTEN:
        raise _already_written(name, known)
    try:
        with firm.turn(contact_id, shared.token, "note", who):
            fresh = firm.get(contact_id)  # just before writing: another desk's retry may be done
            if fresh is None or not fresh.done or fresh.token != shared.token:
                raise MapctlError(
                    f"{name} (Clio contact {contact_id}) changed in the shared client ledger "
                    "meanwhile (forgotten?); no note was written",
                    hint="`mapctl clients` lists the clients now",
                )
            theirs = NoteStatus.from_shared(contact_id, fresh.extra.get("note"))
            known = newest(mine, theirs)
            if known is not None and known.status == WRITTEN:
                raise _already_written(name, known)
            return _write_and_record(ledger, entry, firm, fresh, mine, theirs, open_client, now)
    except TurnTaken as taken:
        raise NoteBeingWritten(name, taken.by, taken.since) from None


def _write_and_record(
    ledger: Ledger,
    entry: ClientEntry | None,
    firm: FirmLedger,
    client: FirmClient,
    mine: NoteStatus | None,
    theirs: NoteStatus | None,
    open_client: Callable[[], Any],
    now: datetime.datetime,
) -> Retried:
    """Write the note in the words composed at the import (this home's, else the shared
    record's, else a short note from the entry), then record the outcome: firm-wide first
    (what every desk reads), then in this home's ledger when it holds the client."""
    contact_id = client.contact_id
    words = next((s for s in (mine, theirs) if s is not None and s.subject and s.detail), None)
    subject, detail = (words.subject, words.detail) if words else _short_note(entry or client.entry)
    matter_id = (entry or client.entry).matter_id or 0
    outcome = write_note(open_client, matter_id, lambda user: (subject, detail))
    at = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = NoteStatus(contact_id, matter_id, outcome[0], outcome[1], outcome[2],
                        subject, detail, at)  # fmt: skip
    warnings = []
    try:
        firm.update_extra(contact_id, {"note": status.as_shared()})
    except MapctlError as error:
        seen = " (other workstations still see it as not written)" if outcome[0] == WRITTEN else ""
        warnings.append(
            f"the shared client ledger could not record the note's status{seen}: {error}"
        )
    if entry is not None:
        try:
            record_note(ledger, status)
            ledger.update_extra(contact_id, {"note": status.as_shared()})
        except MapctlError as error:
            warnings.append(
                f"this workstation's ledger could not record the note's status: {error}"
            )
    return Retried(status, tuple(warnings))


def home_note_statuses(home: Path) -> dict[int, NoteStatus]:
    """This home's note statuses (`note_statuses`), {} when it has no ledger (never creates
    one)."""
    with opened(home, create=False) as ledger:
        return note_statuses(ledger) if ledger is not None else {}


def recorded_note(listed: Listed) -> dict[str, Any] | None:
    """The note's status the entry's own record keeps (`extra.note`: the shared ledger's for a
    client of a shared folder, left by whichever workstation wrote or tried the note last)."""
    extra = listed.firm.extra if listed.firm is not None else listed.extra
    note = extra.get("note") if isinstance(extra, Mapping) else None
    return note if isinstance(note, dict) else None


def listed_note(listed: Listed, mine: Mapping[int, NoteStatus]) -> tuple[NoteStatus | None, bool]:
    """A listed client's Clio note (`mapctl clients`, the app's Clients page): (its status,
    whether it is this home's record `mine`): a written note whichever record says so (another
    desk may have written it since), else the latest of this home's record and the entry's
    `extra.note`; None for a client with neither (imported before notes existed)."""
    contact = listed.entry.clio_contact_id
    own = mine.get(contact)
    theirs = NoteStatus.from_shared(contact, recorded_note(listed))
    chosen = newest(own, theirs)
    return chosen, chosen is not None and chosen is own


def known_time(entry: ClientEntry) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(entry.created_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.datetime.now(datetime.UTC)
