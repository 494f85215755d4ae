from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from mapctl.engine.errors import ImportRefused, MapctlError
from mapctl.engine.fsutil import read_bounded, write_atomic

from tests.conftest import POSIX_MODES


def test_write_atomic_writes_whole_file_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "tokens.json"
    write_atomic(target, b"{}", mode=0o600)
    assert target.read_bytes() == b"{}"
    assert not POSIX_MODES or stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["tokens.json"]


def test_write_atomic_refuses_to_overwrite_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "a.anx"
    target.write_bytes(b"old")
    with pytest.raises(ImportRefused, match="already exists"):
        write_atomic(target, b"new", overwrite=False)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.anx"]


def test_write_atomic_replaces_when_overwrite_is_allowed(tmp_path: Path) -> None:
    target = tmp_path / "a.anx"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.skipif(sys.platform == "win32", reason="/dev/zero is POSIX (Windows' NUL is empty)")
def test_reads_are_bounded_so_a_never_ending_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MapctlError) as error:
        read_bounded("/dev/zero", "a matter bundle", limit=1000)
    assert error.value.message == "/dev/zero: too large for a matter bundle (more than 1,000 bytes)"
    small = tmp_path / "b.json"
    small.write_bytes(b"x" * 1000)
    assert read_bounded(small, "a matter bundle", limit=1000) == b"x" * 1000
    with pytest.raises(MapctlError) as error:
        read_bounded(tmp_path / "missing.json", "a matter bundle")
    assert error.value.message == f"cannot read {tmp_path}/missing.json: No such file or directory"


@pytest.mark.parametrize("inside", ["", "deeper"])
def test_write_atomic_under_a_file_says_it_is_not_a_folder(tmp_path: Path, inside: str) -> None:
    home = tmp_path / "home"  # e.g. MAPCTL_HOME set to a file by mistake
    home.write_text("not a folder")
    target = home / inside / "clio-token.json" if inside else home / "clio-token.json"
    with pytest.raises(MapctlError) as error:
        write_atomic(target, b"{}")
    assert error.value.message == (
        f"cannot write {target}: {target.parent} is not a folder (a file is in the way)"
    )


def test_a_lock_another_process_holds_is_refused_until_it_goes(tmp_path: Path) -> None:
    """The ledger's lock (flock on POSIX, msvcrt.locking on Windows, where a lock held elsewhere
    is EACCES): another process is told "held", then gets it once the holder closes the file."""
    import os
    import subprocess

    from mapctl.engine.fsutil import try_lock

    path = tmp_path / "clients.lock"
    path.write_bytes(b"")
    probe = (
        "import os, sys\n"
        "from mapctl.engine.fsutil import try_lock\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "print(try_lock(fd))\n"
    )
    fd = os.open(path, os.O_RDWR)
    try:
        assert try_lock(fd)
        held = subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
        )
        assert (held.returncode, held.stdout) == (0, "False\n"), held.stderr
    finally:
        os.close(fd)
    free = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    assert (free.returncode, free.stdout) == (0, "True\n"), free.stderr
