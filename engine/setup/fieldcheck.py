"""Field check: Clio's contact custom fields against a mapping's `custom_fields` (and, with an
interview, a picklist's options against the interview's) -> `mapctl doctor`'s check lines.

Stage: inside `mapctl doctor`, after the definitions are read from Clio. Pure: takes the
compiled mapping, Clio's raw CustomField records and the interview; no I/O.

Names match as the import matches them (engine.render.custom_values): trimmed and case-folded,
so "Marital status" in Clio is the mapping's "Marital Status"; a live field wins over a deleted
one of the same name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..hotdocs.interview import Interview
from ..mapping.fieldtypes import NEEDS, direct_alias, suits
from ..mapping.model import AnswerRule, CompiledMapping, CustomFieldSpec
from .checks import Check

Record = dict[str, Any]


def _key(name: Any) -> str:
    return name.strip().casefold() if isinstance(name, str) else ""


def _is_contact(record: Record) -> bool:
    return str(record.get("parent_type", "")).casefold() == "contact"


@dataclass
class FieldReport:
    """The check lines, and the declared fields Clio lacks (what --create-fields would make)."""

    checks: list[Check] = field(default_factory=list)
    missing: list[CustomFieldSpec] = field(default_factory=list)


def check_fields(
    mapping: CompiledMapping, definitions: list[Record], interview: Interview | None = None
) -> FieldReport:
    """One line per declared field, then one listing the contact fields no declaration reads."""
    report = FieldReport()
    contact = [d for d in definitions if _is_contact(d)]
    live = [d for d in contact if not d.get("deleted")]
    used: set[int] = set()
    for spec in mapping.custom_fields:
        found, problem = _find(spec, definitions, contact, live)
        if found is None:
            assert problem is not None
            report.checks.append(problem)
            wanted = _key(spec.name)
            if spec.id is None and not any(_key(d.get("name")) == wanted for d in contact):
                report.missing.append(spec)
            continue
        used.add(found["id"])
        report.checks.extend(_field_checks(mapping, spec, found, interview))
    unread = [str(d.get("name")) for d in live if d.get("id") not in used]
    if unread:
        report.checks.append(
            Check(
                "unread fields",
                "info",
                f"Clio has {len(unread)} contact field{'s' if len(unread) != 1 else ''} no "
                f"mapping reads: {', '.join(unread)}",
                "to bring one across, declare it under custom_fields (alias: Name) and answer "
                "from client.custom.<alias>",
            )
        )
    return report


def _label(spec: CustomFieldSpec) -> str:
    what = f"'{spec.name}'" if spec.name is not None else f"id {spec.id}"
    return f"custom field {spec.alias} ({what})"


def _find(
    spec: CustomFieldSpec, everything: list[Record], contact: list[Record], live: list[Record]
) -> tuple[Record | None, Check | None]:
    name = f"field {spec.alias}"
    if spec.id is not None:
        record = next((d for d in everything if d.get("id") == spec.id), None)
        if record is None:
            return None, Check(
                name,
                "fail",
                f"{_label(spec)}: Clio has no custom field with id {spec.id}",
                "check the id in Clio (Settings > Custom Fields), or declare it by name",
            )
        if not _is_contact(record):
            return None, Check(
                name,
                "fail",
                f"{_label(spec)}: '{record.get('name')}' is a {record.get('parent_type')} field "
                "in Clio; mapctl reads contact fields",
                "declare a contact custom field instead",
            )
        if record.get("deleted"):
            return None, _deleted(name, spec, record)
        return record, None
    wanted = _key(spec.name)
    record = next((d for d in live if _key(d.get("name")) == wanted), None)
    if record is not None:
        return record, None
    gone = next((d for d in contact if _key(d.get("name")) == wanted), None)
    if gone is not None:
        return None, _deleted(name, spec, gone)
    return None, _missing(name, spec, live, everything)


def _deleted(name: str, spec: CustomFieldSpec, record: Record) -> Check:
    return Check(
        name,
        "fail",
        f"{_label(spec)}: the field is deleted in Clio (id {record.get('id')}); its values "
        "are blank",
        "restore it in Clio, or make a new one and point the mapping at it",
    )


def _missing(
    name: str, spec: CustomFieldSpec, live: list[Record], everything: list[Record]
) -> Check:
    names = [str(d.get("name")) for d in live]
    folded = {_key(n): n for n in names}
    close = difflib.get_close_matches(_key(spec.name), list(folded), n=1, cutoff=0.75)
    matter = next(
        (d for d in everything if not _is_contact(d) and _key(d.get("name")) == _key(spec.name)),
        None,
    )
    hints = []
    if close:
        hints.append(f"did you mean '{folded[close[0]]}'? (fix the name in the mapping or in Clio)")
    if matter is not None:
        hints.append(f"Clio has a matter field '{matter.get('name')}'; mapctl reads contact fields")
    if spec.create is not None:
        hints.append("`mapctl doctor --create-fields` creates it as declared")
    else:
        hints.append(
            "create it in Clio (Settings > Custom Fields, Contact), or declare how with "
            "create: {type: ...} and run `mapctl doctor --create-fields`"
        )
    return Check(
        name,
        "fail",
        f"{_label(spec)}: Clio has no contact custom field named '{spec.name}'; its answers "
        "would always be blank",
        "; ".join(hints),
    )


def _readers(mapping: CompiledMapping, alias: str) -> list[AnswerRule]:
    return [rule for rule in mapping.answers if direct_alias(rule.value.ast) == alias]


def _field_checks(
    mapping: CompiledMapping, spec: CustomFieldSpec, record: Record, interview: Interview | None
) -> list[Check]:
    name = f"field {spec.alias}"
    kind = str(record.get("field_type"))
    found = f"'{record.get('name')}' ({kind}, id {record.get('id')})"
    readers = _readers(mapping, spec.alias)
    wrong = [rule for rule in readers if not suits(rule.type, kind)]
    if wrong:
        by_type: dict[str, list[str]] = {}
        for rule in wrong:
            by_type.setdefault(rule.type, []).append(f"'{rule.name}'")
        parts = [
            f"{'answer' if len(names) == 1 else 'answers'} {', '.join(names)} ({kind_}) "
            f"{'needs' if len(names) == 1 else 'need'} {NEEDS[kind_]}"  # type: ignore[index]
            for kind_, names in by_type.items()
        ]
        return [
            Check(
                name,
                "fail",
                f"{_label(spec)}: Clio's {found} is the wrong type: " + "; ".join(parts),
                "a Clio field's type cannot be changed: make a field of the right type and point "
                "the mapping at it, or change the answer's type",
            )
        ]
    checks = [Check(name, "pass", f"{_label(spec)}: found {found}")]
    if interview is not None and kind == "picklist":
        checks.extend(_option_checks(spec, record, readers, interview))
    return checks


def _option_checks(
    spec: CustomFieldSpec, record: Record, readers: list[AnswerRule], interview: Interview
) -> list[Check]:
    options = [
        str(o.get("option"))
        for o in record.get("picklist_options") or []
        if isinstance(o, dict) and not o.get("deleted_at")
    ]
    checks = []
    for rule in readers:
        variable = interview.variables.get(rule.name)
        if rule.type != "multiple_choice" or variable is None or variable.options is None:
            continue
        name = f"options {spec.alias}"
        extra = [o for o in options if o not in variable.options]
        lacking = [o for o in variable.options if o not in options]
        where = f"'{record.get('name')}' vs {interview.file} '{rule.name}'"
        if extra:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"options {where}: Clio has options the interview does not offer: "
                    f"{', '.join(extra)} (those answers would select nothing)",
                    "add them to the interview's variable, or rename/remove them in Clio "
                    "(options match exactly, case included)",
                )
            )
        if lacking:
            checks.append(
                Check(
                    name,
                    "warn",
                    f"options {where}: the interview offers options Clio's field lacks: "
                    f"{', '.join(lacking)}",
                    "add them to the field in Clio if staff should pick them there",
                )
            )
        if not extra and not lacking:
            checks.append(Check(name, "pass", f"options {where}: the same {len(options)}"))
    return checks
