"""The pre-commit hook (issue 8): `.pre-commit-hooks.yaml` is a manifest pre-commit accepts, and
its `mapctl-validate` hook, run the way pre-commit runs it, passes a good mapping and fails a bad
one with FILE:LINE:COL.

pre-commit is not a dependency, so this does what pre-commit 4 does (pre_commit/clientlib.py,
commands/run.py, lang_base.py, xargs.py): check the manifest's keys, pick the files whose path
`files` matches (re.search) and `exclude` does not and whose identify tags include every `types`
tag, then run `shlex.split(entry) + args + files` in the repository's root with the hook's
environment's bin folder first on PATH, stdout and stderr together.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

MANIFEST = ROOT / ".pre-commit-hooks.yaml"
# pre_commit/clientlib.py MANIFEST_HOOK_DICT: required keys, then the optional ones.
REQUIRED = {"id", "name", "entry", "language"}
OPTIONAL = {
    "alias", "files", "exclude", "types", "types_or", "exclude_types", "additional_dependencies",
    "args", "always_run", "fail_fast", "pass_filenames", "description", "language_version",
    "log_file", "minimum_pre_commit_version", "require_serial", "stages", "verbose",
}  # fmt: skip
# identify's tags for the file names below (identify/extensions.py: yaml, yml -> text, yaml).
TAGS = {".yaml": {"file", "text", "yaml"}, ".yml": {"file", "text", "yaml"}, ".md": {"file", "text", "markdown"}}  # fmt: skip

GOOD = "version: 1\nanswers:\n  A TE: client.name\n"
BAD = "version: 1\nanswers:\n  A TE: uper(client.name)\n"


def hook(hook_id: str = "mapctl-validate") -> dict[str, Any]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    (found,) = [h for h in manifest if h["id"] == hook_id]
    return dict(found)


def selected(spec: dict[str, Any], names: list[str]) -> list[str]:
    """The files pre-commit passes to the hook, in the given order."""
    include = re.compile(spec.get("files", ""))
    exclude = re.compile(spec.get("exclude", "^$"))
    types = set(spec.get("types", ["file"]))
    return [
        name
        for name in names
        if include.search(name)
        and not exclude.search(name)
        and types <= TAGS.get(Path(name).suffix, {"file"})
    ]


def run_hook(
    spec: dict[str, Any], repo: Path, files: list[str]
) -> subprocess.CompletedProcess[str]:
    command = [*shlex.split(spec["entry"]), *spec.get("args", []), *files]
    env = {
        # the hook environment's scripts (bin/, or Scripts\ on Windows)
        "PATH": os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
        "MAPCTL_HOME": str(repo / ".mapctl-home"),
        "HOME": str(repo),
        **{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ},  # Windows needs it
    }
    # pre-commit finds the entry's program on the hook's PATH (parse_shebang.normexe); on
    # Windows, CreateProcess would look on this process's PATH instead.
    command[0] = shutil.which(command[0], path=env["PATH"]) or command[0]
    return subprocess.run(
        command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60,
    )  # fmt: skip


def test_the_manifest_is_one_pre_commit_accepts():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(manifest, list) and manifest
    for spec in manifest:
        assert REQUIRED <= set(spec) <= REQUIRED | OPTIONAL, spec
        assert all(isinstance(spec[key], str) for key in REQUIRED)
        assert spec["language"] == "python"  # pre-commit installs this repository with pip
        re.compile(spec.get("files", ""))
        re.compile(spec.get("exclude", "^$"))
    assert len({spec["id"] for spec in manifest}) == len(manifest)
    validate = hook()
    assert shlex.split(validate["entry"])[:2] == ["mapctl", "validate"]
    assert validate.get("pass_filenames", True) is True


def test_the_hook_picks_mapping_files_only():
    names = [
        "mappings/firm.yaml",
        "mappings/more/base.yml",
        "mappings/README.md",
        "mapping-tests/pritchett/expected.yaml",
        "settings.yaml",
        ".pre-commit-config.yaml",
        "firm/mappings/override.yaml",
        "old-mappings/x.yaml",
    ]
    assert selected(hook(), names) == [
        "mappings/firm.yaml",
        "mappings/more/base.yml",
        "firm/mappings/override.yaml",
    ]


def test_a_good_mapping_passes_and_a_bad_one_fails_with_file_line_col(tmp_path):
    (tmp_path / "mappings" / "more").mkdir(parents=True)
    (tmp_path / "mappings" / "firm.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "mappings" / "top.yaml").write_text(
        "version: 1\nextends: firm.yaml\nanswers:\n  B TE: client.first_name\n", encoding="utf-8"
    )
    (tmp_path / "mapping-tests").mkdir()
    (tmp_path / "mapping-tests" / "expected.yaml").write_text("answers: {A TE: x}\n")
    spec = hook()
    files = selected(
        spec, ["mapping-tests/expected.yaml", "mappings/firm.yaml", "mappings/top.yaml"]
    )
    passed = run_hook(spec, tmp_path, files)
    assert (passed.returncode, passed.stdout) == (0, "2 mappings valid\n")

    (tmp_path / "mappings" / "more" / "bad.yml").write_text(BAD, encoding="utf-8")
    files = selected(spec, ["mappings/firm.yaml", "mappings/more/bad.yml"])
    failed = run_hook(spec, tmp_path, files)
    assert failed.returncode == 1, failed.stdout
    assert failed.stdout == (
        "mappings/more/bad.yml:3:9: error: answer 'A TE': unknown function 'uper()'\n"
        "  3 |   A TE: uper(client.name)\n"
        "    |         ^~~~\n"
        "  hint: did you mean 'upper'?\n"
        "1 problem in 2 mappings\n"
    )
