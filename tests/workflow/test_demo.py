"""`make run` keeps working: the demo script, run as `make run` runs it (in a temporary home)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    env = {**os.environ, "DEMO_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    commands = [line for line in done.stdout.splitlines() if line.startswith("$ mapctl")]
    assert [c.split(" --code ")[0] for c in commands] == [
        "$ mapctl connect --print-url",
        "$ mapctl connect",
        "$ mapctl search Pritchett",
        "$ mapctl preview 00002-Pritchett",
        "$ mapctl import 00002-Pritchett --yes --exclude 5015",
        "$ mapctl import 00002-Pritchett --yes",
        "$ mapctl clients",
        "$ mapctl doctor --create-action --yes",
    ]
    assert "/nc/matters/9002#notes" in done.stdout  # the note the import left (issue 19)
    assert "created Clio custom action 'Import to ILS'" in done.stdout + done.stderr
    answer_file = home / "clients" / "Pritchett-Jay-5001" / "ils-client-interview.anx"
    assert f"  answer file: {answer_file}" in done.stdout
    assert "Review:" in done.stdout and "already exists" in done.stdout
    assert answer_file.is_file()
    assert "it is stopped." in done.stdout
