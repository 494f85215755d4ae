"""Fixtures for the staff app: the sandbox over real HTTP, a home connected to it, and the
Flask app with its test client (already past the per-launch token)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from mapctl.app.security import Guard
from mapctl.app.server import AppConfig, AppServer, create_app, start_app
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.sandbox.server import Sandbox, connect_home

NOW = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
HOST = "localhost"  # what Flask's test client sends as Host


def app_config(home: Path, env: dict[str, str], **overrides: Any) -> AppConfig:
    """The app's settings as the tests use them: `home` (MAPCTL_HOME) with `env`, the bundled
    mapping, `home`/clients as the output folder, the clock at NOW; `overrides` win."""
    settings: dict[str, Any] = {
        "home": home,
        "env": {"MAPCTL_HOME": str(home), **env},
        "mapping": compile_mapping(None),
        "mapping_name": "the bundled mapping",
        "out_dir": home / "clients",
        "now": lambda: NOW,  # the same dates on every run: the same screenshots
        **overrides,
    }
    return AppConfig(**settings)


@contextmanager
def served(config: AppConfig) -> Iterator[AppServer]:
    """The app on waitress (127.0.0.1, a free port) in a thread, as `mapctl app` serves it;
    stopped and closed afterwards."""
    server = start_app(config)
    thread = threading.Thread(target=server.run, name="mapctl-app-test", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout=10)
        server.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture(scope="module")
def compiled() -> Any:
    return compile_mapping(None)


@pytest.fixture
def connected(sandbox: Sandbox, mapctl_home: Path) -> dict[str, str]:
    """The environment of `mapctl_home`, connected to the sandbox through its OAuth flow."""
    return {"MAPCTL_HOME": str(mapctl_home), **connect_home(sandbox, mapctl_home)}


MakeApp = Callable[..., tuple[Flask, Guard, AppConfig]]


@pytest.fixture
def make_app(mapctl_home: Path, compiled: Any) -> Iterator[MakeApp]:
    made: list[AppConfig] = []

    def make(env: dict[str, str] | None = None, **overrides: Any) -> tuple[Flask, Guard, AppConfig]:
        settings: dict[str, Any] = {
            "home": mapctl_home,
            "env": env if env is not None else {"MAPCTL_HOME": str(mapctl_home)},
            "mapping": compiled,
            "mapping_name": "the bundled mapping",
            "out_dir": mapctl_home / "clients",
            "now": lambda: NOW,
            "sleep": lambda seconds: None,
            **overrides,
        }
        config = AppConfig(**settings)
        guard = Guard(allowed_hosts=frozenset({HOST}), cookie_name="mapctl_app_test")
        app = create_app(config, guard)
        made.append(config)
        return app, guard, config

    yield make
    for config in made:  # the app's pool and kept HTTP connections, as when it stops
        config.workspace.close()


def enter(app: Flask, guard: Guard) -> FlaskClient:
    """A test client past the token: it opened the printed address and holds the cookie."""
    client = app.test_client()
    response = client.get(f"/?token={guard.token}")
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def app_client(
    make_app: MakeApp, connected: dict[str, str]
) -> tuple[FlaskClient, Guard, AppConfig]:
    app, guard, config = make_app(env=connected)
    return enter(app, guard), guard, config


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (test_browser.py, test_clio_action_browser.py:
    Playwright's sync API cannot run twice at once in one process)."""
    import os

    from tests.app.test_browser import CHROMIUM, FLAGS, _missing

    reason = _missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()
