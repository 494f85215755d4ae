"""`mapctl validate`: which files, output formats, summaries and exit codes."""

from __future__ import annotations

import json
import shutil

from tests.conftest import ROOT

BAD = "version: 1\nanswers:\n  A TE: uper(client.name)\n"
GOOD = "version: 1\nanswers:\n  A TE: client.name\n"


def test_no_path_and_no_mappings_folder_checks_the_bundled_default(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "",
        "checking the bundled default mapping <bundled>/ils-client-interview.yaml (no PATH "
        "given, and no ./mappings/ folder here)\n1 mapping valid\n",
    )


def test_no_path_checks_every_mapping_under_the_mappings_folder(run_cli, tmp_path, monkeypatch):
    (tmp_path / "mappings" / "more").mkdir(parents=True)
    (tmp_path / "mappings" / "good.yaml").write_text(GOOD)
    (tmp_path / "mappings" / "more" / "bad.yml").write_text(BAD)
    (tmp_path / "mappings" / "notes.txt").write_text("not a mapping")
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "checking the 2 mappings in ./mappings/ (no PATH given): mappings/good.yaml, "
        "mappings/more/bad.yml\n"
        "mappings/more/bad.yml:3:9: error: answer 'A TE': unknown function 'uper()'\n"
        "  3 |   A TE: uper(client.name)\n"
        "    |         ^~~~\n"
        "  hint: did you mean 'upper'?\n"
        "1 problem in 2 mappings\n"
    )


def test_the_repo_mappings_folder_is_valid(run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli("validate")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "checking the 2 mappings in ./mappings/ (no PATH given): "
        "mappings/example-firm-override.yaml, mappings/ils-client-interview.yaml\n"
        "2 mappings valid\n"
    )


def test_json_format_on_stdout(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "good.yaml").write_text(GOOD)
    result = run_cli("validate", "--format", "json", "bad.yaml", "good.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": "bad.yaml",
            "line": 3,
            "column": 9,
            "message": "answer 'A TE': unknown function 'uper()'",
            "code": "unknown-function",
            "severity": "error",
            "hint": "did you mean 'upper'?",
        }
    ]
    assert result.stderr == "1 problem in 2 mappings\n"
    valid = run_cli("validate", "--format", "json", "good.yaml")
    assert (valid.exit_code, json.loads(valid.stdout)) == (0, [])


def test_github_format_annotations(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(BAD)
    result = run_cli("validate", "--format", "github", "bad.yaml")
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=bad.yaml,line=3,col=9,title=unknown-function::answer 'A TE': unknown "
        "function 'uper()'%0Ahint: did you mean 'upper'?\n"
    )


def test_usage_errors_exit_2(run_cli, tmp_path):
    missing = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    bad_format = run_cli("validate", "--format", "xml")
    assert bad_format.exit_code == 2
    assert "Traceback" not in missing.output + bad_format.output


def test_a_folder_without_mappings_is_an_error(run_cli, tmp_path):
    result = run_cli("validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"error: no mapping files (*.yaml, *.yml) in {tmp_path}\n"


def test_a_problem_in_an_extended_file_is_reported_once(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yaml").write_text(BAD)
    (tmp_path / "top.yaml").write_text("version: 1\nextends: base.yaml\n")
    result = run_cli("validate", ".")
    assert result.exit_code == 1
    assert result.stderr.count("error:") == 1
    assert result.stderr.startswith("base.yaml:3:9: error: answer 'A TE': unknown function")


def test_example_override_checked_from_a_copy(run_cli, tmp_path, monkeypatch):
    """The example override extends the default by name: it works next to it or alone."""
    shutil.copy(ROOT / "mappings" / "example-firm-override.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate", "example-firm-override.yaml")
    assert (result.exit_code, result.stderr) == (0, "1 mapping valid\n")


def test_an_empty_answer_name_is_named_as_such(run_cli, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text('version: 1\nanswers:\n  "": client.name\n')
    result = run_cli("validate", str(mapping))
    assert (result.exit_code, result.stderr) == (
        1,
        f"{mapping}:3:3: error: an answer name is empty\n"
        '  3 |   "": client.name\n'
        "    |   ^\n"
        "  hint: the key is the interview variable's exact name, e.g. Client First Name TE\n"
        "1 problem in 1 mapping\n",
    )
