"""Output is UTF-8 whatever the stream (issue 16, item 1), and a closed pipe ends quietly on
every platform (item 2).

On Windows, Python writes a redirected or piped stream (PowerShell `>` or `|`, a scheduled
task) in the ANSI code page, cp1252: a Clio name outside it (王秀英, Łukasz, an emoji) made
`explain` and `preview` exit 4, possibly after a client was created. The same happens anywhere
Python is told the stream's encoding is cp1252, which is how these tests reproduce it on Linux
(PYTHONIOENCODING=cp1252, real processes, output through a pipe). `make test-windows` runs them
on Windows' own CPython too, where the pipe really is cp1252."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mapctl.engine.sandbox.seed import demo_data
from mapctl.engine.sandbox.server import Sandbox, connect_home

from tests.conftest import TESTS

BUNDLE = TESTS / "cases" / "non-ascii-names" / "bundle.json"
NAMES = ["李", "Renée 🌟", "Дарья", "Nguyễn"]  # outside cp1252, all of them but Renée's star


def mapctl(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mapctl", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, "MAPCTL_HOME": str(home), "PYTHONIOENCODING": "cp1252", **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [["explain"], ["render", "--format", "json"], ["render"]],
    ids=["explain", "render --format json", "render (answer file)"],
)
def test_names_outside_the_code_page_come_out_as_utf8(args: list[str], tmp_path: Path) -> None:
    done = mapctl(*args, str(BUNDLE), "--today", "2026-03-01", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    text = done.stdout.decode("utf-8")  # strict: every byte is UTF-8
    for name in NAMES:
        assert name.split()[0] in text
    if "json" in args:
        json.loads(text)


@pytest.fixture(scope="module")
def unicode_sandbox() -> Iterator[Sandbox]:
    data = demo_data()
    for contact in data["contacts"]:
        if contact["id"] == 5001:  # Jay Pritchett, client of 9002
            contact["first_name"], contact["last_name"] = "秀英", "王"
            contact["name"] = "王秀英"
        elif contact["id"] == 5002:
            contact["first_name"], contact["last_name"] = "Łukasz 🌟", "Żółć"
            contact["name"] = "Łukasz 🌟 Żółć"
    with Sandbox(data) as running:
        yield running


def test_preview_json_and_import_print_utf8_and_never_exit_4(
    unicode_sandbox: Sandbox, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = connect_home(unicode_sandbox, home)
    preview = mapctl("preview", "00002-Pritchett", "--format", "json", home=home, env=env)
    assert preview.returncode == 0, preview.stderr.decode("utf-8", "replace")
    names = [c["name"] for c in json.loads(preview.stdout.decode("utf-8"))["contacts"]]
    assert "王秀英" in names
    out = tmp_path / "clients"
    done = mapctl("import", "00002-Pritchett", "--yes", "--out", str(out), home=home, env=env)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert "王秀英" in done.stdout.decode("utf-8")
    done.stderr.decode("utf-8")  # warnings and notes on stderr are UTF-8 too


def test_a_reader_that_goes_away_ends_the_output_quietly(tmp_path: Path) -> None:
    """`mapctl validate --format json FOLDER | head -c 10` (`| Select-Object -First 1` on
    Windows): no "cannot write the output" line. 400 broken mappings give ~100 KB of JSON, more
    than a pipe holds, so mapctl is still writing when the reader closes its end."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    for n in range(400):
        (folder / f"m{n}.yaml").write_text('format: 1\nanswers:\n  "Client Name TE": [\n')
    with subprocess.Popen(
        [sys.executable, "-m", "mapctl", "validate", "--format", "json", str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MAPCTL_HOME": str(tmp_path / "home")},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10)
        process.stdout.close()  # the reader goes away: the rest cannot be written
        stderr = process.stderr.read().decode("utf-8", "replace")
        assert process.wait(timeout=120) == 1  # the mappings are broken; the pipe adds nothing
    assert "cannot write" not in stderr and "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr


@pytest.mark.parametrize(
    ("platform", "code", "closed"),
    [
        ("linux", errno.EPIPE, True),
        ("linux", errno.EINVAL, False),  # POSIX: EINVAL is a real error, reported
        ("win32", errno.EPIPE, True),
        ("win32", errno.EINVAL, True),  # Windows' word for a write to a closed pipe
        ("win32", errno.ENOSPC, False),
    ],
)
def test_which_errors_mean_the_reader_went_away(
    platform: str, code: int, closed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapctl.commands import base

    monkeypatch.setattr(sys, "platform", platform)
    assert base._pipe_closed(OSError(code, os.strerror(code))) is closed


@pytest.mark.parametrize(
    "args",
    [
        ["clients"],
        ["clients", "forget", "5001", "--yes"],
        ["connect", "--print-url"],
        ["disconnect"],
        ["settings"],
        ["search", "Pritchett"],
        ["preview", "9002"],
        ["import", "9002", "--yes"],
        ["fetch", "9002"],
    ],
    ids=" ".join,
)
def test_mapctl_home_that_is_a_file_is_a_file_in_the_way(args: list[str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder\n")
    done = mapctl(
        *args,
        home=home,
        env={
            "CLIO_BASE_URL": "http://127.0.0.1:9",
            "CLIO_CLIENT_ID": "k",
            "CLIO_CLIENT_SECRET": "s",
        },
    )
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 1, stderr
    assert (
        f"MAPCTL_HOME names {home}, which is a file, not a folder (a file is in the way)" in stderr
    )
    assert "Traceback" not in stderr and "No such file" not in stderr
