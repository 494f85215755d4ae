"""Self-checks: every bundled mapping loads, validates and compiles; the schema is a valid
2020-12 schema with a description on every property; validate never loads the HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.mapping.loading import load_mapping
from mapctl.engine.mapping.validation import validate
from mapctl.engine.resources import bundled_mapping_names, mapping_schema

from tests.conftest import ROOT

MAPPINGS = sorted((ROOT / "mappings").rglob("*.y*ml"))
SCHEMAS = sorted((ROOT / "schemas").glob("*.json"))


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_every_mapping_in_the_repo_is_valid_and_compiles(path):
    assert validate(load_mapping(path)) == []
    assert compile_mapping(path).answers


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_every_mapping_starts_with_the_schema_modeline(path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/mapping.schema.json"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "tests" / "invalid").rglob("*.yaml") if p.parent.name != "not-utf8"),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_invalid_cases_also_point_editors_at_the_schema(path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../schemas/mapping.schema.json"


EVERY_MAPPING = sorted(
    p
    for p in ROOT.rglob("*.y*ml")
    if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    and p.name not in ("expected.yaml", "case.yaml")  # mapctl test's case files
    and p.parent.name != "not-utf8"
)


@pytest.mark.parametrize("path", EVERY_MAPPING, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_mapping_anywhere_in_the_repo_points_editors_at_the_schema(path):
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (
        path.parent / first[len(prefix) :]
    ).resolve() == ROOT / "schemas" / "mapping.schema.json"


def test_the_bundled_mappings_are_the_repo_mappings():
    assert bundled_mapping_names() == sorted(p.name for p in MAPPINGS)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schemas_pass_the_metaschema(path):
    Draft202012Validator.check_schema(json.loads(path.read_text()))


def _properties(node: Any, where: str = "$") -> list[tuple[str, Any]]:
    found = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((f"{where}.{name}", sub))
        for key in ("additionalProperties", "propertyNames", "items"):
            if isinstance(node.get(key), dict):
                found.append((f"{where}.{key}", node[key]))
        for key, sub in node.items():
            if isinstance(sub, dict):
                found.extend(_properties(sub, f"{where}.{key}"))
            elif isinstance(sub, list):
                for i, item in enumerate(sub):
                    found.extend(_properties(item, f"{where}.{key}[{i}]"))
    return found


def test_every_property_has_a_description_for_editors():
    schema = json.loads(mapping_schema().read_text())
    missing = [where for where, sub in _properties(schema) if "description" not in sub]
    assert missing == []


def test_the_default_mapping_validates_against_the_schema_alone():
    import yaml

    schema = json.loads(mapping_schema().read_text())
    data = yaml.safe_load((ROOT / "mappings" / "ils-client-interview.yaml").read_text())
    Draft202012Validator(schema).validate(data)


def test_validate_never_imports_httpx(tmp_path):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from mapctl.cli import main\n"
        "result = CliRunner().invoke(main, ['validate'])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
