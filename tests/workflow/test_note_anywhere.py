"""`mapctl clients note` from any workstation of a shared output folder: a note Clio refused at
the desk that imported the client is written from another desk (real `mapctl` processes, one
MAPCTL_HOME each, over real HTTP to the sandbox), once, in the words composed at the import,
recorded for the whole firm; two desks retrying at once write one note (`FirmLedger.turn`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.errors import MapctlError
from mapctl.engine.sandbox.server import Sandbox
from mapctl.engine.workflow import firmledger
from mapctl.engine.workflow.firmledger import FirmLedger, TurnTaken, Workstation
from mapctl.engine.workflow.importing import import_client

from .bundles import mapping, pritchett
from .test_clio_note import NEEDS, notes
from .test_firmwide import NOW, bundle_of, cli_env, desk

FOLDER = "Pritchett-Jay-5001"
SSN = "900-12-3456"  # Jay's "Social Security Number": `sensitive: true` in the default mapping


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of each test's own (the notes on its matter are this test's), Notes refused
    until a test allows them (the Clio app's Notes permission not ticked yet)."""
    with Sandbox(forbidden=["notes"]) as running:
        yield running


def mapctl(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mapctl ARGS` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "mapctl", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def desks(mapctl_home: Path, tmp_path: Path, users: list[str]) -> list[Path]:
    """A MAPCTL_HOME per user, each connected to the sandbox (copies of one connected home)."""
    homes = []
    for user in users:
        home = tmp_path / f"home-{user}"
        shutil.copytree(mapctl_home, home)
        homes.append(home)
    return homes


def imported_with_the_note_refused(env: dict[str, str], shared: Path, cwd: Path) -> None:
    done = mapctl(env, "import", "00002-Pritchett", "--yes", "--out", str(shared), cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "Clio did not take the note on the matter" in done.stderr
    assert "write it later with: mapctl clients note 5001" in done.stderr


def test_a_note_refused_at_one_desk_is_written_once_from_another(
    clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    shared = tmp_path / "share" / "clients"
    home_a, home_b = desks(mapctl_home, tmp_path, ["ann", "bob"])
    at_a, at_b = cli_env(clio_env, home_a, "ann"), cli_env(clio_env, home_b, "bob")
    imported_with_the_note_refused(at_a, shared, tmp_path)
    # Desk B sees the failure, and the command that writes it from there
    table = mapctl(at_b, "clients", "--out", str(shared), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[1].split()[-2] == "failed"
    assert table.stdout.splitlines()[-2:] == [
        "Clio note missing for Jay Pritchett (matter 00002-Pritchett; imported by ann on "
        "DESK-ANN): Clio refused access to notes (HTTP 403: User is forbidden from taking that "
        f"action); {NEEDS}",
        f"  write it now, from this workstation too: mapctl clients note 5001 --out {shared}",
    ]
    # Still refused: exit 3 at B, no note, the failure kept firm-wide (B's attempt, A's words)
    still = mapctl(at_b, "clients", "note", "5001", "--out", str(shared), cwd=tmp_path)
    assert still.returncode == 3, still.stderr
    assert still.stderr.startswith("error: Clio did not take the note: Clio refused access")
    assert [n["subject"] for n in sandbox.store.notes.values()] == ["Intake call"]
    recorded = FirmLedger(shared).get(5001).extra["note"]  # type: ignore[union-attr]
    assert (recorded["status"], recorded["subject"]) == ("failed", "Imported to ILS: Jay Pritchett")
    # The permission ticked: B writes A's note, with the words composed at A's import
    sandbox.forbidden.clear()
    retried = mapctl(at_b, "clients", "note", "5001", "--out", str(shared), cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    (note,) = notes(sandbox)
    assert retried.stdout == f"Clio: the note is on the matter now (note {note['id']}).\n"
    assert retried.stderr == ""
    assert note["subject"] == "Imported to ILS: Jay Pritchett"
    lines = note["detail"].splitlines()
    assert lines[0] == (
        "Jay Pritchett was imported to InterActive LegalSuite (ILS) as a new client by mapctl."
    )
    assert lines[1] == f"Who: Sam Sandbox (Clio user), on the computer {socket.gethostname()}"
    assert lines[3:5] == ["Answer file: ils-client-interview.anx", f"Folder: {shared / FOLDER}"]
    assert lines[6] == "Contacts removed: none"
    # Every desk sees it written: the table, no "missing" line, JSON with the note's id
    for env in (at_a, at_b):
        table = mapctl(env, "clients", "--out", str(shared), cwd=tmp_path)
        assert table.returncode == 0, table.stderr
        assert table.stdout.splitlines()[1].split()[-2] == "written"
        assert "Clio note missing" not in table.stdout
        listed = mapctl(env, "clients", "--out", str(shared), "--format", "json", cwd=tmp_path)
        (row,) = json.loads(listed.stdout)
        assert row["clio_note"]["status"] == "written"
        assert row["clio_note"]["note_id"] == note["id"]
        assert "subject" not in row["clio_note"] and "detail" not in row["clio_note"]
    # Again, from either desk: refused, exit 1 (A's own ledger still says failed: the shared
    # record says written), and no second note
    for env in (at_a, at_b):
        again = mapctl(env, "clients", "note", "5001", "--out", str(shared), cwd=tmp_path)
        assert again.returncode == 1, again.stderr
        assert again.stderr == (
            f"error: the note for Jay Pritchett is already on the matter (Clio note "
            f"{note['id']})\n  hint: nothing to do\n"
        )
    # A's home finds its client's shared folder without --out too
    again = mapctl(at_a, "clients", "note", "5001", cwd=tmp_path)
    assert again.returncode == 1 and "already on the matter" in again.stderr
    assert len(notes(sandbox)) == 1
    # A contact no ledger has: exit 1, saying where it looked
    none = mapctl(at_b, "clients", "note", "7777", "--out", str(shared), cwd=tmp_path)
    assert none.returncode == 1
    assert none.stderr.startswith(
        f"error: Clio contact 7777 is not in the shared client ledger {shared / '.mapctl' / 'clients'}"
    )
    # Nothing sensitive in the shared record: the SSN (a `sensitive` field) went into the
    # answer file, never into the note's words the shared ledger keeps, nor the note
    assert SSN in (shared / FOLDER / "ils-client-interview.anx").read_text(encoding="utf-8")
    for path in (shared / ".mapctl").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert SSN not in text and SSN.replace("-", "") not in text, path
    assert SSN not in note["detail"] and SSN.replace("-", "") not in note["detail"]


def test_a_note_the_importing_desk_writes_later_is_seen_written_everywhere(
    clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    """The importing desk's own retry (its ledger holds the client; no --out needed) records
    the outcome in the shared ledger too: the other desk then refuses to write it again."""
    shared = tmp_path / "share" / "clients"
    home_a, home_b = desks(mapctl_home, tmp_path, ["ann", "bob"])
    at_a, at_b = cli_env(clio_env, home_a, "ann"), cli_env(clio_env, home_b, "bob")
    imported_with_the_note_refused(at_a, shared, tmp_path)
    sandbox.forbidden.clear()
    retried = mapctl(at_a, "clients", "note", "5001", cwd=tmp_path)
    assert retried.returncode == 0, retried.stderr
    (note,) = notes(sandbox)
    recorded = FirmLedger(shared).get(5001).extra["note"]  # type: ignore[union-attr]
    assert (recorded["status"], recorded["note_id"]) == ("written", note["id"])
    at_b_again = mapctl(at_b, "clients", "note", "5001", "--out", str(shared), cwd=tmp_path)
    assert at_b_again.returncode == 1, at_b_again.stderr
    assert "already on the matter" in at_b_again.stderr
    assert len(notes(sandbox)) == 1


def test_desks_retrying_at_once_write_one_note(
    clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    """Three desks retry the same failed note at the same moment while Clio takes 2 s to
    write a note: without the turn, each would read "failed" and write its own."""
    shared = tmp_path / "share" / "clients"
    users = ["ann", "bob", "cat", "dan"]
    homes = desks(mapctl_home, tmp_path, users)
    envs = [cli_env(clio_env, home, user) for user, home in zip(users, homes, strict=True)]
    imported_with_the_note_refused(envs[0], shared, tmp_path)
    sandbox.forbidden.clear()
    original = sandbox.api.handle

    def slow_notes(path: str, *args: Any, **kwargs: Any) -> Any:
        if path.startswith("/api/v4/notes") and "POST" in (*args, kwargs.get("method")):
            time.sleep(2.0)
        return original(path, *args, **kwargs)

    sandbox.api.handle = slow_notes  # type: ignore[method-assign]
    command = [sys.executable, "-m", "mapctl", "clients", "note", "5001", "--out", str(shared)]
    processes = [
        subprocess.Popen(
            command,
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for env in envs[1:]
    ]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    assert sorted(code for code, _, _ in outcomes) == [0, 1, 1], outcomes
    (note,) = notes(sandbox)
    for code, _, err in outcomes:
        if code == 1:  # written by then, or being written by the desk whose turn it is
            assert "already on the matter" in err or "is writing the note for Jay Pritchett" in err
    assert [n for n in os.listdir(shared / ".mapctl" / "clients") if ".turn-" in n] == []
    recorded = FirmLedger(shared).get(5001).extra["note"]  # type: ignore[union-attr]
    assert (recorded["status"], recorded["note_id"]) == ("written", note["id"])


# --- the turn itself, in-process ----------------------------------------------------------------


def test_a_turn_is_one_workstations_at_a_time_and_taken_over_when_left(tmp_path: Path) -> None:
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    firm = FirmLedger(shared)
    token = firm.get(5001).token  # type: ignore[union-attr]
    bob = Workstation("bob", "DESK-B", "", os.getpid())
    turn = firm.path / f"5001.{token}.turn-note.json"
    with firm.turn(5001, token, "note", ann):
        assert turn.is_file()
        with pytest.raises(TurnTaken) as taken:  # another desk while it runs
            with firm.turn(5001, token, "note", bob):
                pytest.fail("two turns at once")
        assert taken.value.by.label == "a on DESK-A" and taken.value.since.endswith("Z")
    assert not turn.exists()
    with pytest.raises(RuntimeError), firm.turn(5001, token, "note", ann):
        raise RuntimeError("the block failed")
    assert not turn.exists()  # ended either way
    # Left by a process of this computer that is gone: taken over at once
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = Workstation("a", "DESK-A", str(home_a), int(gone.stdout))
    left = json.dumps({"by": dead.as_json(), "since": "2026-03-02T10:30:05Z", "turn": "x"})
    turn.write_text(left)
    with firm.turn(5001, token, "note", ann):
        assert json.loads(turn.read_text())["by"]["pid"] == os.getpid()
    # Left by another computer (its process cannot be checked from here): refused while young,
    # taken over once ABANDONED_AFTER old by the share's clock
    turn.write_text(left.replace("DESK-A", "DESK-C"))
    with pytest.raises(TurnTaken), firm.turn(5001, token, "note", ann):
        pass
    old = firm.server_now() - firmledger.ABANDONED_AFTER - 5
    os.utime(turn, (old, old))
    with firm.turn(5001, token, "note", ann):
        assert json.loads(turn.read_text())["by"]["computer"] == "DESK-A"
    assert [n for n in os.listdir(firm.path) if ".turn-" in n] == []


def test_a_shared_client_without_the_notes_words_gets_a_short_note(
    run_cli: Any, clio_env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    """A client another desk imported before notes existed (no `note` field), or whose failed
    note an older mapctl recorded without its words: a short note from the entry, once."""
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    import_client(bundle_of(6002), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    older = {"matter_id": 9002, "status": "failed", "note_id": None, "message": "down", "at": ""}
    FirmLedger(shared).update_extra(6002, {"note": older})
    sandbox.forbidden.clear()
    for contact in (5001, 6002):
        done = run_cli("clients", "note", str(contact), "--out", str(shared), env=clio_env)
        assert done.exit_code == 0, done.output
    subjects = [n["subject"] for n in notes(sandbox)]
    assert subjects == ["Imported to ILS: Jay Pritchett"] * 2
    assert notes(sandbox)[0]["detail"] == (
        "Jay Pritchett was imported to InterActive LegalSuite (ILS) as a new client by mapctl on "
        f"2026-03-02 10:30 UTC; answer file {shared / FOLDER / 'ils-client-interview.anx'}"
    )
    assert FirmLedger(shared).get(6002).extra["note"]["status"] == "written"  # type: ignore[union-attr]


def test_a_note_written_that_the_share_cannot_record_is_a_warning(
    run_cli: Any,
    clio_env: dict[str, str],
    tmp_path: Path,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    sandbox.forbidden.clear()

    def share_gone(self: FirmLedger, *args: Any) -> Any:
        raise MapctlError(f"cannot write the shared client ledger {self.path}: Host is down")

    monkeypatch.setattr(FirmLedger, "update_extra", share_gone)
    done = run_cli("clients", "note", "5001", "--out", str(shared), env=clio_env)
    assert done.exit_code == 0, done.output  # the note is on the matter: that is what counts
    assert done.stdout.startswith("Clio: the note is on the matter now (note ")
    assert done.stderr == (
        "warning: the shared client ledger could not record the note's status (other "
        "workstations still see it as not written): cannot write the shared client ledger "
        f"{shared / '.mapctl' / 'clients'}: Host is down\n"
    )
    assert len(notes(sandbox)) == 1
