"""`mapctl clients` marks and `mapctl clients forget` (issue 11): what it says before asking,
no terminal and no --yes refused, the folder kept or deleted, the record of the forgetting, the
schema migration of older ledgers, and the contact imported again through the real CLI."""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.errors import MapctlError
from mapctl.engine.workflow.forgetting import forget_client
from mapctl.engine.workflow.ledger import SCHEMA_VERSION, Ledger

from .bundles import pritchett
from .test_e2e import MATTER, at_noon, clean
from .test_importing import run_import

LATER = datetime.datetime(2026, 3, 5, 9, 15, 0, tzinfo=datetime.UTC)
FOLDER = "Pritchett-Jay-5001"


def cli_state(home: Path, *, interactive: bool = False) -> AppState:
    return AppState(env={"MAPCTL_HOME": str(home)}, interactive=interactive, now=lambda: LATER)


def test_forget_without_a_terminal_needs_yes(run_cli: Any, mapctl_home: Path) -> None:
    run_import(mapctl_home)
    result = run_cli("clients", "forget", "5001")
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(
        "Error: mapctl clients forget asks for confirmation, and there is no terminal to ask "
        "on; pass --yes to forget without questions\n"
    )
    with Ledger.open(mapctl_home) as ledger:
        assert [e.clio_contact_id for e in ledger.list_clients()] == [5001]
        assert ledger.list_forgotten() == []


def test_forget_says_what_it_removes_and_keeps_the_folder(
    run_cli: Any, mapctl_home: Path, snapshot_txt: Any
) -> None:
    imported = run_import(mapctl_home)
    result = run_cli("clients", "forget", "5001", "--yes", state=cli_state(mapctl_home))
    assert result.exit_code == 0, result.output
    assert clean(result.stdout, mapctl_home) == snapshot_txt
    assert imported.folder.is_dir() and imported.answer_file.is_file()  # left where it is
    with Ledger.open(mapctl_home) as ledger:
        assert ledger.list_clients() == []
        (record,) = ledger.list_forgotten()
    assert (record.client, record.forgotten_at, record.folder_deleted) == (
        imported.entry,
        "2026-03-05T09:15:00Z",
        False,
    )
    listed = run_cli("clients", "--forgotten", "--format", "json")
    assert json.loads(listed.stdout) == [record.as_json()]
    table = run_cli("clients", "--forgotten")
    assert "2026-03-05T09:15:00Z  Jay Pritchett  5001" in table.stdout, table.output

    again = run_import(mapctl_home)  # the contact may be imported again, beside the old folder
    assert again.folder == mapctl_home / "clients" / f"{FOLDER}-2"
    assert (imported.folder / "client.json").is_file()


def test_the_question_on_a_terminal(run_cli: Any, mapctl_home: Path) -> None:
    run_import(mapctl_home)
    state = cli_state(mapctl_home, interactive=True)
    declined = run_cli("clients", "forget", "5001", input="\n", state=state)  # default: no
    assert declined.exit_code == 1, declined.output
    assert "Forget Jay Pritchett? [y/N]: \n" in declined.stdout
    assert declined.stderr == "Nothing was forgotten.\n"
    with Ledger.open(mapctl_home) as ledger:
        assert len(ledger.list_clients()) == 1
    accepted = run_cli("clients", "forget", "5001", input="y\n", state=state)
    assert accepted.exit_code == 0, accepted.output
    assert "Forgot Jay Pritchett (Clio contact 5001)" in accepted.stdout


def test_delete_folder(run_cli: Any, mapctl_home: Path) -> None:
    imported = run_import(mapctl_home)
    state = cli_state(mapctl_home)
    result = run_cli("clients", "forget", "5001", "--yes", "--delete-folder", state=state)
    assert result.exit_code == 0, result.output
    assert f"and deletes its folder, answer file included: {imported.folder}\n" in result.stdout
    assert "imported again. Its folder was deleted.\n" in result.stdout
    assert sorted(p.name for p in (mapctl_home / "clients").iterdir()) == []
    with Ledger.open(mapctl_home) as ledger:
        (record,) = ledger.list_forgotten()
    assert record.folder_deleted
    assert run_import(mapctl_home).folder == imported.folder  # the old name is free again


def test_forgetting_a_client_whose_folder_is_gone(run_cli: Any, mapctl_home: Path) -> None:
    imported = run_import(mapctl_home)
    shutil.rmtree(imported.folder)
    result = run_cli("clients", "forget", "5001", "--yes", "--delete-folder")
    assert result.exit_code == 0, result.output
    assert f"Its folder is already gone: {imported.folder}\n" in result.stdout
    assert result.stdout.endswith(f"Its folder was already gone ({imported.folder}).\n")
    with Ledger.open(mapctl_home) as ledger:
        (record,) = ledger.list_forgotten()
    assert not record.folder_deleted  # mapctl deleted nothing


def test_a_folder_mapctl_did_not_create_is_never_deleted(run_cli: Any, mapctl_home: Path) -> None:
    imported = run_import(mapctl_home)
    (imported.folder / "client.json").write_text('{"clio_contact_id": 7}', encoding="utf-8")
    result = run_cli("clients", "forget", "5001", "--yes", "--delete-folder")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: not deleting {imported.folder}: its client.json is about another Clio contact, "
        "so it may not be the folder mapctl created for Jay Pritchett\n"
        "  hint: forget without --delete-folder, then move or delete the folder yourself\n"
    )
    assert imported.answer_file.is_file()
    with Ledger.open(mapctl_home) as ledger:
        assert len(ledger.list_clients()) == 1


def test_unknown_and_already_forgotten_contacts(run_cli: Any, mapctl_home: Path) -> None:
    fresh = run_cli("clients", "forget", "5001", "--yes")
    assert fresh.exit_code == 1, fresh.output
    assert fresh.stderr.startswith("error: Clio contact 5001 is not in the client ledger: no ")
    assert not (mapctl_home / "clients.db").exists()  # asking created nothing
    run_import(mapctl_home)
    stranger = run_cli("clients", "forget", "4242", "--yes")
    assert (stranger.exit_code, stranger.stderr) == (
        1,
        f"error: Clio contact 4242 is not in the client ledger {mapctl_home / 'clients.db'}\n"
        "  hint: `mapctl clients` lists the imported clients and their contact ids\n",
    )
    assert (
        run_cli("clients", "forget", "5001", "--yes", state=cli_state(mapctl_home)).exit_code == 0
    )
    twice = run_cli("clients", "forget", "5001", "--yes")
    assert (twice.exit_code, twice.stderr) == (
        1,
        "error: Clio contact 5001 is not in the client ledger: Jay Pritchett was forgotten on "
        "2026-03-05T09:15:00Z\n"
        "  hint: it can be imported again; `mapctl clients --forgotten` lists what was "
        "forgotten\n",
    )
    bad = run_cli("clients", "forget", "Jay")
    assert bad.exit_code == 2, bad.output


def test_clients_marks_entries_whose_files_are_gone(run_cli: Any, mapctl_home: Path) -> None:
    first = run_import(mapctl_home)
    other = pritchett()
    other["matter"]["client"]["id"] = 5002  # Gloria as the client of another matter
    second = run_import(mapctl_home, bundle=other)
    first.answer_file.unlink()
    shutil.rmtree(second.folder)
    table = run_cli("clients")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[1].endswith(f"{first.answer_file}  (answer file gone)")
    assert lines[2].endswith(f"{second.answer_file}  (folder gone)")
    assert lines[4].startswith("2 clients' files are gone (moved or deleted outside mapctl).")
    listed = json.loads(run_cli("clients", "--format", "json").stdout)
    assert [(e["folder_exists"], e["answer_file_exists"]) for e in listed] == [
        (True, False),
        (False, False),
    ]


def test_an_error_while_forgetting_changes_nothing(mapctl_home: Path) -> None:
    imported = run_import(mapctl_home)
    with Ledger.open(mapctl_home) as ledger:
        with pytest.raises(OSError), ledger.forgetting(5001, "x", folder_deleted=False):
            raise OSError("disk full")
        assert ledger.list_clients() == [imported.entry]
        assert ledger.list_forgotten() == []


class FailingCommit:
    """A sqlite3 connection whose COMMIT fails (a full disk at the last moment)."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_failed_commit_puts_the_folder_back(
    mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported = run_import(mapctl_home)
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: FailingCommit(real_connect(*a, **k)))
    with pytest.raises(MapctlError, match="disk I/O error"):
        forget_client(mapctl_home, 5001, now=LATER, delete_folder=True)
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert sorted(p.name for p in (mapctl_home / "clients").iterdir()) == [FOLDER]
    assert imported.answer_file.is_file()
    with Ledger.open(mapctl_home) as ledger:
        assert ledger.list_clients() == [imported.entry]
        assert ledger.list_forgotten() == []


def test_a_schema_1_ledger_is_migrated(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "clients.db")
    db.executescript(
        """
        CREATE TABLE clients (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, notes TEXT NOT NULL,
            clio_contact_id INTEGER NOT NULL UNIQUE, matter_id INTEGER,
            matter_display_number TEXT, answer_file TEXT NOT NULL, answer_sha256 TEXT NOT NULL,
            mapping_title TEXT NOT NULL, created_at TEXT NOT NULL);
        INSERT INTO clients VALUES (1, 'Jay Pritchett', '', 5001, 9002, '00002-Pritchett',
            '/x/Pritchett-Jay-5001/a.anx', 'ab', 'ILS Client Interview', '2026-03-02T10:00:00Z');
        PRAGMA user_version=1;
        """
    )
    db.close()
    with Ledger.open(tmp_path) as ledger:
        assert [e.name for e in ledger.list_clients()] == ["Jay Pritchett"]
        with ledger.forgetting(5001, "2026-03-05T09:15:00Z", folder_deleted=False) as entry:
            assert entry.clio_contact_id == 5001
        assert ledger.was_forgotten(5001)
    db = sqlite3.connect(tmp_path / "clients.db")
    assert (
        db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    )  # 4: + extra (issue 15)
    db.close()


def test_forget_then_import_again_through_clio(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path
) -> None:
    first = run_cli("import", MATTER, "--yes", state=at_noon(clio_env, mapctl_home))
    assert first.exit_code == 0, first.output
    refused = run_cli("import", MATTER, "--yes", env=clio_env)
    assert refused.exit_code == 1, refused.output
    forgot = run_cli("clients", "forget", "5001", "--yes", env=clio_env)
    assert forgot.exit_code == 0, forgot.output
    again = run_cli("import", MATTER, "--yes", env=clio_env)
    assert again.exit_code == 0, again.output
    assert f"folder:      {mapctl_home / 'clients' / FOLDER}-2\n" in again.stdout
