"""Validation never fails with anything but problems, whatever the input: random YAML-ish text
and random mapping-shaped documents (fixed seeds, bounded iterations)."""

from __future__ import annotations

import random
from typing import Any

import yaml
from mapctl.engine.errors import Problem
from mapctl.engine.mapping.loading import load_text
from mapctl.engine.mapping.validation import validate

ALPHABET = "ab: -[]{}&*!|>'\"#\n\t,.?%@`~\\0123456789xyz_()\u00e9"
KEYS = ["version", "title", "extends", "relationships", "custom_fields", "client_record",
        "answers", "value", "type", "each", "required", "name", "id", "sensitive", "notes",
        "otherwise", "Spouse", "Child", "A TE", "x"]  # fmt: skip
EXPRESSIONS = ["client.name", "uper(x)", "custom.nope", "children[0", "`1`", "'a'", "", "@",
               "by_role.X", "length(children, 1)", "format('{}', a b)", "a.", "[?", "&x",
               "sort_by(children, &date_of_birth)"]  # fmt: skip


def _check(text: str) -> list[Problem]:
    problems = validate(load_text(text, "random.yaml"))
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.message
        assert problem.location is None or problem.location.line >= 1
    return problems


def test_random_text_never_raises():
    rng = random.Random(20261125)
    for _ in range(300):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80)))
        _check(text)


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice([*EXPRESSIONS, 1, 2, True, None, 1.5, "yes", "date", "text"])
    if roll < 0.55:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def test_random_mapping_shaped_documents_never_raise():
    rng = random.Random(4242)
    for _ in range(300):
        document: dict[str, Any] = {"version": rng.choice([1, 1, 2, "1"])}
        for key in rng.sample(KEYS[:7], rng.randint(0, 6)):
            document[key] = _value(rng, 1)
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        _check(text)


def test_random_damage_to_the_default_mapping_never_raises():
    from tests.conftest import ROOT

    original = (ROOT / "mappings" / "ils-client-interview.yaml").read_text()
    rng = random.Random(7)
    for _ in range(150):
        chars = list(original)
        for _ in range(rng.randint(1, 5)):
            position = rng.randrange(len(chars))
            chars[position] = rng.choice(ALPHABET)
        _check("".join(chars))


def test_the_command_only_ever_exits_0_or_1(run_cli, tmp_path, monkeypatch):
    """Through the CLI: exit 0 or 1, never an internal error (4) or a traceback."""
    monkeypatch.chdir(tmp_path)
    rng = random.Random(99)
    for i in range(60):
        path = tmp_path / f"m{i}.yaml"
        if i % 2:
            document = {"version": 1, "answers": _value(rng, 1)}
            path.write_text(yaml.safe_dump(document, allow_unicode=True))
        else:
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 60))))
        for fmt in ("text", "json", "github"):
            result = run_cli("validate", "--format", fmt, path.name)
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
