"""Forgetting a client: `mapctl clients forget` -> the ledger lets its Clio contact be imported
again; the client's folder stays, or is deleted when asked.

Stage: beside `importing`, at the top of the engine. In: `$MAPCTL_HOME`, a Clio contact id.
Out: a `ForgetPlan` (what would go, shown before the question) and the `ForgottenEntry`
recorded. The row moves to the ledger's `forgotten` table inside a write transaction; with
`delete_folder`, the folder is first renamed to a hidden name in the same folder (one step), the
transaction commits, and only then is the renamed folder removed; if the commit fails it is
renamed back, so the ledger and the folder never disagree. A folder is deleted only when its
`client.json` names the same Clio contact (mapctl never deletes what it did not create).
Also: whether a ledger entry's files are still there (`mapctl clients` marks those gone).
No printing, no click.

A client of a shared output folder (issue 15) is forgotten firm-wide: in the folder's firm-wide
ledger (`firmledger`: who forgot it, on which computer, when), and in this home's personal ledger
when it holds the client too. Other workstations' personal rows of that client are forgotten
when they next meet the shared ledger (`records.meet`).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import MapctlError
from .firmledger import FirmClient, FirmLedger, Workstation
from .ledger import LEDGER_FILE, ClientEntry, ForgottenEntry, Ledger
from .records import firm_ledger_for, meet

CLIENT_JSON = "client.json"  # as `importing` writes it


@dataclass(frozen=True)
class FilesState:
    """Whether a ledger entry's folder and answer file are still where the ledger says."""

    folder: Path
    folder_exists: bool
    answer_file_exists: bool

    @property
    def mark(self) -> str:
        """ "" when both are there, else what is gone (for the clients table)."""
        if not self.folder_exists:
            return "folder gone"
        return "" if self.answer_file_exists else "answer file gone"


def files_state(entry: ClientEntry) -> FilesState:
    answer = Path(entry.answer_file)
    return FilesState(answer.parent, answer.parent.is_dir(), answer.is_file())


@dataclass(frozen=True)
class ForgetPlan:
    """What `forget` would remove: the ledger row, and the folder when asked and possible."""

    entry: ClientEntry
    files: FilesState
    ledger: Path
    firm: FirmClient | None = None  # the firm-wide entry, for a client of a shared folder
    notices: tuple[str, ...] = ()  # what meeting the shared ledger did


def plan_forget(
    home: Path, contact_id: int, *, out_dir: Path | None = None, who: Workstation | None = None
) -> ForgetPlan:
    """The client to forget; `MapctlError` when the ledger has none for this contact. With a
    shared output folder `out_dir`, its firm-wide ledger is asked first."""
    firm = firm_ledger_for(home, out_dir)
    if firm is not None and firm.exists():
        return _plan_firm(home, firm, contact_id, who or Workstation.current(home))
    if not (home / LEDGER_FILE).exists():  # asking must not create the ledger
        raise MapctlError(
            f"Clio contact {contact_id} is not in the client ledger: no client has been "
            f"imported with MAPCTL_HOME={home}",
            hint="check MAPCTL_HOME; `mapctl clients` lists the imported clients",
        )
    with Ledger.open(home) as ledger:
        entry = ledger.find_by_contact(contact_id)
        if entry is None:
            raise ledger.not_in_ledger(contact_id)
        return ForgetPlan(entry, files_state(entry), ledger.path)


def _plan_firm(home: Path, firm: FirmLedger, contact_id: int, who: Workstation) -> ForgetPlan:
    notices: list[str] = []
    if (home / LEDGER_FILE).exists():
        with Ledger.open(home) as ledger:
            notices = meet(ledger, firm, who).notices()
    else:
        firm.recover(who)
    client = firm.get(contact_id)
    if client is None or not client.done:
        if client is None and (home / LEDGER_FILE).exists():
            with Ledger.open(home) as ledger:  # a client of another folder, this home's
                entry = ledger.find_by_contact(contact_id)
                if entry is not None:
                    return ForgetPlan(
                        entry, files_state(entry), ledger.path, notices=tuple(notices)
                    )
        raise firm.not_in_ledger(contact_id)
    return ForgetPlan(client.entry, files_state(client.entry), firm.path, client, tuple(notices))


def check_deletable(plan: ForgetPlan) -> None:
    """`MapctlError` unless the folder is the one mapctl created for this client."""
    folder = plan.files.folder
    if not plan.files.folder_exists:
        return
    reason = _not_ours(folder, plan.entry.clio_contact_id)
    if reason:
        raise MapctlError(
            f"not deleting {folder}: {reason}, so it may not be the folder mapctl created for "
            f"{plan.entry.name}",
            hint="forget without --delete-folder, then move or delete the folder yourself",
        )


def _not_ours(folder: Path, contact_id: int) -> str | None:
    if folder.is_symlink():
        return "it is a symbolic link"
    try:
        info = json.loads((folder / CLIENT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"it has no readable {CLIENT_JSON}"
    if not isinstance(info, dict) or info.get("clio_contact_id") != contact_id:
        return f"its {CLIENT_JSON} is about another Clio contact"
    return None


def forget_client(
    home: Path,
    contact_id: int,
    *,
    now: datetime.datetime,
    delete_folder: bool = False,
    out_dir: Path | None = None,
    who: Workstation | None = None,
) -> ForgottenEntry:
    """Move the contact's ledger row to `forgotten` (firm-wide for a client of the shared output
    folder `out_dir`, recording `who`); with `delete_folder`, delete its folder too (see the
    module docstring for the order). Returns what was recorded."""
    who = who or Workstation.current(home)
    plan = plan_forget(home, contact_id, out_dir=out_dir, who=who)
    if delete_folder:
        check_deletable(plan)
    deleting = delete_folder and plan.files.folder_exists
    when = now.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    folder = plan.files.folder
    aside: Path | None = None
    if plan.firm is not None:
        firm = firm_ledger_for(home, out_dir)
        assert firm is not None
        try:
            with firm.forgetting(contact_id, who, when, folder_deleted=deleting) as client:
                if client.token != plan.firm.token:
                    raise _changed_meanwhile(contact_id)
                if deleting:
                    aside = _move_aside(folder)
        except BaseException:
            if aside is not None:
                _move_back(aside, folder)
            raise
        with contextlib.suppress(MapctlError):  # else the next meeting forgets it (`records`)
            _forget_personal_row(home, plan.entry, when, deleting)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return ForgottenEntry(plan.entry, when, deleting)
    with Ledger.open(home) as ledger:
        try:
            with ledger.forgetting(contact_id, when, folder_deleted=deleting) as entry:
                if entry != plan.entry:  # changed since the question: ask again
                    raise _changed_meanwhile(contact_id)
                if deleting:
                    aside = _move_aside(folder)
        except BaseException:
            if aside is not None:
                _move_back(aside, folder)
            raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return ForgottenEntry(plan.entry, when, deleting)


def _forget_personal_row(home: Path, entry: ClientEntry, when: str, deleted: bool) -> None:
    """This home's row of a client forgotten firm-wide, if it has one (same folder)."""
    if not (home / LEDGER_FILE).exists():
        return
    with Ledger.open(home) as ledger:
        mine = ledger.find_by_contact(entry.clio_contact_id)
        if mine is not None and mine.answer_file == entry.answer_file:
            with ledger.forgetting(entry.clio_contact_id, when, folder_deleted=deleted):
                pass


def _move_aside(folder: Path) -> Path:
    aside = folder.with_name(f".{folder.name}.forgotten-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(folder, aside)
    except OSError as error:
        raise MapctlError(
            f"cannot delete {folder}: {error.strerror or error}; nothing was forgotten"
        ) from error
    return aside


def _move_back(aside: Path, folder: Path) -> None:
    with contextlib.suppress(OSError):
        os.rename(aside, folder)


def _changed_meanwhile(contact_id: int) -> MapctlError:
    """The entry changed since the question was asked (either ledger): nothing is forgotten."""
    return MapctlError(
        f"the ledger entry of Clio contact {contact_id} changed meanwhile; nothing was forgotten",
        hint="run the command again",
    )
