"""The import dialogue on a real pseudo terminal: `mapctl` (a subprocess) sees a TTY, asks, and
imports; the same command without a TTY refuses instead of waiting for input."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo terminal")

MAPCTL = [sys.executable, "-m", "mapctl"]
ROOT = Path(__file__).resolve().parents[2]


def read_until(fd: int, wanted: str, seen: list[str], times: int = 1, timeout: float = 20.0) -> str:
    """Read the terminal until `wanted` has appeared `times` times in all output so far."""
    deadline = time.monotonic() + timeout
    while "".join(seen).count(wanted) < times:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {wanted!r}; got:\n{''.join(seen)}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            seen.append(chunk.decode("utf-8", "replace"))
    return "".join(seen)


def test_dialogue_on_a_pseudo_terminal(clio_env: dict[str, str], mapctl_home: Path) -> None:
    env = {**os.environ, **clio_env, "MAPCTL_HOME": str(mapctl_home), "COLUMNS": "120"}
    main_fd, child_fd = os.openpty()
    child = subprocess.Popen(
        [*MAPCTL, "import", "00002-Pritchett"], stdin=child_fd, stdout=child_fd, stderr=child_fd,
        env=env, cwd=ROOT, close_fds=True,
    )  # fmt: skip
    os.close(child_fd)
    seen: list[str] = []
    try:
        read_until(main_fd, "Enter for none): ", seen)
        os.write(main_fd, b"15\n")
        read_until(main_fd, "Excluded (not imported):", seen)
        read_until(main_fd, "Enter for none): ", seen, times=2)
        os.write(main_fd, b"\n")
        read_until(main_fd, "related contacts? [Y/n]: ", seen)
        os.write(main_fd, b"y\n")
        output = read_until(main_fd, "Review:", seen)
        assert child.wait(timeout=20) == 0, output
    finally:
        if child.poll() is None:
            child.kill()
        os.close(main_fd)
    assert "Import Jay Pritchett as a new client with 13 related contacts? [Y/n]: " in output
    assert (mapctl_home / "clients" / "Pritchett-Jay-5001" / "client.json").exists()


def test_without_a_terminal_it_refuses_instead_of_waiting(
    clio_env: dict[str, str], mapctl_home: Path
) -> None:
    env = {**os.environ, **clio_env, "MAPCTL_HOME": str(mapctl_home)}
    done = subprocess.run(
        [*MAPCTL, "import", "00002-Pritchett"], stdin=subprocess.PIPE, capture_output=True,
        text=True, env=env, cwd=ROOT, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.endswith("pass --yes to import without questions\n")
    assert not (mapctl_home / "clients").exists()


def test_two_processes_importing_one_client_one_wins(
    clio_env: dict[str, str], mapctl_home: Path
) -> None:
    env = {**os.environ, **clio_env, "MAPCTL_HOME": str(mapctl_home)}
    command = [*MAPCTL, "import", "00002-Pritchett", "--yes"]
    runs = [
        subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [run.communicate(timeout=60)[1] for run in runs]
    outcomes = sorted((run.returncode, error) for run, error in zip(runs, errors, strict=True))
    assert [code for code, _ in outcomes] == [0, 1], outcomes
    assert "already exists" in outcomes[1][1]
    clients = mapctl_home / "clients"
    assert sorted(p.name for p in clients.iterdir()) == ["Pritchett-Jay-5001"]  # no staging left
    assert sorted(p.name for p in (clients / "Pritchett-Jay-5001").iterdir()) == [
        "client.json", "ils-client-interview.anx",
    ]  # fmt: skip
