"""Expressions: JMESPath source text -> a compiled, callable `Expression`.

Stage: used by compilation, once per expression, before any network call. Pure: no I/O.
Simple shapes (field paths, indexes, projections, literals, function calls over those) get a
direct Python closure that follows JMESPath's semantics exactly; anything else runs through one
shared `TreeInterpreter`. Either way the result equals `jmespath.search(source, data, options)`
(tests/unit/test_expressions.py checks this on many expressions).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jmespath
from jmespath import exceptions, visitor
from jmespath.lexer import Lexer

from ..errors import SourceLocation
from .functions import FUNCTIONS

Evaluator = Callable[[Any], Any]

MAX_DEPTH = 64
"""How deeply an expression may nest: brackets, function calls and `!`/`&` while it is parsed,
and levels of its syntax tree. jmespath parses and evaluates recursively, so without a bound
`!!!!...` or `lower(lower(...` 500 levels deep would exhaust Python's stack. Real mappings nest
a handful of levels."""

MAX_ITEMS = 1_000_000
"""The longest list a flatten (`[]`) may make: `[@, @][]` piped over and over doubles a list
each time; past this bound the answer fails instead of exhausting memory."""

OPTIONS = jmespath.Options(custom_functions=FUNCTIONS)


class _BoundedInterpreter(visitor.TreeInterpreter):
    """jmespath's interpreter with flatten bounded by `MAX_ITEMS` (checked before building)."""

    def visit_flatten(self, node: Any, value: Any) -> Any:
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        size = sum(len(item) if isinstance(item, list) else 1 for item in base)
        if size > MAX_ITEMS:
            raise exceptions.JMESPathError(
                f"flatten ([]): the list would have more than {MAX_ITEMS:,} elements"
            )
        merged: list[Any] = []
        for item in base:
            if isinstance(item, list):
                merged.extend(item)
            else:
                merged.append(item)
        return merged


_INTERPRETER = _BoundedInterpreter(OPTIONS)


@dataclass(frozen=True)
class Expression:
    """A compiled JMESPath expression and where it was written.

    `location` is the start of the expression text in the mapping file (for a quoted YAML
    scalar, the character after the quote), so an offset inside `source` maps to a column.
    """

    source: str
    ast: dict[str, Any] = field(repr=False, compare=False)
    location: SourceLocation | None = field(default=None, compare=False)
    evaluate: Evaluator = field(default=lambda data: None, repr=False, compare=False)

    def __call__(self, data: Any) -> Any:
        return self.evaluate(data)


def compile_expression(source: str, location: SourceLocation | None = None) -> Expression:
    """Parse `source` (raises `jmespath.exceptions.ParseError`, also for an expression nested
    deeper than `MAX_DEPTH`) and build its evaluator."""
    ast = parse_bounded(source)
    return Expression(source, ast, location, build_evaluator(ast))


class TooDeep(exceptions.ParseError):
    """An expression nested deeper than `MAX_DEPTH`; `lex_position` is where it goes too deep."""

    def __init__(self, position: int) -> None:
        super().__init__(position, "", "depth", TOO_DEEP)

    def __str__(self) -> str:
        return self.msg


TOO_DEEP = (
    f"the expression is nested too deeply (more than {MAX_DEPTH} levels of brackets, function "
    "calls, '!' or '.')"
)


def parse_bounded(source: str) -> dict[str, Any]:
    """`jmespath.compile(source).parsed`, refusing (`TooDeep`) an expression so deeply nested
    that parsing or evaluating it would exhaust the stack. The nesting is measured on the tokens
    before parsing (the lexer does not recurse), then on the tree."""
    position = _nesting_overflow(source)
    if position is not None:
        raise TooDeep(position)
    ast: dict[str, Any] = jmespath.compile(source).parsed  # type: ignore[assignment]
    if tree_depth(ast) > MAX_DEPTH:
        raise TooDeep(0)
    return ast


_OPENERS = frozenset({"lparen", "lbracket", "lbrace", "filter"})
_CLOSERS = frozenset({"rparen", "rbracket", "rbrace"})
_PREFIXES = frozenset({"not", "expref"})


def _nesting_overflow(source: str) -> int | None:
    """The offset of the token where the parser's recursion would pass `MAX_DEPTH` (open
    brackets plus every prefix `!` or `&` so far, an upper bound), or None."""
    open_brackets = prefixes = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            for token in Lexer().tokenize(source):
                kind = token["type"]
                if kind in _OPENERS:
                    open_brackets += 1
                elif kind in _CLOSERS:
                    open_brackets = max(0, open_brackets - 1)
                elif kind in _PREFIXES:
                    prefixes += 1
                if open_brackets + prefixes > MAX_DEPTH:
                    return int(token["start"])
        except exceptions.JMESPathError:
            return None  # the parser reports it
    return None


def tree_depth(ast: dict[str, Any]) -> int:
    """The number of levels of a syntax tree, measured without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(ast, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in node.get("children", ()))
    return deepest


def called_functions(ast: dict[str, Any]) -> list[str]:
    """Names of every function the expression calls, in source order (nested ones included)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "function_expression":
                found.append(node["value"])
            for child in node.get("children", ()):
                walk(child)

    walk(ast)
    return found


def field_paths(ast: dict[str, Any]) -> list[tuple[str, ...]]:
    """The plain field paths an expression reads (`client.custom.ssn` -> ("client", "custom",
    "ssn")), for explain's provenance and the custom-alias check."""
    paths: list[tuple[str, ...]] = []

    def chain(node: dict[str, Any]) -> tuple[str, ...] | None:
        kind = node.get("type")
        if kind == "field":
            return (node["value"],)
        children = node.get("children", ())
        if kind == "function_expression" and len(children) == 1:  # only(x), primary(x)
            return chain(children[0])
        if kind == "filter_projection" and len(children) == 3:  # x[?cond].y: the condition
            left = chain(children[0])  # reads the elements' fields, not the context's
            if left is None or children[1].get("type") == "identity":
                return left
            right = chain(children[1])
            return None if right is None else left + right
        if kind in ("subexpression", "index_expression"):
            parts: tuple[str, ...] = ()
            for child in node["children"]:
                if child.get("type") == "index":
                    continue
                sub = chain(child)
                if sub is None:
                    return None
                parts += sub
            return parts
        return None

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        found = chain(node)
        if found:
            paths.append(found)
            return
        alternatives = spread_or(node)  # `(spouse || x).custom.ssn` reads both .custom.ssn
        for child in alternatives if alternatives is not None else node.get("children", ()):
            walk(child)

    walk(ast)
    return paths


def spread_or(node: dict[str, Any]) -> list[dict[str, Any]] | None:
    """`(a || b).rest` as [a.rest, b.rest] (also inside a one-argument call at the head of a
    chain: `primary((a || b).addresses).city`), for reading which fields an expression uses;
    None when the node is no such chain."""
    kind = node.get("type")
    children = [c for c in node.get("children", ()) if isinstance(c, dict)]
    if kind == "or_expression":
        return children
    if kind == "function_expression" and len(children) == 1:
        inner = spread_or(children[0])
        return None if inner is None else [{**node, "children": [alt]} for alt in inner]
    if kind == "subexpression" and children:
        inner = spread_or(children[0])
        if inner is None:
            return None
        return [{**node, "children": [alt, *children[1:]]} for alt in inner]
    return None


def build_evaluator(node: dict[str, Any]) -> Evaluator:
    """A closure equivalent to interpreting `node`; falls back to the shared interpreter."""
    kind = node["type"]
    builder = _BUILDERS.get(kind)
    if builder is not None:
        fast = builder(node)
        if fast is not None:
            return fast
    return lambda data: _INTERPRETER.visit(node, data)  # type: ignore[arg-type]


def _field(node: dict[str, Any]) -> Evaluator:
    name = node["value"]

    def get(data: Any) -> Any:
        return data.get(name) if isinstance(data, dict) else None

    return get


def _chain(node: dict[str, Any]) -> Evaluator:
    steps = [build_evaluator(child) for child in node["children"]]
    if len(steps) == 2:
        first, second = steps
        return lambda data: second(first(data))

    def run(data: Any) -> Any:
        for step in steps:
            data = step(data)
        return data

    return run


def _index(node: dict[str, Any]) -> Evaluator:
    position = node["value"]

    def get(data: Any) -> Any:
        if not isinstance(data, list):
            return None
        try:
            return data[position]
        except IndexError:
            return None

    return get


def _literal(node: dict[str, Any]) -> Evaluator:
    value = node["value"]
    return lambda data: value


def _current(node: dict[str, Any]) -> Evaluator:
    return lambda data: data


def _projection(node: dict[str, Any]) -> Evaluator:
    left, right = (build_evaluator(child) for child in node["children"])

    def project(data: Any) -> Any:
        base = left(data)
        if not isinstance(base, list):
            return None
        out = []
        for element in base:
            value = right(element)
            if value is not None:
                out.append(value)
        return out

    return project


def _function(node: dict[str, Any]) -> Evaluator:
    name = node["value"]
    args = [build_evaluator(child) for child in node["children"]]
    call = FUNCTIONS.call_function

    def run(data: Any) -> Any:
        return call(name, [arg(data) for arg in args])

    return run


_BUILDERS: dict[str, Callable[[dict[str, Any]], Evaluator | None]] = {
    "field": _field,
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "index": _index,
    "literal": _literal,
    "current": _current,
    "identity": _current,
    "projection": _projection,
    "function_expression": _function,
}
