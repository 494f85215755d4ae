"""The firm-wide ledger: the record of the clients created in a shared output folder, kept in
that folder (`<output folder>/.mapctl/clients/`) and read and written by every workstation that
imports there (issue 15). New clients only, for the whole firm.

Stage: beside `ledger` (the personal ledger of one MAPCTL_HOME), under `importing`,
`forgetting` and `commands/clients.py`. No printing, no click.

Safe on a network share (SMB 2/3, NFS 3/4; see docs/limits-and-safety.md): no SQLite and no
byte-range locks on the share. Only these operations are relied on:

- the exclusive create of a file (`O_CREAT|O_EXCL`; Windows `CREATE_NEW`): of two workstations
  creating `<contact id>.json` at once, exactly one succeeds. That file is the *claim* on the
  Clio contact, written once and never rewritten;
- the rename of a file within one folder, atomic: a claim leaves (forgotten, released) in one
  step, and the small side files (`extra`, `forget`) are written to a temporary name and
  renamed over the old one (`os.replace`), so readers see the old or the new file, whole;
- fsync of what was written before it counts.

Files of one claim (T is the claim's random token; a re-import after a forget gets a new one):

    <id>.json                  the claim: the client, who imported it (user, computer), when
    <id>.T.done                the import finished (its folder is in place); created once
    <id>.T.extra-KEY.json      a field added later (`update_extra`: e.g. `note`, the Clio note)
    <id>.T.forget.json         who forgot the client, when, whether the folder was deleted
    <id>.T.forgotten.json      the claim of a forgotten client (renamed from <id>.json)
    <id>.T.released.json       the claim of an import that never finished, taken back
    <id>.T.release.json        who took it back, when, why
    <id>.T.turn-WHAT.json      one workstation at a time doing WHAT (`turn`: e.g. `note`,
                               writing the Clio note); removed when done

A claim without its `done` file is *pending*: the import is running, or was stopped (a kill, a
power cut, a crash of its computer). The rule (`recover`): a pending claim whose folder is in
place with its answer file (the checksum the claim records) is finished by whoever sees it; one
whose folder is not in place is taken back by its own computer once the importing process is
gone, by anyone once the claim is `ABANDONED_AFTER` old by the share's clock, or at once by an
admin (`mapctl clients recover CONTACT_ID`). Ages are measured on the file server's clock (the
claim's modification time against a file created now), never against a workstation's clock.

Answer files are recorded relative to the output folder, so each workstation sees them where it
mounts the share (`P:\\clients\\...` on one desk, `/mnt/share/clients/...` on another).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import getpass
import json
import os
import re
import socket
import stat
import sys
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ImportInProgress, ImportRefused, MapctlError
from ..fsutil import O_BINARY, fsync_folder, make_folders, set_mode, write_all
from .ledger import ClientEntry, ForgottenEntry, folder_in_place

RECORD_FOLDER = ".mapctl"  # in the output folder
CLAIMS_FOLDER = "clients"  # in RECORD_FOLDER
FORMAT = 1
ABANDONED_AFTER = 30 * 60.0  # seconds on the share's clock: a live import holds a claim < 1 s
_READ_RETRIES = 5
_EXTRA_KEY = re.compile(
    r"[A-Za-z0-9_-]{1,40}"
)  # a claim just created may be empty for a moment: read it again
# Test hooks (never documented for users): the user and computer names a test "workstation"
# records. Real runs take them from the operating system.
TEST_USER_ENV = "MAPCTL_TEST_USER"
TEST_COMPUTER_ENV = "MAPCTL_TEST_COMPUTER"


@dataclass(frozen=True)
class Workstation:
    """Who does something to the firm-wide ledger: the user, the computer, the MAPCTL_HOME and
    the process (the last two tell a stopped import from a running one on the same computer)."""

    user: str
    computer: str
    home: str = ""
    pid: int = 0

    @classmethod
    def current(cls, home: Path | str = "", env: Mapping[str, str] | None = None) -> Workstation:
        env = os.environ if env is None else env
        user = env.get(TEST_USER_ENV) or _user()
        computer = env.get(TEST_COMPUTER_ENV) or env.get("COMPUTERNAME") or socket.gethostname()
        return cls(user, computer, str(home), os.getpid())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """`ann on DESK-2`"""
        return f"{self.user} on {self.computer}"

    @classmethod
    def from_json(cls, data: Any) -> Workstation:
        data = data if isinstance(data, dict) else {}
        pid = data.get("pid")
        return cls(
            str(data.get("user") or "?"),
            str(data.get("computer") or "?"),
            str(data.get("home") or ""),
            pid if isinstance(pid, int) else 0,
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a service account without USERNAME)
        return "unknown"


@dataclass(frozen=True)
class FirmClient:
    """One client in the firm-wide ledger, as this workstation sees it (`entry.answer_file` is
    absolute under this workstation's path to the output folder)."""

    entry: ClientEntry
    imported_by: Workstation
    claimed_at: str
    token: str
    done: bool
    extra: dict[str, Any] = field(default_factory=dict)
    migrated_from: str | None = None
    record: str = ""  # the claim file

    @property
    def contact_id(self) -> int:
        return self.entry.clio_contact_id

    def as_json(self) -> dict[str, Any]:
        """The entry's fields, then who imported it and the ledger's own fields."""
        return {
            **self.entry.as_json(),
            "imported_by": {"user": self.imported_by.user, "computer": self.imported_by.computer},
            "state": "done" if self.done else "pending",
            **({"extra": self.extra} if self.extra else {}),
            **({"migrated_from": self.migrated_from} if self.migrated_from else {}),
        }

    def describe(self) -> str:
        """`imported by ann on DESK-2 at 2026-03-02T10:30:05Z from matter 00002-Pritchett; its
        answer file is P`"""
        matter = self.entry.matter_display_number or f"id {self.entry.matter_id}"
        return (
            f"imported by {self.imported_by.label} at {self.entry.created_at} from matter "
            f"{matter}; its answer file is {self.entry.answer_file}"
        )


@dataclass(frozen=True)
class FirmForgotten:
    """A client forgotten firm-wide: the client, when, by whom, and whether its folder went."""

    client: FirmClient
    forgotten_at: str
    forgotten_by: Workstation
    folder_deleted: bool

    def as_forgotten_entry(self) -> ForgottenEntry:
        return ForgottenEntry(self.client.entry, self.forgotten_at, self.folder_deleted)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.as_forgotten_entry().as_json(),
            "imported_by": {
                "user": self.client.imported_by.user,
                "computer": self.client.imported_by.computer,
            },
            "forgotten_by": {
                "user": self.forgotten_by.user,
                "computer": self.forgotten_by.computer,
            },
        }


@dataclass
class Recovery:
    """What `recover` did and left: claims finished, taken back, and still pending."""

    finished: list[FirmClient] = field(default_factory=list)
    released: list[tuple[FirmClient | None, str, str]] = field(default_factory=list)  # why
    pending: list[tuple[FirmClient | None, str, float]] = field(default_factory=list)  # age s


@dataclass
class Migration:
    """What meeting this workstation's personal ledger did (`migrate`)."""

    added: list[ClientEntry] = field(default_factory=list)
    dropped: list[ClientEntry] = field(default_factory=list)  # forgotten firm-wide meanwhile
    conflicts: list[tuple[ClientEntry, FirmClient]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.dropped or self.conflicts)

    def describe(self, ledger: Path, record: Path) -> list[str]:
        """One line per kind of change, for the command's output and doctor."""
        lines = []
        if self.added:
            names = ", ".join(f"{e.name} ({e.clio_contact_id})" for e in self.added)
            lines.append(
                f"added {_count(self.added, 'client')} from this workstation's ledger {ledger} "
                f"to the shared ledger {record}: {names}"
            )
        if self.dropped:
            names = ", ".join(f"{e.name} ({e.clio_contact_id})" for e in self.dropped)
            lines.append(
                f"{_count(self.dropped, 'client')} of this workstation's ledger "
                f"{'was' if len(self.dropped) == 1 else 'were'} forgotten firm-wide meanwhile, "
                f"and forgotten here too: {names}"
            )
        for entry, firm in self.conflicts:
            lines.append(
                f"Clio contact {entry.clio_contact_id} ({entry.name}) has two client folders: "
                f"{Path(entry.answer_file).parent} (this workstation's ledger) and "
                f"{Path(firm.entry.answer_file).parent} ({firm.describe()}); the shared ledger "
                "keeps the second: check which one ILS uses"
            )
        return lines


def _count(items: Collection[object], word: str) -> str:
    return f"{len(items)} {word}{'s' if len(items) != 1 else ''}"


def utc_stamp(seconds: float | None = None) -> str:
    """UTC ISO 8601, seconds, `Z` (as the personal ledger writes times)."""
    import datetime

    moment = datetime.datetime.fromtimestamp(
        time.time() if seconds is None else seconds, datetime.UTC
    )
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def already_imported(client: FirmClient) -> ImportRefused:
    """The refusal for a contact the firm-wide ledger holds: who, when, from where, and where.
    Never advises moving, renaming or deleting the client's folder."""
    entry = client.entry
    if not client.done:
        return being_imported(client)
    return ImportRefused(
        f"{entry.name} (Clio contact {entry.clio_contact_id}) already exists: {client.describe()}",
        hint="mapctl creates new clients only, for the whole firm: open the existing client in "
        "ILS instead (if it was imported by mistake or deleted in ILS: mapctl clients forget "
        f"{entry.clio_contact_id})",
    )


def being_imported(client: FirmClient) -> ImportInProgress:
    entry = client.entry
    since = f" since {client.claimed_at}" if client.claimed_at != "?" else ""
    into = f" (into {entry.answer_file})" if entry.answer_file != "?" else ""
    return ImportInProgress(
        f"{entry.name} (Clio contact {entry.clio_contact_id}) is being imported by "
        f"{client.imported_by.label}{since}{into}",
        hint="wait a minute and look again (mapctl clients); if that import was stopped (its "
        "computer crashed), it is taken back automatically after "
        f"{int(ABANDONED_AFTER // 60)} minutes, or at once by an admin: mapctl clients recover "
        f"{entry.clio_contact_id}",
    )


class TurnTaken(MapctlError):
    """Another workstation's turn at something on a client runs now (`FirmLedger.turn`)."""

    def __init__(self, by: Workstation, since: str) -> None:
        super().__init__(f"{by.label} is at it since {since}")
        self.by = by
        self.since = since


def _rename(source: Path, target: Path, *, replace: bool = False) -> None:
    """`os.rename` (or `os.replace`), tried again for a moment when Windows refuses because
    another workstation has the file open just now (a sharing violation: PermissionError)."""
    move = os.replace if replace else os.rename
    for attempt in range(_RENAME_TRIES):
        try:
            move(source, target)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == _RENAME_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


_RENAME_TRIES = 8


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _entry_json(entry: ClientEntry, folder: Path) -> dict[str, Any]:
    data = entry.as_json()
    data["answer_file"] = _relative(entry.answer_file, folder)
    return data


def _relative(answer_file: str, folder: Path) -> str:
    """The answer file relative to the output folder, with `/` (the same on every desk)."""
    try:
        return Path(answer_file).relative_to(folder).as_posix()
    except ValueError:
        return answer_file  # not under the folder (not expected): kept as written


def under(answer_file: str, folder: Path) -> bool:
    """Whether an answer file lies in a client folder directly in `folder`."""
    return Path(answer_file).parent.parent == folder


class _Listing(set[str]):
    """The names in the record folder, with an index of the extra fields' files (made once per
    listing, so that listing N clients reads the names once, not N times)."""

    _index: dict[tuple[int, str], list[str]] | None = None

    def extras(self) -> dict[tuple[int, str], list[str]]:
        if self._index is None:
            index: dict[tuple[int, str], list[str]] = {}
            for name in sorted(self):
                contact, _, rest = name.partition(".")
                token, _, tail = rest.partition(".extra-")
                if contact.isdigit() and tail.endswith(".json") and "." not in token:
                    index.setdefault((int(contact), token), []).append(tail[: -len(".json")])
            self._index = index
        return self._index


class FirmLedger:
    """The firm-wide ledger of one output folder. Cheap to make: nothing is read or created
    until asked (`exists`, a lookup, a claim)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).absolute()
        self.root = self.folder / RECORD_FOLDER
        self.path = self.root / CLAIMS_FOLDER
        self._modes: tuple[int, int] | None = None

    def modes(self) -> tuple[int, int]:
        """(folder mode, file mode) of the ledger: the output folder's permission bits, so that
        everyone who may make client folders there may read and write the ledger (on a POSIX
        share: NFS, Samba with POSIX permissions; Windows shares go by their ACLs, inherited).
        An output folder mapctl makes itself is private (0700), and so is its ledger."""
        if self._modes is None:
            try:
                bits = stat.S_IMODE(os.stat(self.folder).st_mode) | 0o700
            except OSError:
                bits = 0o700
            self._modes = (bits, bits & 0o666)
        return self._modes

    # --- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.is_dir()

    def _names(self) -> _Listing:
        """One listing of the record folder (empty when there is none yet)."""
        try:
            with os.scandir(self.path) as entries:
                return _Listing(e.name for e in entries)
        except FileNotFoundError:
            return _Listing()
        except OSError as error:
            raise self._error("read", error) from None

    def lookup(self, contact_ids: Iterable[int]) -> dict[int, FirmClient]:
        """The firm-wide entries (done or pending) of these contacts: one listing of the record
        folder, then one read per contact the record holds (for search rows and previews)."""
        names = self._names()
        found = {}
        for contact_id in set(contact_ids):
            if f"{contact_id}.json" in names:
                client = self._client(contact_id, names)
                if client is not None:
                    found[contact_id] = client
        return found

    def get(self, contact_id: int) -> FirmClient | None:
        """This contact's entry (done or pending), or None."""
        return self.lookup([contact_id]).get(contact_id)

    def list_clients(self, *, pending: bool = False) -> list[FirmClient]:
        """Every client whose import finished (with `pending`: only the unfinished ones),
        oldest first."""
        names = self._names()
        found = []
        for name in names:
            stem = name.removesuffix(".json")
            if name.endswith(".json") and stem.isdigit():
                client = self._client(int(stem), names)
                if client is not None and client.done != pending:
                    found.append(client)
        return sorted(found, key=lambda c: (c.entry.created_at, c.contact_id))

    def list_forgotten(self) -> list[FirmForgotten]:
        """Every client forgotten firm-wide, oldest first."""
        found = []
        names = self._names()
        for name in names:
            parts = name.split(".")
            if len(parts) == 4 and parts[2] == "forgotten" and parts[0].isdigit():
                contact, token = int(parts[0]), parts[1]
                claim = self._read_claim(self.path / name, contact, names, forgotten=True)
                if claim is None:
                    continue
                info = self._read_json(self.path / f"{contact}.{token}.forget.json") or {}
                found.append(
                    FirmForgotten(
                        claim,
                        str(info.get("forgotten_at") or "?"),
                        Workstation.from_json(info.get("forgotten_by")),
                        bool(info.get("folder_deleted")),
                    )
                )
        return sorted(found, key=lambda f: (f.forgotten_at, f.client.contact_id))

    def _client(self, contact_id: int, names: set[str]) -> FirmClient | None:
        path = self.path / f"{contact_id}.json"
        for attempt in range(_READ_RETRIES):
            client = self._read_claim(path, contact_id, names)
            if client is not None or not path.exists():
                return client
            time.sleep(0.02 * (attempt + 1))  # just created: its content comes in a moment
            names = self._names()
        return self._unreadable(contact_id)

    def _unreadable(self, contact_id: int) -> FirmClient:
        """A claim with no readable content yet (being written, or its writer died at once):
        who made it, when its intent says."""
        by = Workstation("?", "?")
        for name in sorted(self._names()):
            if name.startswith(f"{contact_id}.") and name.endswith(".intent.json"):
                data = self._read_json(self.path / name)
                by = Workstation.from_json(data.get("by") if isinstance(data, dict) else None)
                break
        entry = ClientEntry("A client", "", contact_id, None, None, "?", "", "", "?")
        return FirmClient(entry, by, "?", "", False, record="unreadable")

    def _read_claim(
        self, path: Path, contact_id: int, names: set[str], *, forgotten: bool = False
    ) -> FirmClient | None:
        """The claim at `path` (None when unreadable), done or not as the listing `names`
        says (checked on the share when the listing does not show it: listings may be cached);
        a forgotten claim was done."""
        data = self._read_json(path)
        if data is None:
            return None
        try:
            raw = dict(data["client"])
            raw["answer_file"] = self._answer_path(raw["answer_file"])
            entry = ClientEntry(**raw)
            token = str(data["token"])
        except (KeyError, TypeError, ValueError):
            return None
        if entry.clio_contact_id != contact_id:
            return None
        done_name = f"{contact_id}.{token}.done"
        done = forgotten or done_name in names or (self.path / done_name).exists()
        extra = self._extra(contact_id, token, names)
        return FirmClient(
            entry,
            Workstation.from_json(data.get("imported_by")),
            str(data.get("claimed_at") or "?"),
            token,
            done,
            extra,
            data.get("migrated_from") if isinstance(data.get("migrated_from"), str) else None,
            str(path),
        )

    def _extra(self, contact_id: int, token: str, names: set[str]) -> dict[str, Any]:
        """A claim's extra fields, one file each (`update_extra`), found in the listing."""
        listing = names if isinstance(names, _Listing) else _Listing(names)
        found = {}
        for key in listing.extras().get((contact_id, token), []):
            value = self._read_json(self.path / f"{contact_id}.{token}.extra-{key}.json")
            if value is not None:
                found[key] = value
        return found

    def _answer_path(self, recorded: Any) -> str:
        """A recorded answer file (relative to the output folder, `/`-separated) as this
        workstation sees it. One that would lead out of the folder (absolute, `..`: a claim
        file edited by hand) is not followed: "?" (the app never serves a file outside)."""
        relative = PurePosixPath(str(recorded))
        if relative.is_absolute() or ".." in relative.parts or ":" in str(recorded):
            return "?"
        return str(self.folder.joinpath(*relative.parts))

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:
            return None
        except OSError as error:
            raise self._error("read", error) from None

    # --- writing ------------------------------------------------------------------------------

    def _error(self, verb: str, error: OSError) -> MapctlError:
        return MapctlError(
            f"cannot {verb} the shared client ledger {self.path}: {error.strerror or error}",
            hint="check that the share is reachable and that you may write in it",
        )

    def _ensure(self) -> list[Path]:
        """Make the record's folders when missing (the output folder too: private, as every
        folder mapctl makes); returns those made, deepest first."""
        if self.path.is_dir():
            return []
        try:
            made = make_folders(self.folder)
            folder_mode = self.modes()[0]
            for folder in (self.root, self.path):
                try:
                    os.mkdir(folder, folder_mode)
                except FileExistsError:
                    if not folder.is_dir():
                        raise
                    continue
                os.chmod(folder, folder_mode)  # whatever the umask
                made.insert(0, folder)
            return made
        except OSError as error:
            raise self._error("create", error) from None

    def _create(self, path: Path, data: bytes) -> bool:
        """Create `path` exclusively with `data`, fsynced; False when it exists."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY
        mode = self.modes()[1]
        try:
            fd = os.open(path, flags, mode)
        except FileExistsError:
            return False
        except OSError as error:
            raise self._error("write", error) from None
        try:
            set_mode(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
        except OSError as error:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise self._error("write", error) from None
        os.close(fd)
        return True

    def _replace(self, path: Path, data: bytes) -> None:
        """Write `path` whole: a temporary file in the same folder, fsynced, renamed over it."""
        tmp = self.path / f".tmp-{uuid.uuid4().hex}"
        try:
            if not self._create(tmp, data):  # pragma: no cover - a random name taken
                raise FileExistsError(errno.EEXIST, "temporary name taken")
            _rename(tmp, path, replace=True)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise self._error("write", error) from None
        fsync_folder(self.path)

    def server_now(self) -> float:
        """The file server's time now: the modification time of a file created there (every
        age in this ledger is measured on that one clock, never a workstation's)."""
        self._ensure()
        probe = self.path / f".probe-{uuid.uuid4().hex}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.modes()[1])
            try:
                os.write(fd, b"probe")
                return os.fstat(fd).st_mtime
            finally:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(probe)
        except OSError as error:
            raise self._error("write", error) from None

    def _claim_json(
        self, entry: ClientEntry, who: Workstation, token: str, migrated_from: str | None = None
    ) -> bytes:
        return _dump(
            {
                "format": FORMAT,
                "token": token,
                "client": _entry_json(entry, self.folder),
                "imported_by": who.as_json(),
                "claimed_at": utc_stamp(),
                **({"migrated_from": migrated_from} if migrated_from else {}),
            }
        )

    def claim(self, entry: ClientEntry, who: Workstation) -> str:
        """Claim the contact for this import (pending); returns the claim's token.
        `ImportRefused` (saying who has it) when any workstation holds a claim on it."""
        self._ensure()
        token = uuid.uuid4().hex
        path = self.path / f"{entry.clio_contact_id}.json"
        try:
            created = self._create_claim(path, self._claim_json(entry, who, token), who, token)
        except MapctlError:
            if self.path.is_dir():
                raise
            self._ensure()  # another import's failure took the empty folder back just now
            created = self._create_claim(path, self._claim_json(entry, who, token), who, token)
        if not created:
            holder = self.get(entry.clio_contact_id)
            if holder is None:  # taken back between the two steps: try once more
                return self.claim(entry, who)
            raise already_imported(holder)
        fsync_folder(self.path)
        return token

    def _create_claim(self, path: Path, data: bytes, who: Workstation, token: str) -> bool:
        """The exclusive create of a claim, `who` about to make it written whole first (an
        *intent*): a kill between the create and the claim's content leaves an empty claim,
        which the intent explains (`recover`). The intent goes once the claim is written (or
        lost). False when the claim exists."""
        intent = path.with_name(f"{path.stem}.{token}.intent.json")
        self._replace(intent, _dump({"by": who.as_json()}))
        try:
            return self._create(path, data)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(intent)

    def finish(self, contact_id: int, token: str, who: Workstation) -> None:
        """Mark the claim done (its folder is in place). `MapctlError` when the claim is no
        longer this import's (taken back as abandoned meanwhile): the caller removes its folder."""
        done = self.path / f"{contact_id}.{token}.done"
        self._create(done, _dump({"finished_at": utc_stamp(), "finished_by": who.as_json()}))
        fsync_folder(self.path)
        current = self._read_json(self.path / f"{contact_id}.json")
        if not isinstance(current, dict) or current.get("token") != token:
            with contextlib.suppress(OSError):
                os.unlink(done)
            raise MapctlError(
                f"the claim of Clio contact {contact_id} in the shared client ledger "
                f"{self.path} was taken back while this import ran (it seemed abandoned); "
                "nothing was imported",
                hint="import again",
            )

    def release(
        self, contact_id: int, token: str, who: Workstation, reason: str, *, keep: bool = True
    ) -> bool:
        """Take a pending claim back (its import never finished). With `keep`, the claim is
        renamed (`.released.json`, with who and why beside it); without, removed (the import's
        own failure). False when the claim is no longer the one with `token`."""
        path = self.path / f"{contact_id}.json"
        current = self._read_json(path)
        if current is not None and (not isinstance(current, dict) or current.get("token") != token):
            return False
        if current is None and token:
            return False
        try:
            if keep:
                mark = token or uuid.uuid4().hex  # an unreadable claim: a name of its own
                self._replace(
                    self.path / f"{contact_id}.{mark}.release.json",
                    _dump(
                        {"released_at": utc_stamp(), "released_by": who.as_json(), "why": reason}
                    ),
                )
                _rename(path, self.path / f"{contact_id}.{mark}.released.json")
            else:
                os.unlink(path)
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._error("write", error) from None
        fsync_folder(self.path)
        return True

    @contextmanager
    def reserve(self, entry: ClientEntry, who: Workstation) -> Iterator[str]:
        """Claim the contact, run the block (which puts the folder in place), mark it done. An
        exception in the block removes the claim; a kill leaves it pending for `recover`."""
        created = self._ensure()  # the output folder too, when missing: taken back on failure
        try:
            token = self.claim(entry, who)
        except BaseException:
            _remove_empty(created)
            raise
        try:
            yield token
        except BaseException:
            with contextlib.suppress(MapctlError):
                self.release(entry.clio_contact_id, token, who, "the import failed", keep=False)
            _remove_empty(created)
            raise
        self.finish(entry.clio_contact_id, token, who)

    def update_extra(self, contact_id: int, fields: Mapping[str, Any]) -> FirmClient:
        """Add or change fields of a finished client's entry (e.g. `{"note": {"status": "ok"}}`).
        Each field is one small file written whole (a temporary file renamed over the old one):
        readers see a field's old value or its new one, and two workstations updating different
        fields at once never undo each other (put what belongs together in one field's value).
        The claim itself is never rewritten, so an update can never bring back a client
        forgotten meanwhile. `MapctlError` when there is no finished client for this contact,
        or a field's name is not a short word (letters, digits, `_`, `-`)."""
        for key in fields:
            if not _EXTRA_KEY.fullmatch(key):
                raise MapctlError(
                    f"{key!r} cannot name an extra field of a ledger entry",
                    hint="use up to 40 letters, digits, '_' or '-'",
                )
        client = self.get(contact_id)
        if client is None or not client.done:
            raise MapctlError(
                f"Clio contact {contact_id} has no finished client in the shared client ledger "
                f"{self.path}"
            )
        for key, value in fields.items():
            self._replace(self.path / f"{contact_id}.{client.token}.extra-{key}.json", _dump(value))
        return dataclasses.replace(client, extra={**client.extra, **fields})

    @contextmanager
    def turn(self, contact_id: int, token: str, what: str, who: Workstation) -> Iterator[None]:
        """One workstation at a time doing `what` to the client of this claim (e.g. `note`:
        writing its Clio note, which two desks retrying at once must not write twice): the
        block runs while `<id>.<token>.turn-WHAT.json` exists, created exclusively (as a claim
        is) and removed when the block ends. `TurnTaken` (who, since when) while another's turn
        runs. A turn whose process was stopped (a kill, a crash) is taken over: at once by its
        own computer once the process is gone, by any workstation once it is `ABANDONED_AFTER`
        old by the share's clock."""
        if not _EXTRA_KEY.fullmatch(what):
            raise MapctlError(f"{what!r} cannot name a turn in the shared client ledger")
        path = self.path / f"{contact_id}.{token}.turn-{what}.json"
        mine = uuid.uuid4().hex
        data = _dump({"by": who.as_json(), "since": utc_stamp(), "turn": mine})
        if not self._create(path, data):
            self._take_over(path, who)  # TurnTaken when that turn may still run
            if not self._create(path, data):  # another workstation took it over first
                raise self._turn_taken(path)
        fsync_folder(self.path)
        try:
            yield
        finally:
            current = self._read_json(path)
            if isinstance(current, dict) and current.get("turn") == mine:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _turn_taken(self, path: Path) -> TurnTaken:
        data = self._read_json(path)
        data = data if isinstance(data, dict) else {}
        return TurnTaken(Workstation.from_json(data.get("by")), str(data.get("since") or "?"))

    def _take_over(self, path: Path, who: Workstation) -> None:
        """Remove a turn left by a stopped process (see `turn`); `TurnTaken` for one that may
        still run. Renamed away first (one step: of two workstations taking it over, one
        renames it), then deleted."""
        taken = self._turn_taken(path)
        stopped = (
            taken.by.computer == who.computer
            and taken.by.pid > 0
            and not process_alive(taken.by.pid)
        )
        if not stopped:
            try:
                age = self.server_now() - path.stat().st_mtime
            except FileNotFoundError:
                return  # ended just now
            if age < ABANDONED_AFTER:
                raise taken
        aside = path.with_name(f"{path.name}.{uuid.uuid4().hex}.stale")
        try:
            _rename(path, aside)
        except FileNotFoundError:
            return  # ended, or taken over by another workstation just now
        except OSError as error:
            raise self._error("write", error) from None
        with contextlib.suppress(OSError):
            os.unlink(aside)

    @contextmanager
    def forgetting(
        self, contact_id: int, who: Workstation, forgotten_at: str, *, folder_deleted: bool
    ) -> Iterator[FirmClient]:
        """Forget the contact's client firm-wide when the block ends without error: who and when
        are written beside the claim, then the claim is renamed `.forgotten.json` (one step).
        Yields the client; `MapctlError` when there is no finished client for the contact."""
        client = self.get(contact_id)
        if client is None or not client.done:
            raise self.not_in_ledger(contact_id)
        yield client
        info = {
            "forgotten_at": forgotten_at,
            "forgotten_by": who.as_json(),
            "folder_deleted": folder_deleted,
        }
        self._replace(self.path / f"{contact_id}.{client.token}.forget.json", _dump(info))
        current = self._read_json(self.path / f"{contact_id}.json")
        if not isinstance(current, dict) or current.get("token") != client.token:
            raise MapctlError(
                f"the client of Clio contact {contact_id} changed in the shared ledger meanwhile "
                "(forgotten by someone else?); nothing was forgotten",
                hint="run the command again",
            )
        try:
            _rename(
                self.path / f"{contact_id}.json",
                self.path / f"{contact_id}.{client.token}.forgotten.json",
            )
        except FileNotFoundError:
            raise MapctlError(
                f"Clio contact {contact_id} was forgotten by someone else meanwhile",
                hint="mapctl clients --forgotten says by whom",
            ) from None
        except OSError as error:
            raise self._error("write", error) from None
        fsync_folder(self.path)

    def not_in_ledger(self, contact_id: int) -> MapctlError:
        earlier = [f for f in self.list_forgotten() if f.client.contact_id == contact_id]
        if earlier:
            last = earlier[-1]
            return MapctlError(
                f"Clio contact {contact_id} is not in the shared client ledger: "
                f"{last.client.entry.name} was forgotten on {last.forgotten_at} by "
                f"{last.forgotten_by.label}",
                hint="it can be imported again; `mapctl clients --forgotten` lists what was "
                "forgotten",
            )
        return MapctlError(
            f"Clio contact {contact_id} is not in the shared client ledger {self.path}",
            hint="`mapctl clients` lists the imported clients and their contact ids",
        )

    def was_forgotten(self, contact_id: int) -> bool:
        prefix = f"{contact_id}."
        return any(n.startswith(prefix) and n.endswith(".forgotten.json") for n in self._names())

    # --- recovery -----------------------------------------------------------------------------

    def recover(
        self,
        who: Workstation,
        *,
        home_locked: bool = False,
        only: int | None = None,
        force: bool = False,
    ) -> Recovery:
        """Finish or take back pending claims (the rule is in the module docstring).
        `home_locked`: the caller holds its MAPCTL_HOME's import lock, so no import of that home
        runs. `only`: just this contact. `force` (an admin's `clients recover`): take back a
        pending claim whose folder is not in place whoever holds it and however young."""
        result = Recovery()
        names = self._names()
        pending = [
            int(n.removesuffix(".json"))
            for n in names
            if n.endswith(".json") and n.removesuffix(".json").isdigit()
        ]
        if only is not None:
            pending = [c for c in pending if c == only]
        else:  # read only the claims that may be pending, not every client's (a big firm's)
            finished = _finished_by_listing(names)
            pending = [c for c in pending if c not in finished]
        server_now: float | None = None
        intents = self._intents(names, who, home_locked=home_locked)
        for contact_id in sorted(pending):
            path = self.path / f"{contact_id}.json"
            client = self._read_claim(path, contact_id, names)
            if client is not None and client.done:
                continue
            if client is None and not force:  # empty: its creator was stopped mid-create?
                had, alive = intents.get(contact_id, (0, 0))
                if had and not alive:
                    why = "its import was stopped before it wrote its claim (on this computer)"
                    if self.release(contact_id, "", who, why):
                        result.released.append((None, str(path), why))
                    continue
            if client is not None and folder_in_place(client.entry):
                self._create(
                    self.path / f"{contact_id}.{client.token}.done",
                    _dump(
                        {
                            "finished_at": utc_stamp(),
                            "finished_by": who.as_json(),
                            "recovered": True,
                        }
                    ),
                )
                result.finished.append(client)
                continue
            if server_now is None:
                server_now = self.server_now()
            try:
                age = server_now - path.stat().st_mtime
            except FileNotFoundError:
                continue
            reason = self._release_reason(client, who, age, home_locked=home_locked, force=force)
            if reason is None:
                result.pending.append((client, str(path), age))
            elif self.release(contact_id, client.token if client else "", who, reason):
                _remove_staging(client)
                result.released.append((client, str(path), reason))
        if result.finished:
            fsync_folder(self.path)
        return result

    def _intents(
        self, names: set[str], who: Workstation, *, home_locked: bool
    ) -> dict[int, tuple[int, int]]:
        """{contact id: (intents there were, intents left)} after removing the intents of this
        computer's imports that are surely stopped (their process gone, or their home's lock
        held by the caller). An empty claim whose intents are all gone was made by a stopped
        import: every creator writes its intent first and removes it only once its claim is
        written. Other computers' intents stay (each computer judges its own)."""
        found: dict[int, tuple[int, int]] = {}
        for name in names:
            parts = name.split(".")
            if len(parts) != 4 or parts[2] != "intent" or not parts[0].isdigit():
                continue
            contact = int(parts[0])
            had, alive = found.get(contact, (0, 0))
            data = self._read_json(self.path / name)
            by = Workstation.from_json(data.get("by") if isinstance(data, dict) else None)
            stopped = by.computer == who.computer and (
                (home_locked and by.home == who.home) or (by.pid and not process_alive(by.pid))
            )
            if stopped:
                with contextlib.suppress(OSError):
                    os.unlink(self.path / name)
            found[contact] = (had + 1, alive + (not stopped))
        for contact, (had, alive) in list(found.items()):
            if alive:  # intents removed by earlier runs count too: look at what is left
                continue
            left = [n for n in self._names() if n.startswith(f"{contact}.") and ".intent." in n]
            found[contact] = (had, len(left))
        return found

    def _release_reason(
        self,
        client: FirmClient | None,
        who: Workstation,
        age: float,
        *,
        home_locked: bool,
        force: bool,
    ) -> str | None:
        """Why this pending claim (folder not in place) may be taken back now, or None."""
        if force:
            return f"taken back by an admin ({who.label})"
        if age >= ABANDONED_AFTER:
            return f"abandoned: pending for {int(age // 60)} minutes, its folder not in place"
        if client is None:
            return None
        holder = client.imported_by
        if holder.computer != who.computer:
            return None
        if home_locked and holder.home == who.home:
            return "its import was stopped on this computer (no import of its MAPCTL_HOME runs)"
        if holder.pid and not process_alive(holder.pid):
            return "its import was stopped on this computer (its process is gone)"
        return None

    # --- migration ----------------------------------------------------------------------------

    def migrate(
        self,
        entries: Iterable[ClientEntry],
        who: Workstation,
        ledger_path: Path,
        forget_here: Any,
    ) -> Migration:
        """Meet a personal ledger: its finished `entries` whose folders are in this output
        folder and that the firm-wide ledger lacks are added (claimed for `who`, done at once);
        those forgotten firm-wide since they were imported are forgotten in the personal ledger
        too (`forget_here(entry, forgotten)`); a contact the firm-wide ledger holds with another
        folder is a conflict, reported and left alone. None lost, none doubled; idempotent."""
        result = Migration()
        mine = [e for e in entries if under(e.answer_file, self.folder)]
        if not mine:
            return result
        names = self._names()
        forgotten: dict[int, list[FirmForgotten]] = {}
        if any(n.endswith(".forgotten.json") for n in names):
            for f in self.list_forgotten():
                forgotten.setdefault(f.client.contact_id, []).append(f)
        for entry in mine:
            contact_id = entry.clio_contact_id
            if f"{contact_id}.json" in names:
                continue  # already there (same client: the usual case, nothing to read)
            later = [f for f in forgotten.get(contact_id, []) if f.forgotten_at >= entry.created_at]
            if later:
                forget_here(entry, later[-1])
                result.dropped.append(entry)
                continue
            self._ensure()
            token = uuid.uuid4().hex
            source = f"{ledger_path} ({who.label})"
            data = self._claim_json(entry, who, token, migrated_from=source)
            if not self._create_claim(self.path / f"{contact_id}.json", data, who, token):
                holder = self.get(contact_id)
                if holder is not None and holder.entry.answer_file != entry.answer_file:
                    result.conflicts.append((entry, holder))
                continue
            self._create(
                self.path / f"{contact_id}.{token}.done",
                _dump({"finished_at": entry.created_at, "finished_by": who.as_json()}),
            )
            result.added.append(entry)
        if result.added:
            fsync_folder(self.path)
        return result

    def check_conflicts(
        self, entries: Iterable[ClientEntry]
    ) -> list[tuple[ClientEntry, FirmClient]]:
        """Personal entries in this folder whose contact the firm-wide ledger holds with another
        folder (two clients in ILS for one contact, made before the shared ledger existed)."""
        mine = {e.clio_contact_id: e for e in entries if under(e.answer_file, self.folder)}
        found = self.lookup(mine)
        return [
            (mine[c], client)
            for c, client in sorted(found.items())
            if client.done and client.entry.answer_file != mine[c].answer_file
        ]


def _finished_by_listing(names: set[str]) -> set[int]:
    """The contacts whose current claim is surely done, from the listing alone: every forgotten
    claim was done, so a contact whose `done` files outnumber its forgotten claims has its
    current claim done. (A stray `done` can only hide a pending claim from the automatic rule,
    never take back a finished one; `recover(only=)` reads the claim itself.)"""
    counts: dict[int, int] = {}
    for name in names:
        head, _, rest = name.partition(".")
        if not head.isdigit():
            continue
        if rest.endswith(".done"):
            counts[int(head)] = counts.get(int(head), 0) + 1
        elif rest.endswith(".forgotten.json"):
            counts[int(head)] = counts.get(int(head), 0) - 1
    return {contact for contact, surplus in counts.items() if surplus > 0}


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders an import made, deepest first, as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _remove_staging(client: FirmClient | None) -> None:
    """The staging folder of a taken-back import (named with its claim's token: another
    workstation's staging of the same client is never touched)."""
    if client is None or not client.token:
        return
    from .clientfolder import remove_stale_staging

    folder = Path(client.entry.answer_file).parent
    with contextlib.suppress(OSError):
        remove_stale_staging(folder.parent, folder.name, older_than=0, tag=client.token)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this computer (True when unsure)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would end it there
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() != 87)  # ERROR_INVALID_PARAMETER: no such pid
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True
