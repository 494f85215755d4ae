"""Field types: which Clio custom field types suit which answer types, which answers read a custom
field directly, and the checks on a declaration's `create` (for `mapctl doctor`).

Stage: part of validation (the `create` checks) and of `mapctl doctor`'s comparison of Clio's
fields with the mapping. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Problem
from ..model import AnswerType
from .expressions import spread_or
from .loading import LoadedMapping, location_of

# Answer type -> the Clio field types whose typed value it can take as is (mapping-format.md,
# "Custom fields": picklist -> the option's label, checkbox -> true/false, numeric/currency ->
# number, date -> YYYY-MM-DD). A text answer takes any of them.
SUITS: dict[AnswerType, frozenset[str]] = {
    "date": frozenset({"date"}),
    "multiple_choice": frozenset({"picklist"}),
    "true_false": frozenset({"checkbox"}),
    "number": frozenset({"numeric", "currency"}),
}
# For messages: what an answer type needs.
NEEDS: dict[AnswerType, str] = {
    "date": "a date field",
    "multiple_choice": "a picklist",
    "true_false": "a checkbox",
    "number": "a numeric or currency field",
}


def suits(answer: AnswerType, field_type: str) -> bool:
    """Whether a Clio field of `field_type` gives a value an answer of type `answer` can take."""
    allowed = SUITS.get(answer)
    return allowed is None or field_type in allowed


PICKERS = ("only", "primary")  # functions that give one element of a list, unchanged


def direct_alias(ast: dict[str, Any]) -> str | None:
    """The alias an expression reads as is (`client.custom.marital`, `custom.gender`,
    `spouse.custom.x`, `(spouse || only(co_clients[?...])).custom.x`), or None when it computes
    something from it (a comparison, a function other than one picking an element)."""
    alternatives = spread_or(ast)
    if alternatives is not None:  # each alternative must read the same alias as is
        found = {direct_alias(alternative) for alternative in alternatives}
        return found.pop() if len(found) == 1 else None
    names: list[str] = []

    def walk(node: dict[str, Any]) -> bool:
        kind = node.get("type")
        children = node.get("children", ())
        if kind == "field":
            names.append(str(node.get("value")))
            return True
        if kind == "subexpression":
            return all(walk(child) for child in children)
        if kind == "function_expression" and node.get("value") in PICKERS and len(children) == 1:
            return walk(children[0])  # only(x), primary(x): an element of x, as it is
        if kind == "filter_projection" and children:
            return walk(children[0])  # x[?cond]: elements of x
        return False

    if not walk(ast) or len(names) < 2 or names[-2] != "custom":
        return None
    return names[-1]


def creation_problems(loaded: LoadedMapping) -> Iterator[Problem]:
    """`create:` declarations that cannot work: without a name, a picklist without options,
    options on another type, the same option twice."""
    for alias, entry in loaded.custom_fields.items():
        value = entry.value
        if not isinstance(value, dict) or not isinstance(value.get("create"), dict):
            continue
        create = value["create"]
        kind = create.get("type")
        options = create.get("options")
        doc = entry.doc
        if "id" in value and "name" not in value:
            yield doc.problem(
                location_of(entry, "create", key=True),
                f"custom field '{alias}': create needs the field's name, not its id",
                "bad-create",
                hint="Clio gives a new field its id; write {name: ..., create: {...}}",
                length=len("create"),
            )
        if kind == "picklist" and options is None:
            yield doc.problem(
                location_of(entry, "create", "type"),
                f"custom field '{alias}': a picklist needs its options",
                "bad-create",
                hint="e.g. create: {type: picklist, options: [Single, Married, Divorced]}",
                length=len("picklist"),
            )
        if isinstance(kind, str) and kind != "picklist" and options is not None:
            yield doc.problem(
                location_of(entry, "create", "options", key=True),
                f"custom field '{alias}': options are only for a picklist (this is {kind})",
                "bad-create",
                hint="remove options, or make it type: picklist",
                length=len("options"),
            )
        if isinstance(options, list):
            yield from _repeated_options(loaded, alias, options)


def _repeated_options(loaded: LoadedMapping, alias: str, options: list[Any]) -> Iterator[Problem]:
    entry = loaded.custom_fields[alias]
    seen: dict[str, int] = {}
    for index, option in enumerate(options):
        if not isinstance(option, str):
            continue
        key = option.strip().casefold()
        if key in seen:
            yield entry.doc.problem(
                location_of(entry, "create", "options", index),
                f"custom field '{alias}': option '{option}' is listed twice (as item "
                f"{seen[key] + 1} too)",
                "bad-create",
                hint="Clio compares options ignoring case: keep one",
                length=len(option),
            )
        else:
            seen[key] = index
