"""Who was imported already, for the screens (issue 18, item 4): the search marks a matter whose
client exists, the preview says so at once (who, when, from which matter, its answer file).

`imported_clients` is the one place the app reads the ledger for that: the firm-wide ledger
(issue 15) plugs in here. Looking never creates the ledger. `imported_by` and `computer` are
shown when the ledger records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.workflow.ledger import LEDGER_FILE, Ledger


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

    @property
    def present(self) -> bool:
        return Path(self.answer_file).is_file()


def _from_entry(entry: Any) -> Imported:
    return Imported(
        name=entry.name,
        contact_id=entry.clio_contact_id,
        matter_id=entry.matter_id,
        matter=entry.matter_display_number or f"id {entry.matter_id}",
        created_at=entry.created_at,
        answer_file=entry.answer_file,
        notes=entry.notes,
        mapping_title=entry.mapping_title,
        imported_by=getattr(entry, "imported_by", None) or getattr(entry, "user", None),
        computer=getattr(entry, "computer", None) or getattr(entry, "host", None),
    )


def imported_clients(home: Path) -> list[Imported]:
    """Every client in the ledger, oldest first; [] when there is no ledger yet."""
    if not (home / LEDGER_FILE).exists():
        return []
    with Ledger.open(home) as ledger:
        return [_from_entry(entry) for entry in ledger.list_clients()]


@dataclass(frozen=True)
class ImportedIndex:
    by_contact: dict[int, Imported]
    by_matter: dict[int, Imported]

    @classmethod
    def of(cls, home: Path) -> ImportedIndex:
        clients = imported_clients(home)
        return cls(
            {c.contact_id: c for c in clients},
            {c.matter_id: c for c in clients if c.matter_id is not None},
        )

    def for_row(self, row: dict[str, Any]) -> Imported | None:
        """A search row's match: its client (when the row says who) or its matter."""
        client = row.get("client_id")
        if isinstance(client, int) and client in self.by_contact:
            return self.by_contact[client]
        matter = row.get("id")
        return self.by_matter.get(matter) if isinstance(matter, int) else None
