"""Fixtures for the workflow's end-to-end tests: the sandbox over real HTTP, a connected home."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The seeded sandbox on a free 127.0.0.1 port, shared by a module's tests."""
    with Sandbox() as running:
        yield running


@pytest.fixture
def clio_env(sandbox: Sandbox, run_cli: Any) -> dict[str, str]:
    """Environment of a MAPCTL_HOME connected to the sandbox through the real `mapctl connect`."""
    env = {
        "CLIO_BASE_URL": sandbox.base_url,
        "CLIO_CLIENT_ID": APP_KEY,
        "CLIO_CLIENT_SECRET": APP_SECRET,
    }
    printed = run_cli("connect", "--print-url", env=env)
    assert printed.exit_code == 0, printed.output
    url = printed.stdout.strip().splitlines()[-1]
    response = sandbox.handle("GET", url.removeprefix(sandbox.base_url), {}, b"")
    location = dict(response.headers)["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    connected = run_cli("connect", "--code", code, env=env)
    assert connected.exit_code == 0, connected.output
    return env
