"""`kill -9` during an import (issue 9): 3 of 90 random kills used to leave a complete client
folder with no ledger row, so the re-run was refused while `mapctl clients` listed nothing.

Each trial forks a real process that runs the import and kills it with SIGKILL: at random
moments, and at the two moments that matter most (after the row is committed, and after the
folder is renamed into place). After each kill the next run must see a consistent state: every
visible client folder has its ledger row and every row its folder, and a re-run either imports
or is refused with a true message.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.errors import ImportRefused
from mapctl.engine.workflow import clientfolder
from mapctl.engine.workflow.importing import import_client
from mapctl.engine.workflow.ledger import Ledger

from .bundles import mapping, pritchett

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")

NOW = datetime.datetime(2026, 3, 2, 10, 30, 5, tzinfo=datetime.UTC)
FOLDER = "Pritchett-Jay-5001"


def run_killed(home: Path, delay: float | None, before: Callable[[], None] | None = None) -> int:
    """Fork a process that imports into `home`; SIGKILL it after `delay` seconds (None: let it
    finish, or let `before` kill it from inside). Returns how it ended (the signal, or 0)."""
    compiled = mapping()
    pid = os.fork()
    if pid == 0:  # the child: import, never return into pytest
        code = 0
        try:
            if before is not None:
                before()
            import_client(pritchett(), compiled, home=home, now=NOW)
        except BaseException:  # noqa: BLE001 - the parent reads the outcome from the state
            code = 1
        os._exit(code)
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def check_consistent(home: Path) -> bool:
    """After recovery: a visible client folder exactly when a finished ledger row, nothing
    pending. Returns whether the client is recorded."""
    clients = home / "clients"
    visible = sorted(p.name for p in clients.iterdir() if not p.name.startswith(".")) if (
        clients.exists()
    ) else []  # fmt: skip
    if not (home / "clients.db").exists():
        assert visible == []
        return False
    with Ledger.open(home) as ledger:
        ledger.recover()
        assert not ledger.is_pending(5001)
        listed = [Path(e.answer_file).parent.name for e in ledger.list_clients()]
    assert visible == listed
    if listed:
        assert (clients / FOLDER / "client.json").is_file()
    return bool(listed)


def rerun_is_truthful(home: Path, recorded: bool) -> None:
    if recorded:
        with pytest.raises(ImportRefused, match=r"^Jay Pritchett \(Clio contact 5001\) already"):
            import_client(pritchett(), mapping(), home=home, now=NOW)
    else:
        result = import_client(pritchett(), mapping(), home=home, now=NOW)
        assert result.folder == home / "clients" / FOLDER
    assert check_consistent(home)
    hidden = [p.name for p in (home / "clients").iterdir() if p.name.startswith(".")]
    assert hidden == []  # the killed run's staging folder is gone too


def kill_self_after(name: str) -> Callable[[], None]:
    """In the child: SIGKILL itself right after `clientfolder.<name>` returns."""

    def install() -> None:
        real = getattr(clientfolder, name)

        def then_die(*args: object, **kwargs: object) -> object:
            result = real(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
            return result

        if name == "publish":
            import mapctl.engine.workflow.importing as importing

            importing.publish = then_die  # type: ignore[attr-defined,assignment]
        else:
            clientfolder._write_new = then_die  # type: ignore[assignment]

    return install


@pytest.mark.parametrize(
    ("moment", "recorded"),
    [
        ("_write_new", False),  # the row is pending, the first file staged: taken back
        ("publish", True),  # the folder renamed into place, the row still pending: finished
    ],
)
def test_a_kill_at_each_critical_moment_is_recovered(
    tmp_path: Path, moment: str, recorded: bool
) -> None:
    home = tmp_path / "home"
    assert run_killed(home, None, before=kill_self_after(moment)) == signal.SIGKILL
    with Ledger.open(home) as ledger:
        assert ledger.is_pending(5001)  # the killed run left its row pending...
        assert ledger.list_clients() == []  # ...which nobody lists as a client
    assert check_consistent(home) is recorded
    rerun_is_truthful(home, recorded)


def test_random_kills_always_leave_a_state_the_next_run_can_use(tmp_path: Path) -> None:
    rng = random.Random(9)
    started = time.monotonic()
    duration = 0.0
    for trial in range(3):  # how long an import takes here, to aim the kills at it
        begin = time.monotonic()
        assert run_killed(tmp_path / f"timing{trial}", None) == 0
        duration = max(duration, time.monotonic() - begin)
    outcomes = []
    for trial in range(25):
        home = tmp_path / f"home{trial}"
        ended = run_killed(home, rng.uniform(0, duration * 1.2))
        recorded = check_consistent(home)
        outcomes.append((ended, recorded))
        rerun_is_truthful(home, recorded)
    assert time.monotonic() - started < 30
    assert any(ended == signal.SIGKILL for ended, _ in outcomes)


def test_mapctl_clients_lists_a_client_whose_import_was_killed_after_the_rename(
    tmp_path: Path, run_cli: Any
) -> None:
    home = tmp_path / "home"
    assert run_killed(home, None, before=kill_self_after("publish")) == signal.SIGKILL
    listed = run_cli("clients", "--format", "json", env={"MAPCTL_HOME": str(home)})
    assert listed.exit_code == 0, listed.output
    assert [c["clio_contact_id"] for c in json.loads(listed.stdout)] == [5001]
