"""Each tests/invalid/<case>/mapping.yaml: the exact stderr of `mapctl validate mapping.yaml`
(run from the case folder, so paths in the snapshots are machine-independent), exit 1."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TESTS

INVALID = TESTS / "invalid"
CASES = sorted(p.name for p in INVALID.iterdir() if (p / "mapping.yaml").is_file())


def test_there_are_at_least_fifteen_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES)
def test_invalid_mapping_message(case, run_cli, snapshot_txt, monkeypatch):
    monkeypatch.chdir(INVALID / case)
    result = run_cli("validate", "mapping.yaml")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr == snapshot_txt


@pytest.mark.parametrize("case", CASES)
def test_invalid_mapping_json(case, run_cli, monkeypatch):
    """--format json: a list of {file, line, column, message, code}, every problem of the text."""
    monkeypatch.chdir(INVALID / case)
    text = run_cli("validate", "mapping.yaml").stderr
    result = run_cli("validate", "--format", "json", "mapping.yaml")
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)
    assert problems, result.output
    for problem in problems:
        assert {"file", "line", "column", "message", "code"} <= set(problem)
        severity = problem.get("severity", "error")
        first_line = f"{problem['file']}:{problem['line']}:{problem['column']}: {severity}: "
        assert first_line + problem["message"] in text
