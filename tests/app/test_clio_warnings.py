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
    from .test_routes import STAFF_JARGON, open_draft, staff_part

    page = html.unescape(client.get(open_draft(client, "9002")).text)
    assert "Clio would not send some details (prefix), so the answers that come from them" in page
    assert "Clio did not let mapctl read the custom fields, so answers that come from them" in page
    assert "Clio sent only part of Jay Pritchett (5001)'s details (custom fields)" in page
    assert not STAFF_JARGON.search(staff_part(page))  # no HTTP or commands on staff pages
