"""`mapctl schema [--path]` (issue 8): the mapping JSON Schema for editors, so a mapping outside
the repository can point its yaml-language-server modeline at the installed copy."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from tests.conftest import ROOT


def test_schema_prints_the_published_schema(run_cli):
    result = run_cli("schema")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    published = (ROOT / "schemas" / "mapping.schema.json").read_text(encoding="utf-8")
    assert result.stdout == published
    Draft202012Validator.check_schema(json.loads(result.stdout))


def test_schema_path_names_the_file_whose_content_is_printed(run_cli):
    where = run_cli("schema", "--path")
    assert (where.exit_code, where.stderr) == (0, ""), where.output
    assert where.stdout.endswith("\n") and where.stdout.count("\n") == 1
    path = Path(where.stdout.rstrip("\n"))
    assert path.is_absolute() and path.is_file(), path
    assert path.name == "mapping.schema.json"
    assert path.read_text(encoding="utf-8") == run_cli("schema").stdout


def test_an_editor_pointed_at_the_printed_schema_checks_a_copied_mapping(run_cli, tmp_path):
    """What yaml-language-server does with the modeline: the schema accepts the bundled mapping
    copied anywhere and flags a mistake in it."""
    schema = json.loads(run_cli("schema").stdout)
    validator = Draft202012Validator(schema)
    path = Path(run_cli("schema", "--path").stdout.strip())
    copied = tmp_path / "firm.yaml"
    text = (ROOT / "mappings" / "ils-client-interview.yaml").read_text(encoding="utf-8")
    copied.write_text(
        text.replace("$schema=../schemas/mapping.schema.json", f"$schema={path}"),
        encoding="utf-8",
    )
    assert copied.read_text(encoding="utf-8").startswith(f"# yaml-language-server: $schema={path}")
    assert list(validator.iter_errors(yaml.safe_load(copied.read_text(encoding="utf-8")))) == []
    broken = yaml.safe_load(text.replace("value: client.first_name", "valeu: client.first_name"))
    assert [e.validator for e in validator.iter_errors(broken)] != []
    assert run_cli("validate", str(copied)).exit_code == 0


def test_schema_takes_no_arguments(run_cli):
    result = run_cli("schema", "extra")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
