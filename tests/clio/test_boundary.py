"""A Clio boundary that never crashes or hangs (issue 17 items 7-12, 16): the CLI against a
hostile Clio on 127.0.0.1 over real HTTP. Whatever Clio answers, or however slowly, a command
ends with exit 3 and one error line (and its hint), never exit 4, a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.clio.auth import TokenStore

from ..conftest import ROOT
from .hostile import (
    ACCESS,
    REFRESH,
    Handler,
    answer,
    base_url,
    connect_home,
    deep,
    gzip_bomb,
    gzipped,
    hostile_clio,
    raw,
    send_json,
    slow_headers,
    trickle,
)

SEARCH = "/api/v4/matters.json"
MATTER = "/api/v4/matters/9002.json"
TOKEN = "/oauth/token"
QUICK = {"MAPCTL_CLIO_REQUEST_TIMEOUT": "1"}


def clean_failure(result: Any, code: int = 3) -> list[str]:
    """Exit `code`, nothing on stdout, one `error:` line (and at most its hint) on stderr,
    after any warnings (e.g. that Clio refused the matter's list of clients)."""
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) <= 2 and all(line.startswith("  hint: ") for line in lines[1:]), lines
    assert "Traceback" not in result.output and "internal error" not in result.output
    return lines


# --- 7: a total deadline per request and per command -------------------------------------------


@pytest.mark.parametrize(
    ("path", "args"),
    [
        (SEARCH, ("search", "Pritchett")),
        (MATTER, ("fetch", "9002")),
        (MATTER, ("preview", "9002")),
        ("/api/v4/contacts.json", ("import", "9002", "--yes")),
    ],
)
def test_a_trickling_clio_is_too_slow_not_a_hang(
    run_cli: Any, mapctl_home: Path, path: str, args: tuple[str, ...]
) -> None:
    with hostile_clio({path: trickle(0.1)}) as server:
        env = {**connect_home(mapctl_home, server), **QUICK}
        started = time.monotonic()
        result = run_cli(*args, env=env)
    assert time.monotonic() - started < 10
    lines = clean_failure(result)
    port = server.server_address[1]
    assert lines[0] == (
        f"error: Clio at 127.0.0.1:{port} is too slow: no complete answer within 1 s; stopped"
    )


def test_headers_that_trickle_are_too_slow_too(run_cli: Any, mapctl_home: Path) -> None:
    with hostile_clio({SEARCH: slow_headers(0.1)}) as server:
        env = {**connect_home(mapctl_home, server), **QUICK}
        started = time.monotonic()
        result = run_cli("search", "Pritchett", env=env)
    assert time.monotonic() - started < 10
    assert "is too slow: no complete answer within 1 s; stopped" in clean_failure(result)[0]
    assert server.hits.count(SEARCH) == 1  # not sent again: it would be as slow


def test_the_command_deadline_bounds_every_request_together(
    run_cli: Any, mapctl_home: Path
) -> None:
    with hostile_clio({SEARCH: trickle(0.1)}) as server:
        env = {**connect_home(mapctl_home, server), "MAPCTL_CLIO_COMMAND_TIMEOUT": "1.5"}
        started = time.monotonic()
        result = run_cli("search", "Pritchett", env=env)
    assert time.monotonic() - started < 10
    lines = clean_failure(result)
    assert "is too slow: no complete answers within 1.5 s; stopped" in lines[0]


def test_connect_and_token_refresh_are_bounded_too(run_cli: Any, mapctl_home: Path) -> None:
    with hostile_clio({TOKEN: trickle(0.1)}) as server:
        env = {**connect_home(mapctl_home, server), **QUICK}
        TokenStore(mapctl_home).delete()
        started = time.monotonic()
        result = run_cli("connect", "--code", "abc", env=env)
        assert time.monotonic() - started < 10
        assert "is too slow" in clean_failure(result)[0]
        assert not TokenStore(mapctl_home).path.exists()
        connect_home(mapctl_home, server, expires_in=-60)  # expired: refreshed first
        result = run_cli("search", "Pritchett", env=env)
        assert "is too slow" in clean_failure(result)[0]
        assert TOKEN in server.hits and SEARCH not in server.hits


# --- 8: a cap on decoded bytes -------------------------------------------------------------------


def test_a_gzip_bomb_ends_fast_in_little_memory(mapctl_home: Path) -> None:
    """A real `mapctl search` process: 1 MB of gzip that inflates to 1 GiB (it took 2.1 GB)."""
    bomb = gzip_bomb(1)
    assert len(bomb) < 1_200_000
    with hostile_clio({SEARCH: gzipped(bomb)}) as server:
        env = {**os.environ, **connect_home(mapctl_home, server), "MAPCTL_HOME": str(mapctl_home)}
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "mapctl", "search", "Pritchett"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT,
        )  # fmt: skip
        stdout, stderr = child.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert child.returncode == 3, stderr
    assert stdout == b""
    assert stderr.decode().splitlines()[0] == (
        f"error: Clio sent more than 32 MiB in one answer from {base_url(server)}{SEARCH}; "
        "stopped (no page of Clio's is that large)"
    )
    assert elapsed < 20


def test_the_gzip_bomb_peak_memory_stays_modest(mapctl_home: Path) -> None:
    """The child's peak resident memory (ru_maxrss, from wait4) stays far below the bomb."""
    if not hasattr(os, "wait4"):
        pytest.skip("wait4 is POSIX")
    with hostile_clio({SEARCH: gzipped(gzip_bomb(1))}) as server:
        env = {**os.environ, **connect_home(mapctl_home, server), "MAPCTL_HOME": str(mapctl_home)}
        child = subprocess.Popen(
            [sys.executable, "-m", "mapctl", "search", "Pritchett"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 3
    peak_mib = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mib < 250, f"peak RSS {peak_mib:.0f} MiB"


# --- 10: JSON nested 200,000 deep ----------------------------------------------------------------


def test_json_nested_200000_deep_is_exit_3_online_and_1_offline(
    run_cli: Any, mapctl_home: Path, tmp_path: Path
) -> None:
    with hostile_clio({SEARCH: raw(deep(200_000))}) as server:
        result = run_cli("search", "Pritchett", env=connect_home(mapctl_home, server))
    lines = clean_failure(result)
    assert "(HTTP 200, nested more than 64 deep; expected JSON with `data`)" in lines[0]
    bundle = tmp_path / "deep.json"
    bundle.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    result = run_cli("render", str(bundle), "-o", str(tmp_path / "a.anx"))
    clean_failure(result, code=1)


# --- 11: token answers that are not usable tokens ------------------------------------------------

GOOD = {"token_type": "bearer", "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 60}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"access_token": None}, "no access_token"),
        ({"access_token": ""}, "its access_token is empty"),
        ({"access_token": 12345}, "its access_token is not text"),
        ({"access_token": "abc\r\nX-Injected: 1"}, "its access_token holds spaces, line breaks"),
        ({"access_token": "t\u00f6ken"}, "its access_token holds spaces, line breaks"),
        ({"access_token": "a" * 5000}, "its access_token is longer than 4096 characters"),
        ({"refresh_token": None}, "no refresh_token"),
        ({"refresh_token": ""}, "its refresh_token is empty"),
        ({"refresh_token": ["x"]}, "its refresh_token is not text"),
        ({"expires_in": -5}, "its expires_in is not a number of seconds"),
        ({"expires_in": 1e300}, "its expires_in is not a number of seconds"),
        ({"expires_in": "3600"}, "its expires_in is not a number of seconds"),
        ({"expires_in": True}, "its expires_in is not a number of seconds"),
    ],
)
def test_connect_refuses_an_unusable_token_and_stores_nothing(
    run_cli: Any, mapctl_home: Path, change: dict[str, Any], problem: str
) -> None:
    body = {**GOOD, **change}
    with hostile_clio({TOKEN: answer(body)}) as server:
        env = connect_home(mapctl_home, server)
        TokenStore(mapctl_home).delete()
        result = run_cli("connect", "--code", "abc", env=env)
    lines = clean_failure(result)
    assert lines[0].startswith(
        f"error: Clio's answer when asked to exchange the authorization code is not a usable "
        f"token ({problem}"
    )
    assert lines[0].endswith("; nothing was stored")
    assert not TokenStore(mapctl_home).path.exists()
    assert "X-Injected" not in result.output and "t\u00f6ken" not in result.output


def test_a_refresh_answer_that_is_no_token_keeps_the_stored_one(
    run_cli: Any, mapctl_home: Path
) -> None:
    def no_token(handler: Handler) -> None:
        send_json(handler, {**GOOD, "access_token": None})

    with hostile_clio({TOKEN: no_token}) as server:
        env = connect_home(mapctl_home, server, expires_in=-60)
        before = TokenStore(mapctl_home).path.read_bytes()
        result = run_cli("search", "Pritchett", env=env)
    assert (
        "when asked to refresh the access token is not a usable token (no access_token)"
        in (clean_failure(result)[0])
    )
    assert TokenStore(mapctl_home).path.read_bytes() == before


def test_a_refresh_without_refresh_token_keeps_the_old_one(run_cli: Any, mapctl_home: Path) -> None:
    """Clio may leave refresh_token out of a refresh answer (NOTES 8.4): that is fine."""
    body = {k: v for k, v in GOOD.items() if k != "refresh_token"}
    with hostile_clio({TOKEN: answer(body)}) as server:
        env = connect_home(mapctl_home, server, expires_in=-60)
        result = run_cli("search", "Pritchett", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    stored = TokenStore(mapctl_home).load()
    assert stored is not None and stored.refresh_token == REFRESH


def test_a_stored_token_with_a_line_break_is_unreadable_not_a_crash(
    run_cli: Any, mapctl_home: Path
) -> None:
    with hostile_clio() as server:
        env = connect_home(mapctl_home, server)
        path = TokenStore(mapctl_home).path
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, "access_token": "a\r\nb"}))
        result = run_cli("search", "Pritchett", env=env)
    assert clean_failure(result)[0] == f"error: the stored Clio connection ({path}) is unreadable"


# --- 12: a MATTER of 5,000 digits ---------------------------------------------------------------


@pytest.mark.parametrize("command", [("preview",), ("fetch",), ("import", "--yes")])
def test_a_matter_of_5000_digits_is_refused_clearly(
    run_cli: Any, mapctl_home: Path, command: tuple[str, ...]
) -> None:
    with hostile_clio() as server:
        env = connect_home(mapctl_home, server)
        result = run_cli(command[0], "9" * 5000, *command[1:], env=env)
        assert not [hit for hit in server.hits if "matters" in hit]  # refused before asking
    lines = clean_failure(result, code=1)
    assert lines[0] == (
        "error: MATTER is 5,000 characters long: that is not a Clio matter id or display number"
    )


def test_twenty_digits_is_looked_up_as_a_display_number(run_cli: Any, mapctl_home: Path) -> None:
    with hostile_clio() as server:
        result = run_cli("fetch", "9" * 20, env=connect_home(mapctl_home, server))
    assert "Clio has no matter with id or display number" in clean_failure(result)[0]


# --- 16: the one-time code without argv ----------------------------------------------------------


def test_connect_reads_the_code_from_standard_input(run_cli: Any, mapctl_home: Path) -> None:
    with hostile_clio() as server:
        env = connect_home(mapctl_home, server)
        TokenStore(mapctl_home).delete()
        result = run_cli("connect", "--code", "-", env=env, input="the-code\n")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Connected to Clio at {base_url(server)} as ")
        TokenStore(mapctl_home).delete()
        result = run_cli("connect", "--no-browser", env=env, input="the-code\n")
        assert result.exit_code == 0, result.output
        assert "the-code" not in result.output  # read, never echoed
        result = run_cli("connect", "--code", "-", env=env, input="")
        clean_failure(result, code=1)


def test_the_app_can_give_a_client_its_own_deadline(mapctl_home: Path) -> None:
    """What the staff app uses to bound one page's Clio work (open_client's `deadline`)."""
    from mapctl.engine.clio.bounded import Deadline
    from mapctl.engine.clio.client import open_client
    from mapctl.engine.errors import ClioError

    with hostile_clio({SEARCH: trickle(0.1)}) as server:
        env = connect_home(mapctl_home, server)
        started = time.monotonic()
        with open_client(mapctl_home, env, deadline=Deadline(1)) as client:
            with pytest.raises(ClioError) as info:
                client.search("Pritchett")
    assert time.monotonic() - started < 10
    assert info.value.message.endswith("is too slow: no complete answers within 1 s; stopped")


def test_an_uncompressed_answer_over_32_mib_is_refused(run_cli: Any, mapctl_home: Path) -> None:
    big = b'{"data": [], "padding": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    with hostile_clio({SEARCH: raw(big)}) as server:
        result = run_cli("search", "Pritchett", env=connect_home(mapctl_home, server))
    assert clean_failure(result)[0].startswith("error: Clio sent more than 32 MiB in one answer")
