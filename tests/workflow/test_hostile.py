"""What the attack tests broke in the import (issue 9), each now refused or cleaned: Clio ids past
64 bits, --out inside another client's folder or empty, a 33 MB error line at the prompt,
terminal escapes from Clio, a folder left unrecorded, and files others could read."""

from __future__ import annotations

import datetime
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.errors import FolderInTheWay, ImportRefused, MapctlError
from mapctl.engine.report import format_error
from mapctl.engine.workflow.importing import (
    check_not_imported,
    import_client,
    parse_removal,
    preview,
)
from mapctl.engine.workflow.importreport import format_import, format_preview
from mapctl.engine.workflow.ledger import Ledger

from .bundles import mapping, pritchett

NOW = datetime.datetime(2026, 3, 2, 10, 30, 5, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 2)


def run_import(home: Path, bundle: dict[str, Any] | None = None, **options: Any) -> Any:
    return import_client(bundle or pritchett(), mapping(), home=home, now=NOW, **options)


@pytest.mark.parametrize("client_id", [2**63, 2**64 + 5, -(2**63) - 1])
def test_a_clio_id_past_64_bits_is_refused_before_anything_is_written(
    mapctl_home: Path, client_id: int
) -> None:
    """It used to overflow sqlite (exit 4), on every re-run."""
    bundle = pritchett()
    bundle["matter"]["client"]["id"] = client_id
    bundle["contacts"][0]["id"] = client_id
    message = (
        f"Clio contact id {client_id} is outside the 64-bit range of Clio's ids; mapctl cannot "
        "record this client (nothing was written)"
    )
    with pytest.raises(MapctlError) as caught:
        check_not_imported(bundle, mapctl_home)
    assert caught.value.message == message
    with pytest.raises(MapctlError) as caught:
        run_import(mapctl_home, bundle)
    assert caught.value.message == message
    assert not (mapctl_home / "clients").exists()


def test_a_matter_id_past_64_bits_is_refused_too(mapctl_home: Path) -> None:
    bundle = pritchett()
    bundle["matter"]["id"] = 2**63
    with pytest.raises(MapctlError, match=r"^Clio matter id 9223372036854775808 is outside"):
        run_import(mapctl_home, bundle)
    assert not (mapctl_home / "clients" / "Pritchett-Jay-5001").exists()


def test_out_inside_another_clients_folder_is_refused(mapctl_home: Path) -> None:
    first = run_import(mapctl_home)
    other = pritchett()
    other["matter"]["client"]["id"] = other["contacts"][0]["id"] = 6001
    for inside in (first.folder, first.folder / "sub"):
        with pytest.raises(ImportRefused) as caught:
            run_import(mapctl_home, other, out_dir=inside)
        assert caught.value.message == (
            f"{inside} is inside the client folder {first.folder}: the new client's folder "
            "would be nested in another client's"
        )
    assert sorted(p.name for p in first.folder.iterdir()) == [
        "client.json",
        "ils-client-interview.anx",
    ]


def test_an_empty_out_is_a_usage_error(run_cli: Any) -> None:
    """`--out ""` silently meant the current folder."""
    result = run_cli("import", "00002-Pritchett", "--yes", "--out", "")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--out': is empty; give a folder (or leave --out out for the "
        "default folder)"
    )


def test_a_huge_range_at_the_prompt_gives_one_short_problem() -> None:
    """`2-999999` printed one problem per missing number: a 33 MB line."""
    shown = preview(pritchett(), mapping(), today=TODAY)
    assert parse_removal(shown, "2-999999") == (
        set(),
        "'2-999999' goes past the end of the list (#1 to #7) (nothing removed)",
    )
    _, problem = parse_removal(shown, " ".join(f"x{n}" for n in range(50_000)))
    assert problem is not None and len(problem) < 400
    assert problem.endswith("; 49990 more problems (nothing removed)")


ESCAPE = "\x1b]0;pwned\x07\x1b[2J"


def test_terminal_escapes_from_clio_never_reach_the_screen(mapctl_home: Path) -> None:
    """The tables were clean; the "Created client" (now "Ready for ILS") line and the refusal
    were not."""
    bundle = pritchett()
    bundle["matter"]["display_number"] = f"00002{ESCAPE}"
    bundle["contacts"][0]["name"] = f"Jay{ESCAPE} Pritchett"
    bundle["contacts"][1]["name"] = f"Gloria\nFAKE LINE{ESCAPE}"
    result = run_import(mapctl_home, bundle)
    shown = format_import(result)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown.splitlines()[0] == (
        "Ready for ILS: the answer file for Jay ]0;pwned  [2J Pritchett (Clio contact 5001)"
    )
    listing = format_preview(preview(bundle, mapping(), today=TODAY))
    assert "\x1b" not in listing and "FAKE LINE" not in listing.splitlines()[0]
    with pytest.raises(ImportRefused) as caught:
        check_not_imported(bundle, mapctl_home)
    refusal = format_error(caught.value)
    assert "\x1b" not in refusal and "\x07" not in refusal
    assert refusal.startswith("error: Jay ]0;pwned  [2J Pritchett (Clio contact 5001) already")


def test_an_unrecorded_client_folder_is_refused_without_advice_to_move_it(
    mapctl_home: Path,
) -> None:
    """A client folder no ledger records may be a finished import (another workstation's before
    the shared ledger existed, an older mapctl's): the refusal says what it holds, and never
    advises moving it (issue 15: following `mv` made a duplicate client in ILS)."""
    result = run_import(mapctl_home)
    with Ledger.open(mapctl_home) as ledger:  # as an older mapctl killed mid-import left it
        ledger._db.execute("DELETE FROM clients")
    with pytest.raises(FolderInTheWay) as caught:
        run_import(mapctl_home)
    folder = result.folder
    shown = format_error(caught.value)
    assert shown.startswith(
        f"error: {folder} already holds a client of Clio contact 5001 that no ledger records: "
        "Jay Pritchett, created 2026-03-02T10:30:05Z from matter 00002-Pritchett; its answer "
        f"file is {folder / 'ils-client-interview.anx'}\n  hint: it is probably a client created "
        "earlier"
    )
    assert "mv " not in shown and "move" not in shown and "rename" not in shown
    assert "open it in ILS instead" in shown


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX modes and umask: on Windows a file takes its folder's ACL (docs/windows.md)",
)
def test_everything_an_import_writes_is_private_even_under_umask_0(
    tmp_path: Path, open_umask: None
) -> None:
    home = tmp_path / "new-home"
    result = run_import(home)
    assert mode(home) == 0o700
    assert mode(home / "clients") == 0o700
    assert mode(result.folder) == 0o700
    assert mode(home / "clients.db") == 0o600
    assert mode(home / "clients.lock") == 0o600
    for name in ("clients.db-wal", "clients.db-shm"):
        if (home / name).exists():
            assert mode(home / name) == 0o600
    assert {mode(p) for p in result.folder.iterdir()} == {0o600}
    assert json.loads((result.folder / "client.json").read_text())["clio_contact_id"] == 5001


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX modes: on Windows a file takes its folder's ACL (docs/windows.md)",
)
def test_a_ledger_an_older_mapctl_left_world_readable_is_tightened(tmp_path: Path) -> None:
    with Ledger.open(tmp_path):
        pass
    os.chmod(tmp_path / "clients.db", 0o644)
    with Ledger.open(tmp_path):
        pass
    assert mode(tmp_path / "clients.db") == 0o600


def test_a_ledger_of_schema_1_gains_the_pending_table_and_keeps_its_clients(
    tmp_path: Path,
) -> None:
    import sqlite3

    from mapctl.engine.workflow.ledger import _SCHEMA

    db = sqlite3.connect(tmp_path / "clients.db")
    db.execute(_SCHEMA)
    db.execute(
        "INSERT INTO clients (name, notes, clio_contact_id, matter_id, matter_display_number, "
        "answer_file, answer_sha256, mapping_title, created_at) VALUES "
        "('Jay Pritchett', '', 5001, 9002, '00002-Pritchett', '/x/a.anx', 'ab', 'T', 'now')"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with Ledger.open(tmp_path) as ledger:
        assert [e.clio_contact_id for e in ledger.list_clients()] == [5001]
        assert not ledger.is_pending(5001)
        ledger.recover()  # nothing pending: the client stays
        assert [e.name for e in ledger.list_clients()] == ["Jay Pritchett"]


def test_a_folder_made_by_a_race_winner_is_refused_as_already_imported(
    mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser of a race passes the first ledger check, then finds the winner's folder: the
    refusal says the client exists (true), not that the folder was never recorded."""
    from mapctl.engine.workflow import importing

    run_import(mapctl_home)
    real = importing._refuse_existing
    calls: list[int] = []

    def first_check_before_the_winner(ledger: Ledger, client_id: int, *firm: Any) -> None:
        calls.append(client_id)
        if len(calls) > 1:
            real(ledger, client_id, *firm)

    monkeypatch.setattr(importing, "_refuse_existing", first_check_before_the_winner)
    with pytest.raises(ImportRefused) as caught:
        run_import(mapctl_home)
    assert str(caught.value).startswith("Jay Pritchett (Clio contact 5001) already exists")
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(
        "mapctl creates new clients only; open the existing client in ILS instead"
    )


def test_a_pending_mark_whose_client_was_forgotten_meanwhile_does_not_block_a_reimport(
    mapctl_home: Path,
) -> None:
    run_import(mapctl_home)
    with Ledger.open(mapctl_home) as ledger:  # a kill between the insert and the forget...
        ledger._db.execute("INSERT INTO pending VALUES (5001)")
        with ledger.forgetting(5001, "2026-03-05T09:15:00Z", folder_deleted=False):
            pass
        ledger.recover()
        assert not ledger.is_pending(5001)
    again = run_import(mapctl_home)  # next to the kept folder
    assert again.folder == mapctl_home / "clients" / "Pritchett-Jay-5001-2"
