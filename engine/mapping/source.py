"""YAML source: one YAML file's text -> plain data plus the position of every key and value.

Stage: the first half of loading (used only by `engine.loading`). Pure: takes text, never
reads files, never prints.

Decisions (see style.md, "PyYAML's SafeLoader..."):
- Parsing is PyYAML's `compose` with the SafeLoader: nodes only, no object is ever constructed.
  Data is built here from the nodes, so nothing but dicts, lists, str, int, float, bool and None
  can come out.
- Plain scalars follow YAML 1.2's core schema: only true/false are booleans and only null/~ are
  null, so `no`, `on` or `2024-01-01` stay text (YAML 1.1 would silently turn them into a boolean
  or a date). The mapping schema's `type` checks catch anything that is not what it should be.
- Duplicate keys are errors at the second key (PyYAML would silently keep the last one).
- Aliases are allowed, but the expanded document is bounded (an alias bomb fails cleanly), and
  so are nesting depth and file size.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from ..errors import Problem, SourceLocation

MAX_BYTES = 1_000_000
MAX_VALUES = 50_000
MAX_DEPTH = 64
EXCERPT_WIDTH = 120  # longer source lines are shown as a window around the spot

Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)")
_NAN = {".nan", ".NaN", ".NAN"}
_NULL = {"", "~", "null", "Null", "NULL"}
_RESOLVER = yaml.resolver.Resolver()
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


@dataclass
class Document:
    """One YAML file: its data and where each key and value sits in the text.

    `keys[path]` is the key node of the entry at `path`, `values[path]` its value node.
    `data` is None when the text could not be read at all (see `problems`).
    """

    file: str
    text: str
    data: Any = None
    keys: dict[Path, yaml.Node] = field(default_factory=dict)
    values: dict[Path, yaml.Node] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def location(self, path: Path, *, key: bool = False) -> SourceLocation:
        """Where the value (or, with `key`, the key) at `path` starts; the nearest parent's
        position when the path is not in the file; 1:1 for the document itself."""
        while path:
            node = (self.keys if key else self.values).get(path)
            if node is not None:
                return self._at(node.start_mark.line, node.start_mark.column)
            path, key = path[:-1], True
        root = self.values.get(())
        if root is not None:
            return self._at(root.start_mark.line, root.start_mark.column)
        return SourceLocation(self.file, 1, 1)

    def offset_location(self, path: Path, offset: int) -> SourceLocation:
        """Where character `offset` of the string value at `path` sits in the file, following
        quotes, escapes and block scalars."""
        node = self.values.get(path)
        if not isinstance(node, yaml.ScalarNode) or not isinstance(node.value, str):
            return self.location(path)
        index = _align(self.text, node, offset)
        return self._at_index(index)

    def line_text(self, line: int) -> str | None:
        """The text of a 1-based line, without its line break."""
        lines = self._lines
        return lines[line - 1] if 0 < line <= len(lines) else None

    @cached_property
    def _lines(self) -> list[str]:
        # Only \n: the same line breaks as `_line_starts` (splitlines would also split on \x0c...).
        return [line.removesuffix("\r") for line in self.text.split("\n")]

    def excerpt(self, location: SourceLocation, length: int = 1) -> list[str]:
        """Context lines for a problem: the source line and a caret (~ for the rest of a token)."""
        text = self.line_text(location.line)
        if text is None or location.file != self.file:
            return []
        column = location.column - 1
        if len(text) > EXCERPT_WIDTH:  # a long line: a window around the spot
            start = max(0, min(column - EXCERPT_WIDTH // 2, len(text) - EXCERPT_WIDTH))
            before = "..." if start else ""
            after = "..." if start + EXCERPT_WIDTH < len(text) else ""
            text = before + text[start : start + EXCERPT_WIDTH] + after
            column += len(before) - start
        number = str(location.line)
        pad = "".join(ch if ch == "\t" else " " for ch in text[:column])
        width = max(1, min(length, len(text) - column))
        return [f"{number} | {text}", f"{' ' * len(number)} | {pad}^{'~' * (width - 1)}"]

    def problem(
        self,
        location: SourceLocation,
        message: str,
        code: str,
        *,
        hint: str | None = None,
        length: int = 1,
        **extra: Any,
    ) -> Problem:
        """A problem at `location` in this document, with the source excerpt as context and
        the span the caret underlines."""
        return Problem(
            message,
            code,
            location,
            hint=hint,
            context=self.excerpt(location, length),
            end_column=self.span_end(location, length),
            **extra,
        )

    def span_end(self, location: SourceLocation, length: int = 1) -> int | None:
        """The last column (1-based, inclusive) of a `length`-character span at `location`, cut
        at the end of its line, as `excerpt` underlines it; None when the line is not here."""
        text = self.line_text(location.line)
        if text is None or location.file != self.file:
            return None
        return location.column + max(1, min(length, len(text) - location.column + 1)) - 1

    def _at(self, line: int, column: int) -> SourceLocation:
        return SourceLocation(self.file, line + 1, column + 1)

    def _at_index(self, index: int) -> SourceLocation:
        line = bisect.bisect_right(self._line_starts, index) - 1
        return SourceLocation(self.file, line + 1, index - self._line_starts[line] + 1)

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(i + 1 for i, ch in enumerate(self.text) if ch == "\n")]


def _align(text: str, node: yaml.ScalarNode, offset: int) -> int:
    """Index in `text` of value character `offset`, by walking value and source side by side.

    Source characters that are not in the value (quotes, escapes' backslashes, indentation,
    a block scalar's header) are skipped; a space in the value may stand for a line break.
    """
    start, end = node.start_mark.index, node.end_mark.index
    pos = start
    if node.style in ("'", '"'):
        pos += 1
    elif node.style in ("|", ">"):
        pos = text.find("\n", start, end) + 1 or start
    value: str = node.value
    target = max(0, min(offset, len(value)))
    done = 0
    while done < target and pos < end:
        if node.style == '"' and text[pos] == "\\":
            following = text[pos + 1 : pos + 2]
            if following in ("\n", "\r"):  # an escaped line break: no value character
                pos += 2
                continue
            pos += _ESCAPE_LENGTH.get(following, 2)
        elif _same(value[done], text[pos]):
            pos += 1
        else:
            pos += 1
            continue
        done += 1
    if target < len(value) and not value[target].isspace():
        while pos < end and text[pos].isspace():
            pos += 1
    return min(pos, max(end - 1, start))


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def _same(value_char: str, source_char: str) -> bool:
    return value_char == source_char or (value_char.isspace() and source_char.isspace())


def parse(text: str, file: str) -> Document:
    """Compose `text` and build a `Document`; problems (syntax, duplicates, limits) are collected
    in `Document.problems` and never raised."""
    doc = Document(file, text)
    try:
        root = _compose(text)
    except yaml.YAMLError as error:
        doc.problems.append(_yaml_problem(error, doc))
        return doc
    except RecursionError:
        doc.problems.append(_problem(doc, 1, 1, "the YAML is nested too deeply", "too-deep"))
        return doc
    if root is None:
        hint = "a mapping needs at least `version: 1` and `answers:`"
        doc.problems.append(_problem(doc, 1, 1, "the mapping file is empty", "empty-file", hint))
        return doc
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooBig as error:
        doc.problems.append(error.problem)
        doc.data = None
    return doc


def _compose(text: str) -> yaml.Node | None:
    """libyaml's composer when PyYAML has it (10x faster: `mapctl validate` starts fast), the
    pure-Python one otherwise and for every error, so messages are the same everywhere."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)  # type: ignore[no-any-return]
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def decode(data: bytes, file: str) -> tuple[str | None, Problem | None]:
    """Bytes of a mapping file -> text (UTF-8, an optional BOM), or a problem saying why not."""
    if len(data) > MAX_BYTES:
        return None, Problem(
            f"the file is too large for a mapping (more than {MAX_BYTES:,} bytes)",
            "file-too-large",
            SourceLocation(file, 1, 1),
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, Problem(
            f"the file is not valid UTF-8 text (byte 0x{data[error.start]:02x})",
            "bad-encoding",
            SourceLocation(file, line, column),
            hint="save the mapping as UTF-8 text",
        )


class _TooBig(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Builder:
    """Nodes -> data, recording positions; bounded in size and depth."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0
        self.building: set[int] = set()  # mappings being built (ids): a merge must not loop

    def _count(self, node: yaml.Node, path: Path) -> None:
        """One more value (merged copies count too: a merge-key bomb is bounded like an alias
        bomb); `_TooBig` past `MAX_VALUES` values or `MAX_DEPTH` levels."""
        self.count += 1
        if self.count > MAX_VALUES or len(path) > MAX_DEPTH:
            what = "values" if self.count > MAX_VALUES else "levels of nesting"
            limit = MAX_VALUES if self.count > MAX_VALUES else MAX_DEPTH
            raise _TooBig(
                _problem(
                    self.doc,
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                    f"the YAML expands to more than {limit:,} {what} (aliases that repeat or "
                    "refer to themselves?)",
                    "too-big",
                )
            )

    def build(self, node: yaml.Node, path: Path) -> Any:
        self._count(node, path)
        self.doc.values.setdefault(path, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, "seq")
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        self.building.add(id(node))
        try:
            return self._mapping_entries(node, path)
        finally:
            self.building.discard(id(node))

    def _mapping_entries(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        self._check_tag(node, "map")
        result: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.append((key_node, value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._add(key_node, "a key must be plain text, not a list or a mapping", "bad-key")
                continue
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark.line + 1
                self._add(
                    key_node,
                    f"duplicate key '{key}' (first on line {first})",
                    "duplicate-key",
                    hint="YAML would silently keep only the last one: remove or rename one",
                    length=len(key),
                )
                continue
            seen[key] = key_node
            self.doc.keys.setdefault((*path, key), key_node)
            result[key] = self.build(value_node, (*path, key))
        for key_node, source in merged:
            self._merge(result, key_node, source, path)
        return result

    def _merge(self, result: dict[str, Any], key: yaml.Node, source: yaml.Node, path: Path) -> None:
        """YAML merge keys (`<<: *defaults`): keys written in the mapping itself win."""
        sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
        for item in sources:
            if not isinstance(item, yaml.MappingNode):
                self._add(item, "'<<' (merge) needs a mapping or a list of mappings", "bad-merge")
                continue
            if id(item) in self.building:
                self._add(
                    key,
                    "'<<' (merge) refers to the mapping it is part of",
                    "merge-loop",
                    hint="merge an anchor defined outside this mapping (&defaults earlier on)",
                )
                continue
            self._count(item, path)
            for name, value in self._mapping(item, path).items():
                result.setdefault(name, value)

    def _scalar(self, node: yaml.Node) -> Any:
        value = str(node.value)
        tag = node.tag or ""
        if getattr(node, "style", None) in ("'", '"', "|", ">"):
            self._check_tag(node, "str")
            return value
        implicit = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        if tag != implicit:  # an explicit tag: honour the standard ones
            return self._tagged(node, value, tag)
        return plain_scalar(value)

    def _tagged(self, node: yaml.Node, value: str, tag: str) -> Any:
        try:
            if tag == _TAG + "int":
                return int(value, 0)
            if tag == _TAG + "float":
                return float(value)
        except ValueError:
            self._add(node, f"'{value}' is not a number", "bad-scalar")
            return value
        if tag == _TAG + "bool":
            return _BOOL.get(value, value)
        if tag == _TAG + "null":
            return None
        self._check_tag(node, "str")
        return value

    def _check_tag(self, node: yaml.Node, kind: str) -> None:
        allowed = {_TAG + kind} | (
            {_TAG + "timestamp", _TAG + "binary"} if kind == "str" else set()
        )
        if node.tag and node.tag not in allowed:
            self._add(node, f"YAML tag '{node.tag}' is not supported in a mapping", "bad-tag")

    def _add(
        self, node: yaml.Node, message: str, code: str, hint: str | None = None, length: int = 1
    ) -> None:
        location = self.doc._at(node.start_mark.line, node.start_mark.column)
        self.doc.problems.append(
            self.doc.problem(location, message, code, hint=hint, length=length)
        )


def plain_scalar(value: str) -> Any:
    """A plain (unquoted) scalar under YAML 1.2's core schema."""
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.fullmatch(value):
        try:
            return int(value, 0) if value.startswith(("0o", "0x")) else int(value, 10)
        except ValueError:  # more digits than Python converts (4300): a number all the same
            return float("inf") if value.lstrip("+")[:1].isdigit() else float("-inf")
    if _FLOAT.fullmatch(value):
        return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf"))
    if value in _NAN:
        return float("nan")
    return value


def _problem(
    doc: Document, line: int, column: int, message: str, code: str, hint: str | None = None
) -> Problem:
    return doc.problem(SourceLocation(doc.file, line, column), message, code, hint=hint)


_YAML_HINTS = (
    ("'\\t'", "YAML indentation uses spaces, not tabs"),
    ("mapping values are not allowed", "a value that contains ': ' must be put in quotes"),
    ("could not find expected ':'", "a key is missing its ':' or a quote is not closed"),
    ("quoted scalar", "a quote is not closed"),
    ("expected <block end>", "entries of one mapping must start in the same column"),
    ("second YAML document", "a mapping file holds one YAML document: remove the '---' line"),
    ("flow sequence", "a '[' is not closed with ']'"),
    ("flow mapping", "a '{' is not closed with '}'"),
    ("undefined alias", "an alias (*name) needs an anchor (&name) earlier in the file"),
)


def _indentation_problem(doc: Document, problem: str, line: int, column: int) -> Problem | None:
    """An indentation mistake in plain words, at the line out of place (issue 11)."""
    from .indentation import diagnose

    found = diagnose(doc.text, problem, line, column)
    if found is None:
        return None
    location = SourceLocation(doc.file, found.line, found.column)
    message = f"invalid YAML indentation: {found.message}"
    return doc.problem(location, message, "yaml-indentation", hint=found.hint, length=found.length)


def _yaml_problem(error: yaml.YAMLError, doc: Document) -> Problem:
    """A PyYAML error -> one problem at the mark PyYAML points at."""
    if isinstance(error, yaml.reader.ReaderError):
        index = error.position
        line = doc.text.count("\n", 0, index) + 1
        column = index - (doc.text.rfind("\n", 0, index) + 1) + 1
        char = f"U+{error.character:04X}" if isinstance(error.character, int) else "?"
        message = f"invalid YAML: the character {char} is not allowed"
        return _problem(doc, line, column, message, "yaml-syntax", "remove the control character")
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    starts = context_mark is not None and mark is not None and context_mark.line != mark.line
    if context and context.startswith("while") and starts and context_mark is not None:
        context += f" started on line {context_mark.line + 1}"
    if problem.startswith("but found another document"):
        problem, context = "a second YAML document starts here", None
    if mark is not None:
        misplaced = _indentation_problem(doc, problem, mark.line + 1, mark.column + 1)
        if misplaced is not None:
            return misplaced
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    text = f"{problem} {context or ''}"
    hint = next((h for needle, h in _YAML_HINTS if needle in text), None)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return _problem(doc, line, column, message, "yaml-syntax", hint)
