"""Explaining: why each answer has its value, for `mapctl explain`.

Stage: presentation over context + evaluation. Pure: returns text or a JSON-ready dict; never
prints. Sensitive custom fields are masked everywhere: an answer whose expression (or `each`)
reads a sensitive alias shows MASK instead of its value (also inside repeats, and when a
function transforms the value), and so does that alias in a contact's `custom` dict.
"""

from __future__ import annotations

import datetime
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import MapctlError
from ..mapping.expressions import spread_or
from ..mapping.model import AnswerRule, CompiledMapping
from ..model import SENSITIVE_MASK
from ..report import format_problem, printable
from ..textsafe import replace_surrogates, without_surrogates
from .context import Context
from .evaluation import Evaluation, Provenance, holds_sensitive, reads_sensitive

MASK = SENSITIVE_MASK


@dataclass(frozen=True)
class Explained:
    """One answer, explained."""

    rule: AnswerRule
    value: Any
    provenance: Provenance | None
    sensitive: bool
    failed: bool


def select_rules(mapping: CompiledMapping, names: Sequence[str]) -> list[AnswerRule]:
    """The rules named (all when none); an unknown name is an error with a did-you-mean."""
    if not names:
        return list(mapping.answers)
    by_name = {rule.name: rule for rule in mapping.answers}
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?" if close else "mapctl explain BUNDLE lists them all"
            )
            raise MapctlError(f"the mapping has no answer named {name!r}", hint=hint)
    return [by_name[name] for name in dict.fromkeys(names)]


def explain(
    mapping: CompiledMapping, context: Context, evaluation: Evaluation, names: Sequence[str] = ()
) -> list[Explained]:
    """Each selected answer with its value, provenance and whether it is masked."""
    answers = {a.name: a for a in evaluation.answer_set.answers}
    failed = {p.path[1] for p in evaluation.errors if len(p.path) > 1}
    out = []
    for rule in select_rules(mapping, names):
        prov = evaluation.provenance.get(rule.name)
        paths = prov.paths if prov else ()
        answer = answers.get(rule.name)
        out.append(
            Explained(
                rule,
                answer.value if answer else None,
                prov,
                reads_sensitive(paths, mapping.sensitive_aliases)
                or holds_sensitive(answer.value if answer else None, context.sensitive_values),
                rule.name in failed,
            )
        )
    return out


def show_value(value: Any, *, masked: bool = False, repeated: bool = False) -> str:
    """A value as people read it: JSON-ish, dates ISO, repeats as [..], unanswered as such;
    masked: every answered entry (of a repeat too) shows MASK."""
    if masked:
        if repeated and isinstance(value, tuple):
            return "[" + ", ".join(show_value(v, masked=True) for v in value) + "]"
        return "(unanswered)" if value is None else MASK
    if value is None:
        return "(unanswered)"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def fields_read(ast: dict[str, Any]) -> list[str]:
    """The context fields an expression reads, as people write them: `client.first_name`,
    `primary(client.addresses).street`, `by_role.Spouse[].name`."""
    text = _chain_text(ast)
    if text is not None:
        return [] if text == "@" else [text]
    found: list[str] = []
    for alternative in spread_or(ast) or ():  # `(spouse || x).name`: spouse.name, x.name
        found.extend(f for f in fields_read(alternative) if f not in found)
    if found:
        return found
    for child in ast.get("children", ()):
        if isinstance(child, dict):
            found.extend(f for f in fields_read(child) if f not in found)
    return found


def _chain_text(node: dict[str, Any], head: bool = False) -> str | None:
    # `head`: the left end of a chain, where a one-argument call reads as a field
    # (`primary(client.addresses).street`); alone, `length(children)` reads `children`.
    kind = node.get("type")
    if kind == "field":
        return str(node["value"])
    if kind == "index":
        return f"[{node['value']}]"
    if kind in ("current", "identity"):
        return "@"
    children = [c for c in node.get("children", ()) if isinstance(c, dict)]
    if kind == "filter_projection" and len(children) == 3:  # the condition is not read out
        left, right = _chain_text(children[0]), _chain_text(children[1])
        if left is None or right is None:
            return None
        return f"{left}[?…]" + ("" if right == "@" else f".{right}")
    chained = kind in ("subexpression", "index_expression")
    parts = [_chain_text(c, head=chained and n == 0) for n, c in enumerate(children)]
    if any(part is None for part in parts):
        return None
    texts = [p for p in parts if p is not None]
    if kind in ("subexpression", "index_expression") and texts:
        out = texts[0]
        for part in texts[1:]:
            out += part if part.startswith("[") else f".{part}"
        return out
    if kind == "flatten" and len(texts) == 1:
        return f"{texts[0]}[]"
    if kind == "projection" and len(texts) == 2:
        left = texts[0] if texts[0].endswith("]") else f"{texts[0]}[*]"
        return left if texts[1] == "@" else f"{left}.{texts[1]}"
    if kind == "function_expression" and head and len(texts) == 1:
        return f"{node['value']}({texts[0]})"
    return None


def describe_fields(rule: AnswerRule, mapping: CompiledMapping) -> list[str]:
    """Where a rule's value comes from, with custom aliases named by their Clio field."""
    own = fields_read(rule.value.ast)
    if rule.each is not None:
        lists = fields_read(rule.each.ast) or [rule.each.source]
        own = [f"{lists[0]}[].{f}" for f in own] or lists
    return [_with_custom_name(text, mapping) for text in own]


def _with_custom_name(text: str, mapping: CompiledMapping) -> str:
    for spec in mapping.custom_fields:
        if f"custom.{spec.alias}" in text:
            what = f'"{spec.name}"' if spec.name else f"id {spec.id}"
            return f"{text} (Clio custom field {what})"
    return text


def masked_custom(custom: dict[str, Any], sensitive: frozenset[str]) -> dict[str, Any]:
    return {k: (MASK if k in sensitive and v is not None else v) for k, v in custom.items()}


def explain_text(
    mapping: CompiledMapping, context: Context, evaluation: Evaluation, items: list[Explained]
) -> str:
    """The human report: matter, contacts and roles, unmatched labels, warnings, answers."""
    data = context.data
    matter = data["matter"]
    lines = [
        f"Matter {matter.get('display_number') or matter.get('id')}: "
        f"{matter.get('description') or ''}".rstrip(": "),
        f"Mapping: {mapping.title}    Render date: {data['today']}",
        "",
        "Contacts:",
    ]
    for view in context.contacts:
        lines.append(f"  {_contact_line(view)}")
    otherwise = mapping.relationships.otherwise
    unmatched = [
        v
        for v in context.contacts
        if v.role != "Client" and not v.co_client and not v.classification.matched
    ]
    if unmatched:
        lines += ["", f"Labels that fell to {otherwise}:"]
        for view in unmatched:
            found = view.classification
            label = json.dumps(found.label) if found.label else "(blank)"
            hint = f": did you mean {json.dumps(found.suggestion)}?" if found.suggestion else ""
            lines.append(f"  {label} ({view.name or f'contact {view.id}'}){hint}")
    if context.warnings:
        lines += ["", "Warnings:"] + [f"  {w}" for w in context.warnings]
    lines += ["", "Answers:"]
    for item in items:
        lines += _answer_lines(item, mapping)
    lines = [printable(line) for line in lines]  # names, labels, the matter: Clio's text
    for problem in evaluation.errors:
        if len(problem.path) > 1 and problem.path[1] in {i.rule.name for i in items}:
            lines += ["", format_problem(problem)]
    return replace_surrogates("\n".join(lines) + "\n")  # a mapping's "\ud83d" (issue 9)


def _contact_line(view: Any) -> str:
    name = view.name or "(no name)"
    if view.role == "Client" and not view.co_client:
        return f"{name} (contact {view.id}): Client"
    if view.co_client:  # issue 17: a client of the matter too, with no label
        why = "set by hand" if view.role_set is not None else "the mapping's co_client role"
        excluded = "  [excluded]" if view.excluded else ""
        return f"{name} (contact {view.id}): co-client -> {view.role} ({why}){excluded}"
    found = view.classification
    label = json.dumps(found.label) if found.label else "(blank label)"
    why = f'synonym "{found.synonym}"' if found.synonym else "no synonym matched"
    excluded = "  [excluded]" if view.excluded else ""
    return f"{name} (contact {view.id}): {label} -> {found.role} ({why}){excluded}"


def _answer_lines(item: Explained, mapping: CompiledMapping) -> list[str]:
    rule = item.rule
    kind = rule.type + (f", one entry per {rule.each.source}" if rule.each else "")
    value = (
        "(failed: see below)"
        if item.failed
        else show_value(item.value, masked=item.sensitive, repeated=rule.each is not None)
    )
    lines = [f"  {rule.name} ({kind}) = {value}", f"      expression: {rule.value.source}"]
    fields = describe_fields(rule, mapping)
    if fields:
        lines.append(f"      from: {', '.join(fields)}")
    return lines


def explain_json(
    mapping: CompiledMapping, context: Context, evaluation: Evaluation, items: list[Explained]
) -> dict[str, Any]:
    """The same report as a JSON-ready dict (lone surrogates replaced, as in the text)."""
    sensitive = mapping.sensitive_aliases
    matter = context.data["matter"]
    report = {
        "matter": {"id": matter.get("id"), "display_number": matter.get("display_number")},
        "today": context.data["today"],
        "contacts": [
            {
                "id": v.id,
                "name": v.name,
                "relationship": v.relationship,
                "role": v.role,
                "synonym": v.classification.synonym,
                "excluded": v.excluded,
                "custom": masked_custom(v.record.get("custom", {}), sensitive),
            }
            for v in context.contacts
        ],
        "unmatched_labels": [
            {"label": u.label, "role": u.role, "suggestion": u.suggestion}
            for u in context.unmatched_labels
        ],
        "warnings": list(context.warnings),
        "answers": [_answer_json(item, mapping) for item in items],
        "errors": [format_problem(p) for p in evaluation.errors],
    }
    return without_surrogates(report)  # type: ignore[no-any-return]


def _answer_json(item: Explained, mapping: CompiledMapping) -> dict[str, Any]:
    rule = item.rule
    return {
        "name": rule.name,
        "type": rule.type,
        "each": rule.each.source if rule.each else None,
        "expression": rule.value.source,
        "value": _json_value(item.value, item.sensitive, rule.each is not None),
        "sensitive": item.sensitive,
        "failed": item.failed,
        "fields": describe_fields(rule, mapping),
    }


def _json_value(value: Any, masked: bool, repeated: bool = False) -> Any:
    if value is None:
        return None
    if masked:
        return [_json_value(v, True) for v in value] if repeated else MASK
    if isinstance(value, tuple):
        return [_json_value(v, False) for v in value]
    return value.isoformat() if isinstance(value, datetime.date) else value
