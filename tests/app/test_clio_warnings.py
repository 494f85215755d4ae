"""The staff app shows what the Clio client went on without (issue 17 items 2-4): fields Clio
refused, custom field definitions refused (403) and the stub values that follow, on the
preview screen, from a sandbox playing live Clio over real HTTP."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from mapctl.engine.sandbox.server import Sandbox, connect_home

from .conftest import MakeApp, enter


@pytest.fixture
def live() -> Iterator[Sandbox]:
    with Sandbox(forbidden=["custom_fields"], refuse_fields={"contacts": ["prefix"]}) as running:
        yield running


def test_the_preview_screen_lists_what_clio_did_not_send(
    live: Sandbox, make_app: MakeApp, mapctl_home: Path
) -> None:
    env = {"MAPCTL_HOME": str(mapctl_home), **connect_home(live, mapctl_home)}
    app, guard = make_app(env=env)[:2]
    client = enter(app, guard)
    csrf = client.application.jinja_env.globals["csrf_token"]
    opened = client.post("/matters", data={"csrf": csrf, "matter": "9002", "back": "/search?q=x"})
    assert opened.status_code == 303, opened.text
    page = html.unescape(client.get(opened.headers["Location"]).text)
    assert "Clio refused the field prefix on contacts.json (HTTP 400" in page
    assert "Clio refused mapctl the custom field definitions (HTTP 403" in page
    assert "Contact Jay Pritchett (5001): Clio sent custom_field_values picklist-500101" in page
