"""README's "Setting a firm up" block works exactly as written (paper cut 3 of issue 15).

The block is read from README.md and run line by line, as an admin would type it: `export`
lines set the environment (with `$PWD` the folder the admin is in), `mapctl` lines run the
command (answering "y" where it asks). Before, `mapctl settings` showed `settings_file (not
set)` after `init --settings`, because nothing said to point MAPCTL_SETTINGS at the file."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.sandbox.server import Sandbox

from tests.conftest import ROOT


def setup_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Setting a firm up", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_block_is_what_this_test_runs() -> None:
    assert setup_block() == [
        "mapctl init firm-config --settings",
        'export MAPCTL_SETTINGS="$PWD/firm-config/settings.yaml"',
        "mapctl settings",
        "mapctl doctor",
        "mapctl doctor --create-fields",
    ]


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="the README's steps are a POSIX shell's (export); on Windows mapctl init says setx",
)
def test_readme_setup_steps_work_as_written(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.clio.conftest import connect_via_cli

    admin = tmp_path / "admin"
    admin.mkdir()
    monkeypatch.chdir(admin)
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)  # connected first ("Connecting to your Clio")
        results = {}
        for line in setup_block():
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                env[name] = shlex.split(value.replace("$PWD", str(admin)))[0]
                continue
            state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
            results[line] = run_cli(*shlex.split(line)[1:], state=state, input="y\n")
        again = run_cli("doctor", env=env)
        settings = run_cli("settings", "--format", "json", env=env)
    init = results["mapctl init firm-config --settings"]
    assert init.exit_code == 0, init.output
    assert "Next: point MAPCTL_SETTINGS at it" in init.stderr
    assert re.search(r"export MAPCTL_SETTINGS=\S*firm-config/settings\.yaml", init.stderr)
    shown = results["mapctl settings"]
    assert shown.exit_code == 0, shown.output
    assert "settings_file (not set)" not in shown.stdout
    values = json.loads(settings.stdout)
    assert values["settings_file"]["value"] == str(admin / "firm-config" / "settings.yaml")
    assert values["settings_file"]["origin"] == "environment MAPCTL_SETTINGS"
    assert values["mapping"]["value"] == str(admin / "firm-config" / "mappings" / "firm.yaml")
    assert values["mapping"]["origin"] == "settings"
    created = results["mapctl doctor --create-fields"]
    assert created.exit_code == 0, created.output
    assert again.exit_code == 0, again.output  # after the block, imports will work
    assert again.stdout.splitlines()[-1].startswith("imports will work")
