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
import re
from collections.abc import Iterable
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
    """Raise InvalidFields naming every name `schema` does not have, in Clio's words (NOTES 12):
    "x is not a valid field" for one, "a, b{c} are not valid fields" for several, a nested name
    as `parent{child}`, braces on a scalar as the bare name."""
    refuse_fields(spec, schema, ())


def refuse_fields(spec: Spec, schema: str, refused: Iterable[str]) -> None:
    """`check_fields`, and also refuse the names in `refused` (`name` or `parent{child}`): how
    the sandbox plays a live Clio that refuses fields its document lists (NOTES 12)."""
    also = set(refused)
    bad: list[str] = []
    for name, sub in spec:
        kind = field_kind(schema, name)
        if kind is None or (sub is not None and kind[0] == "scalar") or name in also:
            bad.append(name)
            continue
        if sub is not None:
            target = str(kind[1])
            for sub_name, _ in sub:
                nested = f"{name}{{{sub_name}}}"
                if field_kind(target, sub_name) is None or nested in also:
                    bad.append(nested)
    if bad:
        raise InvalidFields(refusal_message(bad))


def refusal_message(names: list[str]) -> str:
    """Clio's wording for refused field names."""
    if len(names) == 1:
        return f"{names[0]} is not a valid field"
    return f"{', '.join(names)} are not valid fields"


_REFUSAL = re.compile(r"^\s*(?P<names>.+?)\s+(?:is not a valid field|are not valid fields)\b")


def refused_names(message: str | None) -> list[str] | None:
    """The field names in Clio's refusal ("a, b{c} are not valid fields", "x is not a valid
    field"), each `name` or `parent{child}` (`b{c,d}` gives b{c} and b{d}); None when the
    message is not one."""
    match = _REFUSAL.match(message or "")
    if match is None:
        return None
    names: list[str] = []
    for part in _split_top(match.group("names")):
        part = part.strip().strip("'\"`")
        if "{" in part:
            parent, _, inner = part.partition("{")
            children = [c.strip() for c in inner.rstrip("}").split(",") if c.strip()]
            if not parent.strip():
                return None
            names += [f"{parent.strip()}{{{child}}}" for child in children] or [parent.strip()]
        elif part:
            names.append(part)
    return names or None


def _split_top(text: str) -> list[str]:
    """Split on commas outside braces."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth <= 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def drop_fields(text: str, names: Iterable[str], keep: Iterable[str] = ()) -> tuple[str, list[str]]:
    """`text` (a `fields` value) without `names` (`name` drops a field, `parent{child}` one
    child; a parent left with no children stays bare, so its id still comes) -> (new text, the
    names actually dropped). A name in `keep` asked with braces is asked bare instead (its
    default fields, the id among them); one asked bare is kept."""
    wanted = set(names)
    kept_names = set(keep)
    dropped: list[str] = []
    parts: list[str] = []
    for name, sub in parse_fields(text):
        if name in wanted and name in kept_names:
            if sub is not None:
                dropped.append(f"{name}{{{','.join(child for child, _ in sub)}}}")
            parts.append(name)
            continue
        if name in wanted:
            dropped.append(name)
            continue
        if sub is None:
            parts.append(name)
            continue
        kept = []
        for child, _ in sub:
            nested = f"{name}{{{child}}}"
            if nested in wanted:
                dropped.append(nested)
            else:
                kept.append(child)
        parts.append(f"{name}{{{','.join(kept)}}}" if kept else name)
    return ",".join(parts), dropped


def asked_keys(text: str) -> dict[str, list[str] | None]:
    """{top-level name: the nested names asked for in braces, or None} of a `fields` value."""
    return {
        name: (None if sub is None else [child for child, _ in sub])
        for name, sub in parse_fields(text)
    }


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
