"""Import report: the preview table, the import's review list and the ledger, for people.

Stage: presentation only (like `report`): takes `Preview`, `ImportResult` and `ClientEntry`
values and returns strings. Never prints, never exits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..report import printable
from .forgetting import ForgetPlan
from .importing import ImportResult, Preview, PreviewContact
from .ledger import ClientEntry, ForgottenEntry

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
            "-" if c.number == 1 or c.co_client else _label(c.relationship),
            c.role,
        )
        for c in preview.contacts
    ]
    heading = _lines([_matter_line(preview), ""])
    contacts = table(("#", "Contact", "Name", "Label in Clio", "Role"), rows)
    return "\n".join([heading, contacts, _lines(_attention(preview))]).rstrip("\n")


def _who(contact: PreviewContact) -> str:
    return f"#{contact.number} {contact.name or '(no name)'} (contact {contact.id})"


def _was(contact: PreviewContact) -> str:
    """What a contact is in Clio: its label, or "co-client" (a co-client has none)."""
    return "co-client" if contact.co_client else _label(contact.relationship)


def _attention(preview: Preview) -> list[str]:
    lines: list[str] = []
    if preview.unmatched:
        lines += ["", f"Labels that fell to {preview.otherwise}:"]
        for contact in preview.unmatched:
            hint = f": did you mean {contact.suggestion}?" if contact.suggestion else ""
            lines.append(f"  {_who(contact)}: {_label(contact.relationship)}{hint}")
    if preview.roles_set:
        lines += ["", "Roles set by hand:"]
        lines += [f"  {_who(c)}: {_was(c)} -> {c.role}" for c in preview.roles_set]
    if preview.warnings:
        lines += ["", "Warnings:"] + [f"  - {warning}" for warning in preview.warnings]
    if preview.excluded:
        lines += ["", "Excluded (not imported):"]
        lines += [f"  {_who(c)}: {_was(c)}" for c in preview.excluded]
    return lines


def format_import(result: ImportResult) -> str:
    """What is ready (the answer file), what the staff do next in ILS, then the review list.

    Nothing is created in ILS itself (issue 11): the words say so, and give the name and notes
    to type on ILS's Add Client screen."""
    entry = result.entry
    lines = [
        f"Ready for ILS: the answer file for {entry.name} (Clio contact {entry.clio_contact_id})",
        f"  answer file: {result.answer_file}",
        f"  folder:      {result.folder}",
        f"  contacts:    {_role_counts(result.preview)}",
        "",
        "Next, in ILS (mapctl does not change ILS itself):",
        "  1. Add Client, with",
        f"       Client Name: {_cell(entry.name)}",
        f"       Notes:       {_cell(entry.notes) if entry.notes else '(none)'}",
        "  2. Open the new client's Client Interview and load the answer file above.",
        "  3. Answer what the interview still asks (see the review below).",
        "",
        "Review:",
    ]
    review = _review(result)
    lines.extend(review or ["  nothing to review"])
    return _lines(lines)


def _role_counts(preview: Preview) -> str:
    related = [c for c in preview.contacts[1:] if not c.co_client]
    counts: dict[str, int] = {}
    for contact in related:
        counts[contact.role] = counts.get(contact.role, 0) + 1
    detail = ", ".join(f"{role} {n}" for role, n in counts.items())
    text = f"{len(related)} related" + (f" ({detail})" if detail else "")
    others = preview.co_clients
    if not others:
        return text
    names = ", ".join(f"{c.name or c.id} ({c.role})" for c in others)
    return f"{len(others)} co-client{'s' if len(others) > 1 else ''}: {names}; {text}"


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
    if preview.roles_set:
        lines.append("  Roles set by hand:")
        lines.extend(f"    - {_who(c)}: {_was(c)} -> {c.role}" for c in preview.roles_set)
    if preview.excluded:
        lines.append("  Contacts excluded:")
        lines.extend(f"    - {_who(c)}: {_was(c)}" for c in preview.excluded)
    if preview.warnings:
        lines.append("  Warnings:")
        lines.extend(f"    - {warning}" for warning in preview.warnings)
    return lines


def format_clients(
    entries: Sequence[ClientEntry],
    marks: Sequence[str] = (),
    by: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """The ledger as a table, oldest first; `marks` (one per entry, "" for none) say whose
    folder or answer file is gone, with a note under the table on what to do. `by` (one per
    entry: "ann on DESK-2") adds an "Imported by" column (a shared output folder's ledger);
    `notes` (one per entry: the Clio note's status, "" for none) a "Clio note" column."""
    if not entries:
        return "No clients imported yet (mapctl import MATTER creates one)."
    marks = list(marks) or [""] * len(entries)
    rows = [
        (
            e.created_at,
            e.name,
            str(e.clio_contact_id),
            e.matter_display_number or str(e.matter_id),
            *([by[i]] if by else []),
            *([notes[i]] if any(notes) else []),
            e.answer_file + (f"  ({mark})" if mark else ""),
        )
        for i, (e, mark) in enumerate(zip(entries, marks, strict=True))
    ]
    headers = (
        "Created (UTC)",
        "Name",
        "Contact",
        "Matter",
        *(["Imported by"] if by else []),
        *(["Clio note"] if any(notes) else []),
        "Answer file",
    )
    text = table(headers, rows, indent="")
    gone = sum(1 for mark in marks if mark)
    if gone:
        whose = "one client's files are" if gone == 1 else f"{gone} clients' files are"
        text += (
            f"\n\n{whose} gone (moved or deleted outside mapctl). If such a client was imported "
            "by mistake or deleted in ILS, `mapctl clients forget CONTACT_ID` lets its contact "
            "be imported again."
        )
    return text


def format_forgotten(entries: Sequence[ForgottenEntry], by: Sequence[str] = ()) -> str:
    """The clients forgotten so far, oldest first; `by` (one per entry) adds who forgot it."""
    if not entries:
        return "No client has been forgotten."
    rows = [
        (
            f.forgotten_at,
            f.client.name,
            str(f.client.clio_contact_id),
            f.client.created_at,
            *([by[i]] if by else []),
            "deleted" if f.folder_deleted else str(Path(f.client.answer_file).parent),
        )
        for i, f in enumerate(entries)
    ]
    headers = (
        "Forgotten (UTC)",
        "Name",
        "Contact",
        "Imported (UTC)",
        *(["Forgotten by"] if by else []),
        "Folder",
    )
    return table(headers, rows, indent="")


def format_forget_plan(plan: ForgetPlan, delete_folder: bool) -> str:
    """What `mapctl clients forget` will remove, shown before the question."""
    entry, files = plan.entry, plan.files
    matter = entry.matter_display_number or f"id {entry.matter_id}"
    by = f" by {_cell(plan.firm.imported_by.label)} at" if plan.firm is not None else ""
    lines = [
        f"This removes from the {'shared ' if plan.firm else ''}client ledger ({plan.ledger}):",
        f"  {_cell(entry.name)} (Clio contact {entry.clio_contact_id}), imported{by} "
        f"{entry.created_at} from matter {_cell(matter)}",
    ]
    if not files.folder_exists:
        lines.append(f"Its folder is already gone: {files.folder}")
    elif delete_folder:
        lines.append(f"and deletes its folder, answer file included: {files.folder}")
    else:
        lines.append(f"Its folder stays where it is: {files.folder}")
    lines.append("Nothing changes in ILS or Clio; the ledger keeps a record of what was forgotten.")
    return "\n".join(lines)


def format_forget_done(forgotten: ForgottenEntry, *, folder_was_there: bool = True) -> str:
    """What `mapctl clients forget` did."""
    entry = forgotten.client
    folder = Path(entry.answer_file).parent
    if forgotten.folder_deleted:
        kept = "Its folder was deleted."
    elif folder_was_there:
        kept = f"Its folder stays at {folder}."
    else:
        kept = f"Its folder was already gone ({folder})."
    return (
        f"Forgot {_cell(entry.name)} (Clio contact {entry.clio_contact_id}): the contact can be "
        f"imported again. {kept}"
    )
