"""Indentation: a YAML syntax error that is really a line indented more or less than the keys it
belongs with -> a message in plain words, at the line that is out of place.

Stage: part of loading (used by `engine.mapping.source` when PyYAML gives up). Pure: takes the
text and PyYAML's position, never reads files. PyYAML reports such mistakes as "expected <block
end>, but found '<block mapping start>'", or, when a key is dedented out of a section and the
next line keeps the section's indentation, as "mapping values are not allowed here" on that next
line (the line that is right). Both are read here from the lines around the spot (issue 11):
- a key that ends a section too early (`marital:` at column 1 between two entries of
  `custom_fields`): "indented less than the keys it belongs with", at its own line;
- a key indented more than the key before it, whose value is on its own line: "indented more";
- a key between two levels: "indented less than ... and more than ...".
Anything else (flow collections, lists, tabs) keeps PyYAML's message: None here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(
    r"""(?P<indent> *)(?P<key>'[^']*'|"(?:[^"\\]|\\.)*"|(?!- |-$)[^\s'"#\[\]{},&*!|>%@`][^#]*?)"""
    r"""[ \t]*:(?:[ \t]+(?P<value>.*)|$)"""
)
_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*\s*(#.*)?")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    indent: int  # spaces before the first character
    key: str | None  # the key of a `key: ...` line; None for any other content
    value: str  # what follows `key:` on the line ("" when nothing)

    @property
    def column(self) -> int:
        return self.indent + 1


@dataclass(frozen=True)
class Misplaced:
    """The line that is out of place, and what to say about it."""

    line: int
    column: int
    length: int
    message: str
    hint: str


def _lines(text: str) -> list[Line] | None:
    """The content lines (no blank or comment lines); None when indentation uses tabs."""
    found: list[Line] = []
    scalar_indent: int | None = None  # inside a block scalar (`key: |`) deeper than this
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip("\r")
        stripped = raw.lstrip(" ")
        if stripped.startswith("\t"):
            return None
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(stripped)
        if scalar_indent is not None and indent > scalar_indent:
            found.append(Line(number, indent, None, ""))
            continue
        scalar_indent = None
        match = _KEY.fullmatch(raw.rstrip())
        key = match["key"].strip("'\"") if match else None
        value = (match["value"] or "").strip() if match else ""
        if match and _BLOCK_SCALAR.fullmatch(value):
            scalar_indent = indent
        found.append(Line(number, indent, key, value))
    return found


def diagnose(text: str, problem: str, line: int, column: int) -> Misplaced | None:
    """Plain words for PyYAML's `problem` at 1-based `line`:`column`, when it is an indentation
    mistake that can be told from the lines around it; None otherwise."""
    lines = _lines(text)
    if lines is None:
        return None
    here = next((i for i, item in enumerate(lines) if item.number == line), None)
    if here is None or here == 0 or lines[here].key is None:
        return None
    current = lines[here]
    if problem.startswith("mapping values are not allowed"):
        colon = len(current.key or "") + current.indent  # a column at or after the key's colon
        if column - 1 < colon or column - 1 > colon + 2:  # a ': ' inside the value instead
            return None
        return _continued(lines, here)
    if problem.startswith("expected <block end>") and column == current.column:
        return _between_levels(lines, here)
    return None


def _continued(lines: list[Line], here: int) -> Misplaced | None:
    """`key: value` then a line indented more: YAML read it as more of that value."""
    current, before = lines[here], lines[here - 1]
    if before.key is None or not before.value or before.indent >= current.indent:
        return None
    return _indented_more(lines, here)


def _indented_more(lines: list[Line], here: int) -> Misplaced | None:
    current, before = lines[here], lines[here - 1]
    dedented = _dedented(lines, here - 1, current.indent)
    if dedented is not None:
        return dedented
    return Misplaced(
        current.number,
        current.column,
        len(current.key or ""),
        f"'{current.key}' (line {current.number}) is indented more than '{before.key}' on line "
        f"{before.number} (column {before.column}), so YAML reads it as more of the value of "
        f"'{before.key}'",
        f"start '{current.key}' in column {before.column}, like '{before.key}'",
    )


def _between_levels(lines: list[Line], here: int) -> Misplaced | None:
    """A key whose indentation matches no open mapping: less than the keys before it, more
    than their parent's."""
    current = lines[here]
    parent_at = next((i for i in range(here - 1, -1, -1) if lines[i].indent < current.indent), None)
    if parent_at is None:
        return None
    if parent_at + 1 == here:  # `key: {...}` then a line indented more
        before = lines[parent_at]
        return _indented_more(lines, here) if before.key and before.value else None
    parent, first = lines[parent_at], lines[parent_at + 1]
    if parent.key is None or first.key is None or first.indent <= current.indent:
        return None
    dedented = _dedented(lines, parent_at, current.indent)
    if dedented is not None:
        return dedented
    return Misplaced(
        current.number,
        current.column,
        len(current.key or ""),
        f"'{current.key}' (line {current.number}, column {current.column}) is indented less "
        f"than '{first.key}' on line {first.number} (column {first.column}) and more than "
        f"'{parent.key}' on line {parent.number} (column {parent.column})",
        f"keys of one mapping start in the same column: start '{current.key}' in column "
        f"{first.column} to keep it under '{parent.key}', or in column {parent.column} like "
        f"'{parent.key}'",
    )


def _dedented(lines: list[Line], at: int, indent: int) -> Misplaced | None:
    """Line `at` when it interrupts a mapping whose keys, before it and after it, start at
    `indent`: that line is the one indented less than it should be."""
    suspect = lines[at]
    if suspect.key is None or suspect.indent >= indent:
        return None
    sibling = next((item for item in reversed(lines[:at]) if item.indent <= indent), None)
    if sibling is None or sibling.key is None or sibling.indent != indent:
        return None
    owner = next((item for item in reversed(lines[:at]) if item.indent < indent), None)
    after = next((item for item in lines[at + 1 :] if item.indent == indent), None)
    if after is None:
        return None
    keep = f" to keep it under '{owner.key}'" if owner is not None and owner.key else ""
    return Misplaced(
        suspect.number,
        suspect.column,
        len(suspect.key or ""),
        f"'{suspect.key}' (line {suspect.number}, column {suspect.column}) is indented less "
        f"than the keys it belongs with: '{sibling.key}' on line {sibling.number} and "
        f"'{after.key}' on line {after.number} start in column {indent + 1}",
        f"indent '{suspect.key}' to column {indent + 1}{keep}",
    )
