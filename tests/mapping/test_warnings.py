"""Warnings: what validate reports without making the mapping invalid.

A field Clio's published schema does not list (`client.frist_name`) is almost always a typo, so
validate shows it with a did-you-mean; but Clio adds fields between minor versions and bundles
may carry fields the schema lacks, so the mapping stays valid (exit 0) and still renders.
"""

from __future__ import annotations

import json

from tests.conftest import TESTS

WARNINGS = TESTS / "warnings"
BUNDLE = TESTS / "cases" / "blended-family" / "bundle.json"


def test_unknown_clio_field_is_a_warning_with_did_you_mean(run_cli, snapshot_txt, monkeypatch):
    monkeypatch.chdir(WARNINGS / "no-such-clio-field")
    result = run_cli("validate", "mapping.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == snapshot_txt


def test_warnings_in_json_and_github_formats(run_cli, monkeypatch):
    monkeypatch.chdir(WARNINGS / "no-such-clio-field")
    result = run_cli("validate", "--format", "json", "mapping.yaml")
    assert result.exit_code == 0, result.output
    problems = json.loads(result.stdout)
    assert {p["severity"] for p in problems} == {"warning"}
    assert {p["code"] for p in problems} == {"unknown-field"}
    github = run_cli("validate", "--format", "github", "mapping.yaml")
    assert github.exit_code == 0, github.output
    assert github.stdout.startswith(
        "::warning file=mapping.yaml,line=4,col=32,endLine=4,endColumn=41,title=unknown-field::"
    )


def test_a_mapping_with_only_warnings_still_renders(run_cli, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "version: 1\nanswers:\n  Redacted TF: {type: true_false, value: 'client.redacted || `false`'}\n"
        "  Name TE: client.name\n  Odd TE: client.not_in_clio\n",
        encoding="utf-8",
    )
    result = run_cli("render", str(BUNDLE), "-m", str(mapping), "--format", "json")
    assert result.exit_code == 0, result.output
    answers = {a["name"]: a["value"] for a in json.loads(result.stdout)["answers"]}
    assert answers == {"Redacted TF": False, "Name TE": "Jay Francis Pritchett", "Odd TE": None}


def test_errors_and_warnings_together_exit_1_counting_errors(run_cli, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "version: 1\nanswers:\n  A TE: client.frist_name\n  B TE: uper(client.name)\n",
        encoding="utf-8",
    )
    result = run_cli("validate", str(mapping))
    assert result.exit_code == 1, result.output
    assert f"{mapping}:3:16: warning: answer 'A TE': Clio contacts have no field" in result.stderr
    assert f"{mapping}:4:9: error: answer 'B TE': unknown function 'uper()'" in result.stderr
    assert result.stderr.endswith("1 problem in 1 mapping (1 warning)\n")


def test_context_names_inside_each_over_non_contacts_are_warnings(run_cli, tmp_path):
    """Over contacts (`each: children`) `client.name` is always null: an error. Over anything
    else the elements may have such a field (a matter's `client`): a warning, and it renders."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        'version: 1\nanswers:\n  Matter Client TE: {each: "[matter]", value: client.name}\n',
        encoding="utf-8",
    )
    result = run_cli("validate", str(mapping))
    assert (result.exit_code, result.stderr) == (
        0,
        f"{mapping}:3:47: warning: answer 'Matter Client TE': 'client' inside `each` is read "
        "from the element, not the context: value is evaluated on one element at a time\n"
        '  3 |   Matter Client TE: {each: "[matter]", value: client.name}\n'
        "    |                                               ^~~~~~\n"
        "  hint: use the element's own fields (name, date_of_birth, relationship, custom.<alias>)"
        ", or drop `each` to answer once\n"
        "1 mapping valid (1 warning)\n",
    )
    result = run_cli("render", str(BUNDLE), "-m", str(mapping), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answers"][0]["value"] == ["Jay Francis Pritchett"]
