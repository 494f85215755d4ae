"""Staff run mapctl on Windows, where ILS runs: the engine must import without POSIX-only
modules (fcntl), and the file helpers must not call what Windows lacks (os.fchmod)."""

from __future__ import annotations

import subprocess
import sys


def test_the_engine_and_cli_import_without_fcntl() -> None:
    probe = (
        "import sys; sys.modules['fcntl'] = None\n"  # `import fcntl` now raises ImportError
        "import mapctl.cli, mapctl.engine.workflow.importing, mapctl.engine.workflow.ledger\n"
        "import mapctl.engine.fsutil as f\n"
        "assert f.fcntl is None\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_set_mode_without_fchmod(tmp_path, monkeypatch) -> None:
    import os

    from mapctl.engine import fsutil

    monkeypatch.delattr(os, "fchmod", raising=False)  # Windows has none
    fsutil.write_atomic(tmp_path / "a.txt", b"x")
    assert (tmp_path / "a.txt").read_bytes() == b"x"
