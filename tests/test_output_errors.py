"""Standard output that cannot be written (issue 9): `mapctl functions > /dev/full` was an
internal error (exit 4). Now: one line on stderr, exit 1, no traceback, and none of Python's
"Exception ignored" when the interpreter flushes standard output at exit. Real processes with
their standard output on /dev/full (Linux), as a user's shell would do it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TESTS

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")

BUNDLE = str(TESTS / "cases" / "no-spouse" / "bundle.json")
MAPPING = TESTS.parent / "mappings" / "ils-client-interview.yaml"


@pytest.mark.parametrize(
    "args",
    [
        ["functions"],
        ["functions", "--format", "json"],
        ["render", BUNDLE, "--today", "2026-03-01"],
        ["render", BUNDLE, "--format", "json"],
        ["explain", BUNDLE],
        ["validate", "--format", "json", str(MAPPING)],
        ["clients"],
        ["--help"],
    ],
    ids=lambda args: " ".join(a for a in args if a not in (BUNDLE, str(MAPPING))),
)
def test_a_full_disk_on_stdout_is_one_clear_line_and_exit_1(
    args: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    if args == ["clients"]:  # a ledger with a client, so that there is something to list
        from mapctl.engine.workflow.ledger import Ledger

        from tests.workflow.test_ledger import entry

        with Ledger.open(home) as ledger:
            ledger.record(entry())
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "mapctl", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "MAPCTL_HOME": str(home)},
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (
        1,
        "error: cannot write the output: No space left on device\n",
    )


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`mapctl functions | head -0`: the reader is gone; no message, no traceback, exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mapctl", "functions"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "MAPCTL_HOME": str(tmp_path / "home")},
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")
