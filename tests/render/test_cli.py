"""The offline commands through the real CLI: render, explain, test, functions."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.render.test_cases import CASES

BLENDED = str(CASES / "blended-family" / "bundle.json")
DAY = ("--today", "2026-03-01")


def snapshot_bytes(case: str) -> bytes:
    folder = Path(__file__).parent / "__snapshots__" / "test_cases"
    return (folder / f"test_answer_file[{case}].anx").read_bytes()


def test_render_one_bundle_to_stdout(run_cli: RunCli) -> None:
    result = run_cli("render", BLENDED, *DAY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == snapshot_bytes("blended-family")
    assert result.stderr == ""


def test_render_to_a_file_and_as_json(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "jay.anx"
    result = run_cli("render", BLENDED, *DAY, "-o", str(out))
    assert (result.exit_code, result.stdout) == (0, "")
    assert out.read_bytes() == snapshot_bytes("blended-family")
    result = run_cli("render", BLENDED, *DAY, "--format", "json")
    answers = {a["name"]: a["value"] for a in json.loads(result.stdout)["answers"]}
    assert answers["Client Birth Date DA"] == "1950-05-17"
    assert answers["Child Full Name TE"][0] == "Claire Dunphy"


def test_render_excludes_contacts(run_cli: RunCli) -> None:
    result = run_cli(
        "render", BLENDED, *DAY, "--format", "json", "--exclude", "5002", "--exclude", "5003"
    )
    answers = {a["name"]: a["value"] for a in json.loads(result.stdout)["answers"]}
    assert answers["Spouse Full Name TE"] is None and answers["Client Has Spouse TF"] is False
    assert answers["Number of Children NU"] == 3
    result = run_cli("render", BLENDED, *DAY, "--exclude", "5001")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: contact 5001 is the matter's client and cannot be excluded\n"
        "  hint: --exclude takes related contacts only\n"
    )


def test_warnings_go_to_stderr(run_cli: RunCli) -> None:
    bundle = str(CASES / "two-spouses" / "bundle.json")
    result = run_cli("render", bundle, *DAY)
    assert result.exit_code == 0
    assert result.stderr == (
        f"{bundle}: warning: 2 contacts are in the Spouse role (Maria Vulcano, Linda Vulcano): "
        "the first is `spouse`, all are in `spouses`\n"
    )


def test_several_bundles_need_out_dir(run_cli: RunCli) -> None:
    result = run_cli("render", BLENDED, BLENDED)
    assert result.exit_code == 2
    assert "Error: several bundles need --out-dir DIR (one answer file each)" in result.stderr


def test_batch_renders_every_bundle_and_reports_each_failure(
    run_cli: RunCli, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for case in ("blended-family", "no-spouse"):
        shutil.copy(CASES / case / "bundle.json", inputs / f"{case}.json")
    (inputs / "broken.json").write_text('{"bundle_version": 1}')
    out = tmp_path / "out"
    paths = sorted(str(p) for p in inputs.iterdir())
    result = run_cli("render", *paths, "--out-dir", str(out), *DAY)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {inputs / 'broken.json'}: not a usable matter bundle: "
        "no 'matter'\n  hint: make one with `mapctl fetch MATTER -o FILE`\n"
        f"rendered 2 of 3 bundles into {out}; 1 failed\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["blended-family.anx", "no-spouse.anx"]
    assert (out / "no-spouse.anx").read_bytes() == snapshot_bytes("no-spouse")


def test_an_unusable_bundle_is_refused(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    result = run_cli("render", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {bad}: not a matter bundle: not valid JSON (Expecting value: line 1 column 1 (char 0))\n"
    )
    result = run_cli("render", str(tmp_path / "missing.json"))
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: cannot read {tmp_path / 'missing.json'}: No such file or directory\n"
    )


BROKEN_MAPPING = """\
version: 1
title: Broken
answers:
  Kids NU: {type: number, value: length(spouse.prefix)}
  Born DA: {type: date, value: client.name}
  Name TE: client.name
"""


def test_runtime_errors_write_nothing_unless_keep_going(run_cli: RunCli, tmp_path: Path) -> None:
    mapping = tmp_path / "broken.yaml"
    mapping.write_text(BROKEN_MAPPING)
    out = tmp_path / "out.anx"
    result = run_cli("render", BLENDED, "-m", str(mapping), "-o", str(out), *DAY)
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"""\
{mapping}:4:34: error: answer 'Kids NU' (number): length() expects string or array or object, got null
  at answers -> 'Kids NU'
  expression: length(spouse.prefix)
  value: null
{mapping}:5:32: error: answer 'Born DA' (date): "Jay Francis Pritchett" is not a date (expected YYYY-MM-DD or an ISO date-time)
  at answers -> 'Born DA'
  expression: client.name
  value: "Jay Francis Pritchett"
"""
    )
    assert not out.exists()
    result = run_cli("render", BLENDED, "-m", str(mapping), "-o", str(out), *DAY, "--keep-going")
    assert result.exit_code == 1
    assert result.stderr.count("error: answer") == 2
    assert b"<TextValue>Jay Francis Pritchett</TextValue>" in out.read_bytes()


def test_explain_shows_roles_values_and_fields_with_sensitive_masked(
    run_cli: RunCli, snapshot_txt: Any
) -> None:
    result = run_cli("explain", BLENDED, *DAY)
    assert result.exit_code == 0, result.stderr
    assert "123-45-6789" not in result.stdout
    assert result.stdout == snapshot_txt


def test_explain_selected_answers_as_json(run_cli: RunCli, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "version: 1\nextends: ils-client-interview.yaml\nanswers:\n"
        "  SSN Last Four TE: \"replace(client.custom.ssn, '-', '')\"\n"
    )
    result = run_cli(
        "explain",
        BLENDED,
        "-m",
        str(mapping),
        "SSN Last Four TE",
        "Child Full Name TE",
        "--format",
        "json",
        *DAY,
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [a["name"] for a in report["answers"]] == ["SSN Last Four TE", "Child Full Name TE"]
    assert report["answers"][0]["value"] == "•••• (sensitive)" and report["answers"][0]["sensitive"]
    assert report["answers"][1]["value"][:2] == ["Claire Dunphy", "Mitchell Pritchett"]
    assert report["contacts"][0]["custom"]["ssn"] == "•••• (sensitive)"
    assert "123-45-6789" not in result.stdout and "123456789" not in result.stdout
    assert report["unmatched_labels"][0] == {
        "label": "Step-Grandson",
        "role": "Party",
        "suggestion": "grandson",
    }


def test_explain_unknown_name(run_cli: RunCli) -> None:
    result = run_cli("explain", BLENDED, "Client Frist Name TE")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the mapping has no answer named 'Client Frist Name TE'\n"
        "  hint: did you mean 'Client First Name TE'?\n"
    )


def _case(root: Path, name: str, expected: str, kind: str = "yaml") -> None:
    folder = root / name
    folder.mkdir(parents=True)
    shutil.copy(CASES / "blended-family" / "bundle.json", folder / "bundle.json")
    (folder / f"expected.{kind}").write_text(expected)


def test_admin_case_tests(run_cli: RunCli, tmp_path: Path) -> None:
    root = tmp_path / "mapping-tests"
    _case(
        root,
        "a-passes",
        "today: 2026-03-01\nanswers:\n  Client First Name TE: Jay\n"
        "  Client Birth Date DA: 1950-05-17\n  Child Full Name TE: [Claire Dunphy, Mitchell Pritchett, Manny Delgado, Joe Pritchett]\n"
        "  Client Gender MC: Male\n  Number of Children NU: 4\n  Client Has Spouse TF: true\n  Client Prefix TE: Mr.\n",
    )
    _case(
        root,
        "b-fails",
        "answers:\n  Client First Name TE: Gloria\n  Spouse Full Name TE: null\n"
        "  Other Party Birth Date DA: [2019-05-01, 1967-04-03, 1971-02-28, 1948-02-12]\n  Client Nickname TE: Jay-Jay\n",
    )
    (root / "c-whole-file").mkdir()
    shutil.copy(CASES / "blended-family" / "bundle.json", root / "c-whole-file" / "bundle.json")
    expected = snapshot_bytes("blended-family").replace(b"Claire Dunphy", b"Claire Pritchett")
    (root / "c-whole-file" / "expected.anx").write_bytes(expected)
    (root / "c-whole-file" / "case.yaml").write_text("today: 2026-03-01\n")
    result = run_cli("test", str(root))
    assert result.exit_code == 1
    assert (
        result.stdout
        == f"""\
PASS {root / "a-passes"}
FAIL {root / "b-fails"}
  Client First Name TE:
    expected: "Gloria"
    actual:   "Jay"
  Spouse Full Name TE:
    expected: (unanswered)
    actual:   "Gloria Pritchett"
  Client Nickname TE:
    expected: "Jay-Jay"
    actual:   no such answer in the mapping (did you mean 'Client Last Name TE'?)
FAIL {root / "c-whole-file"}
  Child Full Name TE:
    expected: ["Claire Pritchett", "Mitchell Pritchett", "Manny Delgado", "Joe Pritchett"]
    actual:   ["Claire Dunphy", "Mitchell Pritchett", "Manny Delgado", "Joe Pritchett"]
1 passed, 2 failed
"""
    )
    assert (
        run_cli("test", str(root / "a-passes")).stdout
        == f"PASS {root / 'a-passes'}\n1 passed, 0 failed\n"
    )


def test_admin_case_tests_without_cases(run_cli: RunCli, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("test")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: mapping-tests: no such folder\n"
        "  hint: a case is a folder with bundle.json and expected.anx or expected.yaml\n"
    )


def test_functions_are_listed_from_the_code(run_cli: RunCli) -> None:
    result = run_cli("functions")
    assert result.exit_code == 0
    assert "  format(template, value...) -> string\n" in result.stdout
    assert (
        "      Example: format('{} {}', 'Jay', 'Pritchett') -> \"Jay Pritchett\"\n" in result.stdout
    )
    assert "  length(string|array|object)" in result.stdout
    listed = json.loads(run_cli("functions", "--format", "json").stdout)
    names = {f["name"] for f in listed}
    assert {"lower", "upper", "trim", "format", "split", "replace", "length", "sort_by"} <= names
    assert all(f["example"] for f in listed if not f["builtin"])


def test_batch_shows_a_progress_bar_on_a_terminal(
    run_cli: RunCli, tmp_path: Path, mapctl_home: Path
) -> None:
    from mapctl.cli import AppState

    out = tmp_path / "out"
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home)}, interactive=True)
    shutil.copy(CASES / "no-spouse" / "bundle.json", tmp_path / "no-spouse.json")
    result = run_cli(
        "render",
        BLENDED,
        str(tmp_path / "no-spouse.json"),
        "--out-dir",
        str(out),
        *DAY,
        state=state,
    )
    assert result.exit_code == 0, result.stderr
    assert "Rendering" in result.stderr
    assert result.stderr.endswith(f"rendered 2 of 2 bundles into {out}\n")


def test_batch_refuses_two_bundles_with_the_same_name(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(
        "render", BLENDED, str(CASES / "no-spouse" / "bundle.json"), "--out-dir", str(tmp_path)
    )
    assert result.exit_code == 2
    assert (
        "Error: two bundles are named 'bundle': their answer files would collide" in result.stderr
    )


def test_explain_masks_sensitive_values_inside_repeats(run_cli: RunCli, tmp_path: Path) -> None:
    bundle = json.loads(Path(BLENDED).read_text())
    claire = next(c for c in bundle["contacts"] if c["id"] == 5003)
    claire["custom_field_values"].append(
        {
            "id": "text_line-1",
            "field_name": "Social Security Number",
            "field_type": "text_line",
            "value": "555-12-3456",
            "soft_deleted": False,
            "custom_field": {"id": 71006},
        }
    )
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "version: 1\nextends: ils-client-interview.yaml\nanswers:\n"
        "  Child SSN TE: {each: children, value: custom.ssn}\n"
    )
    text = run_cli("explain", str(path), "-m", str(mapping), "Child SSN TE", *DAY).stdout
    assert (
        "  Child SSN TE (text, one entry per children) = [•••• (sensitive), (unanswered), (unanswered), (unanswered)]\n"
        in text
    )
    report = json.loads(
        run_cli(
            "explain", str(path), "-m", str(mapping), "Child SSN TE", "--format", "json", *DAY
        ).stdout
    )
    assert report["answers"][0]["value"] == ["•••• (sensitive)", None, None, None]
    assert "555-12-3456" not in text and "555-12-3456" not in json.dumps(report)
    rendered = run_cli("render", str(path), "-m", str(mapping), *DAY).stdout
    assert "<TextValue>555-12-3456</TextValue>" in rendered  # the answer file itself has it


def test_the_example_admin_cases_pass(run_cli: RunCli, monkeypatch: Any) -> None:
    monkeypatch.chdir(CASES.parent.parent)  # the repository: ./mapping-tests/ is the default
    result = run_cli("test")
    assert (result.exit_code, result.stdout) == (
        0,
        f"PASS {Path('mapping-tests', 'pritchett-blended-family')}\n1 passed, 0 failed\n",
    )


SENSITIVE_MAPPING = """\
version: 1
custom_fields:
  ssn: {name: Social Security Number, sensitive: true}
answers:
  Wildcard TE: "client.*.ssn | [0]"
  Joined TE: "join(',', [client.custom.ssn])"
  SSN DA: {type: date, value: client.custom.ssn}
  SSN Digits DA: {type: date, value: "replace(client.custom.ssn, '-', '')"}
"""


def test_sensitive_values_never_shown_in_explain_errors_or_warnings(
    run_cli: RunCli, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SENSITIVE_MAPPING)
    result = run_cli("explain", BLENDED, "-m", str(mapping), *DAY)
    assert result.exit_code == 1, result.stderr  # two answers fail: explained, then exit 1
    assert result.stderr == "2 answers failed to evaluate (shown above)\n"
    assert "123-45-6789" not in result.stderr
    assert "  Wildcard TE (text) = •••• (sensitive)\n" in result.stdout
    assert "  Joined TE (text) = •••• (sensitive)\n" in result.stdout
    assert (
        f"{mapping}:7:31: error: answer 'SSN DA' (date): •••• (sensitive) is not a date "
        "(expected YYYY-MM-DD or an ISO date-time)\n"
        "  at answers -> 'SSN DA'\n"
        "  expression: client.custom.ssn\n"
        "  value: •••• (sensitive)\n"
    ) in result.stdout
    assert "  value: •••• (sensitive)\n" in result.stdout.split("'SSN Digits DA' (date)")[1]
    result = run_cli("render", BLENDED, "-m", str(mapping), *DAY)
    assert result.exit_code == 1
    assert result.stderr.count("•••• (sensitive)") == 4
    for shown in (
        result.stdout + result.stderr,
        run_cli("explain", BLENDED, "-m", str(mapping), "--format", "json", *DAY).stdout,
    ):
        assert "123-45-6789" not in shown and "123456789" not in shown
    bundle = json.loads(Path(BLENDED).read_text())
    for value in bundle["contacts"][0]["custom_field_values"]:
        if value["field_name"] == "Social Security Number":
            value.update(field_type="numeric", value="123-45-6789")
    for definition in bundle["custom_fields"]:
        if definition["name"] == "Social Security Number":
            definition["field_type"] = "numeric"
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(bundle))
    result = run_cli("render", str(odd), "-m", str(mapping), *DAY)  # fails: warnings first
    assert "123-45-6789" not in result.stderr
    assert result.stderr.startswith(f"{odd}: warning: Jay Francis Pritchett: custom field")
    assert (
        f'{odd}: warning: Jay Francis Pritchett: custom field "ssn" (numeric) has the value '
        "•••• (sensitive), which is not a valid numeric value; treated as blank\n"
    ) in result.stderr


def test_mapping_option_takes_a_bundled_mappings_name_from_any_folder(
    run_cli: RunCli, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("render", BLENDED, "-m", "ils-client-interview.yaml", *DAY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == snapshot_bytes("blended-family")
    (tmp_path / "ils-client-interview.yaml").write_text(
        "version: 1\nanswers:\n  A TE: client.name\n"
    )
    result = run_cli("render", BLENDED, "-m", "ils-client-interview.yaml", *DAY)
    assert b'<Answer name="A TE">' in result.stdout_bytes  # a file of that name comes first


def test_admin_case_values_are_read_as_the_answer_type(run_cli: RunCli, tmp_path: Path) -> None:
    root = tmp_path / "cases"
    _case(
        root,
        "typed",
        "today: 2026-03-01\nanswers:\n  Client Zip Code TE: 90210\n"
        "  Number of Children NU: '4'\n  Client Has Spouse TF: yes\n"
        "  Client Birth Date DA: '1950-05-17'\n",
    )
    _case(root, "bad-exclude", "exclude: [Gloria]\nanswers: {}\n")
    result = run_cli("test", str(root))
    assert result.exit_code == 1
    assert result.stdout == (
        f"FAIL {root / 'bad-exclude'}\n"
        f"  {root / 'bad-exclude'}: exclude: ['Gloria'] is not a list of contact ids\n"
        "    hint: e.g. exclude: [5002]\n"
        f"PASS {root / 'typed'}\n"
        "1 passed, 1 failed\n"
    )


def test_batch_names_each_bundle_whose_answers_failed(run_cli: RunCli, tmp_path: Path) -> None:
    mapping = tmp_path / "broken.yaml"
    mapping.write_text("version: 1\nanswers:\n  Born DA: {type: date, value: client.name}\n")
    bundle = tmp_path / "jay.json"
    shutil.copy(BLENDED, bundle)
    out = tmp_path / "out"
    problem = (
        f"{mapping}:3:32: error: answer 'Born DA' (date): \"Jay Francis Pritchett\" is not a "
        "date (expected YYYY-MM-DD or an ISO date-time)\n"
        "  at answers -> 'Born DA'\n  expression: client.name\n"
        '  value: "Jay Francis Pritchett"\n'
    )
    result = run_cli("render", str(bundle), "-m", str(mapping), "--out-dir", str(out), *DAY)
    assert (result.exit_code, result.stderr) == (
        1,
        f"{bundle}: 1 answer failed; nothing written:\n{problem}"
        f"rendered 0 of 1 bundles into {out}; 1 failed\n",
    )
    assert not (out / "jay.anx").exists()
    result = run_cli(
        "render", str(bundle), "-m", str(mapping), "--out-dir", str(out), "--keep-going", *DAY
    )
    assert (result.exit_code, result.stderr) == (
        1,
        f"{bundle}: 1 answer failed and was left out (--keep-going):\n{problem}"
        f"rendered 1 of 1 bundles into {out}; 1 with answers left out\n",
    )
    assert (out / "jay.anx").read_bytes().count(b"<Answer ") == 0


def test_render_never_overwrites_a_bundle(run_cli: RunCli, tmp_path: Path) -> None:
    bundle = tmp_path / "jay.json"
    shutil.copy(BLENDED, bundle)
    before = bundle.read_bytes()
    for args in (("--out-dir", str(tmp_path), "--format", "json"), ("-o", str(bundle))):
        result = run_cli("render", str(bundle), *args, *DAY)
        assert result.exit_code == 2
        assert f"Error: the answers would overwrite the bundle {bundle}\n" in result.stderr
    assert bundle.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="ENAMETOOLONG and its message are POSIX's")
def test_names_too_long_for_the_file_system_are_input_errors(run_cli: RunCli) -> None:
    long = "a" * 300
    result = run_cli("test", long)
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {long}: cannot read: File name too long\n",
    )
    result = run_cli("render", BLENDED, "-m", long)
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: cannot read mapping '{long}': File name too long\n",
    )


def test_admin_case_failures_hide_sensitive_values(run_cli: RunCli, tmp_path: Path) -> None:
    root = tmp_path / "cases"
    _case(root, "ssn", "answers:\n  Client SSN TE: 111-22-3333\n  Spouse Prefix TE: Mrs.\n")
    result = run_cli("test", str(root))
    assert (result.exit_code, result.stdout) == (
        1,
        f"FAIL {root / 'ssn'}\n"
        "  Client SSN TE:\n"
        "    expected: •••• (sensitive)\n"
        "    actual:   •••• (sensitive)\n"
        "  Spouse Prefix TE:\n"
        '    expected: "Mrs."\n'
        "    actual:   (unanswered)\n"
        "0 passed, 1 failed\n",
    )


def test_an_expected_yaml_python_cannot_read_fails_its_case(
    run_cli: RunCli, tmp_path: Path
) -> None:
    root = tmp_path / "cases"
    _case(root, "huge", "answers:\n  Number of Children NU: " + "1" * 5000 + "\n")
    result = run_cli("test", str(root))
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"FAIL {root / 'huge'}\n  {root / 'huge' / 'expected.yaml'}: cannot read:"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="time.tzset() is POSIX-only")
def test_the_default_render_date_is_the_users_local_date(
    run_cli: RunCli, monkeypatch: Any, mapctl_home: Path
) -> None:
    import time
    from datetime import UTC, datetime

    from mapctl.cli import AppState

    state = AppState(
        env={"MAPCTL_HOME": str(mapctl_home)},
        interactive=False,
        now=lambda: datetime(2026, 3, 2, 3, 0, tzinfo=UTC),  # 2 March in UTC...
    )
    monkeypatch.setenv("TZ", "Etc/GMT+8")  # ...still 1 March 8 hours behind
    time.tzset()
    try:
        result = run_cli("explain", BLENDED, "--format", "json", state=state)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["today"] == "2026-03-01"


def _half_surrogate_bundle(tmp_path: Path) -> str:
    """The blended family with Clio text holding a lone surrogate (JSON's "X\\ud83d") and a
    middle name blank once cleaned ("\\ufffe\\u0007")."""
    bundle = json.loads(Path(BLENDED).read_text(encoding="utf-8"))
    client = next(c for c in bundle["contacts"] if c["id"] == bundle["matter"]["client"]["id"])
    client["first_name"] = "X\ud83d"
    client["middle_name"] = "\ufffe\u0007"
    path = tmp_path / "half.json"
    path.write_text(json.dumps(bundle), encoding="ascii")  # "\ud83d" as JSON writes it
    return str(path)


def test_a_lone_surrogate_is_replaced_the_same_way_in_every_output(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """Issue 9: `render --format json` and `explain` exited 4 (UnicodeEncodeError) while the
    answer file was written without the character; now every output shows U+FFFD."""
    bundle = _half_surrogate_bundle(tmp_path)
    anx = run_cli("render", bundle, *DAY)
    as_json = run_cli("render", "--format", "json", bundle, *DAY)
    explained = run_cli("explain", bundle, *DAY, "Client First Name TE", "Client Middle Name TE")
    explained_json = run_cli("explain", "--format", "json", bundle, *DAY, "Client First Name TE")
    for result in (anx, as_json, explained, explained_json):
        assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert "<TextValue>X\ufffd</TextValue>" in anx.stdout
    assert 'name="Client Middle Name TE"' not in anx.stdout  # blank once cleaned: left out
    answers = {a["name"]: a["value"] for a in json.loads(as_json.stdout)["answers"]}
    assert answers["Client First Name TE"] == "X\ufffd"
    assert answers["Client Middle Name TE"] is None
    assert 'Client First Name TE (text) = "X\ufffd"' in explained.stdout
    assert "Client Middle Name TE (text) = (unanswered)" in explained.stdout
    assert "X\ufffd" in explained_json.stdout


def test_a_lone_surrogate_in_the_mappings_title(run_cli: RunCli, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text('version: 1\ntitle: "Wills \\ud83d"\nanswers:\n  A TE: client.name\n')
    for fmt, expected in (("anx", '<AnswerSet title="Wills \ufffd"'), ("json", "Wills \ufffd")):
        result = run_cli("render", "-m", str(mapping), "--format", fmt, BLENDED, *DAY)
        assert result.exit_code == 0, result.output
        assert expected in result.stdout


def test_text_over_hotdocs_limit_is_a_warning_naming_the_answer(
    run_cli: RunCli, tmp_path: Path
) -> None:
    bundle = json.loads(Path(BLENDED).read_text(encoding="utf-8"))
    client = next(c for c in bundle["contacts"] if c["id"] == bundle["matter"]["client"]["id"])
    client["middle_name"] = "m" * 15_001
    path = tmp_path / "long.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    for command in ("render", "explain"):
        result = run_cli(command, str(path), *DAY)
        assert result.exit_code == 0, result.output
        assert (
            "answer 'Client Middle Name TE' is 15,001 characters long; HotDocs takes at most "
            "15,000 characters in a text answer, so the interview may cut it"
        ) in (result.stderr if command == "render" else result.stdout)


def test_a_lone_surrogate_in_a_mappings_expression_is_replaced_in_explain(
    run_cli: RunCli, tmp_path: Path
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\nanswers:\n  A TE: \"'X\\ud83d'\"\n")
    assert run_cli("validate", str(mapping)).exit_code == 0
    text = run_cli("explain", "-m", str(mapping), BLENDED, *DAY)
    as_json = run_cli("explain", "--format", "json", "-m", str(mapping), BLENDED, *DAY)
    assert (text.exit_code, as_json.exit_code) == (0, 0), text.output + as_json.output
    assert "  A TE (text) = \"X\ufffd\"\n      expression: 'X\ufffd'\n" in text.stdout
    (answer,) = json.loads(as_json.stdout)["answers"]
    assert answer["value"] == "X\ufffd"


def test_explain_exits_1_when_an_explained_answer_fails(run_cli: RunCli, tmp_path: Path) -> None:
    """Paper cut 6 (issue 15): explain exited 0 when an answer failed to evaluate. It still
    explains every answer, then exits 1 if one it explained failed (as render does)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SENSITIVE_MAPPING)
    failing = run_cli("explain", BLENDED, "SSN DA", "-m", str(mapping), *DAY)
    assert (failing.exit_code, failing.stderr) == (1, "1 answer failed to evaluate (shown above)\n")
    assert "'SSN DA' (date)" in failing.stdout
    fine = run_cli("explain", BLENDED, "Joined TE", "-m", str(mapping), *DAY)
    assert (fine.exit_code, fine.stderr) == (0, "")
    as_json = run_cli("explain", BLENDED, "-m", str(mapping), "--format", "json", *DAY)
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["errors"]
