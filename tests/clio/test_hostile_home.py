"""MAPCTL_HOME under attack (issue 9): what mapctl writes there and with `fetch -o` is private
even under `umask 0`, and `disconnect` on a read-only home says what happened (it was exit 4)."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.sandbox.server import Sandbox

from .conftest import connect_via_cli


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def in_home(run_cli: Any, home: Path) -> Any:
    return lambda *args, env=None, **kw: run_cli(
        *args, env={**(env or {}), "MAPCTL_HOME": str(home)}, **kw
    )


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX modes and umask: on Windows a file takes its folder's ACL (docs/windows.md)",
)
def test_home_cache_and_fetched_bundles_are_private_under_umask_0(
    run_cli: Any, tmp_path: Path, open_umask: None
) -> None:
    home = tmp_path / "new-home"
    run = in_home(run_cli, home)
    with Sandbox() as sandbox:
        env = connect_via_cli(run, sandbox)
        out = tmp_path / "bundles" / "pritchett.json"
        fetched = run("fetch", "9002", "-o", str(out), env=env)
        assert fetched.exit_code == 0, fetched.output
        redacted = run("fetch", "9002", "--redact", "-o", str(tmp_path / "r.json"), env=env)
        assert redacted.exit_code == 0, redacted.output
    assert mode(home) == 0o700
    assert mode(home / "cache") == 0o700
    assert {mode(p) for p in (home / "cache").iterdir()} == {0o600}
    assert mode(home / "clio-token.json") == 0o600
    assert mode(home / "redact.key") == 0o600
    assert mode(out.parent) == 0o700
    assert mode(out) == 0o600
    assert mode(tmp_path / "r.json") == 0o600


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX modes and umask: on Windows a file takes its folder's ACL (docs/windows.md)",
)
def test_render_output_is_private_under_umask_0(
    run_cli: Any, tmp_path: Path, open_umask: None
) -> None:
    from tests.conftest import TESTS

    bundle = str(TESTS / "cases" / "no-spouse" / "bundle.json")
    out = tmp_path / "answers" / "a.anx"
    assert run_cli("render", bundle, "-o", str(out)).exit_code == 0
    assert (mode(out.parent), mode(out)) == (0o700, 0o600)
    out_dir = tmp_path / "batch" / "answers"
    assert run_cli("render", bundle, "--out-dir", str(out_dir)).exit_code == 0
    assert (mode(out_dir.parent), mode(out_dir)) == (0o700, 0o700)
    assert {mode(p) for p in out_dir.iterdir()} == {0o600}


def test_disconnect_on_a_read_only_home_says_what_happened(
    run_cli: Any, mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, for whom chmod cannot make a folder read-only: the file system's
    answer is simulated where mapctl deletes the tokens."""
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        real_unlink = Path.unlink

        def read_only(self: Path, missing_ok: bool = False) -> None:
            if mapctl_home in self.parents:
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            real_unlink(self, missing_ok=missing_ok)

        monkeypatch.setattr(Path, "unlink", read_only)
        result = run_cli("disconnect", env=env)
    token = mapctl_home / "clio-token.json"
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: cannot delete the stored tokens {token}: Read-only file system (Clio was told "
        "to revoke them)\n"
        f"  hint: make {mapctl_home} writable and run `mapctl disconnect` again, or delete "
        f"{token} yourself\n"
    )
