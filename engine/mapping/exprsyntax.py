"""Expression syntax: where an expression of a mapping is, and what is wrong with how it is
written (parse errors turned into messages an admin can act on, at the column in the file).

Stage: part of validation (used by `engine.exprchecks`). Pure: no I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from jmespath import exceptions
from jmespath.lexer import Lexer

from ..errors import Problem
from .expressions import TooDeep
from .source import Document, Path

Scope = Literal["root", "element"]

# What expressions see at the top (spec/mapping-format.md, "The evaluation context").
CONTEXT_NAMES = (
    "matter",
    "client",
    "spouse",
    "spouses",
    "children",
    "grandchildren",
    "parties",
    "co_clients",
    "related",
    "by_role",
    "today",
)


@dataclass(frozen=True)
class Site:
    """Where an expression is written: its document, path and what it is evaluated against."""

    doc: Document
    path: Path
    source: str
    label: str  # how messages name it: "answer 'Child Name': value"
    scope: Scope = "root"  # "element": evaluated per element of `each`
    gives_list: bool = False  # an `each`: must give a list
    elements_are_contacts: bool = False  # element scope over children, by_role.X, ...
    required: bool = False  # read by a `required: true` answer: a field Clio lacks is an error


@dataclass(frozen=True)
class Names:
    """What the mapping declares: custom-field aliases and roles."""

    aliases: Collection[str]
    roles: Collection[str]


def at(site: Site, offset: int, message: str, code: str, **extra: Any) -> Problem:
    location = site.doc.offset_location(site.path, offset)
    return site.doc.problem(
        location, message, code, expression=site.source, expression_column=offset, **extra
    )


def tokens_of(source: str) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            return [dict(token) for token in Lexer().tokenize(source)]
        except exceptions.JMESPathError:
            return []


def legacy_literal_problem(site: Site) -> Problem:
    """`aull` in backticks: not JSON, which jmespath would read as the text 'aull'."""
    start = site.source.find("`")
    end = site.source.find("`", start + 1)
    inside = site.source[start + 1 : end] if 0 <= start < end else ""
    return at(
        site,
        max(start, 0),
        f"{site.label}: invalid expression: `{inside}` is not a JSON literal",
        "bad-expression",
        hint=f"backticks hold JSON (`42`, `true`, `null`); text is in single quotes: '{inside}'",
        length=len(inside) + 2 if inside else 1,
    )


def parse_problem(site: Site, error: exceptions.JMESPathError) -> Problem:
    source = site.source
    if isinstance(error, exceptions.EmptyExpressionError) or not source.strip():
        return at(
            site,
            0,
            f"{site.label} is an empty expression",
            "empty-expression",
            hint="write an expression, e.g. client.first_name",
        )
    position = int(getattr(error, "lex_position", 0) or 0)
    if isinstance(error, TooDeep):
        return at(
            site,
            position,
            f"{site.label}: invalid expression: {error.msg}",
            "expression-too-deep",
            hint="split it: compute a part in its own answer, or write it more simply",
        )
    if isinstance(error, exceptions.LexerError):
        message, hint = _lexer_message(error)
    elif isinstance(error, exceptions.IncompleteExpressionError) or (
        getattr(error, "token_type", None) == "eof"
    ):
        message, hint = "the expression ends too early", _missing_closers(source)
    else:
        token = getattr(error, "token_value", "")
        message = f"unexpected '{token}' in the expression"
        hint = _unexpected_hint(source, position, str(getattr(error, "token_type", "")))
    position = max(0, min(position, len(source) - 1 if source else 0))
    length = 1
    return at(
        site,
        position,
        f"{site.label}: invalid expression: {message}",
        "bad-expression",
        hint=hint,
        length=length,
    )


_ENDS = {"unquoted_identifier", "quoted_identifier", "literal", "rbracket", "rparen", "current"}
_STARTS = {"unquoted_identifier", "quoted_identifier", "literal"}


def missing_comma(site: Site, tokens: list[dict[str, Any]]) -> Problem | None:
    """Two values side by side (`f(a b)`): jmespath's parser accepts it inside a function call
    (as two arguments), but it is always a mistake."""
    for before, token in zip(tokens, tokens[1:], strict=False):
        if before["type"] in _ENDS and token["type"] in _STARTS:
            value = f"'{token['value']}'" if "identifier" in token["type"] else "literal"
            return at(
                site,
                token["start"],
                f"{site.label}: invalid expression: unexpected {value}",
                "bad-expression",
                hint="a ',' is missing between function arguments? (a name with spaces is "
                "quoted: \"First Name\"; a text value is in single quotes: 'Estate Planning')",
            )
    return None


def _lexer_message(error: exceptions.LexerError) -> tuple[str, str | None]:
    text = str(getattr(error, "message", "") or "")
    if text.startswith("Unclosed"):
        quote = text.split()[1]
        kind = {"'": "text", "`": "literal", '"': "quoted name"}.get(quote, "")
        return f"unclosed {quote} ({kind})", f"close it with a matching {quote}"
    value = getattr(error, "lexer_value", "")
    return f"unexpected character '{value}'", (
        "text values are written in single quotes: 'Estate Planning'"
    )


def _open_brackets(source: str) -> str:
    """The closing brackets still missing at the end of `source` (outside quotes), innermost
    first."""
    stack: list[str] = []
    pairs = {"(": ")", "[": "]", "{": "}"}
    quote: str | None = None
    for ch in source:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'`\"":
            quote = ch
        elif ch in pairs:
            stack.append(pairs[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
    return "".join(reversed(stack))


def _missing_closers(source: str) -> str:
    closers = _open_brackets(source)
    if closers:
        return f"something is missing at the end: '{closers}'?"
    return "something is missing after the last operator or '.'"


def _unexpected_hint(source: str, position: int, token_type: str) -> str:
    before = source[:position].rstrip()
    closers = _open_brackets(before)
    if token_type.lower() == "number":
        return "a literal is quoted inside the expression: '1970-01-01' for text, `42` for a number"
    if before.endswith("."):
        return "a name is missing after '.'"
    if (
        "identifier" in token_type.lower()
        and before
        and (before[-1].isalnum() or before[-1] == "_")
    ):
        return (
            "two names need an operator between them ('.', '|', '&&', '=='); a name with spaces "
            "is quoted: \"First Name\"; a text value is in single quotes: 'Estate Planning'"
        )
    if closers:
        return f"is a '{closers[0]}' missing before it?"
    return "check the expression's syntax; `mapctl functions` lists the functions"
