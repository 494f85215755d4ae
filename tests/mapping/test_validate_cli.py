"""`mapctl validate`: which files, output formats, summaries and exit codes."""

from __future__ import annotations

import json
import re
import shutil

from tests.conftest import ROOT, with_slashes

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
    assert with_slashes(result.stderr) == (
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
    assert with_slashes(result.stderr) == (
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
        "::error file=bad.yaml,line=3,col=9,endLine=3,endColumn=12,title=unknown-function::"
        "answer 'A TE': unknown function 'uper()'%0Ahint: did you mean 'upper'?\n"
    )


def test_github_annotations_underline_what_the_caret_does(run_cli, monkeypatch):
    """endLine/endColumn (inclusive, on the problem's line) span exactly the `^~~` of the text
    format, in every invalid case; a problem without a drawn caret has no span."""
    from tests.mapping.test_invalid_cases import CASES, INVALID

    spans = 0
    for case in CASES:
        monkeypatch.chdir(INVALID / case)
        text = run_cli("validate", "mapping.yaml").stderr
        github = run_cli("validate", "--format", "github", "mapping.yaml").stdout
        carets = _caret_widths(text)
        annotations = re.findall(
            r"^::\w+ file=[^,]*,line=(\d+),col=(\d+)(?:,endLine=(\d+),endColumn=(\d+))?,",
            github,
            re.MULTILINE,
        )
        assert len(annotations) == len(carets), (case, text, github)
        for (line, col, end_line, end_col), width in zip(annotations, carets, strict=True):
            if width is None:
                assert end_line == end_col == "", (case, github)
                continue
            spans += 1
            assert (int(end_line), int(end_col) - int(col) + 1) == (int(line), width), (
                case,
                github,
            )
    assert spans >= 25


def _caret_widths(text: str) -> list[int | None]:
    """For each problem of the text format: the width of its `^~~` under the source line."""
    widths: list[int | None] = []
    for line in text.splitlines():
        if re.match(r"^\S+:\d+:\d+: (error|warning): ", line) or line.startswith("error: "):
            widths.append(None)
        caret = re.match(r"^ +\d* *\| *(\^~*)$", line)
        if caret and widths and widths[-1] is None:
            widths[-1] = len(caret.group(1))
    return widths


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


def test_github_annotation_without_a_known_span_has_no_end():
    from mapctl.engine.errors import Problem, SourceLocation
    from mapctl.engine.report import format_problems

    at = SourceLocation("m.yaml", 2, 3)
    assert format_problems([Problem("bad", "x-y", at)], "github") == (
        "::error file=m.yaml,line=2,col=3,title=x-y::bad"
    )
    assert format_problems([Problem("bad", "x-y", at, end_column=7)], "github") == (
        "::error file=m.yaml,line=2,col=3,endLine=2,endColumn=7,title=x-y::bad"
    )
    assert format_problems([Problem("bad", "x-y")], "github") == "::error::bad"
