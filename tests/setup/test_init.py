"""`mapctl init [DIR]`: the firm's scaffold validates, its example case passes `mapctl test`, its
pre-commit config runs mapctl's hooks, and nothing existing is ever overwritten."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from mapctl.engine.resources import mapping_schema

from tests.conftest import with_slashes

FILES = [
    "mappings/firm.yaml",
    "mappings/mapping.schema.json",
    "mapping-tests/example-rivera/bundle.json",
    "mapping-tests/example-rivera/expected.yaml",
    ".pre-commit-config.yaml",
]


def test_init_writes_a_firm_that_validates_and_passes_its_tests(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm = tmp_path / "firm"
    result = run_cli("init", str(firm))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote   {firm / name}" for name in FILES]
    assert not (firm / "settings.yaml").exists()  # only with --settings
    monkeypatch.chdir(firm)
    validated = run_cli("validate")  # no PATH: ./mappings/
    assert validated.exit_code == 0, validated.output
    assert with_slashes(validated.stderr) == (
        "checking the 1 mapping in ./mappings/ (no PATH given): mappings/firm.yaml\n"
        "1 mapping valid\n"
    )
    tested = run_cli("test")  # no -m: the firm's mapping, found in ./mappings/
    assert tested.exit_code == 0, tested.output
    assert with_slashes(tested.stdout) == "PASS mapping-tests/example-rivera\n1 passed, 0 failed\n"


def test_the_example_case_checks_the_firms_mapping(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mapctl test` in the firm's folder uses mappings/firm.yaml: change an answer there and
    the example case fails."""
    run_cli("init", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    mapping = tmp_path / "mappings" / "firm.yaml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text + "  Client First Name TE: upper(client.first_name)\n", "utf-8")
    tested = run_cli("test")
    assert tested.exit_code == 1, tested.output
    assert 'expected: "Ana"\n    actual:   "ANA"' in tested.stdout


def test_the_modeline_points_at_a_schema_every_workstation_reaches(
    run_cli: Any, tmp_path: Path
) -> None:
    """Paper cut 9 (issue 15): the modeline named the schema inside one workstation's
    virtualenv. It now names a copy written beside the mapping, by a relative path, which works
    from every workstation that opens the mapping on the firm's share."""
    run_cli("init", str(tmp_path))
    mapping = tmp_path / "mappings" / "firm.yaml"
    first = mapping.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=mapping.schema.json"
    beside = mapping.parent / first.split("$schema=")[1]  # relative to the mapping's folder
    assert beside.read_bytes() == mapping_schema().read_bytes()
    assert str(mapping_schema().parent) not in mapping.read_text(encoding="utf-8")


def test_init_never_overwrites(run_cli: Any, tmp_path: Path) -> None:
    mine = tmp_path / "mappings" / "firm.yaml"
    mine.parent.mkdir()
    mine.write_text("version: 1\nanswers: {Mine TE: client.name}\n", encoding="utf-8")
    (tmp_path / "settings.yaml").write_text("mapping: mappings/firm.yaml\n", encoding="utf-8")
    result = run_cli("init", str(tmp_path), "--settings")
    assert result.exit_code == 0, result.output
    assert f"skipped {mine} (it exists; mapctl never overwrites it)" in result.stdout
    assert f"skipped {tmp_path / 'settings.yaml'} (it exists" in result.stdout
    assert f"wrote   {tmp_path / '.pre-commit-config.yaml'}" in result.stdout
    assert mine.read_text(encoding="utf-8") == "version: 1\nanswers: {Mine TE: client.name}\n"
    assert (tmp_path / "settings.yaml").read_text() == "mapping: mappings/firm.yaml\n"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    again = run_cli("init", str(tmp_path), "--settings")
    assert again.exit_code == 0, again.output
    assert all(line.startswith("skipped ") for line in again.stdout.splitlines())
    assert again.stderr.startswith("0 files written, 6 skipped\n")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_settings_template_is_valid_and_points_at_the_firm_mapping(
    run_cli: Any, tmp_path: Path
) -> None:
    run_cli("init", str(tmp_path), "--settings")
    result = run_cli(
        "settings", "--format", "json", env={"MAPCTL_SETTINGS": str(tmp_path / "settings.yaml")}
    )
    assert result.exit_code == 0, result.output
    import json

    shown = json.loads(result.stdout)["mapping"]
    assert (shown["value"], shown["origin"]) == (
        str(tmp_path / "mappings" / "firm.yaml"),
        "settings",
    )


def test_the_pre_commit_config_runs_mapctl(run_cli: Any, tmp_path: Path) -> None:
    run_cli("init", str(tmp_path))
    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["mapctl-validate"]["entry"] == "mapctl validate"
    assert hooks["mapctl-test"]["entry"] == "mapctl test"


@pytest.mark.skipif(
    shutil.which("git") is None
    or shutil.which("pre-commit") is None
    and not (Path(sys.executable).parent / "pre-commit").exists(),
    reason="needs git and pre-commit (`pip install -e '.[dev]'`)",
)
def test_pre_commit_runs_the_hooks(run_cli: Any, tmp_path: Path) -> None:
    """pre-commit itself, on the scaffold: passes; a broken mapping makes it fail."""
    firm = tmp_path / "firm"
    run_cli("init", str(firm))
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "MAPCTL_HOME": str(tmp_path / "home"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env.pop("MAPCTL_SETTINGS", None)
    pre_commit = shutil.which("pre-commit", path=env["PATH"])
    assert pre_commit is not None

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=firm, env=env, capture_output=True, text=True, timeout=120)

    assert run("git", "init", "-q").returncode == 0
    assert run("git", "add", "-A").returncode == 0
    passed = run(pre_commit, "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "mapctl validate" in passed.stdout and "Passed" in passed.stdout
    (firm / "mappings" / "firm.yaml").write_text('version: 1\nanswers: {A TE: "upper("}\n')
    run("git", "add", "-A")
    failed = run(pre_commit, "run", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "mappings/firm.yaml:2:" in failed.stdout
