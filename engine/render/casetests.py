"""Admin fixture tests (`mapctl test`): a bundle plus the answers it must give.

Stage: on top of rendering. Reads case folders (the only file access here is reading them);
returns results, never prints.

A case is a folder holding `bundle.json` and either
- `expected.anx`: the whole answer set must match (an answer file read back, so blank answers
  and trailing unanswered repeat entries do not count), or
- `expected.yaml`: `answers:` {name: value} for the answers that matter. Values: text as
  strings, numbers, true/false, dates as "YYYY-MM-DD", a multiple choice as a string or a list
  of strings, a repeat as a list (null for an unanswered entry), null for unanswered.
Optional: `mapping.yaml` (else `-m`, else the bundled default), and in `expected.yaml` (or a
`case.yaml` beside `expected.anx`) `today:` (default DEFAULT_TODAY, so cases are reproducible)
and `exclude:` (contact ids). Folders given are cases themselves or hold case folders.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import MapctlError
from ..fsutil import read_bounded
from ..hotdocs.answerfile import normalise, read_answer_file
from ..mapping.model import CompiledMapping
from ..model import SENSITIVE_MASK, AnswerSet
from .evaluation import CONVERTERS, holds_sensitive, reads_sensitive, to_date
from .rendering import Rendered, render_bundle

DEFAULT_TODAY = datetime.date(2026, 1, 1)
DEFAULT_CASES = Path("mapping-tests")


@dataclass(frozen=True)
class Mismatch:
    """One answer that differs: shown as expected/actual."""

    name: str
    expected: str
    actual: str


@dataclass
class CaseResult:
    case: Path
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None  # the case could not run (bad bundle, failing expression...)

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches


def find_cases(paths: list[Path]) -> list[Path]:
    """Case folders under `paths` (default ./mapping-tests/), sorted; error when there are none."""
    roots = paths or [DEFAULT_CASES]
    cases: list[Path] = []
    for root in roots:
        try:
            found = _cases_in(root)
        except OSError as error:
            raise MapctlError(f"{root}: cannot read: {error.strerror or error}") from None
        if found is None:
            raise MapctlError(
                f"{root}: no such folder",
                hint="a case is a folder with bundle.json and expected.anx or expected.yaml",
            )
        cases.extend(found)
    if not cases:
        raise MapctlError(
            f"no test cases found in {', '.join(str(r) for r in roots)}",
            hint="a case is a folder with bundle.json and expected.anx or expected.yaml",
        )
    return cases


def _cases_in(root: Path) -> list[Path] | None:
    """`root` itself when it is a case, else the cases in it; None when it is not a folder."""
    if (root / "bundle.json").is_file():
        return [root]
    if not root.is_dir():
        return None
    return sorted(p for p in root.iterdir() if (p / "bundle.json").is_file())


def run_case(case: Path, load_mapping: Callable[[Path | None], CompiledMapping]) -> CaseResult:
    """Render one case and compare it with what it expects; errors become the case's failure."""
    try:
        return _run(case, load_mapping)
    except MapctlError as error:
        message = error.message + (f"\n  hint: {error.hint}" if error.hint else "")
        problems = getattr(error, "problems", None)
        if problems:
            from ..report import format_problems

            message = format_problems(problems)
        return CaseResult(case, error=message)


def _run(case: Path, load_mapping: Callable[[Path | None], CompiledMapping]) -> CaseResult:
    expected_yaml, expected_anx = case / "expected.yaml", case / "expected.anx"
    if expected_yaml.is_file():
        settings = _read_yaml(expected_yaml)
    elif expected_anx.is_file():
        settings = _read_yaml(case / "case.yaml") if (case / "case.yaml").is_file() else {}
    else:
        raise MapctlError(f"{case}: no expected.anx or expected.yaml")
    own = case / "mapping.yaml"
    mapping = load_mapping(own if own.is_file() else None)
    data = read_bounded(case / "bundle.json", "a matter bundle")
    rendered = render_bundle(
        data,
        str(case / "bundle.json"),
        mapping,
        today=_today(settings.get("today"), case),
        exclude=_exclude(settings.get("exclude"), case),
        compiled=False,  # the comparison needs the evaluation: the interpreter makes it
    )
    actual = rendered.evaluation.answer_set
    if expected_yaml.is_file():
        mismatches = _compare_yaml(settings.get("answers") or {}, actual, case)
    else:
        expected = read_answer_file(read_bounded(expected_anx, "an answer file"), str(expected_anx))
        mismatches = compare_sets(expected, actual)
    return CaseResult(case, _masked(mismatches, rendered, mapping))


def _masked(
    mismatches: list[Mismatch], rendered: Rendered, mapping: CompiledMapping
) -> list[Mismatch]:
    """Mismatches of answers that read a `sensitive` field show neither value (test output
    ends up in CI logs); an unanswered side is still shown as such."""
    provenance = rendered.evaluation.provenance
    secrets = rendered.context.sensitive_values
    out = []
    for miss in mismatches:
        source = provenance.get(miss.name)
        if (
            (source is not None and reads_sensitive(source.paths, mapping.sensitive_aliases))
            or holds_sensitive(miss.expected, secrets)
            or holds_sensitive(miss.actual, secrets)
        ):
            miss = Mismatch(miss.name, _mask(miss.expected), _mask(miss.actual))
        out.append(miss)
    return out


def _mask(shown: str) -> str:
    return shown if shown == _show(None) or shown.startswith("no such answer") else SENSITIVE_MASK


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as error:
        raise MapctlError(f"{path}: cannot read: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("answers", {}), dict | None):
        raise MapctlError(f"{path}: expected a mapping with `answers:` (name -> value)")
    return data


def _today(value: Any, case: Path) -> datetime.date:
    if value is None:
        return DEFAULT_TODAY
    try:
        return to_date(str(value))
    except ValueError:
        raise MapctlError(f"{case}: today: {value!r} is not a YYYY-MM-DD date") from None


def _exclude(value: Any, case: Path) -> list[int]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    if not all(type(i) is int for i in items):
        raise MapctlError(
            f"{case}: exclude: {value!r} is not a list of contact ids", hint="e.g. exclude: [5002]"
        )
    return items


def compare_sets(expected: AnswerSet, actual: AnswerSet) -> list[Mismatch]:
    """Every answer that differs between two answer sets, as an answer file holds them."""
    want, got = normalise(expected), normalise(actual)
    out = []
    for key in list(dict.fromkeys([*want, *got])):
        if want.get(key) != got.get(key):
            out.append(Mismatch(key[0], _show(want.get(key)), _show(got.get(key))))
    return out


def _compare_yaml(expected: dict[str, Any], actual: AnswerSet, case: Path) -> list[Mismatch]:
    got = {a.name: a for a in actual.answers}
    out = []
    for name, value in expected.items():
        answer = got.get(str(name))
        if answer is None:
            close = difflib.get_close_matches(str(name), list(got), n=1)
            note = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(Mismatch(str(name), _show(value), f"no such answer in the mapping{note}"))
            continue
        want = _expected_value(value, answer.type, answer.repeated)
        have = _trim(answer.value)
        if want != have:
            out.append(Mismatch(answer.name, _show(want), _show(have)))
    return out


def _expected_value(value: Any, kind: str, repeated: bool) -> Any:
    if repeated:
        items = value if isinstance(value, list) else ([] if value is None else [value])
        return _trim(tuple(_expected_value(v, kind, False) for v in items))
    if value is None or value == "" or value == []:
        return None
    if kind == "date" and isinstance(value, datetime.date):
        return value
    if kind == "date":
        value = str(value)
    if kind == "multiple_choice" and not isinstance(value, list):
        value = [value]
    if kind == "multiple_choice":
        value = [v if isinstance(v, str) else str(v) for v in value]
    try:  # as the answer's type reads it: a zip code 90210 is the text "90210"
        return CONVERTERS[kind](value)
    except ValueError:
        return value


def _trim(value: Any) -> Any:
    if isinstance(value, tuple) and not all(isinstance(v, str) for v in value):
        items = list(value)
        while items and items[-1] is None:
            items.pop()
        return tuple(items)
    return value


def _show(value: Any) -> str:
    from .explaining import show_value

    return show_value(value)
