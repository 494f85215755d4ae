"""MAPCTL_HOME follows no links (issue 17 items 14 and 15): a link planted where mapctl keeps a
file is refused (exit 1) and the file it points at is neither changed nor created; a settings
file that is not one is reported without a line of it."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.sandbox.server import Sandbox, connect_home

from ..clio.test_boundary import clean_failure

pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or not hasattr(os, "symlink"),
    reason="needs symbolic links (on Windows they need a privilege; Wine makes none)",
)


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with Sandbox() as running:
        yield running


def link(home: Path, name: str, target: Path) -> Path:
    path = home / name
    path.unlink(missing_ok=True)
    os.symlink(target, path)
    return path


def refused(result: Any, path: Path) -> None:
    lines = clean_failure(result, code=1)
    assert lines[0] == (
        f"error: {path} is a symbolic link; mapctl does not follow links in its home folder"
    )


def test_a_ledger_link_is_refused_and_its_target_keeps_its_mode(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    env = connect_home(sandbox, mapctl_home)
    target = tmp_path / "precious.txt"
    target.write_text("not a ledger\n")
    target.chmod(0o644)
    path = link(mapctl_home, "clients.db", target)
    result = run_cli("import", "9002", "--yes", "--out", str(tmp_path / "out"), env=env)
    refused(result, path)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == "not a ledger\n"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("name", ["clients.lock", "clients.db-wal", "clients.db-journal"])
def test_a_dangling_link_beside_the_ledger_creates_nothing(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, sandbox: Sandbox, name: str
) -> None:
    env = connect_home(sandbox, mapctl_home)
    target = tmp_path / "elsewhere" / "created-by-mapctl"
    target.parent.mkdir()
    path = link(mapctl_home, name, target)
    result = run_cli("import", "9002", "--yes", "--out", str(tmp_path / "out"), env=env)
    refused(result, path)
    assert not target.exists()


def test_a_token_store_link_is_refused(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    env = connect_home(sandbox, mapctl_home)
    real = tmp_path / "tokens.json"
    (mapctl_home / "clio-token.json").rename(real)
    path = link(mapctl_home, "clio-token.json", real)
    refused(run_cli("search", "Pritchett", env=env), path)
    before = real.read_bytes()
    result = run_cli("connect", "--print-url", env=env)  # writes the OAuth state, not this
    assert result.exit_code == 0, result.output
    assert real.read_bytes() == before


def test_redaction_key_and_state_links_are_refused(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    env = connect_home(sandbox, mapctl_home)
    key = link(mapctl_home, "redact.key", tmp_path / "nowhere.key")
    refused(run_cli("fetch", "9002", "--redact", env=env), key)
    assert not (tmp_path / "nowhere.key").exists()
    state = link(mapctl_home, "clio-oauth-state.json", tmp_path / "state.json")
    refused(run_cli("connect", "--print-url", env=env), state)
    assert not (tmp_path / "state.json").exists()


def test_a_settings_link_in_home_is_refused(
    run_cli: Any, mapctl_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "settings.yaml"
    target.write_text("mapping: ils-client-interview\n")
    path = link(mapctl_home, "settings.yaml", target)
    refused(run_cli("settings"), path)


SECRETS = "root:x:0:0:root:/root:/bin/bash\naws_secret_access_key = AKIA-SECRET-LINE\n"


@pytest.mark.parametrize(
    "content",
    [
        SECRETS,
        "apiVersion: v1\nkind: Secret\ndata:\n  password: SECRET-LINE\n",
        "- SECRET-LINE\n- [unclosed\n",
        "[section]\nkey = SECRET-LINE\n",
    ],
)
def test_a_settings_file_that_is_not_one_shows_none_of_its_lines(
    run_cli: Any, tmp_path: Path, content: str
) -> None:
    target = tmp_path / "private"
    target.write_text(content)
    settings = tmp_path / "settings.yaml"
    os.symlink(target, settings)
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1, result.output
    assert "SECRET" not in result.output and "root:" not in result.output
    assert result.stderr.splitlines()[0] == (
        f"{settings}:1:1: error: this is not a mapctl settings file (no `key: value` line with "
        "a known setting); its content is not shown"
    )


def test_a_real_settings_file_still_shows_the_line_at_fault(run_cli: Any, tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("mapping: ils-client-interview\nouput_folder: /srv/ils\n")
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1
    assert "2 | ouput_folder: /srv/ils" in result.stderr
