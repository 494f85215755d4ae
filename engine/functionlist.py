"""The function list `mapctl functions` prints, generated from the code.

Stage: presentation. Pure: reads engine.functions' docstrings and JMESPath's function table;
never prints. Project functions come first (signature, description, example); JMESPath's
built-ins follow with the signatures their table declares.
"""

from __future__ import annotations

from typing import Any

from jmespath import functions as jp_functions

from engine.functions import BUILTIN_NAMES, project_function_docs

# One line each for the built-ins (JMESPath's table has signatures but no descriptions).
_BUILTIN_NOTES = {
    "abs": "absolute value",
    "avg": "average of an array of numbers",
    "ceil": "round up",
    "contains": "whether a string or array contains a value",
    "ends_with": "whether a string ends with another",
    "floor": "round down",
    "join": "join an array of strings with a separator",
    "keys": "an object's keys",
    "length": "length of a string, array or object (null is an error)",
    "map": "apply an expression to each element",
    "max": "largest number or string",
    "max_by": "element with the largest expression value",
    "merge": "merge objects",
    "min": "smallest number or string",
    "min_by": "element with the smallest expression value",
    "not_null": "first argument that is not null",
    "reverse": "reverse a string or array",
    "sort": "sort numbers or strings",
    "sort_by": "sort by an expression",
    "starts_with": "whether a string starts with another",
    "sum": "sum of numbers",
    "to_array": "wrap a value in an array (arrays unchanged)",
    "to_number": "a number from a string or number",
    "to_string": "a value as a JSON string",
    "type": "the value's JSON type name",
    "values": "an object's values",
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
                "description": _BUILTIN_NOTES.get(name, ""),
                "example": "",
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
    lines += [
        f"  {builtin_signature(name):<44} {_BUILTIN_NOTES.get(name, '')}".rstrip()
        for name in sorted(BUILTIN_NAMES)
    ]
    return "\n".join(lines) + "\n"
