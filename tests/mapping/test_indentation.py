"""Indentation mistakes in plain words (issue 11): which line is out of place and how; other
YAML errors keep PyYAML's message; never a crash, whatever the lines."""

from __future__ import annotations

import random

import pytest
from mapctl.engine.mapping.source import parse
from mapctl.engine.resources import DEFAULT_MAPPING, bundled_mapping


def first(text: str) -> tuple[str, int, int, str | None]:
    (problem,) = parse(text, "m.yaml").problems
    assert problem.location is not None
    return problem.code, problem.location.line, problem.location.column, problem.hint


def test_a_key_dedented_between_two_entries_is_reported_at_its_own_line():
    text = "version: 1\ncustom_fields:\n  a: A\nb: B\n  c: C\n"
    assert first(text) == (
        "yaml-indentation",
        4,
        1,
        "indent 'b' to column 3 to keep it under 'custom_fields'",
    )


def test_a_key_indented_more_than_the_key_before():
    text = "answers:\n  A TE: x\n    B TE: y\n"
    assert first(text) == ("yaml-indentation", 3, 5, "start 'B TE' in column 3, like 'A TE'")


def test_a_nested_section_dedented_is_found_through_its_children():
    text = "custom_fields:\n  a:\n    name: A\nb:\n    name: B\n  c: C\n"
    code, line, column, _ = first(text)
    assert (code, line, column) == ("yaml-indentation", 4, 1)


@pytest.mark.parametrize(
    "text",
    [
        "answers:\n  Notes TE: format('Matter: {}', x)\n",  # ': ' inside a value
        "answers:\n  A TE: {value: x\n    B TE: y\n",  # an unclosed flow mapping
        "answers:\n\tA TE: x\n",  # a tab
        "answers:\n  - a: x\n - b: y\n",  # list items
    ],
)
def test_other_yaml_errors_keep_pyyaml_s_message(text):
    code, *_ = first(text)
    assert code == "yaml-syntax"


def test_never_crashes_on_lines_moved_at_random():
    lines = bundled_mapping(DEFAULT_MAPPING).read_text(encoding="utf-8").split("\n")
    rng = random.Random(11)
    for _ in range(100):
        moved = list(lines)
        for _ in range(rng.randint(1, 3)):
            n = rng.randrange(len(moved))
            shift = rng.choice([-4, -2, -1, 1, 2, 4])
            moved[n] = " " * max(0, shift) + moved[n][max(0, -shift) :]
        for problem in parse("\n".join(moved), "m.yaml").problems:
            assert problem.location is not None
            assert 1 <= problem.location.line <= len(moved)
