"""Shared fixtures: the CLI runner, snapshot extensions, and a block on real network access."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from mapctl.cli import AppState, main
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
# Windows has no POSIX modes: a file takes its folder's ACL (docs/windows.md). Assertions on
# modes read `assert not POSIX_MODES or ...`; tests only about modes are skipped there.
POSIX_MODES = sys.platform != "win32"


def with_slashes(text: str) -> str:
    """`text` with Windows' path separator `\\` as `/`, so that one expected text or snapshot
    holds on both; on POSIX `text` itself."""
    return text.replace("\\", "/") if sys.platform == "win32" else text


class TextSnapshotExtension(SingleFileSnapshotExtension):
    """One readable .txt file per snapshot (error texts, reports)."""

    file_extension = "txt"
    _write_mode = WriteMode.TEXT


class AnxSnapshotExtension(SingleFileSnapshotExtension):
    """One readable .anx file per snapshot (answer files), stored byte for byte."""

    file_extension = "anx"
    _write_mode = WriteMode.BINARY


@pytest.fixture
def snapshot_txt(snapshot: Any) -> Any:
    return snapshot.with_defaults(extension_class=TextSnapshotExtension)


@pytest.fixture
def snapshot_anx(snapshot: Any) -> Any:
    return snapshot.with_defaults(extension_class=AnxSnapshotExtension)


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a host other than loopback fails loudly (tests are hermetic)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith(("127.", "/"))
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def mapctl_home(tmp_path: Path) -> Path:
    home = tmp_path / "mapctl-home"
    home.mkdir()
    return home


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli(mapctl_home: Path) -> Iterator[RunCli]:
    """Run `mapctl ARGS...` in-process; returns click's Result (stdout and stderr apart).

    Keyword arguments: `env` (merged over a clean environment with MAPCTL_HOME set),
    `input` (stdin text), `state` (an AppState to use as is).
    """

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        state: AppState | None = None,
    ) -> Result:
        environ = {"MAPCTL_HOME": str(mapctl_home), **(env or {})}
        if state is None:
            state = AppState(env=environ, interactive=False)
        runner = CliRunner()
        return runner.invoke(main, list(args), obj=state, input=input, catch_exceptions=False)

    yield run
