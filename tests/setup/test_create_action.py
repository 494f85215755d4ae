"""Issue 19: `mapctl doctor --create-action` puts "Import to ILS" on Clio's matters once (running
it again changes nothing), doctor reports whether it exists and opens app_port, and the Clio
app's Notes and Custom Actions permissions; against the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.sandbox.server import Sandbox

from tests.clio.conftest import connect_via_cli


@pytest.fixture
def clio() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def setup_env(run_cli: Any, clio: Sandbox, tmp_path: Path, lines: str) -> dict[str, str]:
    settings = tmp_path / "settings.yaml"
    settings.write_text(lines)
    return {**connect_via_cli(run_cli, clio), "MAPCTL_SETTINGS": str(settings)}


def actions(clio: Sandbox) -> list[tuple[str, str, str]]:
    return [
        (a["label"], a["target_url"], a["ui_reference"]) for a in clio.store.custom_actions.values()
    ]


def check(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if name in line)


def test_create_action_once_then_nothing_changes(
    run_cli: Any, clio: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = setup_env(run_cli, clio, tmp_path, "app_port: 8770\n")
    before = run_cli("doctor", env=env)
    assert before.exit_code == 0, before.output
    assert (
        check(before.stdout, "Import to ILS")
        == "[warn] Clio custom action 'Import to ILS': not created"
    )
    assert check(before.stdout, "Clio notes") == (
        "[ok  ] Clio notes: the app may read notes (writing shows at the first import's note)"
    )
    made = run_cli("doctor", "--create-action", "--yes", env=env)
    assert made.exit_code == 0, made.output
    assert (
        "created Clio custom action 'Import to ILS' (id 40001): on matters, opens http://127.0.0.1:8770/clio/action"
        in made.stderr
    )
    assert check(made.stdout, "Import to ILS") == (
        "[ok  ] Clio custom action 'Import to ILS': on matters, opens "
        "http://127.0.0.1:8770/clio/action"
    )
    expected = [("Import to ILS", "http://127.0.0.1:8770/clio/action", "matters/show")]
    assert actions(clio) == expected
    again = run_cli("doctor", "--create-action", "--yes", env=env)
    assert again.exit_code == 0, again.output
    assert (
        "Clio custom action 'Import to ILS' already opens http://127.0.0.1:8770/clio/action: "
        "nothing changed." in again.stderr
    )
    assert actions(clio) == expected
    writes = [m for m, t in clio.requests if m in ("POST", "PATCH") and "/api/v4/" in t]
    assert writes == ["POST"]  # one write


def test_a_new_app_port_is_reported_then_the_action_follows_it(
    run_cli: Any, clio: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = setup_env(run_cli, clio, tmp_path, "app_port: 8770\n")
    assert run_cli("doctor", "--create-action", "--yes", env=env).exit_code == 0
    (tmp_path / "settings.yaml").write_text("app_port: 9001\n")
    moved = run_cli("doctor", env=env)
    assert moved.exit_code == 1, moved.output
    assert check(moved.stdout, "Import to ILS") == (
        "[FAIL] Clio custom action 'Import to ILS': opens http://127.0.0.1:8770/clio/action, "
        "not the app's port (http://127.0.0.1:9001/clio/action)"
    )
    fixed = run_cli("doctor", "--create-action", "--yes", env=env)
    assert fixed.exit_code == 0, fixed.output
    assert actions(clio) == [("Import to ILS", "http://127.0.0.1:9001/clio/action", "matters/show")]


def test_create_action_needs_app_port_and_asks_first(
    run_cli: Any, clio: Sandbox, tmp_path: Path, mapctl_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    env = setup_env(run_cli, clio, tmp_path, "# no app_port\n")
    no_port = run_cli("doctor", "--create-action", "--yes", env=env)
    assert no_port.exit_code == 1, no_port.output
    assert no_port.stderr == (
        "error: app_port is not set, so the action would not know where the app listens\n"
        "  hint: add app_port: 8770 (or another free port) to the settings file, then run "
        "`mapctl doctor --create-action` again\n"
    )
    assert actions(clio) == []
    (tmp_path / "settings.yaml").write_text("app_port: 8770\n")
    no_terminal = run_cli("doctor", "--create-action", env=env)
    assert no_terminal.exit_code == 2, no_terminal.output
    assert "pass --yes" in no_terminal.stderr
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    declined = run_cli("doctor", "--create-action", input="n\n", state=state)
    assert "Nothing was created." in declined.stderr
    assert actions(clio) == []


def test_doctor_reports_missing_permissions(
    run_cli: Any, clio: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = setup_env(run_cli, clio, tmp_path, "app_port: 8770\n")
    clio.forbidden.update({"notes", "custom_actions"})
    result = run_cli("doctor", env=env)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    at = lines.index(check(result.stdout, "Clio notes"))
    assert lines[at : at + 4] == [
        "[FAIL] Clio notes: the Clio app may not use notes (HTTP 403); imports would leave no "
        "note on the matter",
        "       hint: tick Notes (read and write) in the Clio app's permissions; after changing "
        "the Clio app's permissions run `mapctl connect` again; or set clio_note: false",
        '[FAIL] Clio custom actions: the Clio app may not use them (HTTP 403); "Import to ILS" '
        "cannot be put on matters",
        "       hint: tick Custom Actions in the Clio app's permissions; after changing the Clio "
        "app's permissions run `mapctl connect` again",
    ]


def test_app_port_must_be_a_port(run_cli: Any, tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("app_port: 70000\n")
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1, result.output
    assert (
        f"{settings}:1:11: error: 'app_port' must be a port number from 1 to 65535, got the number 70000"
        in result.stderr
    )
