"""Answer files: AnswerSet <-> HotDocs answer-file XML (.anx), and answers as JSON.

Stage: the last step of rendering (`render_xml`) and the first of checking (`read_answer_file`,
used by `mapctl test`, `validate --interview` and the round-trip tests). Pure: bytes in, bytes
out; no file or network access.

Writer (issue 3 and ../shared/reference/hotdocs/NOTES.md §0, §1): UTF-8 without a BOM, the
declaration first (HotDocs' reader takes UTF-8 when there is no BOM; the issue fixes the file's
first bytes as the declaration); tab indentation; one Answer per answer in mapping order; dates
d/M/yyyy; TFValue true/false; one SelValue per selection; a blank single answer (and a repeated
one with no entries) is left out; gaps in a repeat are `<XValue unans="true"/>` of the answer's
type; nested repeats are nested RptValues (`<RptValue/>` when empty); characters XML 1.0 forbids
are removed (a lone surrogate becomes U+FFFD, as in every other output), the rest escaped (CR as
`&#13;` so it survives parsing); nothing is added inside values; a trailing newline. Same
answers -> same bytes.

HotDocs' own reader's rules (issue 9; the Open SDK, blainell/hotdocs-open-sdk, HotDocs.Sdk/
AnswerCollection.cs, cited where each is applied): text or a selection blank once cleaned is
unanswered (`clean_text`), never `<TextValue></TextValue>` or an empty SelValue; a name empty
once cleaned is refused (HotDocs refuses the whole file), as is a number beyond a double's range
(`number_problem`); `answer_warnings` tells text over 15,000 characters and whole numbers a
double holds only rounded. `validate` refuses names with control characters, empty ones and
names that read back equal (`hotdocs_name`).

Reader: UTF-8 or UTF-16 (BOM or declaration); every value type; nested RptValue; every unanswered
form (unans/UNANS, empty elements, unans with content, MCValue without a kept SelValue);
an empty first SelValue is an answered, empty choice (as HotDocs reads it); NumValue as
XmlConvert.ToDouble reads it (any invariant decimal within a double's range, INF, -INF, NaN);
mixed-case TFValue; dates with /, -, . or space; a DOCTYPE is ignored but entity declarations
are refused (no entity expansion); trailing unanswered entries of a repeat are trimmed (as the
HotDocs SDK does); an Answer with the same name and type as an earlier one replaces it.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import AnswerFileError
from ..model import VALUE_ELEMENTS, Answer, AnswerSet, AnswerType
from ..textsafe import REPLACEMENT, quoted

if TYPE_CHECKING:  # the reader's modules are imported when reading (rendering needs none)
    from xml.etree import ElementTree

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# XML 1.0 allows #x9 #xA #xD [#x20-#xD7FF] [#xE000-#xFFFD] [#x10000-#x10FFFF].
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_TEXT_SPECIAL = re.compile(f"[&<>\r{_FORBIDDEN}]")
_ATTR_SPECIAL = re.compile(f'[&<>"\t\n\r{_FORBIDDEN}]')
_FORBIDDEN_RE = re.compile(f"[{_FORBIDDEN}]")
_ESCAPES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\r": "&#13;", "\n": "&#10;", "\t": "&#9;",
}  # fmt: skip


def _sub(match: re.Match[str]) -> str:
    char = match.group(0)
    return REPLACEMENT if "\ud800" <= char <= "\udfff" else _ESCAPES.get(char, "")


def escape_text(text: str) -> str:
    """Element content: forbidden characters removed, & < > and CR escaped."""
    return _TEXT_SPECIAL.sub(_sub, text) if _TEXT_SPECIAL.search(text) else text


@functools.lru_cache(maxsize=4096)
def escape_attribute(text: str) -> str:
    """Attribute value: also quotes, tabs and newlines (attribute normalisation would eat them)."""
    return _ATTR_SPECIAL.sub(_sub, text)


def remove_forbidden(text: str) -> str:
    """The text as it reads back from an answer file: lone surrogates replaced by U+FFFD (as in
    every other output, engine.textsafe), the other XML-forbidden characters removed."""
    return _FORBIDDEN_RE.sub(_sub, text) if _FORBIDDEN_RE.search(text) else text


def clean_text(text: str) -> str:
    """A text value (or a selection) as every output shows it: what the answer file holds.
    Evaluation passes text answers through it, so one that is blank here ("\\ufffe\\x07") is
    unanswered everywhere: left out, `unans` in a repeat, listed when required (issue 9).

    HotDocs SDK, AnswerCollection.ReadValue: `if (unans || string.IsNullOrEmpty(s))` reads a
    TextValue as unanswered, so an empty one must not be written as if it were an answer."""
    return remove_forbidden(text)


def hotdocs_name(name: str) -> str:
    """The answer name HotDocs reads back from the file mapctl writes: XML-forbidden characters
    gone (the writer drops them), then surrounding white space trimmed.

    HotDocs SDK, AnswerCollection.OverlayXml: `answerName = TextValue.XMLUnescape(reader.Value)
    .Trim()`, then `if (String.IsNullOrEmpty(answerName)) throw new XmlException("Answer name is
    missing.")` (the whole file is refused); answers are kept per name and type, so two names
    that read back the same are one answer: the later replaces the earlier."""
    return remove_forbidden(name).strip()


# HotDocs' limit on a text answer (NOTES §1.4: help.hotdocs.com, "Variable properties").
TEXT_LIMIT = 15_000
# A NumValue must fit a double. HotDocs SDK, AnswerCollection.ReadValue: `new NumberValue(
# XmlConvert.ToDouble(s))`; .NET Framework's Double.Parse throws OverflowException past
# ±1.7976931348623157e308, and OverlayXml does not catch it: the whole file is refused.


def number_problem(value: int | float | str) -> str | None:
    """Why HotDocs could not read `value` (a number, or a number's text) as a NumValue (None
    when it can)."""
    try:
        fits = math.isfinite(float(value))
    except OverflowError:  # an int beyond a double's range
        fits = False
    if fits:
        return None
    text = str(value)
    shown = text if len(text) <= 40 else f"a number of {len(text):,} characters"
    return (
        f"{shown} does not fit HotDocs' numbers (doubles, at most ±1.7976931348623157e308): "
        "HotDocs refuses the whole answer file"
    )


def answer_warnings(answer_set: AnswerSet) -> list[str]:
    """What HotDocs would not keep as written, one line per answer: text over its 15,000
    characters; whole numbers a double cannot hold exactly."""
    warnings = []
    for answer in answer_set.answers:
        value = answer.value
        if value is None or answer.type not in ("text", "number"):
            continue
        values = list(_leaves(value)) if answer.repeated else [value]
        if answer.type == "text":
            longest = max((len(v) for v in values if isinstance(v, str)), default=0)
            if longest > TEXT_LIMIT:
                warnings.append(
                    f"answer {answer.name!r} is {longest:,} characters long; HotDocs takes at "
                    f"most {TEXT_LIMIT:,} characters in a text answer, so the interview may cut it"
                )
            continue
        for value in values:
            if _inexact(value):
                warnings.append(
                    f"answer {answer.name!r}: {value} has more digits than a HotDocs number "
                    f"(a double) holds; HotDocs reads it as {int(float(value))}"
                )
                break
    return warnings


def _inexact(value: Any) -> bool:
    """A whole number a double holds only rounded (beyond 2**53)."""
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) <= 2**53:
        return False
    return number_problem(value) is None and int(float(value)) != value


def _leaves(value: Any) -> Any:
    if isinstance(value, tuple):
        for entry in value:
            yield from _leaves(entry)
    elif value is not None:
        yield value


# --- writer ---------------------------------------------------------------------------------


def render_xml(answer_set: AnswerSet, *, cleaned: bool = False) -> bytes:
    """The HotDocs answer file for `answer_set` (see the module docstring). `cleaned`: the
    values are already as the file holds them (evaluation's answers: text and selections
    through `clean_text`, blank ones None, numbers checked), so they are not cleaned again."""
    out = [
        DECLARATION,
        f'<AnswerSet title="{escape_attribute(answer_set.title)}" version="1.1">\n',
    ]
    for answer in answer_set.answers:
        value = _writable(answer) if not cleaned or not _has_name(answer.name) else answer.value
        if value is None or (answer.repeated and not value):
            continue
        out.append(_open_answer(answer.name))
        if answer.repeated:
            _write_repeat(out, answer.type, value, 2)
        else:
            _write_value(out, answer.type, value, "\t\t")
        out.append("\t</Answer>\n")
    out.append("</AnswerSet>\n")
    return "".join(out).encode("utf-8")


def _writable(answer: Answer) -> Any:
    """The value as the file holds it: text and selections through `clean_text`, blank ones
    unanswered; an empty name or a number HotDocs cannot read refused (AnswerFileError), as
    HotDocs would refuse the whole file (`hotdocs_name`, `number_problem`)."""
    if not _has_name(answer.name):
        raise AnswerFileError(
            f"answer name {quoted(answer.name)} is empty once control characters are removed: "
            'HotDocs refuses the whole answer file ("Answer name is missing")'
        )
    if answer.type in ("date", "true_false"):  # nothing to clean
        return answer.value
    if answer.repeated:
        return _clean_repeat(answer, answer.value or ())
    if answer.type == "text":  # the common case, inline
        return (remove_forbidden(answer.value) or None) if answer.value is not None else None
    return _clean_scalar(answer, answer.value)


@functools.lru_cache(maxsize=4096)
def _has_name(name: str) -> bool:
    return bool(hotdocs_name(name))


def _clean_repeat(answer: Answer, entries: Any) -> tuple[Any, ...]:
    return tuple(
        _clean_repeat(answer, entry)
        if (isinstance(entry, tuple) and answer.type != "multiple_choice")
        or _is_nested(answer.type, entry)
        else _clean_scalar(answer, entry)
        for entry in entries
    )


def _clean_scalar(answer: Answer, value: Any) -> Any:
    if value is None:
        return None
    if answer.type == "text":
        return clean_text(value) or None
    if answer.type == "multiple_choice":
        # HotDocs SDK, AnswerCollection.ReadValue (MCValue): an empty first SelValue is kept
        # ("allow at most a single empty SelValue"), an answered, empty choice; so a selection
        # that is blank once cleaned is not written, and no selection left is unanswered.
        chosen = tuple(c for c in (clean_text(v) for v in value) if c)
        return chosen or None
    if answer.type == "number" and not isinstance(value, bool):
        problem = number_problem(value)
        if problem:
            raise AnswerFileError(f"answer {quoted(answer.name)}: {problem}")
    return value


@functools.lru_cache(maxsize=4096)
def _open_answer(name: str) -> str:
    # HotDocs un-escapes \xx in answer names, so a backslash is written as \5c (NOTES §1.7).
    escaped = escape_attribute(name.replace("\\", "\\5c"))
    return f'\t<Answer name="{escaped}">\n'


def _write_repeat(out: list[str], kind: AnswerType, entries: Any, depth: int) -> None:
    indent = "\t" * depth
    if not entries:
        out.append(f"{indent}<RptValue/>\n")
        return
    out.append(f"{indent}<RptValue>\n")
    inner = indent + "\t"
    for entry in entries:
        if (isinstance(entry, tuple) and kind != "multiple_choice") or _is_nested(kind, entry):
            _write_repeat(out, kind, entry, depth + 1)
        elif entry is None:
            out.append(f'{inner}<{VALUE_ELEMENTS[kind]} unans="true"/>\n')
        else:
            _write_value(out, kind, entry, inner)
    out.append(f"{indent}</RptValue>\n")


def _is_nested(kind: AnswerType, entry: Any) -> bool:
    # A multiple_choice entry is itself a tuple of strings; a nested repeat holds tuples/None.
    return entry == () or (
        kind == "multiple_choice"
        and isinstance(entry, tuple)
        and any(e is None or isinstance(e, tuple) for e in entry)
    )


def _write_value(out: list[str], kind: AnswerType, value: Any, indent: str) -> None:
    if kind == "text":
        out.append(f"{indent}<TextValue>{escape_text(value)}</TextValue>\n")
    elif kind == "multiple_choice":
        out.append(f"{indent}<MCValue>\n")
        for choice in value:
            out.append(f"{indent}\t<SelValue>{escape_text(choice)}</SelValue>\n")
        out.append(f"{indent}</MCValue>\n")
    elif kind == "date":
        out.append(f"{indent}<DateValue>{format_date(value)}</DateValue>\n")
    elif kind == "number":
        out.append(f"{indent}<NumValue>{format_number(value)}</NumValue>\n")
    else:
        out.append(f"{indent}<TFValue>{'true' if value else 'false'}</TFValue>\n")


def format_date(value: datetime.date) -> str:
    """HotDocs' date form: d/M/yyyy, no padding, a 4-digit year."""
    return f"{value.day}/{value.month}/{value.year:04d}"


def format_number(value: int | float) -> str:
    """Invariant decimal: `.` as the point, no grouping, no exponent, no trailing `.0`."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text or "E" in text else text


# --- reader ---------------------------------------------------------------------------------

_KNOWN_ROOTS = {
    "componentlibrary": "a HotDocs component file (.cmp), not an answer file",
    "templatemanifest": "a HotDocs template manifest (.manifest.xml), not an answer file",
}
_TYPES: dict[str, AnswerType] = {element: kind for kind, element in VALUE_ELEMENTS.items()}  # type: ignore[misc]
_NAME_ESCAPE = re.compile(r"\\([0-9a-fA-F]{2})")


def read_answer_file(data: bytes, source: str = "answer file") -> AnswerSet:
    """Parse a HotDocs answer file (module docstring); AnswerFileError when it is not one."""
    return answers_from_root(parse_xml(data, source), source)


def answers_from_root(root: ElementTree.Element, source: str) -> AnswerSet:
    """The answers of an already parsed answer file (see `parse_xml`)."""
    try:
        return _answer_set(root, source)
    except RecursionError:
        raise AnswerFileError(f"{source}: repeats nested too deeply") from None


def _answer_set(root: ElementTree.Element, source: str) -> AnswerSet:
    tag = _local(root.tag)
    if tag.lower() != "answerset":
        what = _KNOWN_ROOTS.get(tag.lower(), f"its root element is <{tag}>, not <AnswerSet>")
        raise AnswerFileError(f"{source}: not a HotDocs answer file: {what}")
    answers: dict[tuple[str, str], Answer] = {}
    for element in root:
        if not isinstance(element.tag, str) or _local(element.tag) != "Answer":
            continue
        answer = _read_answer(element, source)
        if answer is not None:
            answers.pop((answer.name, answer.type), None)
            answers[(answer.name, answer.type)] = answer
    return AnswerSet(root.get("title", ""), tuple(answers.values()))


def parse_xml(data: bytes, source: str) -> ElementTree.Element:
    """Parse HotDocs XML (answer, component or manifest file) safely: entity declarations are
    refused before anything could expand them; a DOCTYPE is otherwise ignored."""
    from xml.etree import ElementTree
    from xml.parsers import expat

    # First pass with expat alone, to refuse entity declarations before anything expands them.
    checker = expat.ParserCreate()

    def refuse_entities(*args: Any) -> None:
        raise AnswerFileError(
            f"{source}: the file declares XML entities; mapctl refuses them (entity expansion)"
        )

    checker.EntityDeclHandler = refuse_entities
    try:
        checker.Parse(data, True)
        return ElementTree.fromstring(data)
    except (expat.ExpatError, ElementTree.ParseError) as error:
        raise AnswerFileError(f"{source}: not well-formed XML: {error}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_answer(element: ElementTree.Element, source: str) -> Answer | None:
    name = _NAME_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), element.get("name", "")).strip()
    if not element.attrib:  # HotDocs SDK, OverlayXml: `reader.Name == "Answer" && reader.
        return None  # HasAttributes`: an Answer without attributes is passed over
    if not name:  # OverlayXml: `throw new XmlException("Answer name is missing.")`
        raise AnswerFileError(
            f'{source}: an Answer has no name; HotDocs refuses the whole file ("Answer name is '
            'missing")'
        )
    values = [child for child in element if isinstance(child.tag, str)]
    if not values:
        return None
    value_element = values[0]
    tag = _local(value_element.tag)
    if tag == "RptValue":
        kind = _repeat_type(value_element)
        if kind is None:
            return Answer(name, "text", (), repeated=True) if _leafless(value_element) else None
        try:
            return Answer(name, kind, _read_repeat(value_element, kind), repeated=True)
        except ValueError as error:
            raise AnswerFileError(f"{source}: answer {name!r}: {error}") from None
    kind = _TYPES.get(tag)
    if kind is None:  # ClauseLibValue, DBValue, DocTextValue: not answers mapctl writes
        return None
    try:
        return Answer(name, kind, _read_value(value_element, kind))
    except ValueError as error:
        raise AnswerFileError(f"{source}: answer {name!r}: {error}") from None


def _leafless(element: ElementTree.Element) -> bool:
    return all(_local(c.tag) == "RptValue" and _leafless(c) for c in element)


def _repeat_type(element: ElementTree.Element) -> AnswerType | None:
    for child in element.iter():
        kind = _TYPES.get(_local(child.tag)) if isinstance(child.tag, str) else None
        if kind is not None:
            return kind
    return None


def _read_repeat(element: ElementTree.Element, kind: AnswerType) -> tuple[Any, ...]:
    entries: list[Any] = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if _local(child.tag) == "RptValue":
            entries.append(_read_repeat(child, kind))
        else:
            entries.append(_read_value(child, kind))
    while entries and (entries[-1] is None or entries[-1] == ()):
        entries.pop()
    return tuple(entries)


def _unanswered(element: ElementTree.Element) -> bool:
    return any(k.lower() == "unans" and v.strip().lower() == "true" for k, v in element.items())


def _read_value(element: ElementTree.Element, kind: AnswerType) -> Any:
    tag = _local(element.tag)
    if _TYPES.get(tag) != kind:
        raise ValueError(f"a repeat mixes <{tag}> with {VALUE_ELEMENTS[kind]}")
    if _unanswered(element):
        return None
    if kind == "multiple_choice":
        # HotDocs SDK, AnswerCollection.ReadValue (MCValue): a SelValue is kept when it is not
        # `unans` and is non-empty, or empty while nothing is kept yet ("allow at most a single
        # empty SelValue"); none kept: "as good as unanswered".
        chosen: list[str] = []
        for sel in element:
            if not isinstance(sel.tag, str) or _local(sel.tag) != "SelValue" or _unanswered(sel):
                continue
            text = sel.text or ""
            if text or not chosen:
                chosen.append(text)
        return tuple(chosen) or None
    text = element.text or ""
    if text == "":
        return None
    return _PARSERS[kind](text)


# HotDocs SDK, AnswerCollection.ReadValue: `XmlConvert.ToDouble(s)`, which trims XML white
# space, takes "INF" and "-INF", then Double.Parse(s, AllowLeadingSign | AllowDecimalPoint |
# AllowExponent | Allow{Leading,Trailing}White, invariant culture): no grouping, no hex, and the
# invariant "NaN", "Infinity" and "-Infinity"; past a double's range it throws (file refused).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMBER_WORDS = {"INF": math.inf, "-INF": -math.inf, "Infinity": math.inf,
                 "-Infinity": -math.inf, "NaN": math.nan}  # fmt: skip


def _parse_number(text: str) -> int | float:
    """The double HotDocs reads (a whole one within 2**53 as an int)."""
    word = text.strip(" \t\r\n\v\f")
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if not _NUMBER.fullmatch(word):
        raise ValueError(f"NumValue {_short_text(text)!r} is not a number")
    number = float(word)
    if math.isinf(number):
        raise ValueError(
            f"NumValue {_short_text(text)!r} overflows a double: HotDocs refuses the whole file"
        )
    return int(number) if number.is_integer() and abs(number) <= 2**53 else number


def _short_text(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:37]}..."


def _parse_date(text: str) -> datetime.date:
    parts = [p for p in re.split(r"[/\-. ]", text.strip()) if p]
    try:
        day, month, year = (int(p) for p in parts[:3])
        if len(parts) != 3:
            raise ValueError
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"DateValue {text!r} is not a d/M/yyyy date") from None


def _parse_tf(text: str) -> bool:
    word = text.strip().lower()
    if word not in ("true", "false"):
        raise ValueError(f"TFValue {text!r} is not true or false")
    return word == "true"


_PARSERS: dict[str, Any] = {
    "text": lambda text: text,
    "number": _parse_number,
    "date": _parse_date,
    "true_false": _parse_tf,
}


# --- JSON and comparison --------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def answers_to_json(answer_set: AnswerSet) -> str:
    """The answers as JSON for people and scripts: dates ISO, selections and repeats as lists,
    unanswered as null. Deterministic."""
    document = {
        "title": answer_set.title,
        "answers": [
            {"name": a.name, "type": a.type, "repeated": a.repeated, "value": _json_value(a.value)}
            for a in answer_set.answers
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def normalise(answer_set: AnswerSet) -> dict[tuple[str, str], Any]:
    """{(name, type): value} as an answer file holds it: blanks dropped, repeats' trailing
    unanswered entries trimmed, text without forbidden characters. For comparing answer sets."""
    out: dict[tuple[str, str], Any] = {}
    for answer in answer_set.answers:
        value = _normal_value(answer.value)
        if value is None or value == ():
            continue
        out[(answer.name, answer.type)] = value
    return out


def _normal_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value) or None
    if isinstance(value, tuple):
        items = [_normal_value(v) for v in value]
        while items and (items[-1] is None or items[-1] == ()):
            items.pop()
        return tuple(items)
    return value
