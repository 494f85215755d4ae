"""`mapctl launcher`: a file staff double-click to open the staff app, no terminal needed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .base import AppState, reporting

WINDOWS_NAME = "mapctl app.cmd"
POSIX_NAME = "mapctl-app"
# Windows' per-user Startup folder, under %APPDATA%: what is there starts at log-in.
STARTUP = ("Microsoft", "Windows", "Start Menu", "Programs", "Startup")


def _cmd_quote(text: str) -> str:
    """One argument of a .cmd line: in double quotes, `%` doubled (cmd expands %VAR% even there)."""
    return '"' + text.replace("%", "%%") + '"'


def windows_launcher(python: str, *, at_login: bool) -> bytes:
    """The .cmd file: runs `python -m mapctl app` with any arguments given to the file. Opened by
    hand it keeps its window (closing it stops the app; on an error it waits for a key so the
    message can be read); at log-in it starts the app minimised, without opening a browser."""
    lines = ["@echo off"]
    if not python.isascii():
        # cmd reads a .cmd file in the console's code page; UTF-8 for a path beyond ASCII.
        lines.append("chcp 65001 >nul")
    if at_login:
        lines += [
            "rem Starts mapctl's staff app at log-in, minimised, without opening the browser",
            "rem (made by `mapctl launcher --startup`; delete this file to stop that).",
            f'start "mapctl app" /min {_cmd_quote(python)} -m mapctl app --no-browser %*',
        ]
    else:
        lines += [
            "rem Opens mapctl's staff app in the browser; closing this window stops the app.",
            "rem Made by `mapctl launcher`.",
            "title mapctl app",
            f"{_cmd_quote(python)} -m mapctl app %*",
            "if errorlevel 1 pause",
        ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def posix_launcher(python: str) -> bytes:
    import shlex

    return (
        "#!/bin/sh\n"
        "# Opens mapctl's staff app in the browser; Ctrl-C stops it. Made by `mapctl launcher`.\n"
        f'exec {shlex.quote(python)} -m mapctl app "$@"\n'
    ).encode()


def _write(path: Path, data: bytes, force: bool) -> None:
    from ..engine import fsutil
    from ..engine.errors import MapctlError

    if not path.parent.is_dir():
        raise MapctlError(f"{path.parent}: no such folder")
    if path.is_dir():
        raise MapctlError(f"{path}: a folder is in the way")
    fsutil.write_new(
        path,
        data,
        mode=0o755,
        overwrite=force,
        hint="pass --force to replace it",
    )


@click.command("launcher")
@click.argument(
    "folder", required=False, type=click.Path(file_okay=False, dir_okay=True, path_type=Path)
)
@click.option(
    "--startup",
    is_flag=True,
    help="Also start the app at log-in, without a browser (Windows: the Startup folder).",
)
@click.option("--force", is_flag=True, help="Replace a launcher that is already there.")
@click.pass_obj
@reporting
def launcher(state: AppState, folder: Path | None, startup: bool, force: bool) -> None:
    """Make a file that opens the staff app (`mapctl app`) when double-clicked.

    On Windows: `mapctl app.cmd` in FOLDER (default: your Desktop); it runs this
    installation's Python, so it keeps working as long as mapctl stays installed where it is.
    --startup also puts one in your Startup folder, so the app runs from log-in (minimised, no
    browser): Clio's "Import to ILS" action then finds it. Elsewhere: a `mapctl-app` script.

    \b
    Examples:
      mapctl launcher
      mapctl launcher --startup
      mapctl launcher C:\\Users\\Public\\Desktop --force
    """
    from ..engine.errors import MapctlError

    windows = sys.platform == "win32"
    if startup and not windows:
        raise click.UsageError("--startup is for Windows (its Startup folder)")
    if folder is None:
        profile = state.env.get("USERPROFILE" if windows else "HOME")
        folder = Path(profile or Path.home()) / "Desktop"
        if not folder.is_dir():
            raise MapctlError(
                f"{folder}: no Desktop folder here", hint="name the folder: mapctl launcher FOLDER"
            )
    python = os.path.abspath(sys.executable)
    made: list[Path] = []
    if windows:
        target = folder / WINDOWS_NAME
        _write(target, windows_launcher(python, at_login=False), force)
        made.append(target)
        if startup:
            appdata = state.env.get("APPDATA")
            if not appdata:
                raise MapctlError("APPDATA is not set: cannot find your Startup folder")
            at_login = Path(appdata, *STARTUP) / WINDOWS_NAME
            _write(at_login, windows_launcher(python, at_login=True), force)
            made.append(at_login)
    else:
        target = folder / POSIX_NAME
        _write(target, posix_launcher(python), force)
        made.append(target)
    for path in made:
        click.echo(f"launcher: {path}")
    if startup:
        click.echo("The app now also starts when you log in (delete the Startup file to stop).")
