"""Answer-file snapshots: each tests/cases/<case>/bundle.json rendered with the bundled default
mapping (or the case's own mapping.yaml) on a fixed date. Each snapshot is a readable .anx file
under tests/render/__snapshots__/test_cases/."""

from __future__ import annotations

import datetime
import functools
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.hotdocs.answerfile import normalise, read_answer_file
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.mapping.model import CompiledMapping
from mapctl.engine.render.rendering import Rendered, render_bundle

CASES = Path(__file__).resolve().parent.parent / "cases"
TODAY = datetime.date(2026, 3, 1)
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "bundle.json").is_file())


@functools.cache
def _mapping(path: str | None) -> CompiledMapping:
    return compile_mapping(path)


def render_case(case: str) -> Rendered:
    folder = CASES / case
    own = folder / "mapping.yaml"
    mapping = _mapping(str(own) if own.is_file() else None)
    return render_bundle((folder / "bundle.json").read_bytes(), case, mapping, today=TODAY)


def test_there_are_at_least_ten_cases():
    assert len(CASE_NAMES) >= 10


@pytest.mark.parametrize("case", CASE_NAMES)
def test_answer_file(case: str, snapshot_anx: Any) -> None:
    rendered = render_case(case)
    assert rendered.errors == []
    assert rendered.output == snapshot_anx


@pytest.mark.parametrize("case", CASE_NAMES)
def test_answer_file_reads_back_to_the_same_answers(case: str) -> None:
    rendered = render_case(case)
    back = read_answer_file(rendered.output, case)
    assert normalise(back) == normalise(rendered.evaluation.answer_set)


def test_warnings_per_case(snapshot_txt: Any) -> None:
    lines = []
    for case in CASE_NAMES:
        for warning in render_case(case).warnings:
            lines.append(f"{case}: {warning}")
    assert "\n".join(lines) + "\n" == snapshot_txt
