"""Importing: the seed's workflow. A fetched matter bundle -> preview -> a new ILS client.

Stage: the top of the engine. In: a checked bundle (`context.load_bundle` or the Clio client's
`fetch_bundle`), a `CompiledMapping` compiled before any network call, the contacts to exclude.
Out: a `Preview` (who comes across, in which role, what needs a person's attention) and, for an
import, an `ImportResult`: the client's folder with its answer file and `client.json`, one new
ledger row, and the review list.

All or nothing (issues 5 and 9): the ledger is checked first; the answers are evaluated (any
error: nothing written); the ledger row is committed marked pending, the folder is staged under
a temporary name and renamed into place, then the mark is cleared (`Ledger.reserve`). On any
failure nothing is left behind and the ledger is unchanged; after a kill, the next run finishes
or takes back the pending row (`Ledger.recover`). Nothing existing is overwritten. No printing,
no click, no HTTP here (the CLI fetches).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import re
from collections.abc import Collection, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EvaluationError, FolderInTheWay, ImportRefused, MapctlError, Problem
from ..hotdocs.answerfile import render_xml
from ..mapping.model import CompiledMapping
from ..model import AnswerSet
from ..render.context import ContactView, Context, build_context, check_bundle
from ..render.evaluation import evaluate
from ..render.reviewing import add_review_lines
from .clientfolder import (
    client_folder_name,
    client_info,
    publish,
    refuse_if_exists,
    refuse_inside_client_folder,
    remove_published,
    safe_component,
    staged_folder,
)
from .firmledger import FirmLedger, Workstation, already_imported
from .ledger import LEDGER_FILE, ClientEntry, Ledger, already_exists, check_id
from .records import PERSONAL_FOLDER, Met, firm_ledger_for, meet

CLIENT_JSON = "client.json"
CLIENTS_FOLDER = PERSONAL_FOLDER
MAX_REPLY_PROBLEMS = 10  # a reply's problems shown at the prompt; the rest are counted
_MATTER_KEYS = ("id", "display_number", "description", "status", "open_date")


@dataclass(frozen=True)
class PreviewContact:
    """One line of the preview. `number` is its place in the full list (the client is 1) and
    stays the same when contacts are removed, so a number always means the same person."""

    number: int
    id: int
    name: str
    relationship: str  # as typed in Clio; "" when blank (and for the client)
    role: str
    suggestion: str | None = None  # nearest synonym when the label fell to `otherwise`
    role_set: bool = False  # the role was set by hand for this import (`--role`, the app)
    fell_to_otherwise: bool = False  # the label matched no synonym (whatever role was set)
    co_client: bool = False  # one of the matter's other clients (issue 17): listed after #1

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "relationship": self.relationship,
            "role": self.role,
        }


@dataclass(frozen=True)
class Preview:
    """Who an import brings across. `contacts` starts with the client (role "Client")."""

    matter: dict[str, Any]
    contacts: tuple[PreviewContact, ...]
    excluded: tuple[PreviewContact, ...]
    unmatched: tuple[PreviewContact, ...]  # kept contacts whose label fell to `otherwise`
    otherwise: str
    warnings: tuple[str, ...]
    roles: tuple[str, ...] = ()  # the mapping's roles, `otherwise` last (what can be set)
    co_client_role: str = "Co-client"  # the mapping's role for co-clients

    @property
    def client(self) -> PreviewContact:
        return self.contacts[0]

    @property
    def co_clients(self) -> tuple[PreviewContact, ...]:
        """Kept co-clients (the matter's other clients), in Clio's order."""
        return tuple(c for c in self.contacts if c.co_client)

    @property
    def roles_set(self) -> tuple[PreviewContact, ...]:
        """Kept contacts whose role was set by hand."""
        return tuple(c for c in self.contacts if c.role_set)

    def by_number(self, number: int) -> PreviewContact | None:
        return next((c for c in (*self.contacts, *self.excluded) if c.number == number), None)

    def as_json(self) -> dict[str, Any]:
        """The contract's shape: {"matter", "contacts", "unmatched_labels"}."""
        return {
            "matter": self.matter,
            "contacts": [c.as_json() for c in self.contacts],
            "unmatched_labels": [
                {**_role_json(c), "suggestion": c.suggestion} for c in self.unmatched
            ],
            **({"roles_set": [_role_json(c) for c in self.roles_set]} if self.roles_set else {}),
        }


def _role_json(contact: PreviewContact) -> dict[str, Any]:
    return {
        "contact_id": contact.id,
        "name": contact.name,
        "label": contact.relationship,
        "role": contact.role,
    }


@dataclass(frozen=True)
class ImportResult:
    """A client created: where its files are, its ledger row, and what a person should review."""

    entry: ClientEntry
    folder: Path
    answer_file: Path
    preview: Preview
    unanswered: tuple[str, ...]  # required answers left unanswered (the interview will ask)
    filled: int = 0  # the mapping's answers that got a value ...
    total: int = 0  # ... of all its answers ("34 of 53 answers pre-filled")
    notices: tuple[str, ...] = ()  # what meeting the shared ledger did (migration, recovery)

    def as_json(self) -> dict[str, Any]:
        """The new client and its review list, for scripts (`mapctl import --format json`)."""
        shown = self.preview.as_json()
        return {
            "client": self.entry.as_json(),
            "folder": str(self.folder),
            "matter": shown["matter"],
            "contacts": shown["contacts"],
            "review": {
                "unanswered_required": list(self.unanswered),
                "unmatched_labels": shown["unmatched_labels"],
                "excluded": [c.as_json() for c in self.preview.excluded],
                "warnings": list(self.preview.warnings),
                **(
                    {"roles_set": [_role_json(c) for c in self.preview.roles_set]}
                    if self.preview.roles_set
                    else {}
                ),
            },
        }


def matter_summary(matter: dict[str, Any]) -> dict[str, Any]:
    summary = {key: matter.get(key) for key in _MATTER_KEYS}
    client = matter.get("client") or {}
    summary["client"] = {"id": client.get("id"), "name": client.get("name")}
    return summary


def preview(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    roles: Mapping[int, str] | None = None,
) -> Preview:
    """The contacts an import would bring, in Clio's order: the client first, then the
    co-clients, then the related contacts. `roles` sets co-clients' and related contacts' roles
    by hand ({contact id: role})."""
    context = build_context(bundle, mapping, today=today, exclude=exclude, roles=roles)
    add_review_lines(mapping, context)  # an import tells them after evaluating; so does this
    return _preview(context, mapping)


def _preview(context: Context, mapping: CompiledMapping) -> Preview:
    lines = [_line(number, view) for number, view in enumerate(context.contacts, start=1)]
    kept = [line for line, view in zip(lines, context.contacts, strict=True) if not view.excluded]
    return Preview(
        matter=matter_summary(context.bundle["matter"]),
        contacts=tuple(kept),
        excluded=tuple(line for line in lines if line not in kept),
        unmatched=tuple(
            line
            for line, view in zip(lines, context.contacts, strict=True)
            if line.number > 1
            and not view.excluded
            and line.fell_to_otherwise
            and not line.role_set
        ),
        otherwise=mapping.relationships.otherwise,
        warnings=tuple(context.warnings),
        roles=tuple(mapping.relationships.role_names),
        co_client_role=mapping.relationships.co_client,
    )


def _line(number: int, view: ContactView) -> PreviewContact:
    related = number > 1 and not view.co_client
    suggestion = view.classification.suggestion if related else None
    return PreviewContact(
        number,
        view.id,
        view.name,
        view.relationship,
        view.role,
        suggestion,
        role_set=view.role_set is not None,
        fell_to_otherwise=related and not view.classification.matched,
        co_client=view.co_client,
    )


def fetch_checked_bundle(client: Any, matter: str) -> dict[str, Any]:
    """MATTER's bundle from Clio (`ClioClient.fetch_bundle`), checked like a bundle file: a
    matter without a client, a contact Clio did not send... is one BundleError, not a crash."""
    return check_bundle(client.fetch_bundle(matter), source=f"Clio matter {matter}")


def client_record_defaults(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    roles: Mapping[int, str] | None = None,
) -> tuple[str, str]:
    """The new client's name and notes as the mapping's `client_record` makes them (what the
    app's Add Client screen shows to edit); EvaluationError as an import would raise it."""
    context = build_context(bundle, mapping, today=today, exclude=exclude, roles=roles)
    _, name, notes = _evaluate(mapping, context)
    return name, notes


def check_not_imported(
    bundle: dict[str, Any],
    home: Path,
    *,
    out_dir: Path | None = None,
    who: Workstation | None = None,
) -> list[str]:
    """Refuse (ImportRefused, exit 1) when the matter's client is already in the personal
    ledger or in the firm-wide ledger of the output folder `out_dir`, saying who imported it.
    Returns what meeting the firm-wide ledger did (migration, recovery: lines to show)."""
    firm = firm_ledger_for(home, out_dir)
    who = who or Workstation.current(home)
    client_id = bundle["matter"]["client"]["id"]
    check_id(client_id, "contact")
    if not (Path(home) / LEDGER_FILE).exists():  # looking never creates the personal ledger
        if firm is not None and firm.exists():
            recovery = firm.recover(who, only=client_id)
            holder = firm.get(client_id)
            if holder is not None:
                raise already_imported(holder)
            return Met(recovery=recovery, firm=firm.path).notices()
        return []
    with Ledger.open(home) as ledger:
        notices = meet(ledger, firm, who).notices() if firm is not None else []
        _refuse_existing(ledger, client_id, firm, who)
    return notices


def _refuse_existing(
    ledger: Ledger,
    client_id: int,
    firm: FirmLedger | None = None,
    who: Workstation | None = None,
) -> None:
    """`already_exists` when a ledger has this client. What a killed import left is finished
    or taken back first; an import of this client still running on this home is waited for
    (seconds at most), so the refusal says what it ended with. The firm-wide ledger's entry
    (who imported it, on which computer) wins over this home's row of the same client."""
    ledger.recover()
    if ledger.is_pending(client_id):
        ledger.recover(wait=True)
    if firm is not None and firm.exists():
        who = who or Workstation.current(ledger.path.parent)
        with ledger.idle() as locked:
            firm.recover(who, home_locked=locked, only=client_id)
        holder = firm.get(client_id)
        if holder is not None:
            raise already_imported(holder)
    existing = ledger.find_by_contact(client_id)
    if existing is not None:
        raise already_exists(existing)


def import_client(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    *,
    home: Path,
    now: datetime.datetime,
    today: datetime.date | None = None,
    exclude: Collection[int] = (),
    out_dir: Path | None = None,
    roles: Mapping[int, str] | None = None,
    name: str | None = None,
    notes: str | None = None,
    who: Workstation | None = None,
) -> ImportResult:
    """Create the new client: its folder (answer file + client.json) and its ledger row (in the
    personal ledger, and for a shared output folder in its firm-wide ledger too).

    `roles` sets related contacts' roles by hand; `name` and `notes`, when given, replace the
    client record's (a person edited them); a blank name is refused. `who`: the user and
    computer recorded in the firm-wide ledger (default: this process's)."""
    today = today or now.date()
    client_id: int = bundle["matter"]["client"]["id"]
    if name is not None and not name.strip():
        raise MapctlError("the client's name is empty", hint="give the new client a name")
    firm = firm_ledger_for(home, out_dir)
    who = who or Workstation.current(home)
    with Ledger.open(home) as ledger:
        notices = meet(ledger, firm, who).notices() if firm is not None else []
        _refuse_existing(ledger, client_id, firm, who)
        context = build_context(bundle, mapping, today=today, exclude=exclude, roles=roles)
        answers, record_name, record_notes = _evaluate(mapping, context)
        shown = _preview(context, mapping)  # after evaluating: its warnings join the context's
        record = (
            name.strip() if name is not None else record_name,
            notes if notes is not None else record_notes,
        )
        parent = Path(out_dir) if out_dir is not None else home / CLIENTS_FOLDER
        refuse_inside_client_folder(parent)
        folder = parent.absolute() / client_folder_name(context.data["client"])
        if ledger.was_forgotten(client_id) or (firm is not None and firm.was_forgotten(client_id)):
            folder = _beside_kept_folder(folder)
        _refuse_folder(ledger, folder, client_id, firm, who)
        entry, files = _client_files(bundle, mapping, answers, folder, record, now, shown)
        _publish_and_record(ledger, entry, folder, files, firm, who)
    filled, total = answers_filled(mapping, answers)
    return ImportResult(
        entry=entry,
        folder=folder,
        answer_file=Path(entry.answer_file),
        preview=shown,
        unanswered=unanswered_required(mapping, answers),
        filled=filled,
        total=total,
        notices=tuple(notices),
    )


def answers_filled(mapping: CompiledMapping, answers: AnswerSet) -> tuple[int, int]:
    """(answers with a value, the mapping's answers): a repeated answer counts when any entry
    has a value."""
    filled = 0
    for rule in mapping.answers:
        answer = answers.get(rule.name)
        value = answer.value if answer is not None else None
        if rule.repeated:
            value = tuple(v for v in (value or ()) if not _blank(v))
        filled += not _blank(value)
    return filled, len(mapping.answers)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == ()


def _beside_kept_folder(folder: Path) -> Path:
    """A client forgotten with its folder kept (issue 11) is imported again next to the old
    folder, as `<name>-2`, `<name>-3`...: the old folder is never overwritten."""
    candidate, number = folder, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = folder.with_name(f"{folder.name}-{number}")
    return candidate


def _publish_and_record(
    ledger: Ledger,
    entry: ClientEntry,
    folder: Path,
    files: dict[str, bytes],
    firm: FirmLedger | None = None,
    who: Workstation | None = None,
) -> None:
    """The row (committed as pending), the firm-wide claim (pending), then the folder staged and
    renamed into place, then the claim and the row marked done: a kill at any point is finished
    or taken back by the next run (on another workstation: see `firmledger`)."""
    published = False
    try:
        with (
            ledger.reserve(entry),
            firm.reserve(entry, who or Workstation.current()) if firm else nullcontext() as token,
            staged_folder(folder.parent, folder.name, files, tag=token or "") as staging,
        ):
            publish(staging, folder)
            published = True
    except BaseException:
        if published:  # the ledger failed after the rename: take the folder back out
            remove_published(folder)
        raise


def _refuse_folder(
    ledger: Ledger,
    folder: Path,
    client_id: int,
    firm: FirmLedger | None = None,
    who: Workstation | None = None,
) -> None:
    """`refuse_if_exists`. When a ledger has the client (another import won a race since the
    first check), say that. When the folder holds a client of this contact that no ledger
    records, say what it holds: it may be a finished import (by another workstation before the
    shared ledger existed, or by an older mapctl), so mapctl never suggests moving it."""
    try:
        refuse_if_exists(folder)
    except ImportRefused as refusal:
        _refuse_existing(ledger, client_id, firm, who)
        info = client_info(folder)
        if info is not None and info.get("clio_contact_id") == client_id:
            raise FolderInTheWay(
                f"{folder} already holds a client of Clio contact {client_id} that no ledger "
                f"records: {_client_json_summary(folder, info)}",
                hint="it is probably a client created earlier (by another workstation before "
                "the shared ledger existed, or by an older mapctl): open it in ILS instead. "
                "The workstation that imported it adds it to the shared ledger the next time "
                "it runs mapctl there; nothing was imported",
            ) from None
        raise FolderInTheWay(
            refusal.message,
            hint="it is not a client folder of this contact that mapctl made; mapctl never "
            "overwrites it: check what it is, or import to another folder with --out",
        ) from None


def _client_json_summary(folder: Path, info: dict[str, Any]) -> str:
    matter = info.get("source_matter")
    number = matter.get("display_number") if isinstance(matter, dict) else None
    answer = info.get("answer_file")
    return (
        f"{info.get('name') or '?'}, created {info.get('created_at') or '?'} from matter "
        f"{number or '?'}; its answer file is {folder / str(answer) if answer else '?'}"
    )


def _evaluate(mapping: CompiledMapping, context: Context) -> tuple[AnswerSet, str, str]:
    """The answers and the client record's name and notes; any error: EvaluationError."""
    try:
        evaluation = evaluate(mapping, context)  # raises EvaluationError listing failing answers
    except EvaluationError as error:
        raise _nothing_imported(error.problems) from None
    problems = [*evaluation.errors, *evaluation.client_record_errors]
    if problems:
        raise _nothing_imported(problems)
    record = evaluation.client_record
    return evaluation.answer_set, (record.name or "").strip(), record.notes or ""


def _nothing_imported(problems: list[Problem]) -> EvaluationError:
    """The evaluation's problems, the last one saying that the import wrote nothing."""
    last = problems[-1]
    note = "nothing was imported; fix the mapping, then run the import again"
    problems[-1] = dataclasses.replace(last, hint=f"{last.hint}; {note}" if last.hint else note)
    return EvaluationError(problems)


def _client_files(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    answers: AnswerSet,
    folder: Path,
    record: tuple[str, str],
    now: datetime.datetime,
    shown: Preview,
) -> tuple[ClientEntry, dict[str, bytes]]:
    name, notes = record
    xml = render_xml(answers)
    answer_name = safe_component(mapping.title.lower(), fallback="answers") + ".anx"
    matter = bundle["matter"]
    created = now.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    entry = ClientEntry(
        name=name,
        notes=notes,
        clio_contact_id=matter["client"]["id"],
        matter_id=matter.get("id"),
        matter_display_number=matter.get("display_number"),
        answer_file=str(folder / answer_name),
        answer_sha256=hashlib.sha256(xml).hexdigest(),
        mapping_title=mapping.title,
        created_at=created,
    )
    info = {
        "name": name,
        "notes": notes,
        "clio_contact_id": entry.clio_contact_id,
        "source_matter": matter_summary(matter),
        "created_at": created,
        "mapping_title": mapping.title,
        "mapping_file": _mapping_file(mapping),
        "answer_file": answer_name,
        "answer_sha256": entry.answer_sha256,
    }
    if shown.roles_set:  # only then: a client.json without hand-set roles keeps its shape
        info["roles_set_by_hand"] = [_role_json(c) for c in shown.roles_set]
    client_json = (json.dumps(info, indent=2, ensure_ascii=False) + "\n").encode()
    return entry, {answer_name: xml, CLIENT_JSON: client_json}


def _mapping_file(mapping: CompiledMapping) -> str | None:
    """The mapping file used, absolute (or `<bundled>/name`), for client.json (issue 11)."""
    if not mapping.files:
        return None
    first = mapping.files[0]
    return first if first.startswith("<bundled>/") else os.path.abspath(first)


def unanswered_required(mapping: CompiledMapping, answers: AnswerSet) -> tuple[str, ...]:
    """`required: true` answers that ended up blank; a repeated one says how many entries."""
    found = []
    for rule in mapping.answers:
        if not rule.required:
            continue
        answer = answers.get(rule.name)
        value = answer.value if answer is not None else None
        if not rule.repeated:
            if value is None or value == "" or value == ():
                found.append(rule.name)
            continue
        entries = tuple(value or ())
        gaps = sum(1 for item in entries if item is None or item == "" or item == ())
        if not entries:
            found.append(f"{rule.name} (no entries)")
        elif gaps:
            found.append(f"{rule.name} ({gaps} of {len(entries)} entries)")
    return tuple(found)


def parse_removal(shown: Preview, reply: str) -> tuple[set[int], str | None]:
    """The contact ids a reply like "3, 5-7" (or Clio contact ids: "5015") removes from
    `shown`, or why it cannot.

    A reply with any problem removes nobody (the user is asked again): a typo must not remove
    the wrong person.
    """
    return _parse_contacts(shown, reply, _removable, "nothing removed")


def parse_restore(shown: Preview, reply: str) -> tuple[set[int], str | None]:
    """The removed contacts a reply like "14" or "5014" puts back, or why it cannot."""
    return _parse_contacts(shown, reply, _restorable, "nothing restored")


def parse_reply(shown: Preview, reply: str) -> tuple[set[int], set[int], str | None]:
    """The terminal dialogue's reply: (ids to remove, ids to restore, problem). "restore 14"
    (or "+14") puts removed contacts back; anything else names contacts to remove."""
    text = reply.strip()
    match = re.match(r"(?i)(?:restore\b|\+)\s*(.*)$", text)
    if match is None:
        removed, problem = parse_removal(shown, text)
        return removed, set(), problem
    if not match[1].strip():
        return set(), set(), "say which contact to restore, e.g. 'restore 14' (nothing restored)"
    restored, problem = parse_restore(shown, match[1])
    return set(), restored, problem


def _parse_contacts(
    shown: Preview, reply: str, check: Any, nothing: str
) -> tuple[set[int], str | None]:
    ids: set[int] = set()
    problems: list[str] = []
    for part in (p for p in re.split(r"[,;\s]+", reply.strip()) if p):
        numbers = _numbers(shown, part)
        if numbers is None:
            problems.append(f"{part!r} is not a number from the list")
            continue
        last = max(c.number for c in (*shown.contacts, *shown.excluded))
        if len(numbers) > 1 and numbers[-1] > last:  # one problem, not one per missing number
            problems.append(f"{part!r} goes past the end of the list (#1 to #{last})")
            continue
        for number in numbers:
            problem = check(shown, number)
            if problem:
                problems.append(problem)
            else:
                ids.add(
                    next(c.id for c in (*shown.contacts, *shown.excluded) if c.number == number)
                )
    if problems:
        shown_problems = problems[:MAX_REPLY_PROBLEMS]
        if len(problems) > MAX_REPLY_PROBLEMS:
            shown_problems.append(f"{len(problems) - MAX_REPLY_PROBLEMS} more problems")
        return set(), "; ".join(shown_problems) + f" ({nothing})"
    return ids, None


def _numbers(shown: Preview, part: str) -> range | None:
    """The list numbers a part names: "3", "#3", "3-5", or a Clio contact id ("5015"), which
    is read as an id only when it is not a number in the list."""
    match = re.fullmatch(r"#?(\d{1,12})(?:-#?(\d{1,12}))?", part)
    if match is None:
        return None
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    if first == last and not part.startswith("#") and shown.by_number(first) is None:
        by_id = next((c for c in (*shown.contacts, *shown.excluded) if c.id == first), None)
        if by_id is not None:
            return range(by_id.number, by_id.number + 1)
    return range(first, last + 1) if first <= last else None


def _removable(shown: Preview, number: int) -> str | None:
    contact = shown.by_number(number)
    if contact is None:
        return f"there is no #{number} in the list"
    if number == 1:
        return f"#1 is the client ({contact.name or contact.id}) and cannot be removed"
    if contact in shown.excluded:
        return f"#{number} ({contact.name or contact.id}) is already removed"
    return None


def _restorable(shown: Preview, number: int) -> str | None:
    contact = shown.by_number(number)
    if contact is None:
        return f"there is no #{number} in the list"
    if contact not in shown.excluded:
        return f"#{number} ({contact.name or contact.id}) is not removed"
    return None


def parse_role_options(values: Collection[str], mapping: CompiledMapping) -> dict[int, str]:
    """`--role CONTACT_ID=ROLE` values -> {contact id: role}; the role's case is forgiven
    ("child" is Child). An unknown role or a malformed value: MapctlError naming it."""
    names = {name.casefold(): name for name in mapping.relationships.role_names}
    roles: dict[int, str] = {}
    for value in values:
        contact, sep, role = value.partition("=")
        if not sep or not contact.strip().isdigit() or not role.strip():
            raise MapctlError(
                f"{value!r} is not CONTACT_ID=ROLE",
                hint="e.g. 5014=Child; the ids are in `mapctl preview`",
            )
        found = names.get(role.strip().casefold())
        if found is None:
            raise MapctlError(
                f"{value!r}: the mapping has no role {role.strip()!r}",
                hint=f"the mapping's roles: {', '.join(mapping.relationships.role_names)}",
            )
        roles[int(contact)] = found
    return roles
