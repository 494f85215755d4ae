"""Import report: the preview table, the import's review list and the ledger, for people.

Stage: presentation only (like `report`): takes `Preview`, `ImportResult` and `ClientEntry`
values and returns strings. Never prints, never exits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..report import printable
from .importing import ImportResult, Preview, PreviewContact
from .ledger import ClientEntry

_cell = printable  # Clio text in a cell must not break the table or drive the terminal


def _lines(lines: Sequence[str]) -> str:
    """The report's lines, each cleaned: names, labels and warnings come from Clio."""
    return "\n".join(printable(line) for line in lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """A plain text table, columns padded to the widest cell, no trailing spaces."""
    rows = [[_cell(cell) for cell in row] for row in rows]
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(len(headers))]
    lines = []
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _label(text: str) -> str:
    """The label as typed; quoted when spaces around it matter; "(blank)" when there is none."""
    if not text.strip():
        return "(blank)"
    return json.dumps(text, ensure_ascii=False) if text.strip() != text else text


def _matter_line(preview: Preview) -> str:
    matter = preview.matter
    number = matter.get("display_number") or f"id {matter.get('id')}"
    parts = [f"Matter {number}"]
    if matter.get("description"):
        parts.append(f": {matter['description']}")
    facts = [str(matter[key]) for key in ("status",) if matter.get(key)]
    if matter.get("open_date"):
        facts.append(f"opened {matter['open_date']}")
    return "".join(parts) + (f" ({', '.join(facts)})" if facts else "")


def format_preview(preview: Preview) -> str:
    """The numbered contacts table, then unmatched labels, warnings and excluded contacts."""
    rows = [
        (
            str(c.number),
            str(c.id),
            c.name or "(no name)",
            "-" if c.number == 1 else _label(c.relationship),
            c.role,
        )
        for c in preview.contacts
    ]
    heading = _lines([_matter_line(preview), ""])
    contacts = table(("#", "Contact", "Name", "Label in Clio", "Role"), rows)
    return "\n".join([heading, contacts, _lines(_attention(preview))]).rstrip("\n")


def _who(contact: PreviewContact) -> str:
    return f"#{contact.number} {contact.name or '(no name)'} (contact {contact.id})"


def _attention(preview: Preview) -> list[str]:
    lines: list[str] = []
    if preview.unmatched:
        lines += ["", f"Labels that fell to {preview.otherwise}:"]
        for contact in preview.unmatched:
            hint = f": did you mean {contact.suggestion}?" if contact.suggestion else ""
            lines.append(f"  {_who(contact)}: {_label(contact.relationship)}{hint}")
    if preview.warnings:
        lines += ["", "Warnings:"] + [f"  - {warning}" for warning in preview.warnings]
    if preview.excluded:
        lines += ["", "Excluded (not imported):"]
        lines += [f"  {_who(c)}: {_label(c.relationship)}" for c in preview.excluded]
    return lines


def format_import(result: ImportResult) -> str:
    """Where the new client's answer file is, then what a person should review."""
    entry = result.entry
    lines = [
        f"Created client {entry.name} (Clio contact {entry.clio_contact_id})",
        f"  notes:       {entry.notes}" if entry.notes else "  notes:       (none)",
        f"  contacts:    {_role_counts(result.preview)}",
        f"  answer file: {result.answer_file}",
        f"  folder:      {result.folder}",
        "",
        "Review:",
    ]
    review = _review(result)
    lines.extend(review or ["  nothing to review"])
    return _lines(lines)


def _role_counts(preview: Preview) -> str:
    related = preview.contacts[1:]
    counts: dict[str, int] = {}
    for contact in related:
        counts[contact.role] = counts.get(contact.role, 0) + 1
    detail = ", ".join(f"{role} {n}" for role, n in counts.items())
    return f"{len(related)} related" + (f" ({detail})" if detail else "")


def _review(result: ImportResult) -> list[str]:
    lines: list[str] = []
    if result.unanswered:
        lines.append("  Required answers left unanswered (the interview will ask for them):")
        lines.extend(f"    - {name}" for name in result.unanswered)
    preview = result.preview
    if preview.unmatched:
        lines.append(f"  Labels that fell to {preview.otherwise}:")
        for contact in preview.unmatched:
            hint = f" (did you mean {contact.suggestion}?)" if contact.suggestion else ""
            lines.append(f"    - {_who(contact)}: {_label(contact.relationship)}{hint}")
    if preview.excluded:
        lines.append("  Contacts excluded:")
        lines.extend(f"    - {_who(c)}: {_label(c.relationship)}" for c in preview.excluded)
    if preview.warnings:
        lines.append("  Warnings:")
        lines.extend(f"    - {warning}" for warning in preview.warnings)
    return lines


def format_clients(entries: Sequence[ClientEntry]) -> str:
    """The ledger as a table, oldest first."""
    if not entries:
        return "No clients imported yet (mapctl import MATTER creates one)."
    rows = [
        (
            e.created_at,
            e.name,
            str(e.clio_contact_id),
            e.matter_display_number or str(e.matter_id),
            e.answer_file,
        )
        for e in entries
    ]
    return table(("Created (UTC)", "Name", "Contact", "Matter", "Answer file"), rows, indent="")
