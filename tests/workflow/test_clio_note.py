"""Issue 19: the note on the Clio matter after an import, over real HTTP to the sandbox: written
by default, none with --no-note or `clio_note: false`, a refused note leaving the import whole
with a warning (exit 0) and the failure in `mapctl clients`, written later by `mapctl clients
note`; `clients forget` leaves a note too."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.cli import AppState
from mapctl.engine.sandbox.server import Sandbox

from tests.workflow.test_e2e import COMPANY, MATTER

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of each test's own: the notes on its matter are this test's."""
    with Sandbox() as running:
        yield running


def at_noon(env: dict[str, str], home: Path) -> AppState:
    return AppState(env={"MAPCTL_HOME": str(home), **env}, interactive=False, now=lambda: NOON)


def notes(sandbox: Sandbox, matter: int = 9002) -> list[dict[str, Any]]:
    """The matter's notes as Clio lists them, the seed's "Intake call" left out."""
    token = sandbox.issue_tokens()["access_token"]
    body = httpx.get(
        f"{sandbox.base_url}/api/v4/notes.json",
        params={
            "type": "Matter",
            "matter_id": str(matter),
            "fields": "id,subject,detail,author{name}",
        },
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return [n for n in body["data"] if n["subject"] != "Intake call"]


def test_a_note_is_written_for_an_import(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    result = run_cli(
        "import", MATTER, "--yes", "--exclude", str(COMPANY), "--role", "5014=Child",
        state=at_noon(clio_env, mapctl_home),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Clio: a note on matter 00002-Pritchett records the import." in result.stdout
    (note,) = notes(sandbox)
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    assert note["subject"] == "Imported to ILS: Jay Pritchett"
    assert note["author"] == {"name": "Sam Sandbox"}
    lines = note["detail"].splitlines()
    assert lines[0] == (
        "Jay Pritchett was imported to InterActive LegalSuite (ILS) as a new client by mapctl."
    )
    assert lines[1:6] == [
        f"Who: Sam Sandbox (Clio user), on the computer {socket.gethostname()}",
        "When: 2026-03-02 12:00 UTC",
        "Answer file: ils-client-interview.anx",
        f"Folder: {folder}",
        lines[5],
    ]
    assert lines[5].startswith("Answers pre-filled: ") and " of 53" in lines[5]
    assert lines[6] == "Contacts removed: Pritchett's Closets & Blinds (5015)"
    assert lines[7].startswith("Roles set by hand: ") and "(5014): Child" in lines[7]
    assert lines[8].startswith("Required answers still missing: ")
    listed = json.loads(run_cli("clients", "--format", "json", env=clio_env).stdout)
    assert listed[0]["clio_note"]["status"] == "written"
    assert listed[0]["clio_note"]["note_id"] == note["id"]


def test_no_note_with_no_note(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    before = len(sandbox.requests)
    result = run_cli("import", MATTER, "--yes", "--no-note", env=clio_env)
    assert result.exit_code == 0, result.output
    assert "Clio:" not in result.stdout and result.stderr == ""
    sent = [t for _, t in sandbox.requests[before:]]
    assert not [t for t in sent if "/notes" in t or "who_am_i" in t]
    assert notes(sandbox) == []
    listed = json.loads(run_cli("clients", "--format", "json", env=clio_env).stdout)
    assert listed[0]["clio_note"]["status"] == "off"


def test_no_note_with_the_setting_off_and_note_wins(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("clio_note: false\n")
    env = {**clio_env, "MAPCTL_SETTINGS": str(settings)}
    shown = json.loads(run_cli("settings", "--format", "json", env=env).stdout)
    assert (shown["clio_note"]["value"], shown["clio_note"]["line"]) == ("false", 1)
    assert run_cli("import", MATTER, "--yes", env=env).exit_code == 0
    assert notes(sandbox) == []
    assert run_cli("import", "9003", "--yes", "--note", env=env).exit_code == 0
    assert [n["subject"] for n in notes(sandbox, 9003)] == [
        "Imported to ILS: Pritchett's Closets & Blinds"
    ]


@pytest.mark.parametrize("value", ["maybe", "1", "[true]"])
def test_clio_note_must_be_true_or_false(run_cli: Any, tmp_path: Path, value: str) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"clio_note: {value}\n")
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1, result.output
    assert f"{settings}:1:12: error: 'clio_note' must be true or false, got " in result.stderr


NEEDS = (
    "it needs the Clio app's Notes (write) permission (in Clio's developer portal, open "
    "mapctl's app and tick the Notes (write) permission, then run `mapctl connect` again (Clio "
    "applies a changed permission only when the app is authorized again); if it is ticked, the "
    "Clio user's role may not allow it: ask a Clio administrator)"
)


def test_a_refused_note_leaves_the_import_whole_with_a_warning(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    sandbox.forbidden.add("notes")  # the Clio app lacks the Notes permission
    result = run_cli("import", MATTER, "--yes", state=at_noon(clio_env, mapctl_home))
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: the import is complete, but Clio did not take the note on the matter: Clio "
        f"refused access to notes (HTTP 403: User is forbidden from taking that action); {NEEDS}\n"
        "  hint: write it later with: mapctl clients note 5001\n"
    )
    folder = mapctl_home / "clients" / "Pritchett-Jay-5001"
    assert (folder / "ils-client-interview.anx").is_file()
    assert "Ready for ILS" in result.stdout
    table = run_cli("clients", env=clio_env)
    assert table.exit_code == 0, table.output
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[-4:-2] == ["Clio", "note"] and row.split()[-2] == "failed"
    assert table.stdout.endswith(
        "Clio note missing for Jay Pritchett (matter 00002-Pritchett): Clio refused access to "
        f"notes (HTTP 403: User is forbidden from taking that action); {NEEDS}\n"
        "  write it now: mapctl clients note 5001\n"
    )
    listed = json.loads(run_cli("clients", "--format", "json", env=clio_env).stdout)
    assert listed[0]["clio_note"]["status"] == "failed"
    # Still refused: exit 3, and the ledger keeps the failure.
    still = run_cli("clients", "note", "5001", env=clio_env)
    assert still.exit_code == 3, still.output
    assert [n["subject"] for n in sandbox.store.notes.values()] == ["Intake call"]
    # The permission given: the note goes on, with the words composed at the import.
    sandbox.forbidden.clear()
    retried = run_cli("clients", "note", "5001", env=clio_env)
    assert retried.exit_code == 0, retried.output
    assert retried.stdout.startswith("Clio: the note is on the matter now (note ")
    (note,) = notes(sandbox)
    assert "When: 2026-03-02 12:00 UTC" in note["detail"]
    table = run_cli("clients", env=clio_env).stdout
    assert "Clio note missing" not in table
    assert table.splitlines()[1].split()[-2] == "written"  # this home's record: the column too
    again = run_cli("clients", "note", "5001", env=clio_env)
    assert again.exit_code == 1, again.output
    assert again.stderr.startswith("error: the note for Jay Pritchett is already on the matter")


def test_clio_down_after_the_import_is_a_warning(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    """The fetch works, then every request fails (Clio down): the note's who_am_i gets 500s."""
    sandbox.failure_rate = 0.0
    original = sandbox.api.handle

    def down_for_notes(path: str, *args: Any, **kwargs: Any) -> Any:
        if "who_am_i" in path or "notes" in path:
            from mapctl.engine.sandbox.api import Response

            return Response(503, {"error": {"type": "Unavailable", "message": "down"}})
        return original(path, *args, **kwargs)

    sandbox.api.handle = down_for_notes  # type: ignore[method-assign]
    result = run_cli("import", MATTER, "--yes", env={**clio_env, "MAPCTL_DEBUG": ""})
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "warning: the import is complete, but Clio did not take the note on the matter: Clio "
        "failed with HTTP 503"
    )
    assert (mapctl_home / "clients" / "Pritchett-Jay-5001").is_dir()


def test_forget_leaves_a_note(
    run_cli: Any, clio_env: dict[str, str], mapctl_home: Path, sandbox: Sandbox
) -> None:
    assert run_cli("import", MATTER, "--yes", "--no-note", env=clio_env).exit_code == 0
    result = run_cli("clients", "forget", "5001", "--yes", state=at_noon(clio_env, mapctl_home))
    assert result.exit_code == 0, result.output
    assert "Clio: a note on the matter says it may be imported again" in result.stdout
    (note,) = notes(sandbox)
    assert note["subject"] == "ILS import forgotten: Jay Pritchett"
    assert note["detail"].splitlines()[:3] == [
        "mapctl forgot the ILS client Jay Pritchett (Clio contact 5001): this matter's client "
        "may be imported to ILS again.",
        f"Who: Sam Sandbox (Clio user), on the computer {socket.gethostname()}",
        "When: 2026-03-02 12:00 UTC",
    ]
