"""Who was imported already, for the screens (issue 18, item 4): the search marks a matter whose
client exists, the preview says so at once (who, when, from which matter, its answer file).

`imported_clients` is the one place the app reads the ledger for that: the firm-wide ledger
(issue 15) plugs in here. Looking never creates the ledger. `imported_by` and `computer` are
shown when the ledger records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.workflow import records
from ..engine.workflow.clionote import NoteStatus, home_note_statuses, listed_note
from ..engine.workflow.firmledger import Workstation


@dataclass(frozen=True)
class Imported:
    """One client mapctl created, as the screens show it."""

    name: str
    contact_id: int
    matter_id: int | None
    matter: str  # its display number (or id)
    created_at: str  # UTC ISO 8601, as the ledger keeps it
    answer_file: str
    notes: str = ""
    mapping_title: str = ""
    imported_by: str | None = None  # the person (firm-wide ledger), when recorded
    computer: str | None = None  # the workstation, when recorded
    done: bool = True  # False: being imported (another workstation, or stopped half-way)
    note: str = ""  # its Clio note: written, failed, off, "" (not recorded: imported before notes)
    note_id: int | None = None  # the written note's id in Clio, when known

    @property
    def present(self) -> bool:
        return Path(self.answer_file).is_file()


def _from(
    entry: Any, who: Workstation | None, done: bool = True, note: NoteStatus | None = None
) -> Imported:
    return Imported(
        name=entry.name,
        contact_id=entry.clio_contact_id,
        matter_id=entry.matter_id,
        matter=entry.matter_display_number or f"id {entry.matter_id}",
        created_at=entry.created_at,
        answer_file=entry.answer_file,
        notes=entry.notes,
        mapping_title=entry.mapping_title,
        imported_by=who.user if who is not None else None,
        computer=who.computer if who is not None else None,
        done=done,
        note=note.status if note is not None else "",
        note_id=note.note_id if note is not None else None,
    )


def workstation(config: Any) -> Workstation:
    return Workstation.current(config.home, env=config.env)


def imported_clients(config: Any) -> list[Imported]:
    """Every client imported into the app's output folder (the firm's, for a shared folder:
    with who imported each, on which computer) and this home's own, oldest first; with its Clio
    note as `mapctl clients` shows it (written when either record says so)."""
    listing = records.list_clients(config.home, config.out_dir, workstation(config))
    mine = home_note_statuses(config.home)
    return [
        _from(
            c.entry,
            c.imported_by if c.firm is not None else None,
            note=listed_note(c, mine)[0],
        )
        for c in listing.clients
    ]


@dataclass(frozen=True)
class ImportedIndex:
    by_contact: dict[int, Imported]
    by_matter: dict[int, Imported]

    @classmethod
    def of(cls, config: Any, contact_ids: Iterable[int] | None = None) -> ImportedIndex:
        """The clients imported already: all of them, or (cheap, for search rows and previews:
        one listing of the shared record's folder) only those of `contact_ids`, pending ones
        included (`done` false). Looking changes nothing and never creates a ledger."""
        if contact_ids is None:
            clients = imported_clients(config)
        else:
            found = records.lookup_imported(
                contact_ids, home=config.home, out_dir=config.out_dir, who=workstation(config)
            )
            clients = [_from(c.entry, c.imported_by, c.done) for c in found.values()]
        return cls(
            {c.contact_id: c for c in clients},
            {c.matter_id: c for c in clients if c.matter_id is not None},
        )

    @classmethod
    def for_rows(cls, config: Any, rows: Iterable[dict[str, Any]]) -> ImportedIndex:
        ids = [r.get("client_id") for r in rows]
        return cls.of(config, [i for i in ids if isinstance(i, int) and not isinstance(i, bool)])

    def for_row(self, row: dict[str, Any]) -> Imported | None:
        """A search row's match: its client (when the row says who) or its matter."""
        client = row.get("client_id")
        if isinstance(client, int) and client in self.by_contact:
            return self.by_contact[client]
        matter = row.get("id")
        return self.by_matter.get(matter) if isinstance(matter, int) else None
