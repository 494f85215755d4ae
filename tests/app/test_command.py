"""`mapctl app` on the command line: the one printed line, --demo on a fresh machine, Ctrl-C,
loopback by default, and refusals before anything listens."""

from __future__ import annotations

import html
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.clio.auth import Tokens, TokenStore

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^mapctl app: (http://127\.0\.0\.1:\d+/s/[\w-]{20,}/\?token=[\w-]{40,})$")


@pytest.mark.skipif(
    sys.platform == "win32", reason="Ctrl-C as SIGINT to a child process is POSIX-only"
)
def test_demo_serves_until_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPCTL_", "CLIO_"))}
    env.update(HOME=str(tmp_path / "user"), TMPDIR=str(tmp_path))
    child = subprocess.Popen(
        [sys.executable, "-m", "mapctl", "app", "--demo", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline().rstrip("\n")
        match = LINE.match(line)
        assert match, line
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            page = browser.get(match[1])
            assert page.status_code == 200 and "Search Matters" in page.text
            assert str(page.url).endswith("/search")  # the token left the address
            found = browser.get(str(page.url) + "?q=Pritchett")
            assert "00002-Pritchett" in found.text
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mapctl-")]  # its home
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()  # reaped and its pipes closed: no warning in the next test
    assert child.returncode == 0, err
    assert out == ""  # nothing after the one line
    assert err.strip().endswith("mapctl app stopped")
    assert "Traceback" not in err
    assert not (tmp_path / "user").exists()  # ~/.mapctl untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mapctl-")] == []


def test_another_host_needs_allow_remote(run_cli: Any) -> None:
    result = run_cli("app", "--host", "0.0.0.0", "--no-browser")
    assert result.exit_code == 2, result.output
    assert "--host 0.0.0.0 would let other machines reach the app; pass --allow-remote" in (
        result.stderr
    )


def test_allow_remote_warns(run_cli: Any) -> None:
    # 192.0.2.1 (TEST-NET) is no address of this machine: the warning, then a clear refusal
    result = run_cli("app", "--host", "192.0.2.1", "--allow-remote", "--no-browser")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        "warning: mapctl app listens on 192.0.2.1: anyone who can reach it and has the address "
        "printed below can import clients\nerror: mapctl app cannot listen on 192.0.2.1:0"
    )
    assert result.stdout == ""


def test_a_bad_mapping_stops_before_serving(run_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "firm.yaml"
    bad.write_text("version: 1\nanswers: [\n")
    result = run_cli("app", "-m", str(bad), "--no-browser")
    assert result.exit_code == 1, result.output
    assert f"{bad}:" in result.stderr and result.stdout == ""


def test_the_demo_never_touches_an_existing_connection(
    run_cli: Any, mapctl_home: Path, monkeypatch: Any
) -> None:
    """Paper cut 2 (issue 15): --demo replaced a home's connection to another local Clio, and
    refused one to a real Clio. It now keeps its connection in a folder of its own."""
    import mapctl.commands.app

    served: list[Any] = []
    monkeypatch.setattr(
        mapctl.commands.app, "_serve_app", lambda config, *args: served.append(config)
    )
    for base in ("https://app.clio.com", "http://127.0.0.1:8765"):
        tokens = Tokens("a", "r", time.time() + 3600, base, "key", "secret")
        TokenStore(mapctl_home).save(tokens)
        result = run_cli("app", "--demo", "--no-browser")
        assert result.exit_code == 0, result.output
        assert TokenStore(mapctl_home).load() == tokens
        assert served[-1].home != mapctl_home and not served[-1].home.exists()  # removed
        assert served[-1].out_dir == served[-1].home / "clients"  # never the firm's folder


def _demo(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPCTL_", "CLIO_"))}
    env.update(
        HOME=str(tmp_path / "user"), TMPDIR=str(tmp_path), MAPCTL_HOME=str(tmp_path / "home")
    )
    return subprocess.Popen(
        [sys.executable, "-m", "mapctl", "app", "--demo", "--no-browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip


def _demo_folders(tmp_path: Path) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("mapctl-")]


@pytest.mark.skipif(
    sys.platform == "win32", reason="Ctrl-C as SIGINT to a child process is POSIX-only"
)
def test_a_second_demo_that_cannot_start_changes_nothing(tmp_path: Path) -> None:
    """Paper cut 2 (issue 15): a second `mapctl app --demo` on a port in use rewrote the
    connection in that MAPCTL_HOME, breaking the running app."""
    first = _demo(tmp_path)
    try:
        assert first.stdout is not None
        match = LINE.match(first.stdout.readline().rstrip("\n"))
        assert match, first.stderr.read() if first.stderr else ""
        port = match[1].split(":")[2].split("/")[0]
        second = _demo(tmp_path, "--port", port)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in err, err
        with httpx.Client(follow_redirects=True, timeout=20) as browser:  # the first still works
            found = browser.get(match[1]).url.copy_with(query=b"q=Pritchett")
            assert "00002-Pritchett" in browser.get(found).text
        assert len(_demo_folders(tmp_path)) == 1  # the second left nothing behind
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert _demo_folders(tmp_path) == []
    assert not (tmp_path / "home").exists()  # MAPCTL_HOME untouched


@pytest.mark.skipif(sys.platform == "win32", reason="Windows' terminate() cannot be caught")
def test_sigterm_stops_the_demo_and_removes_its_folder(tmp_path: Path) -> None:
    """Paper cut 10 (issue 15): SIGTERM left the demo's temporary folder."""
    child = _demo(tmp_path)
    try:
        assert child.stdout is not None
        assert LINE.match(child.stdout.readline().rstrip("\n"))
        assert len(_demo_folders(tmp_path)) == 1
        child.terminate()
        _, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert err.strip().endswith("mapctl app stopped") and "Traceback" not in err
    assert _demo_folders(tmp_path) == []


def test_the_app_uses_the_settings_like_import(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    import mapctl.commands.app

    firm = tmp_path / "firm"
    (firm / "mappings").mkdir(parents=True)
    (firm / "mappings" / "firm.yaml").write_text(
        "version: 1\nextends: ils-client-interview.yaml\ntitle: Firm Interview\n"
    )
    settings = firm / "settings.yaml"
    settings.write_text(
        "mapping: mappings/firm.yaml\noutput_folder: ../share/clients\nclio_region: eu\n"
        "app_key: firm-app-key\n"
    )
    served: list[Any] = []
    monkeypatch.setattr(
        mapctl.commands.app, "_serve_app", lambda config, *args: served.append(config)
    )
    result = run_cli("app", "--no-browser", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 0, result.output
    (config,) = served
    assert config.home == mapctl_home
    assert config.out_dir == tmp_path / "share" / "clients"
    assert config.mapping.title == "Firm Interview"
    assert config.mapping_name.startswith(str(firm / "mappings" / "firm.yaml") + ", set in ")
    assert config.env["CLIO_BASE_URL"] == "https://eu.app.clio.com"
    assert config.env["CLIO_CLIENT_ID"] == "firm-app-key"
    served.clear()
    result = run_cli("app", "--no-browser", "--out", str(tmp_path / "here"), "-m", "ils-client-interview.yaml",
                     env={"MAPCTL_SETTINGS": str(settings)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert served[0].out_dir == tmp_path / "here"
    assert served[0].mapping.title == "ILS Client Interview"


def test_app_port_and_clio_note_from_the_settings(
    run_cli: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Issue 19: `mapctl app` listens on app_port unless --port says otherwise; Add Client's
    note checkbox starts from clio_note."""
    import mapctl.commands.app

    settings = tmp_path / "settings.yaml"
    settings.write_text("app_port: 8770\nclio_note: false\n")
    served: list[tuple[Any, int]] = []
    monkeypatch.setattr(
        mapctl.commands.app,
        "_serve_app",
        lambda config, host, port, *args: served.append((config, port)),
    )
    env = {"MAPCTL_SETTINGS": str(settings)}
    assert run_cli("app", "--no-browser", env=env).exit_code == 0
    assert run_cli("app", "--no-browser", "--port", "0", env=env).exit_code == 0
    settings.write_text("# nothing\n")
    assert run_cli("app", "--no-browser", env=env).exit_code == 0
    assert [(config.clio_note, port) for config, port in served] == [
        (False, 8770),
        (False, 0),
        (True, 0),
    ]


FAKE_BROWSER = """#!{python}
import sys
with open({record!r}, "a", encoding="utf-8") as out:
    out.write(repr(sys.argv) + "\\n")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the fake launcher is a POSIX script")
def test_the_browser_is_opened_without_the_secret_on_its_command_line(tmp_path: Path) -> None:
    """Issue 18, item 16: every local user can read a process's argv (`ps`); the launcher gets
    a 0600 file's address that forwards to the app, never the address with the token."""
    record = tmp_path / "argv.txt"
    launcher = tmp_path / "fake-browser"
    launcher.write_text(FAKE_BROWSER.format(python=sys.executable, record=str(record)))
    launcher.chmod(0o755)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPCTL_", "CLIO_"))}
    env.update(HOME=str(tmp_path / "user"), MAPCTL_HOME=str(home), BROWSER=str(launcher))
    child = subprocess.Popen(
        [sys.executable, "-m", "mapctl", "app"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        match = LINE.match(child.stdout.readline().rstrip("\n"))
        assert match, "no address printed"
        url = match[1]
        token = url.split("token=")[1]
        secret_path = url.split("/s/")[1].split("/")[0]
        for _ in range(200):
            if record.exists() and record.read_text():
                break
            time.sleep(0.05)
        argv = record.read_text()
        assert token not in argv and secret_path not in argv
        (opened,) = re.findall(r"'(file://[^']+)'", argv)
        page = Path(opened.removeprefix("file://"))
        assert page.parent == home
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
        forward = re.search(r'content="0;url=([^"]+)"', page.read_text())
        assert forward is not None and html.unescape(forward[1]) == url
        with httpx.Client(follow_redirects=True, timeout=20) as browser:
            assert "Connect to Clio" in browser.get(url).text  # not connected yet
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0
    assert not page.exists()  # removed when the app stops
