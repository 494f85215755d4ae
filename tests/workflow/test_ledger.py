"""The client ledger: one row per Clio contact, refusals that say where the client is, races."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from mapctl.engine.errors import ImportRefused, MapctlError
from mapctl.engine.workflow.ledger import SCHEMA_VERSION, ClientEntry, Ledger


def entry(contact_id: int = 5001, name: str = "Jay Pritchett", **changes: object) -> ClientEntry:
    values: dict[str, object] = {
        "name": name,
        "notes": "Imported from Clio matter 00002-Pritchett on 2026-03-02",
        "clio_contact_id": contact_id,
        "matter_id": 9002,
        "matter_display_number": "00002-Pritchett",
        "answer_file": f"/clients/Pritchett-Jay-{contact_id}/ils-client-interview.anx",
        "answer_sha256": "ab" * 32,
        "mapping_title": "ILS Client Interview",
        "created_at": "2026-03-02T10:00:00Z",
    }
    values.update(changes)
    return ClientEntry(**values)  # type: ignore[arg-type]


def test_record_then_find_and_list(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        assert ledger.list_clients() == []
        assert ledger.find_by_contact(5001) is None
        ledger.record(entry())
        ledger.record(entry(5010, "Phil Dunphy"))
    with Ledger.open(tmp_path) as ledger:  # persisted
        assert ledger.find_by_contact(5001) == entry()
        assert [c.name for c in ledger.list_clients()] == ["Jay Pritchett", "Phil Dunphy"]


def test_the_same_contact_twice_is_refused_with_where_and_when(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.record(entry())
        with pytest.raises(ImportRefused) as caught:
            ledger.record(entry(name="Jay P.", created_at="2026-04-01T00:00:00Z"))
        assert ledger.list_clients() == [entry()]
    assert str(caught.value) == (
        "Jay Pritchett (Clio contact 5001) already exists: created 2026-03-02T10:00:00Z from "
        "matter 00002-Pritchett; its answer file is "
        "/clients/Pritchett-Jay-5001/ils-client-interview.anx"
    )


def test_an_error_inside_reserve_rolls_the_row_back(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        with pytest.raises(OSError), ledger.reserve(entry()):
            raise OSError("disk full")
        assert ledger.list_clients() == []
        ledger.record(entry())  # the contact is free again
        assert len(ledger.list_clients()) == 1


def test_schema_is_versioned(tmp_path: Path) -> None:
    with Ledger.open(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / "clients.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(MapctlError, match="written by a newer mapctl"), Ledger.open(tmp_path):
        pass


def test_a_file_that_is_not_a_ledger_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "clients.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MapctlError, match="cannot use the client ledger"), Ledger.open(tmp_path):
        pass


def test_concurrent_inserts_of_one_contact_one_wins(tmp_path: Path) -> None:
    with Ledger.open(tmp_path):
        pass  # create the schema first, as any import does
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def insert(n: int) -> None:
        with Ledger.open(tmp_path) as ledger:
            barrier.wait()
            try:
                with ledger.reserve(entry(name=f"writer {n}")):
                    pass
                outcomes.append("won")
            except ImportRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["won"]
    with Ledger.open(tmp_path) as ledger:
        assert len(ledger.list_clients()) == 1


def test_opening_waits_while_another_connection_writes(tmp_path: Path) -> None:
    """`PRAGMA journal_mode=WAL` answers "database is locked" at once, without the busy
    timeout, while another mapctl holds a write lock (seen as a failed import when two ran at
    the same moment); opening the ledger must wait for the lock instead."""
    path = tmp_path / "clients.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE unrelated (a)")  # a file not yet in WAL mode...
    other.execute("BEGIN IMMEDIATE")  # ...that another writer holds
    other.execute("INSERT INTO unrelated VALUES (1)")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with Ledger.open(tmp_path) as ledger:
            assert ledger.list_clients() == []
    finally:
        release.join()
        other.close()
