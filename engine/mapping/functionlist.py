"""The function list `mapctl functions` prints, generated from the code.

Stage: presentation. Pure: reads engine.functions' docstrings and JMESPath's function table;
never prints. Project functions come first (signature, description, example); JMESPath's
built-ins follow with the signatures their table declares.
"""

from __future__ import annotations

from typing import Any

from jmespath import functions as jp_functions

from .functions import BUILTIN_NAMES, project_function_docs

# The built-ins: JMESPath's table has signatures but no descriptions or examples. Examples run
# over the demo family (tests/cases/blended-family; tests/unit/test_function_examples.py).
_BUILTIN_NOTES: dict[str, tuple[str, str]] = {
    "abs": ("absolute value", "abs(`-2`) -> 2"),
    "avg": ("average of an array of numbers", "avg(`[1, 2, 3, 4]`) -> 2.5"),
    "ceil": ("round up", "ceil(`1.2`) -> 2"),
    "contains": (
        "whether a string or array contains a value",
        "contains(children[].first_name, 'Manny') -> true",
    ),
    "ends_with": (
        "whether a string ends with another",
        "ends_with(client.name, 'Pritchett') -> true",
    ),
    "floor": ("round down", "floor(`1.8`) -> 1"),
    "join": (
        "join an array of strings with a separator",
        "join(', ', children[].first_name) -> \"Claire, Mitchell, Manny, Joe\"",
    ),
    "keys": (
        "an object's keys",
        'keys(by_role) -> ["Spouse", "Child", "Grandchild", "Co-client", "Party"]',
    ),
    "length": ("length of a string, array or object (null is an error)", "length(children) -> 4"),
    "map": ("apply an expression to each element", 'map(&first_name, spouses) -> ["Gloria"]'),
    "max": ("largest number or string", 'max(children[].date_of_birth) -> "2013-04-05"'),
    "max_by": (
        "element with the largest expression value",
        'max_by(children, &date_of_birth).first_name -> "Joe"',
    ),
    "merge": ("merge objects", 'merge(`{"a": 1}`, `{"b": 2}`) -> {"a": 1, "b": 2}'),
    "min": ("smallest number or string", 'min(children[].date_of_birth) -> "1970-10-03"'),
    "min_by": (
        "element with the smallest expression value",
        'min_by(children, &date_of_birth).first_name -> "Claire"',
    ),
    "not_null": ("first argument that is not null", "not_null(spouse.prefix, 'Ms.') -> \"Ms.\""),
    "reverse": (
        "reverse a string or array",
        'reverse(children[].first_name) -> ["Joe", "Manny", "Mitchell", "Claire"]',
    ),
    "sort": (
        "sort numbers or strings",
        'sort(children[].first_name) -> ["Claire", "Joe", "Manny", "Mitchell"]',
    ),
    "sort_by": (
        "sort by an expression",
        'sort_by(children, &first_name)[0].name -> "Claire Dunphy"',
    ),
    "starts_with": (
        "whether a string starts with another",
        "starts_with(matter.display_number, '00002') -> true",
    ),
    "sum": ("sum of numbers", "sum(`[1, 2, 3]`) -> 6"),
    "to_array": (
        "wrap a value in an array (arrays unchanged)",
        'to_array(client.name) -> ["Jay Francis Pritchett"]',
    ),
    "to_number": ("a number from a string or number", "to_number('42') -> 42"),
    "to_string": ("a value as a JSON string", 'to_string(`[1, 2]`) -> "[1,2]"'),
    "type": ("the value's JSON type name", 'type(spouse) -> "object"'),
    "values": ("an object's values", 'values(`{"a": 1}`) -> [1]'),
}


def _argument(spec: dict[str, Any]) -> str:
    types = spec.get("types") or ["any"]
    text = "|".join("&expression" if t == "expref" else t for t in types)
    return f"{text}..." if spec.get("variadic") else text


def builtin_signature(name: str) -> str:
    """`length(string|array|object)` from JMESPath's function table."""
    table = jp_functions.Functions.FUNCTION_TABLE  # type: ignore[attr-defined]
    args = ", ".join(_argument(spec) for spec in table[name]["signature"])
    return f"{name}({args})"


def function_list() -> list[dict[str, Any]]:
    """Every function as a JSON-ready dict: name, signature, description, example, builtin."""
    items = [
        {
            "name": doc.name,
            "signature": doc.signature,
            "description": doc.description,
            "example": doc.example,
            "builtin": False,
        }
        for doc in project_function_docs()
    ]
    for name in sorted(BUILTIN_NAMES):
        items.append(
            {
                "name": name,
                "signature": builtin_signature(name),
                "description": _BUILTIN_NOTES.get(name, ("", ""))[0],
                "example": _BUILTIN_NOTES.get(name, ("", ""))[1],
                "builtin": True,
            }
        )
    return items


def functions_text() -> str:
    """The human listing."""
    lines = ["mapctl's functions (null-safe: null in, null out):", ""]
    for doc in project_function_docs():
        lines += [f"  {doc.signature}", f"      {doc.description}"]
        if doc.example:
            lines.append(f"      Example: {doc.example}")
    lines += [
        "",
        "JMESPath built-ins (https://jmespath.org/specification.html#built-in-functions):",
    ]
    for name in sorted(BUILTIN_NAMES):
        note, example = _BUILTIN_NOTES.get(name, ("", ""))
        lines.append(f"  {builtin_signature(name):<44} {note}".rstrip())
        if example:
            lines.append(f"      Example: {example}")
    return "\n".join(lines) + "\n"
