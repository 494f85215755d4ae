"""`mapctl search` for people (issue 11): progress on stderr while Clio pages, tables fitted to
the terminal, a pager for long lists, `--reverse` and the `status` sort; JSON unchanged. And
`preview`'s hint for an unknown short matter never suggests a search that `search` refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from mapctl.cli import AppState
from mapctl.engine.clio.client import STATUS_ORDER
from mapctl.engine.clio.table import format_matters
from mapctl.engine.sandbox.server import Sandbox

from .conftest import connect_via_cli


@pytest.fixture(scope="module")
def many() -> Iterator[Sandbox]:
    """The seeded sandbox: 471 matters match "Estate", 3 pages of 200."""
    with Sandbox() as sandbox:
        yield sandbox


def terminal(env: dict[str, str], home: Path, **sizes: str) -> AppState:
    return AppState(env={"MAPCTL_HOME": str(home), **env, **sizes}, interactive=True)


def test_progress_is_one_line_per_page_off_a_terminal(run_cli: Any, many: Sandbox) -> None:
    env = connect_via_cli(run_cli, many)
    result = run_cli("search", "Estate", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "searching Clio: page 1, 200 of 471 matters\n"
        "searching Clio: page 2, 400 of 471 matters\n"
        "searching Clio: page 3, 471 of 471 matters\n"
        "471 matters found.\n"
    )
    assert len(json.loads(result.stdout)) == 471  # stdout stays pure JSON
    one_page = run_cli("search", "pritchett", env=env)
    assert one_page.stderr == "3 matters found.\n"  # nothing to wait for: no progress


def test_on_a_terminal_progress_rewrites_one_line_and_long_lists_use_the_pager(
    run_cli: Any, many: Sandbox, mapctl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = connect_via_cli(run_cli, many)
    paged: list[str] = []
    monkeypatch.setattr(click, "echo_via_pager", lambda text, *a, **k: paged.append(text))
    state = terminal(env, mapctl_home, COLUMNS="80", LINES="40")
    result = run_cli("search", "Estate", state=state)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # all of it went through the pager
    (text,) = paged
    assert len(text.splitlines()) == 472
    assert max(len(line) for line in text.splitlines()) <= 80
    shown = result.stderr.split("\r")
    assert shown[1:4] == [
        "searching Clio: page 1, 200 of 471 matters",
        "searching Clio: page 2, 400 of 471 matters",
        "searching Clio: page 3, 471 of 471 matters",
    ]
    assert shown[4:] == [" " * 42, "471 matters found.\n"]  # the line is cleared before the table

    short = run_cli("search", "pritchett", state=state)  # fits the screen: no pager
    assert short.exit_code == 0, short.output
    assert short.stdout.startswith("ID") and len(paged) == 1


def test_the_table_fits_the_width_it_is_given() -> None:
    row = {
        "id": 9001,
        "display_number": "00001-" + "Long" * 8,
        "client_name": "Client " * 6,
        "status": "Open",
        "open_date": "2026-01-02",
        "description": "Description " * 8,
    }
    for width in (80, 100, 140):
        lines = format_matters([row], width=width).splitlines()
        assert max(len(line) for line in lines) <= width
    assert len(format_matters([row], width=140).splitlines()[1]) > 100


def test_reverse_and_status_sort(run_cli: Any, many: Sandbox) -> None:
    env = connect_via_cli(run_cli, many)

    def numbers(*options: str) -> Any:
        result = run_cli("search", "Estate", "--format", "json", *options, env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    by_number = numbers("--sort", "number")
    assert numbers("--sort", "number", "--reverse") == by_number[::-1]
    by_status = numbers("--sort", "status")
    keys = [(STATUS_ORDER[r["status"]], r["display_number"]) for r in by_status]
    assert keys == sorted(keys)
    assert {r["status"] for r in by_status} == {"Open", "Pending", "Closed"}
    assert list(by_status[0]) == [
        "id",
        "display_number",
        "description",
        "client_name",
        "status",
        "open_date",
    ]
    assert numbers("--reverse") == numbers()[::-1]  # Clio's order, last first


@pytest.mark.parametrize("matter", ["7", "X"])
def test_preview_hint_for_a_short_unknown_matter(run_cli: Any, many: Sandbox, matter: str) -> None:
    env = connect_via_cli(run_cli, many)
    result = run_cli("preview", matter, env=env)
    assert result.exit_code == 3, result.output
    assert "mapctl search '" not in result.stderr
    assert result.stderr.endswith(
        "  hint: give the whole display number (e.g. 00002-Pritchett) or the matter's id; to "
        "find it, search for the client's name: mapctl search NAME\n"
    )
    longer = run_cli("preview", "00099-Nobody", env=env)
    assert longer.stderr.endswith("  hint: find it with: mapctl search '00099-Nobody'\n")
