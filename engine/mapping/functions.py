"""Expression functions: JMESPath's built-ins plus mapctl's own, documented.

Stage: shared by compilation (which checks that every called function exists) and evaluation
(which calls them). Pure: no I/O. Every project function accepts null where a Clio field may be
missing and returns null then, so a sparse record never fails a whole mapping.

Each project function's docstring is what `mapctl functions` prints: the first line is the
signature, the middle is the description, and a line starting ``Example:`` gives an example as
``EXPRESSION -> RESULT``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jmespath import exceptions, functions

MAX_TEXT = 1_000_000
"""The longest text a function may make. Nested `replace`/`format` calls can grow text
exponentially (ten nested replaces of 'a' by ten 'a's: 10^10 characters); past this bound the
answer fails with a clear evaluation error instead of exhausting memory."""

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d*)\}")


def _text(value: Any) -> str:
    """How a value reads inside format(): null is empty, numbers without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise exceptions.JMESPathTypeError(
        "format", value, type(value).__name__, ["string", "number", "boolean", "null"]
    )


def _bounded(function: str, length: int) -> None:
    if length > MAX_TEXT:
        raise exceptions.JMESPathError(
            f"{function}(): the text would be longer than {MAX_TEXT:,} characters"
        )


def _json_longer_than(value: Any, limit: int) -> bool:
    """Whether `value` written as compact JSON would pass `limit` characters; stops counting
    there, so a value that repeats itself ([@, @] piped over and over) is not walked whole."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += 2 + 2 * len(item)
            for key, entry in item.items():
                total += len(key) + 3
                stack.append(entry)
        elif isinstance(item, list | tuple):
            total += 2 + len(item)
            stack.extend(item)
        else:
            total += len(item) + 2 if isinstance(item, str) else len(str(item))
        if total > limit:
            return True
    return False


class MapctlFunctions(functions.Functions):
    """JMESPath's built-ins plus the project's functions (the `_func_` methods below)."""

    @functions.signature({"types": ["string", "null"]})
    def _func_lower(self, s: str | None) -> str | None:
        """lower(string) -> string
        The text in lower case; null stays null.
        Example: lower('Pritchett') -> "pritchett"
        """
        return None if s is None else s.lower()

    @functions.signature({"types": ["string", "null"]})
    def _func_upper(self, s: str | None) -> str | None:
        """upper(string) -> string
        The text in upper case; null stays null.
        Example: upper('Pritchett') -> "PRITCHETT"
        """
        return None if s is None else s.upper()

    @functions.signature({"types": ["string", "null"]})
    def _func_trim(self, s: str | None) -> str | None:
        """trim(string) -> string
        The text without leading and trailing white space; null stays null.
        Example: trim('  Jay ') -> "Jay"
        """
        return None if s is None else s.strip()

    @functions.signature({"types": ["string"]}, {"types": [], "variadic": True})
    def _func_format(self, template: str, *args: Any) -> str:
        """format(template, value...) -> string
        Fills each {} (or {0}, {1}...) in the template with the next (or numbered) value;
        null fills as empty text; {{ and }} write literal braces.
        Example: format('{} {}', 'Jay', 'Pritchett') -> "Jay Pritchett"
        """
        counter = iter(range(len(args)))

        def fill(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in ("{{", "}}"):
                return token[0]
            index = int(match.group(1)) if match.group(1) else next(counter, len(args))
            if index >= len(args):
                raise exceptions.JMESPathError(
                    f"format(): the template has more {{}} than values ({len(args)} given)"
                )
            return _text(args[index])

        total = len(template)

        def bounded_fill(match: re.Match[str]) -> str:
            nonlocal total
            text = fill(match)
            total += len(text)
            _bounded("format", total)
            return text

        return _PLACEHOLDER.sub(bounded_fill, template)

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_split(self, s: str | None, separator: str) -> list[str] | None:
        """split(string, separator) -> array[string]
        The text cut at each separator (an empty separator cuts at white space); null stays null.
        Example: split('Mitchell Pritchett', ' ') -> ["Mitchell", "Pritchett"]
        """
        if s is None:
            return None
        return s.split() if separator == "" else s.split(separator)

    @functions.signature(
        {"types": ["string", "null"]}, {"types": ["string"]}, {"types": ["string"]}
    )
    def _func_replace(self, s: str | None, old: str, new: str) -> str | None:
        """replace(string, old, new) -> string
        The text with every `old` replaced by `new`; null stays null.
        Example: replace('555-0101', '-', ' ') -> "555 0101"
        """
        if s is None:
            return None
        if len(new) > len(old):
            _bounded("replace", len(s) + s.count(old) * (len(new) - len(old)))
        return s.replace(old, new)

    # JMESPath's own join and to_string, bounded like the functions above.

    @functions.signature({"types": ["string"]}, {"types": ["array-string"]})
    def _func_join(self, separator: str, array: list[str]) -> str:
        _bounded("join", sum(map(len, array)) + len(separator) * max(0, len(array) - 1))
        return separator.join(array)

    @functions.signature({"types": []})
    def _func_to_string(self, arg: Any) -> str:
        if isinstance(arg, str):
            return arg
        if _json_longer_than(arg, MAX_TEXT):
            _bounded("to_string", MAX_TEXT + 1)
        return json.dumps(arg, separators=(",", ":"), default=str)

    @functions.signature({"types": [], "variadic": True})
    def _func_coalesce(self, *values: Any) -> Any:
        """coalesce(value...) -> any
        The first value that is not blank (null, "" or []); null when all are blank.
        Unlike `||`, false and 0 count as values.
        Example: coalesce(null, '', 'Party') -> "Party"
        """
        for value in values:
            if value is not None and value != "" and value != []:
                return value
        return None

    @functions.signature({"types": ["array", "null"]})
    def _func_only(self, items: list[Any] | None) -> Any:
        """only(array) -> any
        The element of an array that has exactly one; null for null, an empty array or an
        array of two or more (a choice a person must make).
        Example: only(spouses).name -> "Gloria Pritchett"
        """
        return items[0] if items is not None and len(items) == 1 else None

    @functions.signature({"types": ["array", "null"]})
    def _func_primary(self, items: list[Any] | None) -> Any:
        """primary(array) -> object
        The element marked `primary: true` (Clio's addresses, email addresses and phone
        numbers), else the first element; null for null or an empty array.
        Example: primary(client.addresses).city -> "Los Angeles"
        """
        if not items:
            return None
        for item in items:
            if isinstance(item, dict) and item.get("primary") is True:
                return item
        return items[0]


FUNCTIONS = MapctlFunctions()
"""The one instance every expression is evaluated with."""

BUILTIN_NAMES: frozenset[str] = frozenset(functions.Functions.FUNCTION_TABLE)  # type: ignore[attr-defined]
"""JMESPath's own function names."""

FUNCTION_NAMES: frozenset[str] = frozenset(FUNCTIONS.FUNCTION_TABLE)  # type: ignore[attr-defined]
"""Every function an expression may call: built-ins and the project's."""


@dataclass(frozen=True)
class FunctionDoc:
    """What `mapctl functions` shows for one function."""

    name: str
    signature: str
    description: str
    example: str
    builtin: bool


def project_function_docs() -> list[FunctionDoc]:
    """The project's own functions, documented from their docstrings, in name order."""
    docs = []
    for name in sorted(FUNCTION_NAMES - BUILTIN_NAMES):
        method = getattr(MapctlFunctions, f"_func_{name}")
        lines = [line.strip() for line in (method.__doc__ or "").strip().splitlines()]
        example = next(
            (ln[len("Example:") :].strip() for ln in lines if ln.startswith("Example:")), ""
        )
        body = " ".join(ln for ln in lines[1:] if ln and not ln.startswith("Example:"))
        docs.append(FunctionDoc(name, lines[0] if lines else name, body, example, builtin=False))
    return docs
