"""Which ledgers an import, a listing, a forget or a look-up uses, and the two together.

Stage: between `importing`/`forgetting`/the commands and the two ledgers. No printing, no click.

Every MAPCTL_HOME keeps its personal ledger (`clients.db`, `ledger`), exactly as before issue
15: every client that home imported, wherever it went (so one workstation never imports a
contact twice, whatever `--out` says). An import into any output folder other than the personal
one (`$MAPCTL_HOME/clients`) also claims the contact in that folder's firm-wide ledger
(`firmledger`, `<folder>/.mapctl/`), which every workstation importing there reads: the
firm-wide ledger is the truth for the clients of its folder; a personal row of a client in that
folder only says that this home imported it.

Meeting (`meet`), whenever a command opens both: imports stopped by a kill are finished or taken
back (personal first, then firm-wide); this home's clients in the folder that the firm-wide
ledger lacks are added to it (migration: none lost, none doubled); this home's rows of clients
forgotten firm-wide meanwhile are forgotten here too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .firmledger import (
    FirmClient,
    FirmForgotten,
    FirmLedger,
    Migration,
    Recovery,
    Workstation,
    under,
)
from .ledger import LEDGER_FILE, ClientEntry, ForgottenEntry, Ledger

PERSONAL_FOLDER = "clients"  # in MAPCTL_HOME: the output folder when none is set


def output_folder(home: Path, out_dir: Path | str | None) -> Path:
    """Where an import writes: `out_dir`, else `$MAPCTL_HOME/clients`."""
    return Path(out_dir) if out_dir is not None else Path(home) / PERSONAL_FOLDER


def is_personal(home: Path, folder: Path | str) -> bool:
    def norm(path: Path | str) -> str:
        return os.path.normcase(os.path.abspath(path))

    return norm(folder) == norm(Path(home) / PERSONAL_FOLDER)


def firm_ledger_for(home: Path, out_dir: Path | str | None) -> FirmLedger | None:
    """The firm-wide ledger of the output folder, or None for the personal folder."""
    folder = output_folder(home, out_dir)
    return None if is_personal(home, folder) else FirmLedger(folder)


@dataclass
class Met:
    """What meeting the two ledgers did."""

    recovery: Recovery = field(default_factory=Recovery)
    migration: Migration = field(default_factory=Migration)
    ledger: Path = Path()
    firm: Path = Path()

    def notices(self) -> list[str]:
        """Lines for the command's output (stderr) or the app: what changed, nothing else."""
        lines = list(self.migration.describe(self.ledger, self.firm))
        for client in self.recovery.finished:
            lines.append(
                f"finished the import of {client.entry.name} (Clio contact {client.contact_id}) "
                f"that {client.imported_by.label} started: its folder was in place"
            )
        for taken, record, why in self.recovery.released:
            who = f" by {taken.imported_by.label}" if taken is not None else ""
            lines.append(f"took back the unfinished import{who} ({record}): {why}")
        return lines


def meet(ledger: Ledger, firm: FirmLedger, who: Workstation) -> Met:
    """Recover both ledgers, then migrate this home's clients (see the module docstring)."""
    ledger.recover()
    with ledger.idle() as locked:
        recovery = firm.recover(who, home_locked=locked)
    migration = Migration()
    mine = [e for e in ledger.list_clients() if under(e.answer_file, firm.folder)]
    if mine:

        def forget_here(entry: ClientEntry, forgotten: FirmForgotten) -> None:
            with ledger.forgetting(
                entry.clio_contact_id,
                forgotten.forgotten_at,
                folder_deleted=forgotten.folder_deleted,
            ):
                pass

        migration = firm.migrate(mine, who, ledger.path, forget_here)
    return Met(recovery, migration, ledger.path, firm.path)


@contextmanager
def opened(home: Path, *, create: bool = True) -> Any:
    """The personal ledger, or None when it does not exist and `create` is false."""
    if not create and not (Path(home) / LEDGER_FILE).exists():
        yield None
        return
    with Ledger.open(home) as ledger:
        yield ledger


@dataclass(frozen=True)
class Listed:
    """One client in `mapctl clients`: its entry, who imported it, and from which ledger."""

    entry: ClientEntry
    imported_by: Workstation
    firm: FirmClient | None = None  # None: this home's personal ledger
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        if self.firm is not None:
            return self.firm.as_json()
        data = self.entry.as_json()
        if self.extra:
            data["extra"] = dict(self.extra)
        return data


@dataclass
class Listing:
    """`mapctl clients`: every client once, unfinished imports, the forgotten, what changed."""

    clients: list[Listed]
    pending: list[FirmClient]
    forgotten: list[ForgottenEntry | FirmForgotten]
    notices: list[str]
    firm: FirmLedger | None


def list_clients(
    home: Path, out_dir: Path | str | None, who: Workstation, *, forgotten: bool = False
) -> Listing:
    """The clients of this home's personal ledger and of the output folder's firm-wide ledger,
    each contact once (the firm-wide entry wins for clients in its folder), oldest first.
    Listing never creates the personal ledger."""
    firm = firm_ledger_for(home, out_dir)
    personal: list[Listed] = []
    gone: list[ForgottenEntry | FirmForgotten] = []
    notices: list[str] = []
    with opened(home, create=False) as ledger:
        if ledger is not None:
            ledger.recover()  # an import killed half-way: finished or taken back first
            if firm is not None and (firm.exists() or _has_clients_in(ledger, firm)):
                notices = meet(ledger, firm, who).notices()
            mine = Workstation(who.user, who.computer)
            personal = [
                Listed(e, mine, extra=ledger.extra(e.clio_contact_id))
                for e in ledger.list_clients()
                if firm is None or not under(e.answer_file, firm.folder)
            ]
            if forgotten:
                gone.extend(
                    f
                    for f in ledger.list_forgotten()
                    if firm is None or not under(f.client.answer_file, firm.folder)
                )
    shared: list[Listed] = []
    pending: list[FirmClient] = []
    if firm is not None and firm.exists():
        if ledger is None:
            firm_recovery = firm.recover(who)
            notices.extend(Met(recovery=firm_recovery, firm=firm.path).notices())
        shared = [Listed(c.entry, c.imported_by, c) for c in firm.list_clients()]
        pending = firm.list_clients(pending=True)
        if forgotten:
            gone.extend(firm.list_forgotten())
    # Oldest first; a stable sort keeps the personal ledger's own order among equal times
    clients = sorted([*personal, *shared], key=lambda c: c.entry.created_at)
    gone.sort(key=lambda f: f.forgotten_at)
    return Listing(clients, pending, gone, notices, firm)


def _has_clients_in(ledger: Ledger, firm: FirmLedger) -> bool:
    return any(under(e.answer_file, firm.folder) for e in ledger.list_clients())


def lookup_imported(
    contact_ids: Iterable[int],
    *,
    home: Path,
    out_dir: Path | str | None,
    who: Workstation | None = None,
) -> dict[int, FirmClient]:
    """Which of these Clio contacts are already clients, for search rows and previews: {contact
    id: who imported it, when, from which matter, where its answer file is (`describe()`)}.

    Cheap: one listing of the firm-wide ledger's folder and one read per contact it holds (no
    per-row network round trip beyond the share), one query per contact on the local personal
    ledger. Changes nothing (no recovery, no migration): a pending entry (`done` false) is an
    import running or stopped. Never creates a ledger."""
    ids = set(contact_ids)
    found: dict[int, FirmClient] = {}
    with opened(home, create=False) as ledger:
        if ledger is not None:
            mine = who or Workstation.current(home)
            for contact_id in ids:
                entry = ledger.find_by_contact(contact_id)
                if entry is not None:
                    found[contact_id] = FirmClient(
                        entry,
                        Workstation(mine.user, mine.computer),
                        entry.created_at,
                        "",
                        not ledger.is_pending(contact_id),
                        extra=ledger.extra(contact_id),
                        record=str(ledger.path),
                    )
    firm = firm_ledger_for(home, out_dir)
    if firm is not None:
        found.update(firm.lookup(ids))  # the firm-wide entry wins
    return found


def record_extra(
    contact_id: int,
    fields: Mapping[str, Any],
    *,
    home: Path,
    out_dir: Path | str | None,
) -> dict[str, Any]:
    """Add or change fields of a client's ledger entry after its import, atomically (e.g. the
    Clio note's status: `{"note": {"status": "failed", "warning": "...", "retryable": true}}`;
    each field is written whole, so keep what belongs together in one field's value; field
    names: up to 40 letters, digits, `_`, `-`):
    in the firm-wide ledger for a client of a shared folder, and in this home's personal ledger
    when it holds the client. Returns the entry's extra fields. `MapctlError` when no ledger
    has a finished client of this contact. Shown by `mapctl clients` (table: the `note` status;
    JSON: `extra`)."""
    firm = firm_ledger_for(home, out_dir)
    merged: dict[str, Any] | None = None
    if firm is not None and firm.exists():
        client = firm.get(contact_id)
        if client is not None and client.done:
            merged = firm.update_extra(contact_id, fields).extra
    with opened(home, create=False) as ledger:
        if ledger is not None and ledger.find_by_contact(contact_id) is not None:
            if not ledger.is_pending(contact_id):
                personal = ledger.update_extra(contact_id, dict(fields))
                merged = merged if merged is not None else personal
        if merged is None:
            if firm is not None:
                raise firm.not_in_ledger(contact_id)
            if ledger is not None:
                raise ledger.not_in_ledger(contact_id)
            from ..errors import MapctlError

            raise MapctlError(f"Clio contact {contact_id} is not in the client ledger")
    return merged
