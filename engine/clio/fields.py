"""Clio's `fields` parameter: parsing it and shaping records with it (used by the sandbox).

Rules (../shared/reference/clio/NOTES.md section 1.1): a comma list; a nested resource takes one
level of `{...}`; a nested name without braces gives its default fields (id and etag); a second
level of braces or a name the resource does not have rejects the whole request (400
InvalidFields, "<name> is not a valid field"). No `fields` at all gives id and etag. The valid
names come from Clio's OpenAPI document, derived into clio_fields.json (a test keeps it equal).
Pure: no I/O beyond reading the packaged table once.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

Spec = list[tuple[str, "Spec | None"]]  # [(name, sub-spec or None)], one level deep

DEFAULT_NESTED = ("id", "etag")


class InvalidFields(ValueError):
    """A `fields` value Clio would reject; the message is Clio's ("x is not a valid field")."""


@cache
def field_table() -> dict[str, dict[str, list[str | None]]]:
    text = resources.files(__package__ or "").joinpath("clio_fields.json").read_text("utf-8")
    table: dict[str, dict[str, list[str | None]]] = json.loads(text)
    return table


def field_kind(schema: str, name: str) -> list[str | None] | None:
    """[kind, target] of `name` on `schema`, as Clio's OpenAPI document defines it; None if the
    document does not (e.g. `contact` on a matter's nested `relationships`, a Relationship_base:
    NOTES 2.3's illustration asks for it, the document does not define it)."""
    return field_table().get(schema, {}).get(name)


def parse_fields(text: str | None) -> Spec:
    """`a,b{c,d},e` -> [("a", None), ("b", [("c", None), ("d", None)]), ("e", None)]."""
    if text is None or not text.strip():
        return [(name, None) for name in DEFAULT_NESTED]
    spec: Spec = []
    pos = 0
    while pos < len(text):
        end = pos
        while end < len(text) and text[end] not in ",{}":
            end += 1
        name = text[pos:end].strip()
        if end < len(text) and text[end] == "{":
            close = text.find("}", end)
            inner = text[end + 1 : close] if close != -1 else text[end + 1 :]
            if close == -1 or "{" in inner:
                raise InvalidFields(f"{text[pos:]} is not a valid field")
            sub: Spec = [(n.strip(), None) for n in inner.split(",") if n.strip()]
            spec.append((name, sub))
            end = close + 1
        elif end < len(text) and text[end] == "}":
            raise InvalidFields(f"{text[pos : end + 1]} is not a valid field")
        elif name:
            spec.append((name, None))
        pos = end + 1 if end < len(text) and text[end] == "," else end
    return spec


def check_fields(spec: Spec, schema: str) -> None:
    """Raise InvalidFields for the first name `schema` does not have, nested names included (or
    braces on a scalar)."""
    for name, sub in spec:
        kind = field_kind(schema, name)
        if kind is None or (sub is not None and kind[0] == "scalar"):
            raise InvalidFields(f"{name} is not a valid field")
        if sub is not None:
            target = str(kind[1])
            for sub_name, _ in sub:
                sub_kind = field_kind(target, sub_name)
                if sub_kind is None:
                    raise InvalidFields(f"{sub_name} is not a valid field")


def shape(record: dict[str, Any], spec: Spec, schema: str, depth: int = 0) -> dict[str, Any]:
    """The record as Clio returns it for `spec`: only the asked fields, unset ones null."""
    out: dict[str, Any] = {}
    for name, sub in spec:
        kind = field_kind(schema, name) or ["scalar", None]
        value = record.get(name)
        if kind[0] == "scalar":
            out[name] = value
            continue
        target = str(kind[1])
        inner: Spec = sub if sub is not None and depth == 0 else _default_spec(target)
        if kind[0] == "many":
            items = value if isinstance(value, list) else []
            out[name] = [shape(item, inner, target, depth + 1) for item in items]
        else:
            out[name] = shape(value, inner, target, depth + 1) if isinstance(value, dict) else None
    return out


def _default_spec(schema: str) -> Spec:
    return [(name, None) for name in DEFAULT_NESTED if field_kind(schema, name) is not None]
