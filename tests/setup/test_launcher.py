"""`mapctl launcher [FOLDER] [--startup]`: the file staff double-click to open the staff app
(issue 16). The launcher made here is run for real (through cmd.exe on Windows) and must start
the app; it never replaces a file without --force."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.commands.launcher import windows_launcher

WINDOWS = sys.platform == "win32"
LINE = re.compile(r"^mapctl app: (http://127\.0\.0\.1:\d+/s/[\w-]{20,}/\?token=[\w-]{40,})$")


def first_line(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """The first line `process` prints, or "" after `timeout` seconds."""
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.daemon = True
    reader.start()
    reader.join(timeout)
    return lines[0].rstrip("\r\n") if lines else ""


def _winproc() -> Any:
    """scripts/windows/winproc.py (its `kill_tree`), shared with the Windows smoke run."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "windows" / "winproc.py"
    spec = importlib.util.spec_from_file_location("mapctl_winproc_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kill_tree = _winproc().kill_tree


def test_the_launcher_starts_the_app(run_cli: Any, tmp_path: Path) -> None:
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    made = run_cli("launcher", str(desktop))
    assert made.exit_code == 0, made.output
    (launcher,) = desktop.iterdir()
    assert launcher.name == ("mapctl app.cmd" if WINDOWS else "mapctl-app")
    assert made.stdout == f"launcher: {launcher}\n"
    # what a double-click does, with the app's own options added
    run = ["cmd.exe", "/c", str(launcher)] if WINDOWS else [str(launcher)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPCTL_", "CLIO_"))}
    env.update(HOME=str(tmp_path / "user"), TMPDIR=str(tmp_path))
    child = subprocess.Popen(
        [*run, "--demo", "--no-browser"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        line = first_line(child)
        match = LINE.match(line)
        assert match, line
        page = httpx.get(match[1], follow_redirects=True, timeout=30)
        assert page.status_code == 200 and "Search Matters" in page.text
    finally:
        kill_tree(child.pid)  # Windows: the app cmd.exe started
        child.kill()
        child.communicate()
    if not WINDOWS:  # `exec`: the script became the app, and the kill reached it
        assert os.access(launcher, os.X_OK)


def test_an_existing_launcher_is_kept_unless_force(run_cli: Any, tmp_path: Path) -> None:
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    run_cli("launcher", str(desktop))
    (launcher,) = desktop.iterdir()
    launcher.write_bytes(b"mine")
    again = run_cli("launcher", str(desktop))
    assert again.exit_code == 1
    assert f"{launcher} already exists" in again.stderr and "--force" in again.stderr
    assert launcher.read_bytes() == b"mine"
    forced = run_cli("launcher", str(desktop), "--force")
    assert forced.exit_code == 0, forced.output
    assert b"-m mapctl app" in launcher.read_bytes()


def test_a_missing_folder_or_desktop_is_an_input_error(run_cli: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run_cli("launcher", str(missing))
    assert (result.exit_code, result.stderr) == (1, f"error: {missing}: no such folder\n")
    profile = tmp_path / "profile"
    profile.mkdir()
    result = run_cli("launcher", env={"USERPROFILE": str(profile), "HOME": str(profile)})
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {profile / 'Desktop'}: no Desktop folder here\n")
    assert "mapctl launcher FOLDER" in result.stderr


def test_the_cmd_file_runs_this_python_and_survives_cmd_quoting() -> None:
    python = r"C:\Users\Łukasz 100%\mapctl\Scripts\python.exe"
    text = windows_launcher(python, at_login=False)
    assert b"\n" not in text.replace(b"\r\n", b"")  # CRLF only, as cmd.exe expects
    lines = text.decode("utf-8").split("\r\n")
    assert lines[:2] == ["@echo off", "chcp 65001 >nul"]  # a path beyond ASCII: read as UTF-8
    assert r'"C:\Users\Łukasz 100%%\mapctl\Scripts\python.exe" -m mapctl app %*' in lines
    assert "if errorlevel 1 pause" in lines  # an error stays on screen
    at_login = windows_launcher(r"C:\Python311\python.exe", at_login=True).decode().split("\r\n")
    assert "chcp 65001 >nul" not in at_login
    assert (
        'start "mapctl app" /min "C:\\Python311\\python.exe" -m mapctl app --no-browser %*'
        in at_login
    )


@pytest.mark.skipif(WINDOWS, reason="elsewhere than Windows --startup is refused")
def test_startup_is_for_windows(run_cli: Any, tmp_path: Path) -> None:
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    result = run_cli("launcher", str(desktop), "--startup")
    assert result.exit_code == 2
    assert "--startup is for Windows (its Startup folder)" in result.stderr
    assert list(desktop.iterdir()) == []


@pytest.mark.skipif(not WINDOWS, reason="the Startup folder is Windows'")
def test_startup_puts_one_in_the_startup_folder(run_cli: Any, tmp_path: Path) -> None:
    appdata = tmp_path / "AppData" / "Roaming"
    startup = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    startup.mkdir(parents=True)
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    result = run_cli("launcher", str(desktop), "--startup", env={"APPDATA": str(appdata)})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"launcher: {desktop / 'mapctl app.cmd'}",
        f"launcher: {startup / 'mapctl app.cmd'}",
    ]
    assert b"--no-browser" in (startup / "mapctl app.cmd").read_bytes()
