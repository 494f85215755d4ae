"""Several workstations importing into one shared output folder (issue 15).

Each "workstation" is a MAPCTL_HOME of its own with a user and computer name injected
(`MAPCTL_TEST_USER`, `MAPCTL_TEST_COMPUTER`, or `who=` in-process). They import the same
clients into one folder: from the command line against the sandbox over HTTP (real processes),
and many times over from forked processes, some of them killed with SIGKILL at random moments.
After every round: exactly one import of a contact won, the firm-wide ledger's clients are
exactly the client folders, and nothing stays pending once each workstation has run again.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mapctl.commands.base import AppState
from mapctl.engine.errors import FolderInTheWay, ImportInProgress, ImportRefused, MapctlError
from mapctl.engine.report import format_error
from mapctl.engine.workflow import firmledger
from mapctl.engine.workflow.firmledger import FirmLedger, Workstation
from mapctl.engine.workflow.importing import check_not_imported, import_client
from mapctl.engine.workflow.ledger import Ledger
from mapctl.engine.workflow.records import list_clients, lookup_imported, record_extra

from .bundles import mapping, pritchett

NOW = datetime.datetime(2026, 3, 2, 10, 30, 5, tzinfo=datetime.UTC)
FOLDER = "Pritchett-Jay-5001"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")


def desk(tmp_path: Path, name: str) -> tuple[Path, Workstation]:
    home = tmp_path / f"home-{name}"
    home.mkdir(exist_ok=True)
    return home, Workstation(name.lower(), f"DESK-{name}", str(home), os.getpid())


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if (
        folder.exists()
    ) else []  # fmt: skip


def bundle_of(contact_id: int) -> dict[str, Any]:
    """Pritchett's matter with another client id (a distinct contact, its own folder)."""
    bundle = pritchett()
    if contact_id != 5001:
        bundle["matter"]["client"]["id"] = contact_id
        bundle["contacts"][0]["id"] = contact_id
    return bundle


def consistent(shared: Path, homes: list[tuple[Path, Workstation]]) -> list[str]:
    """Every workstation runs again (recovery, migration); then the firm-wide ledger's clients
    are exactly the visible client folders, nothing pending, no staging left. Returns the
    folders."""
    for home, who in homes:
        list_clients(home, shared, who)
    firm = FirmLedger(shared)
    listed = sorted(Path(c.entry.answer_file).parent.name for c in firm.list_clients())
    assert firm.list_clients(pending=True) == []
    folders = visible(shared)
    assert folders == listed
    for name in folders:
        assert (shared / name / "client.json").is_file()
    return folders


# --- from the command line, over HTTP, in real processes ----------------------------------------


def cli_env(clio_env: dict[str, str], home: Path, user: str) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "SYSTEMROOT", "TMPDIR", "TEMP") if k in os.environ}
    return {
        **keep,
        **clio_env,
        "MAPCTL_HOME": str(home),
        "MAPCTL_TEST_USER": user,
        "MAPCTL_TEST_COMPUTER": f"DESK-{user.upper()}",
        "PYTHONIOENCODING": "utf-8",
    }


def test_workstations_importing_one_matter_at_once_over_http_one_wins(
    clio_env: dict[str, str], mapctl_home: Path, tmp_path: Path, run_cli: Any
) -> None:
    shared = tmp_path / "share" / "clients"
    users = ["ann", "bob", "cat", "dan"]
    homes = []
    for user in users:  # each desk connected to the sandbox (a copy of one connected home)
        home = tmp_path / f"home-{user}"
        shutil.copytree(mapctl_home, home)
        homes.append(home)
    command = [sys.executable, "-m", "mapctl", "import", "00002-Pritchett", "--yes", "--out"]
    processes = [
        subprocess.Popen(
            [*command, str(shared)],
            env=cli_env(clio_env, home, user),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for user, home in zip(users, homes, strict=True)
    ]
    outcomes = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 1, 1, 1], outcomes
    winner = users[[code for code, _, _ in outcomes].index(0)]
    for code, _, err in outcomes:
        if code == 1:  # who has it, on which computer, from which matter, where its answer file is
            assert "Jay Pritchett (Clio contact 5001)" in err
            assert f"by {winner} on DESK-{winner.upper()}" in err
            assert "from matter 00002-Pritchett" in err or "is being imported" in err
            assert str(shared / FOLDER / "ils-client-interview.anx") in err
            assert "mv " not in err and "move" not in err
    assert visible(shared) == [FOLDER]
    # Any desk lists the firm's client once, with who imported it on which computer
    other = homes[(users.index(winner) + 1) % len(users)]
    state = AppState(
        env={"MAPCTL_HOME": str(other), "MAPCTL_TEST_USER": "x", "MAPCTL_TEST_COMPUTER": "X"},
        interactive=False,
    )
    listed = run_cli("clients", "--out", str(shared), state=state)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert "Imported by" in lines[0]
    assert sum("Jay Pritchett" in line for line in lines) == 1
    assert f"{winner} on DESK-{winner.upper()}" in listed.stdout
    as_json = run_cli("clients", "--out", str(shared), "--format", "json", state=state)
    (row,) = json.loads(as_json.stdout)
    assert row["imported_by"] == {"user": winner, "computer": f"DESK-{winner.upper()}"}
    assert row["state"] == "done" and row["folder_exists"] is True
    # the winner's Clio note (issue 19) is in the shared ledger: every desk sees its status
    assert row["clio_note"]["status"] == "written" and row["extra"]["note"]["status"] == "written"


# --- in-process: the rules one by one -----------------------------------------------------------


def test_a_client_imported_on_one_desk_is_refused_on_another_saying_who(tmp_path: Path) -> None:
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    first = import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    attempts: list[Callable[[], object]] = [
        lambda: check_not_imported(pritchett(), home_b, out_dir=shared, who=bob),
        lambda: import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob),
    ]  # fmt: skip
    for number, attempt in enumerate(attempts):
        with pytest.raises(ImportRefused) as caught:
            attempt()
        assert format_error(caught.value) == (
            "error: Jay Pritchett (Clio contact 5001) already exists: imported by a on DESK-A at "
            "2026-03-02T10:30:05Z from matter 00002-Pritchett; its answer file is "
            f"{first.answer_file}\n"
            "  hint: mapctl creates new clients only, for the whole firm: open the existing "
            "client in ILS instead (if it was imported by mistake or deleted in ILS: mapctl "
            "clients forget 5001)"
        )
        if number == 0:
            assert not (home_b / "clients.db").exists()  # looking never creates B's ledger
    assert visible(shared) == [FOLDER]
    # the app engineer's look-up: one listing, one read per contact held
    found = lookup_imported([5001, 5002, 9999], home=home_b, out_dir=shared)
    assert list(found) == [5001]
    assert found[5001].imported_by.label == "a on DESK-A" and found[5001].done
    assert found[5001].describe().endswith(f"its answer file is {first.answer_file}")


def test_forgetting_on_another_desk_lets_the_client_in_again_and_records_who(
    tmp_path: Path, run_cli: Any
) -> None:
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    env_b = {"MAPCTL_HOME": str(home_b), "MAPCTL_TEST_USER": "b", "MAPCTL_TEST_COMPUTER": "DESK-B"}
    forgot = run_cli(
        "clients", "forget", "5001", "--yes", "--delete-folder", "--out", str(shared),
        state=AppState(env=env_b, interactive=False, now=lambda: NOW),
    )  # fmt: skip
    assert forgot.exit_code == 0, forgot.output
    assert "This removes from the shared client ledger" in forgot.stdout
    assert "imported by a on DESK-A" in forgot.stdout
    gone = run_cli(
        "clients", "--forgotten", "--out", str(shared), state=AppState(env=env_b, interactive=False)
    )
    assert "Forgotten by" in gone.stdout and "b on DESK-B" in gone.stdout
    # A's own ledger still had the row: meeting the shared ledger forgets it there too
    with Ledger.open(home_a) as ledger:
        assert [e.clio_contact_id for e in ledger.list_clients()] == [5001]
    listing = list_clients(home_a, shared, ann)
    assert listing.clients == []
    assert any("forgotten firm-wide meanwhile" in line for line in listing.notices)
    with Ledger.open(home_a) as ledger:
        assert ledger.list_clients() == [] and ledger.was_forgotten(5001)
    assert visible(shared) == []  # B deleted the folder, as asked
    # either desk may import it again
    again = import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    assert again.folder == shared / FOLDER
    assert consistent(shared, [(home_a, ann), (home_b, bob)]) == [FOLDER]


def test_a_personal_ledger_meeting_the_shared_one_adds_its_clients_once(
    tmp_path: Path, run_cli: Any
) -> None:
    """Before issue 15 each desk's clients.db alone knew its clients in the shared folder."""
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    import_client(bundle_of(6001), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    import_client(bundle_of(6002), mapping(), home=home_a, now=NOW, who=ann)  # personal folder
    shutil.rmtree(shared / ".mapctl")  # as an older mapctl left the share: no shared ledger
    # B meets the folder first: the unrecorded folder is refused without advice to move it
    with pytest.raises(FolderInTheWay) as caught:
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert "open it in ILS instead" in (caught.value.hint or "")
    assert "mv" not in format_error(caught.value)
    # A's next command adds A's two clients of that folder, says so, and doubles nothing
    env_a = {"MAPCTL_HOME": str(home_a), "MAPCTL_TEST_USER": "a", "MAPCTL_TEST_COMPUTER": "DESK-A"}
    first = run_cli("clients", "--out", str(shared), state=AppState(env=env_a, interactive=False))
    assert first.exit_code == 0, first.output
    assert "added 2 clients from this workstation's ledger" in first.stderr
    rows = first.stdout.splitlines()[1:]
    assert sorted(row.split()[3] for row in rows) == ["5001", "6001", "6002"]  # 6002: personal
    second = run_cli("clients", "--out", str(shared), state=AppState(env=env_a, interactive=False))
    assert second.stderr == "" and second.stdout == first.stdout
    firm = FirmLedger(shared)
    assert sorted(c.contact_id for c in firm.list_clients()) == [5001, 6001]
    assert all(c.migrated_from and "DESK-A" in c.migrated_from for c in firm.list_clients())
    with pytest.raises(ImportRefused, match="imported by a on DESK-A"):
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert consistent(shared, [(home_a, ann), (home_b, bob)]) == [
        FOLDER,
        "Pritchett-Jay-6001",
    ]


def test_doctor_checks_the_shared_ledger_and_says_what_migration_did(
    tmp_path: Path, run_cli: Any
) -> None:
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    shutil.rmtree(shared / ".mapctl")
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"output_folder: {shared}\n", encoding="utf-8")
    env = {
        "MAPCTL_HOME": str(home_a),
        "MAPCTL_SETTINGS": str(settings),
        "MAPCTL_TEST_USER": "a",
        "MAPCTL_TEST_COMPUTER": "DESK-A",
        "CLIO_BASE_URL": "http://127.0.0.1:9",  # no Clio: its checks fail, the rest run
    }
    shown = run_cli("doctor", state=AppState(env=env, interactive=False))
    lines = [line for line in shown.stdout.splitlines() if "shared ledger" in line]
    assert any("added 1 client from this workstation's ledger" in line for line in lines), lines
    assert any(
        line.startswith("[ok  ]") and "readable and writable, 1 client (1 added" in line
        for line in lines
    ), lines
    # a claim left by a crashed desk shows as a failure with the way out
    left = FirmLedger(shared)
    left.claim(bundle_entry(shared, 6001), Workstation("bob", "DESK-B", "/b", 1))
    old = time.time() - 120
    os.utime(left.path / "6001.json", (old, old))
    shown = run_cli("doctor", state=AppState(env=env, interactive=False))
    assert "[FAIL] shared ledger" in shown.stdout
    assert "started by bob on DESK-B" in shown.stdout
    assert "mapctl clients recover 6001" in shown.stdout


def bundle_entry(shared: Path, contact_id: int) -> Any:
    from mapctl.engine.workflow.ledger import ClientEntry

    folder = shared / f"Pritchett-Jay-{contact_id}"
    return ClientEntry(
        "Jay Pritchett", "", contact_id, 9002, "00002-Pritchett",
        str(folder / "ils-client-interview.anx"), "0" * 64, "T", "2026-03-02T10:30:05Z",
    )  # fmt: skip


def test_an_import_another_computer_left_pending_is_shown_and_taken_back_by_the_rule(
    tmp_path: Path, run_cli: Any
) -> None:
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    firm = FirmLedger(shared)
    firm.claim(bundle_entry(shared, 5001), Workstation("a", "DESK-A", str(home_a), 1))
    # B is refused, told who and since when, and how it ends
    with pytest.raises(ImportInProgress) as caught:
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert "is being imported by a on DESK-A since" in str(caught.value)
    assert "mapctl clients recover 5001" in (caught.value.hint or "")
    env_b = {"MAPCTL_HOME": str(home_b), "MAPCTL_TEST_USER": "b", "MAPCTL_TEST_COMPUTER": "DESK-B"}
    listed = run_cli("clients", "--out", str(shared), state=AppState(env=env_b, interactive=False))
    assert "Clio contact 5001 (Jay Pritchett): started by a on DESK-A" in listed.stdout
    # an admin on B takes it back (asked first; --yes without a terminal)
    refused = run_cli(
        "clients", "recover", "5001", "--out", str(shared),
        state=AppState(env=env_b, interactive=False),
    )  # fmt: skip
    assert refused.exit_code == 2
    taken = run_cli(
        "clients", "recover", "5001", "--yes", "--out", str(shared),
        state=AppState(env=env_b, interactive=False),
    )  # fmt: skip
    assert taken.exit_code == 0, taken.output
    assert "can be imported again" in taken.stdout
    assert "taken back by an admin (b on DESK-B)" in taken.stderr
    result = import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert result.folder == shared / FOLDER
    # a finished client is never "recovered"
    again = run_cli(
        "clients", "recover", "5001", "--yes", "--out", str(shared),
        state=AppState(env=env_b, interactive=False),
    )  # fmt: skip
    assert again.exit_code == 1 and "no unfinished import" in again.stderr
    assert consistent(shared, [(home_a, ann), (home_b, bob)]) == [FOLDER]


def test_a_claim_abandoned_for_half_an_hour_by_the_shares_clock_is_taken_back(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "share"
    home_b, bob = desk(tmp_path, "B")
    firm = FirmLedger(shared)
    firm.claim(bundle_entry(shared, 5001), Workstation("a", "DESK-A", "/a", 1))
    young = time.time() - firmledger.ABANDONED_AFTER + 60
    os.utime(firm.path / "5001.json", (young, young))
    assert firm.recover(bob).released == []  # 29 minutes: maybe a slow computer, kept
    old = time.time() - firmledger.ABANDONED_AFTER - 90
    os.utime(firm.path / "5001.json", (old, old))
    recovery = firm.recover(bob)
    assert [why for _, _, why in recovery.released] == [
        "abandoned: pending for 31 minutes, its folder not in place"
    ]
    released = [n for n in os.listdir(firm.path) if n.endswith(".released.json")]
    assert len(released) == 1  # kept, with who took it back and why beside it
    import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)


def test_a_pending_claim_whose_folder_is_in_place_is_finished_by_anyone(tmp_path: Path) -> None:
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    result = import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    firm = FirmLedger(shared)
    (done,) = [p for p in firm.path.iterdir() if p.name.endswith(".done")]
    done.unlink()  # as if A's computer lost power right after the rename
    assert firm.list_clients() == []
    with pytest.raises(ImportRefused, match="already exists: imported by a on DESK-A"):
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert [c.entry for c in firm.list_clients()] == [
        FirmLedger(shared).get(5001).entry  # type: ignore[union-attr]
    ]
    assert firm.get(5001).entry.answer_file == str(result.answer_file)  # type: ignore[union-attr]


def test_the_clio_note_status_is_recorded_atomically_and_listed(
    tmp_path: Path, run_cli: Any
) -> None:
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    import_client(bundle_of(6002), mapping(), home=home_a, now=NOW, who=ann)  # personal
    note = {"status": "failed", "warning": "Clio refused the note (403)", "retryable": True}
    assert record_extra(5001, {"note": note}, home=home_a, out_dir=shared) == {"note": note}
    assert record_extra(5001, {"seen": 1}, home=home_a, out_dir=shared) == {"note": note, "seen": 1}
    record_extra(6002, {"note": {"status": "ok"}}, home=home_a, out_dir=shared)
    with pytest.raises(MapctlError, match="not in the shared client ledger"):
        record_extra(7777, {"note": {"status": "ok"}}, home=home_a, out_dir=shared)
    with pytest.raises(MapctlError, match="cannot name an extra field"):  # one file per field
        record_extra(5001, {"../note": 1}, home=home_a, out_dir=shared)
    env = {"MAPCTL_HOME": str(home_a), "MAPCTL_TEST_USER": "a", "MAPCTL_TEST_COMPUTER": "DESK-A"}
    table = run_cli("clients", "--out", str(shared), state=AppState(env=env, interactive=False))
    assert "Clio note" in table.stdout.splitlines()[0]
    lines = table.stdout.splitlines()
    assert {line.split()[-2] for line in lines[1:3]} == {"failed", "ok"}
    assert lines[3:] == [  # a failed note in the shared ledger: any workstation may write it
        "Clio note missing for Jay Pritchett (matter 00002-Pritchett; imported by a on DESK-A)",
        f"  write it now, from this workstation too: mapctl clients note 5001 --out {shared}",
    ]
    rows = json.loads(
        run_cli(
            "clients", "--out", str(shared), "--format", "json",
            state=AppState(env=env, interactive=False),
        ).stdout
    )  # fmt: skip
    assert {r["clio_contact_id"]: r["extra"]["note"]["status"] for r in rows} == {
        5001: "failed",
        6002: "ok",
    }
    # forgetting takes the extra fields with it: a re-import starts clean
    run_cli(
        "clients", "forget", "5001", "--yes", "--out", str(shared),
        state=AppState(env=env, interactive=False, now=lambda: NOW),
    )  # fmt: skip
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    assert FirmLedger(shared).get(5001).extra == {}  # type: ignore[union-attr]


# --- many rounds, in forked processes, some killed --------------------------------------------


def _import_in_child(home: Path, who: Workstation, shared: Path, contact: int, go: int) -> None:
    """In a forked child: wait for the start signal, import, exit 0 (won) or 1 (refused)."""
    code = 3
    try:
        os.read(go, 1)
        me = Workstation(who.user, who.computer, who.home, os.getpid())
        import_client(bundle_of(contact), mapping(), home=home, now=NOW, out_dir=shared, who=me)
        code = 0
    except ImportRefused:
        code = 1
    except BaseException:  # noqa: BLE001 - the parent reads the outcome from the state
        code = 2
    os._exit(code)


def _race(
    shared: Path, desks: list[tuple[Path, Workstation]], contact: int, kill: dict[int, float]
) -> list[int]:
    """Fork one importer per desk, start them together; kill desk i after kill[i] seconds.
    Returns each one's exit code (or -signal)."""
    read, write = os.pipe()
    pids = []
    for home, who in desks:
        pid = os.fork()
        if pid == 0:
            os.close(write)
            _import_in_child(home, who, shared, contact, read)
        pids.append(pid)
    os.close(read)
    os.write(write, b"x" * len(desks))  # go
    os.close(write)
    started = time.monotonic()
    for index, delay in sorted(kill.items(), key=lambda item: item[1]):
        time.sleep(max(0.0, delay - (time.monotonic() - started)))
        os.kill(pids[index], signal.SIGKILL)
    codes = []
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        codes.append(-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    return codes


@posix_only
def test_many_rounds_of_several_desks_at_once_exactly_one_wins(tmp_path: Path) -> None:
    shared = tmp_path / "share"
    desks = [desk(tmp_path, name) for name in "ABCD"]
    for home, _ in desks:
        with Ledger.open(home):
            pass
    started = time.monotonic()
    for round_ in range(12):
        contact = 7000 + round_
        codes = _race(shared, desks, contact, {})
        assert sorted(codes) == [0, 1, 1, 1], codes
        winner = desks[codes.index(0)]
        client = FirmLedger(shared).get(contact)
        assert client is not None and client.done
        assert client.imported_by.computer == winner[1].computer
    folders = consistent(shared, desks)
    assert folders == [f"Pritchett-Jay-{7000 + n}" for n in range(12)]
    for home, who in desks:  # each desk's own ledger holds exactly the rounds it won
        with Ledger.open(home) as ledger:
            mine = {e.clio_contact_id for e in ledger.list_clients()}
        firm = {c.contact_id for c in FirmLedger(shared).list_clients()
                if c.imported_by.computer == who.computer}  # fmt: skip
        assert mine == firm
    assert time.monotonic() - started < 20


@posix_only
def test_kills_at_random_moments_across_desks_leave_a_state_recovery_makes_consistent(
    tmp_path: Path,
) -> None:
    rng = random.Random(15)
    shared = tmp_path / "share"
    desks = [desk(tmp_path, name) for name in "ABC"]
    for home, _ in desks:
        with Ledger.open(home):
            pass
    begin = time.monotonic()  # how long a race takes here, to aim the kills at it
    _race(shared, desks, 6999, {})
    duration = max(time.monotonic() - begin, 0.02)
    started = time.monotonic()
    killed = 0
    for round_ in range(20):
        contact = 8000 + round_
        victims = rng.sample(range(len(desks)), rng.randint(1, len(desks)))
        codes = _race(shared, desks, contact, {v: rng.uniform(0, duration * 1.2) for v in victims})
        killed += sum(1 for code in codes if code == -signal.SIGKILL)
        assert 2 not in codes, codes  # no import failed other than by being refused
        assert codes.count(0) <= 1
        folders = consistent(shared, desks)  # each desk runs again: recovered
        client = FirmLedger(shared).get(contact)
        assert (f"Pritchett-Jay-{contact}" in folders) == (client is not None)
        for home, _ in desks:
            with Ledger.open(home) as ledger:
                assert not ledger.is_pending(contact)
        # after recovery the contact imports (or is refused as imported) truthfully
        home, who = desks[round_ % len(desks)]
        try:
            import_client(
                bundle_of(contact), mapping(), home=home, now=NOW, out_dir=shared, who=who
            )
            assert client is None
        except ImportRefused as refused:
            assert client is not None and "already exists" in str(refused)
        consistent(shared, desks)
    hidden = [p.name for p in shared.iterdir() if p.name.startswith(".") and p.name != ".mapctl"]
    assert hidden == []  # no staging folder left behind
    assert killed > 0
    assert time.monotonic() - started < 30


@posix_only
def test_the_shared_ledger_takes_the_output_folders_permissions(tmp_path: Path) -> None:
    """On a POSIX share (NFS) each desk's user must read and write the ledger: it gets the
    output folder's bits; a folder mapctl makes itself stays private."""
    shared = tmp_path / "share"
    shared.mkdir()
    os.chmod(shared, 0o2770)
    home_a, ann = desk(tmp_path, "A")
    old = os.umask(0o077)
    try:
        import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    finally:
        os.umask(old)
    record = shared / ".mapctl" / "clients"
    assert (record.stat().st_mode & 0o777, record.parent.stat().st_mode & 0o777) == (0o770, 0o770)
    assert {p.stat().st_mode & 0o777 for p in record.iterdir()} == {0o660}
    private = tmp_path / "new"
    import_client(bundle_of(6001), mapping(), home=home_a, now=NOW, out_dir=private, who=ann)
    assert {p.stat().st_mode & 0o777 for p in (private / ".mapctl" / "clients").iterdir()} == {
        0o600
    }
    assert (private / ".mapctl").stat().st_mode & 0o777 == 0o700


def test_an_empty_claim_left_by_a_kill_mid_create_is_explained_by_its_intent(
    tmp_path: Path,
) -> None:
    """Killed between the exclusive create and writing the claim: the claim is empty. Its
    intent (written whole before the create) says whose it was, so that computer takes it back
    at once when the process is gone; any other computer shows it and waits."""
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    home_b, bob = desk(tmp_path, "B")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = Workstation(ann.user, ann.computer, ann.home, int(gone.stdout))
    firm = FirmLedger(shared)
    firm.path.mkdir(parents=True)
    (firm.path / "5001.abc.intent.json").write_text(json.dumps({"by": dead.as_json()}))
    (firm.path / "5001.json").write_bytes(b"")
    with pytest.raises(ImportInProgress) as caught:  # B cannot tell: it waits
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert str(caught.value) == "A client (Clio contact 5001) is being imported by a on DESK-A"
    assert firm.recover(bob).released == []
    recovery = firm.recover(ann)  # A's own computer: the process is gone
    assert [why for _, _, why in recovery.released] == [
        "its import was stopped before it wrote its claim (on this computer)"
    ]
    assert not (firm.path / "5001.json").exists()
    result = import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert result.folder == shared / FOLDER


@posix_only
@pytest.mark.parametrize("moment", ["claim", "publish"])
def test_a_kill_at_each_critical_moment_across_desks(tmp_path: Path, moment: str) -> None:
    """Desk A is killed right after claiming the contact (no folder yet), or right after its
    folder was renamed into place (the claim still pending). Desk B: finishes the second at
    once (the folder is there); must not take the first back (A may still be running) and says
    who holds it. A's next run takes its own claim back at once."""
    shared = tmp_path / "share"
    (home_a, ann), (home_b, bob) = desk(tmp_path, "A"), desk(tmp_path, "B")
    pid = os.fork()
    if pid == 0:  # desk A
        try:
            from mapctl.engine.workflow import importing

            if moment == "claim":
                real_claim = FirmLedger.claim

                def claim_then_die(self: FirmLedger, *args: Any) -> str:
                    real_claim(self, *args)
                    os.kill(os.getpid(), signal.SIGKILL)
                    return ""

                FirmLedger.claim = claim_then_die  # type: ignore[method-assign,assignment]
            else:
                real_publish = importing.publish  # type: ignore[attr-defined]

                def publish_then_die(*args: Any, **kwargs: Any) -> None:
                    real_publish(*args, **kwargs)
                    os.kill(os.getpid(), signal.SIGKILL)

                importing.publish = publish_then_die  # type: ignore[attr-defined]
            me = Workstation(ann.user, ann.computer, ann.home, os.getpid())
            import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=me)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    firm = FirmLedger(shared)
    assert [c.contact_id for c in firm.list_clients(pending=True)] == [5001]
    if moment == "publish":
        with pytest.raises(ImportRefused, match="already exists: imported by a on DESK-A"):
            import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
        assert [c.contact_id for c in firm.list_clients()] == [5001]  # B finished it
    else:
        with pytest.raises(ImportInProgress, match="is being imported by a on DESK-A since"):
            import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
        listing = list_clients(home_a, shared, ann)  # A runs again: its own claim, process gone
        assert any("took back the unfinished import by a on DESK-A" in n for n in listing.notices)
        import_client(pritchett(), mapping(), home=home_b, now=NOW, out_dir=shared, who=bob)
    assert consistent(shared, [(home_a, ann), (home_b, bob)]) == [FOLDER]
    with Ledger.open(home_a) as ledger:  # A's own row: finished with the folder, or taken back
        assert [e.clio_contact_id for e in ledger.list_clients()] == (
            [5001] if moment == "publish" else []
        )


def test_a_claim_edited_to_point_outside_the_folder_is_not_followed(tmp_path: Path) -> None:
    """The share is writable by every desk's user: a claim pointing its answer file outside
    the output folder (absolute, `..`) is shown as "?", never read or served."""
    shared = tmp_path / "share"
    home_a, ann = desk(tmp_path, "A")
    import_client(pritchett(), mapping(), home=home_a, now=NOW, out_dir=shared, who=ann)
    claim = FirmLedger(shared).path / "5001.json"
    for bad in ("../../home-A/clients.db", "/etc/passwd", "C:/Windows/win.ini"):
        data = json.loads(claim.read_bytes())
        data["client"]["answer_file"] = bad
        claim.write_text(json.dumps(data))
        client = FirmLedger(shared).get(5001)
        assert client is not None and client.entry.answer_file == "?", bad
