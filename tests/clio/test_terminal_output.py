"""What Clio commands write on a terminal besides their report (the last session's two
follow-ups): a table `preview` says each warning once, and the status line on stderr (the
search's pages, a rate-limit countdown) has one owner, so its texts never garble each other.

In-process runs say "terminal" through `AppState.interactive`; the pseudo-terminal runs start
the real `mapctl` with its streams on a real terminal (POSIX only)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
from click.testing import CliRunner
from mapctl.cli import AppState
from mapctl.commands.base import StatusLine
from mapctl.engine.sandbox.query import Response
from mapctl.engine.sandbox.server import Sandbox, _too_many, connect_home

from .conftest import connect_via_cli

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "Clio refused the field prefix on contacts.json"
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo terminal")


def interpose(sandbox: Sandbox, path: str, answer: Callable[[int], Response | None]) -> None:
    """Put `answer` in front of the sandbox for API requests to `path`: told how many such
    requests came so far (1 for the first), it returns a Response, or None to let the
    sandbox answer."""
    handle = sandbox.handle
    seen = [0]

    def handled(method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        if urlsplit(target).path == path:
            seen[0] += 1
            reply = answer(seen[0])
            if reply is not None:
                sandbox.requests.append((method, target))
                return reply
        return handle(method, target, headers, body)

    sandbox.handle = handled  # type: ignore[method-assign]


def screen(written: str) -> tuple[list[str], list[str]]:
    """What a terminal shows of `written`: (the lines that stay, each state the current line
    was left in before it was rewritten). A carriage return goes back to the line's start and
    later text overwrites it, leaving what it does not cover, as on a real terminal."""
    lines: list[str] = []
    states: list[str] = []
    row: list[str] = []
    column = 0
    for char in written:
        if char == "\r":
            states.append("".join(row).rstrip())
            column = 0
        elif char == "\n":
            lines.append("".join(row).rstrip())
            row, column = [], 0
        else:
            if column < len(row):
                row[column] = char
            else:
                row.append(char)
            column += 1
    states.append("".join(row).rstrip())
    if row and "".join(row).strip():
        lines.append("".join(row).rstrip())  # the last line, unfinished
    return lines, states


def distinct(states: list[str]) -> list[str]:
    """The states, without blanks and repeats in a row (a rewrite with the same text)."""
    shown: list[str] = []
    for state in states:
        if state and (not shown or shown[-1] != state):
            shown.append(state)
    return shown


PROGRESS = r"searching Clio: page \d+, \d+ of 471 matters"
WAITING = r"waiting \d+ s for Clio's rate limit"


# --- the status line, alone ------------------------------------------------------------------


def status_written(columns: int, steps: Callable[[StatusLine], None]) -> str:
    """What a terminal StatusLine writes on stderr for `steps`."""

    @click.command()
    def run() -> None:
        steps(StatusLine(True, columns))

    result = CliRunner().invoke(run, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stderr


def test_a_later_writer_covers_the_line_and_hands_it_back() -> None:
    progress, countdown = object(), object()

    def steps(line: StatusLine) -> None:
        line.set(progress, "searching Clio: page 12, 2400 of 20000 matters")
        line.set(countdown, "waiting 9 s for Clio's rate limit")
        line.set(progress, "searching Clio: page 12, 2400 of 20000 matters")  # under it
        line.set(countdown, "")
        line.set(progress, "")

    lines, states = screen(status_written(100, steps))
    assert lines == []
    assert distinct(states) == [
        "searching Clio: page 12, 2400 of 20000 matters",
        "waiting 9 s for Clio's rate limit",  # nothing left of the longer text
        "searching Clio: page 12, 2400 of 20000 matters",  # the progress resumes
    ]
    assert states[-1] == ""  # erased at the end


def test_lines_said_meanwhile_stay_whole_and_the_status_comes_back_below() -> None:
    progress = object()

    def steps(line: StatusLine) -> None:
        line.set(progress, "searching Clio: page 1, 200 of 471 matters")
        line.line("warning: Clio refused the field open_date")
        line.clear()

    written = status_written(100, steps)
    lines, states = screen(written)
    assert lines == ["warning: Clio refused the field open_date"]
    assert distinct(states) == ["searching Clio: page 1, 200 of 471 matters"]
    assert "open_date\n\rsearching Clio: page 1" in written  # drawn again below it
    assert states[-1] == ""


def test_a_text_wider_than_the_terminal_is_cut_so_it_never_wraps() -> None:
    written = status_written(30, lambda line: line.set(1, "searching Clio: page 1, 200 of 471"))
    assert written == "\rsearching Clio: page 1, 20..."
    assert len(written) - 1 < 30


def test_off_a_terminal_the_status_line_writes_nothing() -> None:
    @click.command()
    def run() -> None:
        line = StatusLine(False)
        line.set(1, "searching Clio: page 1, 200 of 471 matters")
        line.line("warning: said once")
        line.clear()

    result = CliRunner().invoke(run, catch_exceptions=False)
    assert result.stderr == "warning: said once\n"


# --- the rate-limit countdown and the search's progress ----------------------------------------


@pytest.fixture
def limited_on_page_2() -> Iterator[Sandbox]:
    """The seeded sandbox (471 matters match "Estate": 3 pages), whose second page of matters
    first answers 429 "retry in 2 seconds"."""
    with Sandbox() as sandbox:
        interpose(
            sandbox, "/api/v4/matters.json", lambda n: _too_many(50, 2, False) if n == 2 else None
        )
        yield sandbox


def test_the_countdown_replaces_the_progress_which_resumes_after_it(
    run_cli: Any, limited_on_page_2: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, limited_on_page_2)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    result = run_cli("search", "Estate", "--format", "json", state=state)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 471  # JSON unchanged
    lines, states = screen(result.stderr)
    assert lines == ["471 matters found."]
    for shown in states:  # never a mixture of two texts
        assert re.fullmatch(f"|{PROGRESS}|{WAITING}|471 matters found.", shown), states
    assert distinct(states) == [
        "searching Clio: page 1, 200 of 471 matters",
        "waiting 2 s for Clio's rate limit",
        "waiting 1 s for Clio's rate limit",
        "searching Clio: page 1, 200 of 471 matters",  # the progress resumes ...
        "searching Clio: page 2, 400 of 471 matters",  # ... and goes on
        "searching Clio: page 3, 471 of 471 matters",
    ]


def test_off_a_terminal_waits_and_pages_are_lines_as_before(
    run_cli: Any, limited_on_page_2: Sandbox
) -> None:
    env = connect_via_cli(run_cli, limited_on_page_2)
    result = run_cli("search", "Estate", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "searching Clio: page 1, 200 of 471 matters\n"
        "waiting 2 s for Clio's rate limit\n"
        "searching Clio: page 2, 400 of 471 matters\n"
        "searching Clio: page 3, 471 of 471 matters\n"
        "471 matters found.\n"
    )


def test_a_warning_during_a_countdown_is_a_line_of_its_own(
    run_cli: Any, mapctl_home: Path, tmp_path: Path
) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)

        def refused_later(n: int) -> Response:
            time.sleep(1.5)
            return Response(403, {"error": {"type": "Forbidden", "message": "no"}})

        # The matter waits 3 s for the rate limit; meanwhile the custom fields, asked at the
        # same time, are refused (a warning) 1.5 s into that wait.
        limited = _too_many(50, 3, False)
        interpose(sandbox, "/api/v4/matters/9002.json", lambda n: limited if n == 1 else None)
        interpose(sandbox, "/api/v4/custom_fields.json", refused_later)
        terminal = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
        result = run_cli("fetch", "9002", "-o", str(tmp_path / "b.json"), state=terminal)
    assert result.exit_code == 0, result.output
    lines, states = screen(result.stderr)
    assert lines[0].startswith("warning: Clio refused mapctl the custom field definitions")
    assert lines[1:] == [f"Saved 00002-Pritchett (15 contacts) to {tmp_path / 'b.json'}"]
    for state in states:
        assert re.fullmatch(f"|{WAITING}", state), states
    assert distinct(states) == [
        "waiting 3 s for Clio's rate limit",
        "waiting 2 s for Clio's rate limit",
        "waiting 1 s for Clio's rate limit",
    ]
    redrawn = re.escape(lines[0]) + f"\n\r{WAITING}"  # the countdown drawn again below it
    assert re.search(redrawn, result.stderr), result.stderr


def test_an_error_after_a_countdown_starts_on_a_clean_line(run_cli: Any, mapctl_home: Path) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        failing = Response(404, {"error": {"type": "NotFound", "message": "gone"}})
        interpose(
            sandbox,
            "/api/v4/matters.json",
            lambda n: _too_many(50, 1, False) if n == 2 else failing if n == 3 else None,
        )
        state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
        result = run_cli("search", "Estate", "--format", "json", state=state)
    assert result.exit_code == 3, result.output
    lines, _ = screen(result.stderr)
    assert lines and lines[0].startswith("error: "), result.stderr


# --- preview: each warning once ----------------------------------------------------------------


@pytest.fixture
def refusing() -> Iterator[Sandbox]:
    """The seeded sandbox refusing the contacts' `prefix` (a warning in every fetch)."""
    with Sandbox(refuse_fields={"contacts": ["prefix"]}) as sandbox:
        yield sandbox


def test_a_preview_on_a_terminal_says_each_warning_once_in_its_report(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    result = run_cli("preview", "9002", state=state)
    assert result.exit_code == 0, result.output
    assert (result.stdout + result.stderr).count(REFUSED) == 1, result.output
    assert f"\nWarnings:\n  - {REFUSED} (HTTP 400" in result.stdout
    assert result.stderr == ""


def test_a_piped_preview_keeps_its_warnings_section_and_says_them_as_they_happen(
    run_cli: Any, refusing: Sandbox
) -> None:
    env = connect_via_cli(run_cli, refusing)
    result = run_cli("preview", "9002", env=env)  # stdout and stderr are not terminals
    assert result.exit_code == 0, result.output
    assert f"\nWarnings:\n  - {REFUSED} (HTTP 400" in result.stdout  # a saved table has them
    assert result.stderr.count(f"warning: {REFUSED}") == 1


def test_a_json_preview_is_unchanged_and_its_warnings_go_to_stderr(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    result = run_cli("preview", "9002", "--format", "json", state=state)
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)) == ["matter", "contacts", "unmatched_labels"]
    assert result.stderr.count(f"warning: {REFUSED}") == 1


def test_warnings_kept_for_a_report_that_never_comes_are_said_before_the_error(
    run_cli: Any, mapctl_home: Path
) -> None:
    with Sandbox(refuse_fields={"matters/{id}": ["location"]}) as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        refused = Response(403, {"error": {"type": "Forbidden", "message": "no"}})
        interpose(sandbox, "/api/v4/contacts.json", lambda n: refused)
        state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
        result = run_cli("preview", "9002", state=state)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: Clio refused the field location on matters/{id}.json")
    assert lines[1].startswith("error: "), result.stderr


def test_a_held_warning_the_report_leaves_out_is_still_said(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapctl.engine.workflow import importing

    make = importing.preview

    def without_warnings(*args: Any, **kwargs: Any) -> importing.Preview:
        return dataclasses.replace(make(*args, **kwargs), warnings=())

    monkeypatch.setattr(importing, "preview", without_warnings)
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    result = run_cli("preview", "9002", state=state)
    assert result.exit_code == 0, result.output
    assert "Warnings:" not in result.stdout
    assert result.stderr.count(f"warning: {REFUSED}") == 1


# --- the real command on a real terminal --------------------------------------------------------


def on_a_terminal(
    args: list[str], env: dict[str, str], stdout: Any = None, timeout: float = 60.0
) -> tuple[int, str]:
    """Run the real `mapctl ARGS` with stdin and stderr on a new pseudo terminal, and stdout
    too unless `stdout` (a file) is given; returns its exit code and what the terminal got."""
    main_fd, child_fd = os.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "mapctl", *args], stdin=child_fd,
        stdout=child_fd if stdout is None else stdout, stderr=child_fd, env=env, cwd=ROOT,
        close_fds=True,
    )  # fmt: skip
    os.close(child_fd)
    got = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main_fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main_fd, 65536)
                except OSError:  # the child closed the terminal (Linux: EIO)
                    break
                if not chunk:
                    break
                got += chunk
            elif child.poll() is not None:
                break
        code = child.wait(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(main_fd)
    return code, got.decode("utf-8", "replace").replace("\r\n", "\n")  # the terminal's ONLCR


@pytest.fixture
def terminal_env(mapctl_home: Path) -> Callable[[Sandbox], dict[str, str]]:
    def env_for(sandbox: Sandbox) -> dict[str, str]:
        clio = connect_home(sandbox, mapctl_home)
        return {**os.environ, **clio, "MAPCTL_HOME": str(mapctl_home)}

    return env_for


@POSIX_ONLY
def test_preview_on_a_real_terminal_shows_a_warning_once(
    refusing: Sandbox, terminal_env: Callable[[Sandbox], dict[str, str]]
) -> None:
    code, shown = on_a_terminal(["preview", "9002"], terminal_env(refusing))
    assert code == 0, shown
    assert shown.count(REFUSED) == 1, shown
    assert f"\nWarnings:\n  - {REFUSED}" in shown


@POSIX_ONLY
def test_preview_saved_to_a_file_keeps_its_warnings_and_the_terminal_hears_them(
    refusing: Sandbox, terminal_env: Callable[[Sandbox], dict[str, str]]
) -> None:
    with tempfile.TemporaryFile() as saved:
        code, shown = on_a_terminal(["preview", "9002"], terminal_env(refusing), stdout=saved)
        saved.seek(0)
        table = saved.read().decode("utf-8")
    assert code == 0, shown
    assert f"\nWarnings:\n  - {REFUSED}" in table
    assert shown.count(f"warning: {REFUSED}") == 1, shown


@POSIX_ONLY
def test_search_on_a_real_terminal_the_countdown_never_garbles_the_progress(
    limited_on_page_2: Sandbox, terminal_env: Callable[[Sandbox], dict[str, str]]
) -> None:
    args = ["search", "Estate", "--format", "json"]
    with tempfile.TemporaryFile() as saved:
        code, shown = on_a_terminal(args, terminal_env(limited_on_page_2), stdout=saved)
        saved.seek(0)
        assert len(json.loads(saved.read())) == 471
    assert code == 0, shown
    lines, states = screen(shown)
    assert lines == ["471 matters found."]
    for state in states:
        assert re.fullmatch(f"|{PROGRESS}|{WAITING}|471 matters found.", state), states
    assert distinct(states)[:4] == [
        "searching Clio: page 1, 200 of 471 matters",
        "waiting 2 s for Clio's rate limit",
        "waiting 1 s for Clio's rate limit",
        "searching Clio: page 1, 200 of 471 matters",
    ]


# --- import: each warning once in its dialogue and once in its review --------------------------


def test_an_import_on_a_terminal_says_each_warning_in_its_review_not_as_it_happens(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    result = run_cli("import", "9002", "--yes", "--no-note", state=state)
    assert result.exit_code == 0, result.output
    assert (result.stdout + result.stderr).count(REFUSED) == 1, result.output
    assert f"  Warnings:\n    - {REFUSED} (HTTP 400" in result.stdout
    assert REFUSED not in result.stderr


def test_an_import_dialogue_lists_each_warning_once_before_the_question(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    cancelled = run_cli("import", "9002", "--no-note", state=state, input="\nn\n")
    assert cancelled.exit_code == 1, cancelled.output
    assert (cancelled.stdout + cancelled.stderr).count(REFUSED) == 1, cancelled.output
    assert f"\nWarnings:\n  - {REFUSED} (HTTP 400" in cancelled.stdout  # the dialogue's list
    imported = run_cli("import", "9002", "--no-note", state=state, input="\ny\n")
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.count(REFUSED) == 2  # the dialogue's list, then the review's
    assert REFUSED not in imported.stderr


def test_an_import_refused_before_its_report_says_the_held_warnings_first(
    run_cli: Any, refusing: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, refusing)
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    assert run_cli("import", "9002", "--yes", "--no-note", state=state).exit_code == 0
    again = run_cli("import", "9002", "--yes", "--no-note", state=state)
    assert again.exit_code == 1, again.output
    lines = again.stderr.splitlines()
    assert lines[0].startswith(f"warning: {REFUSED}"), again.stderr
    assert any(line.startswith("error: ") for line in lines[1:]), again.stderr


def test_a_piped_import_says_its_warnings_as_they_happen_and_in_its_review(
    run_cli: Any, refusing: Sandbox
) -> None:
    env = connect_via_cli(run_cli, refusing)
    result = run_cli("import", "9002", "--yes", "--no-note", env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.count(f"warning: {REFUSED}") == 1
    assert f"  Warnings:\n    - {REFUSED} (HTTP 400" in result.stdout
