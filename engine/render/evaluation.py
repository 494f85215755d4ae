"""Evaluation: a compiled mapping over one context -> the answers, with provenance.

Stage: after context, before answerfile. Pure and deterministic: no I/O, no clock (the render
date is in the context), the same context always gives the same answers. What HotDocs would not
keep as written (`answerfile.answer_warnings`: text over 15,000 characters) is added to the
context's warnings, so render, explain and import all tell it.

Type rules (issue 3; decisions marked *):
- Blank (null, "", []) is unanswered (None); false and 0 are answers.
- text: strings as they are; numbers as text (a whole float without ".0"); *booleans as
  "true"/"false"; a list or an object is an error. Then cleaned as the answer file holds it
  (`answerfile.clean_text`: lone surrogates -> U+FFFD, other XML-forbidden characters removed);
  text blank once cleaned ("\ufffe\x07") is unanswered (issue 9).
- number: int or float; *a numeric string ("1250.50", invariant "." and no grouping) is read as a
  number; booleans and other strings are errors; so is a number beyond a double's range
  (HotDocs' reader would refuse the whole file).
- date: "YYYY-MM-DD" or an ISO date-time (its date part as written); anything else is an error.
- true_false: booleans; *the strings "true"/"false"/"yes"/"no" in any case; anything else errors.
- multiple_choice: a string or a list of strings (one selection each, cleaned like text; *blank
  entries, null, "" or blank once cleaned, dropped).
- `each`: a list gives one entry per element (the element is the current node for `value`);
  null gives no entries; anything else is an error. Answers with the same `each` source share
  one evaluation of it, so their entries line up.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from jmespath import exceptions as jp_errors

from ..errors import EvaluationError, Problem
from ..hotdocs.answerfile import answer_warnings, clean_text, number_problem
from ..mapping.expressions import Expression, field_paths
from ..mapping.model import AnswerRule, CompiledMapping
from ..model import SENSITIVE_MASK, Answer, AnswerSet
from .context import Context
from .reviewing import add_review_lines

_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_TF_WORDS = {"true": True, "false": False, "yes": True, "no": False}


class ValueProblem(ValueError):
    """A value that does not fit its answer type (turned into a Problem by `evaluate`)."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


@dataclass(frozen=True)
class Provenance:
    """Where one answer came from: for `mapctl explain`."""

    expression: str
    each: str | None
    raw: Any  # the expression's result before typing (a list of them for a repeated answer)
    paths: tuple[tuple[str, ...], ...]  # context field paths read (each's path prefixed)


@dataclass(frozen=True)
class ClientRecord:
    """The new ILS client record's name and notes."""

    name: str | None
    notes: str | None


@dataclass
class Evaluation:
    """Answers, where each came from, the client record, and every runtime problem."""

    answer_set: AnswerSet
    raws: dict[str, tuple[AnswerRule, Any]]  # answer name -> (rule, raw result before typing)
    errors: list[Problem] = field(default_factory=list)
    mapping: CompiledMapping | None = field(default=None, repr=False)
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def _record(self) -> tuple[ClientRecord, list[Problem]]:
        if self.mapping is None:
            return ClientRecord(None, None), []
        return _client_record(self.mapping, self.data)

    @property
    def client_record(self) -> ClientRecord:
        """The new client's name and notes (evaluated on first use: rendering never needs it)."""
        return self._record[0]

    @property
    def client_record_errors(self) -> list[Problem]:
        """Why the client record could not be made; the import refuses when there are any."""
        return self._record[1]

    @property
    def provenance(self) -> dict[str, Provenance]:
        """Where each answer came from (built on demand: rendering never needs it)."""
        return {
            name: Provenance(
                rule.value.source, rule.each.source if rule.each else None, raw, _paths(rule)
            )
            for name, (rule, raw) in self.raws.items()
        }


def evaluate(mapping: CompiledMapping, context: Context, *, keep_going: bool = False) -> Evaluation:
    """Every answer of `mapping` over `context`.

    Failing answers are collected; unless `keep_going`, they raise one EvaluationError listing
    all of them. With `keep_going` they are left out and listed in `errors`. Client-record
    problems never stop rendering: they are in `client_record_errors` for the import to check.
    """
    data = context.data
    answers: list[Answer] = []
    raws: dict[str, tuple[AnswerRule, Any]] = {}
    problems: list[Problem] = []
    lists: dict[str, Any] = {}
    for rule in mapping.answers:
        if rule.each is None:  # fast path; on any failure the slow path below reports it
            try:
                raw = rule.value.evaluate(data)
                value = (
                    None if raw is None or raw == "" or raw == [] else _CONVERTERS[rule.type](raw)
                )
            except Exception:  # noqa: BLE001 - re-run below with full error reporting
                pass
            else:
                answers.append(Answer(rule.name, rule.type, value))
                raws[rule.name] = (rule, raw)
                continue
        try:
            answer, raw = _answer(rule, data, lists)
        except _RuleFailure as failure:
            problems.append(_redacted(failure, rule, mapping, context.sensitive_values))
            continue
        answers.append(answer)
        raws[rule.name] = (rule, raw)
    if problems and not keep_going:
        raise EvaluationError(problems)
    answer_set = AnswerSet(mapping.title, tuple(answers))
    for warning in answer_warnings(answer_set):  # told wherever the context's warnings are
        if warning not in context.warnings:
            context.warnings.append(warning)
    add_review_lines(mapping, context)  # the mapping's own review lines (issue 17)
    return Evaluation(answer_set, raws, problems, mapping, data)


class _RuleFailure(Exception):
    def __init__(self, problem: Problem, value: Any) -> None:
        self.problem = problem
        self.value = value  # the offending value the problem shows


def reads_sensitive(paths: Sequence[Sequence[str]], sensitive: frozenset[str]) -> bool:
    """Whether any path reads a sensitive alias, or a whole `custom` dict holding one."""
    if not sensitive:
        return False
    for path in paths:
        for position, part in enumerate(path):
            if part == "custom":
                following = path[position + 1] if position + 1 < len(path) else None
                if following is None or following in sensitive:
                    return True
    return False


def holds_sensitive(value: Any, secrets: Collection[str]) -> bool:
    """Whether a value (or an entry or selection of it) contains a sensitive field's text:
    catches what `reads_sensitive` cannot see (`client.*.ssn`, `values(client.custom)`)."""
    if not secrets or value is None:
        return False
    if isinstance(value, tuple | list):
        return any(holds_sensitive(v, secrets) for v in value)
    text = value if isinstance(value, str) else None
    return text is not None and any(secret in text for secret in secrets)


def _redacted(
    failure: _RuleFailure, rule: AnswerRule, mapping: CompiledMapping, secrets: Collection[str]
) -> Problem:
    """The failure's problem without a sensitive field's value in its message or context."""
    problem = failure.problem
    shown = failure.value
    if reads_sensitive(_paths(rule), mapping.sensitive_aliases):
        shown_as = {truncate(shown, 10**6), truncate(shown)}  # the first: whole, unless huge
        texts = {t for t in shown_as if len(t) >= 3 and t not in ("null", "true", "false")}
    elif holds_sensitive(truncate(shown, 10**6), secrets):
        texts = set()
    else:
        return problem
    texts.update(secrets)
    texts.update(json.dumps(s, ensure_ascii=False)[1:-1] for s in secrets)

    def clean(line: str) -> str:
        if line.startswith(("value: ", "input: ")):
            return line.split(": ", 1)[0] + ": " + SENSITIVE_MASK
        for text in sorted(texts, key=len, reverse=True):
            line = line.replace(text, SENSITIVE_MASK)
        return line

    problem.message = clean(problem.message)
    problem.context = [clean(line) for line in problem.context]
    return problem


def _answer(rule: AnswerRule, data: dict[str, Any], lists: dict[str, Any]) -> tuple[Answer, Any]:
    convert = _CONVERTERS[rule.type]
    if rule.each is None:
        raw = _run(rule, rule.value, data)
        return Answer(rule.name, rule.type, _convert(rule, convert, raw)), raw
    source = rule.each.source
    if source not in lists:
        lists[source] = _run(rule, rule.each, data, what="each")
    items = lists[source]
    if items is None:
        return Answer(rule.name, rule.type, (), repeated=True), []
    if not isinstance(items, list):
        raise _RuleFailure(
            _problem(rule, rule.each, f"`each` must give a list, got {_kind(items)}", items), items
        )
    raws = [_run(rule, rule.value, item, entry=(n, item)) for n, item in enumerate(items)]
    values = tuple(_convert(rule, convert, raw, entry=(n, items[n])) for n, raw in enumerate(raws))
    return Answer(rule.name, rule.type, values, repeated=True), raws


def _run(
    rule: AnswerRule,
    expression: Expression,
    data: Any,
    *,
    what: str = "value",
    entry: tuple[int, Any] | None = None,
) -> Any:
    try:
        return expression.evaluate(data)
    except jp_errors.JMESPathTypeError as error:
        expected = " or ".join(error.expected_types)
        actual = _PYTHON_TYPES.get(error.actual_type, error.actual_type)
        message = f"{error.function_name}() expects {expected}, got {actual}"
        raise _RuleFailure(
            _problem(rule, expression, message, error.current_value, entry), error.current_value
        ) from None
    except (jp_errors.JMESPathError, TypeError, ValueError, ArithmeticError) as error:
        text = str(error).strip() or type(error).__name__
        problem = _problem(rule, expression, text, data, entry, show="input")
        raise _RuleFailure(problem, data) from None


# jmespath names some types the Python way (a null inside an array: "NoneType").
_PYTHON_TYPES = {"NoneType": "null", "str": "string", "int": "number", "float": "number",
                 "bool": "boolean", "list": "array", "dict": "object"}  # fmt: skip


def _convert(rule: AnswerRule, convert: Any, raw: Any, entry: tuple[int, Any] | None = None) -> Any:
    if raw is None or raw == "" or raw == []:
        return None
    try:
        return convert(raw)
    except ValueProblem as error:
        raise _RuleFailure(
            _problem(rule, rule.value, str(error), error.value, entry), error.value
        ) from None


def _problem(
    rule: AnswerRule,
    expression: Expression,
    message: str,
    value: Any,
    entry: tuple[int, Any] | None = None,
    show: str = "value",
) -> Problem:
    context = [f"at answers -> {rule.name!r}" + (" -> each" if expression is rule.each else "")]
    if entry is not None:
        context.append(
            f"in entry {entry[0] + 1} of each: {rule.each.source if rule.each else ''}"
            + _entry_label(entry[1])
        )
    context.append(f"expression: {expression.source}")
    context.append(f"{show}: {truncate(value)}")
    return Problem(
        f"answer {rule.name!r} ({rule.type}): {message}",
        "evaluation-error",
        location=expression.location or rule.location,
        expression=expression.source,
        path=("answers", rule.name),
        context=context,
    )


def _entry_label(item: Any) -> str:
    if isinstance(item, dict):
        name = item.get("name")
        if isinstance(name, str) and name:
            return f" (name={name!r})"
        if item.get("id") is not None:
            return f" (id={item['id']})"
    return ""


def truncate(value: Any, limit: int = 80) -> str:
    """The value as JSON, cut glom-style when long: `{"a": 1, ... (len=14)`."""
    try:  # lazily, up to the limit: a value that repeats itself ([@, @] piped over and over)
        # would be gigabytes as a whole
        chunks = json.JSONEncoder(ensure_ascii=False, default=str).iterencode(value)
        text, done = "", False
        for chunk in chunks:
            text += chunk
            if len(text) > limit:
                break
        else:
            done = True
        if not done:
            text = text[: limit + 1]
    except (TypeError, ValueError, RecursionError):
        text = repr(value)[: limit + 1]
    if len(text) <= limit:
        return text
    size = f" (len={len(value)})" if isinstance(value, list | dict | str) else ""
    return text[:limit] + " ..." + size


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _paths(rule: AnswerRule) -> tuple[tuple[str, ...], ...]:
    return _paths_of(rule.value, rule.each)


@functools.lru_cache(maxsize=4096)  # Expressions hash by source: computed once per expression
def _paths_of(value: Expression, each: Expression | None) -> tuple[tuple[str, ...], ...]:
    own = field_paths(value.ast)
    if each is None:
        return tuple(own)
    prefixes = field_paths(each.ast) or [()]
    return tuple(prefixes) + tuple((*p, "[]", *path) for p in prefixes[:1] for path in own)


# --- types --------------------------------------------------------------------------------------


def to_text(raw: Any) -> str | None:
    """The text answer, cleaned as every output shows it (`clean_text`): None when blank."""
    return clean_text(_text(raw)) or None


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    raise ValueProblem(f"a text answer needs a string or a number, got {_kind(raw)}", raw)


def to_number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueProblem("a number answer needs a number, got a boolean", raw)
    if isinstance(raw, int | float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueProblem("a number answer needs a finite number", raw)
        return _fits_double(raw)
    if isinstance(raw, str):
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite() and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", raw.strip()):
            if number.adjusted() > 308:  # 10**309 and more: no double (nor an int to make)
                raise ValueProblem(number_problem(raw.strip()) or "", raw)
            value = int(number) if number == number.to_integral_value() else float(number)
            return _fits_double(value)
        raise ValueProblem(f"{json.dumps(raw)} is not a number (write it like 1250.50)", raw)
    raise ValueProblem(f"a number answer needs a number, got {_kind(raw)}", raw)


def _fits_double(value: int | float) -> int | float:
    """HotDocs keeps numbers as doubles; one beyond a double's range makes its reader refuse the
    whole answer file (`number_problem`), so the answer is refused here, naming it."""
    problem = number_problem(value)
    if problem:
        raise ValueProblem(problem, value)
    return value


def to_date(raw: Any) -> datetime.date:
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, str):
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-" and raw.isascii():
            try:  # the common case; fromisoformat alone would also take 2020-W01-1 forms
                return datetime.date.fromisoformat(raw)
            except ValueError:
                pass
        match = _ISO_DATE.match(raw.strip())
        if match:
            try:
                return datetime.date(*(int(g) for g in match.groups()))
            except ValueError:
                pass
        raise ValueProblem(
            f"{json.dumps(raw)} is not a date (expected YYYY-MM-DD or an ISO date-time)", raw
        )
    raise ValueProblem(f"a date answer needs a YYYY-MM-DD string, got {_kind(raw)}", raw)


def to_true_false(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TF_WORDS:
        return _TF_WORDS[raw.strip().lower()]
    raise ValueProblem(f"a true_false answer needs true or false, got {truncate(raw)}", raw)


def to_choices(raw: Any) -> tuple[str, ...] | None:
    """A string or a list of strings; blank entries (null, "") are no selection, so
    `[client.custom.gender, spouse.custom.gender]` works without a spouse."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(i is None or isinstance(i, str) for i in items):
        raise ValueProblem(
            f"a multiple_choice answer needs a string or a list of strings, got {_kind(raw)}"
            if not isinstance(items, list)
            else "a multiple_choice list may hold only strings",
            raw,
        )
    chosen = tuple(c for c in (clean_text(i) for i in items if i) if c)  # blank once cleaned
    return chosen or None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": to_text,
    "number": to_number,
    "date": to_date,
    "true_false": to_true_false,
    "multiple_choice": to_choices,
}
CONVERTERS = _CONVERTERS  # raw value -> answer value, by type (`mapctl test` reads expectations)


def _client_record(
    mapping: CompiledMapping, data: dict[str, Any]
) -> tuple[ClientRecord, list[Problem]]:
    values: dict[str, str | None] = {}
    problems = []
    for key in ("name", "notes"):
        expression: Expression = getattr(mapping.client_record, key)
        try:
            value = expression(data)
            if value is not None and not isinstance(value, str):
                raise ValueProblem(
                    f"client_record.{key} must give a string, got {_kind(value)}", value
                )
            if key == "name" and not (value or "").strip():
                raise ValueProblem("client_record.name gave no name", value)
        except (jp_errors.JMESPathError, ValueProblem, TypeError, ValueError) as error:
            shown = error.value if isinstance(error, ValueProblem) else None
            problems.append(
                Problem(
                    str(error),
                    "evaluation-error",
                    location=expression.location,
                    expression=expression.source,
                    path=("client_record", key),
                    context=[f"expression: {expression.source}", f"value: {truncate(shown)}"],
                )
            )
            value = None
        values[key] = value
    return ClientRecord(values["name"], values["notes"]), problems
