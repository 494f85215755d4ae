"""Issue 19 in a real browser (Chromium through Playwright, as tests/app/test_browser.py): the
sandbox's matter page, "Import to ILS" chosen on it, the app's Preview of that matter; a forged
request in a browser that never opened the app shows no preview and imports nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.clio.client import open_client
from mapctl.engine.clio.closeloop import create_custom_action, target_url
from mapctl.engine.sandbox.server import Sandbox, connect_home
from mapctl.engine.workflow.ledger import LEDGER_FILE

from tests.app.test_browser import Live, _serve


@pytest.fixture
def action_live(tmp_path: Path) -> Iterator[Live]:
    """The app on a free port, connected to a sandbox of its own whose matters carry
    "Import to ILS" pointing at that port (what `mapctl doctor --create-action` makes)."""
    with Sandbox() as sandbox:
        home = tmp_path / "home"
        env = connect_home(sandbox, home)
        for live in _serve(sandbox, home, env):
            with open_client(home, env) as client:
                create_custom_action(client, target_url(live.server.port))
            yield live


def fresh(browser: Any) -> Any:
    """A browser context that has never opened the app (no cookie)."""
    context = browser.new_context(viewport={"width": 1200, "height": 820})
    context.set_default_timeout(10_000)
    return context


def test_import_to_ils_on_the_matter_page_opens_its_preview(
    browser: Any,
    action_live: Live,
) -> None:
    context = fresh(browser)
    page = context.new_page()
    page.goto(action_live.sandbox.matter_url(9002))
    assert page.get_by_role("heading", name="00002-Pritchett").is_visible()
    page.get_by_role("link", name="Import to ILS").click()
    page.wait_for_url("**/drafts/*")
    assert page.url.startswith(action_live.server.base_url + "/drafts/")
    assert page.get_by_role("heading", name="Preview").is_visible()
    assert page.locator("p.matter").inner_text().startswith("00002-Pritchett")
    assert "Jay Pritchett" in page.get_by_role("grid", name="Contacts").inner_text()
    clio = page.get_by_role("link", name="Open in Clio")
    assert clio.get_attribute("href") == action_live.sandbox.matter_url(9002)
    # The cookie is this launch's session: the other screens open too.
    page.goto(action_live.server.base_url + "/search")
    assert page.get_by_role("textbox", name="Search Matters").is_visible()
    context.close()


def test_a_forged_request_shows_no_preview_and_imports_nothing(
    browser: Any,
    action_live: Live,
) -> None:
    base = action_live.server.base_url
    forged = (
        f"{base}/clio/action?custom_action_id=40001&user_id=3001&"
        "subject_url=%2Fapi%2Fv4%2Fmatters%2F9002&custom_action_nonce=made-up-nonce"
    )
    context = fresh(browser)
    page = context.new_page()
    response = page.goto(forged)
    assert response is not None and response.status == 403
    assert page.get_by_role(
        "heading", name="This request from Clio could not be verified"
    ).is_visible()
    assert "Pritchett" not in page.content()
    assert page.get_by_role("heading", name="Preview").count() == 0
    assert context.cookies() == []  # no session was given
    assert page.goto(base + "/search").status == 403  # ... so the app stays closed
    assert not (action_live.home / LEDGER_FILE).exists()
    assert not (action_live.home / "clients").exists()
    context.close()


def test_a_link_from_clio_works_once(browser: Any, action_live: Live) -> None:
    """Clio's nonce is single-use: the same address opened again (a replay, from the history)
    shows no preview."""
    sandbox = action_live.sandbox
    launch = httpx.get(sandbox.matter_url(9002)).text.split('href="')[1].split('"')[0]
    address = httpx.get(sandbox.base_url + launch.replace("&amp;", "&")).headers["Location"]
    first = fresh(browser)
    page = first.new_page()
    page.goto(address)
    page.wait_for_url("**/drafts/*")
    first.close()
    second = fresh(browser)
    again = second.new_page()
    response = again.goto(address)
    assert response is not None and response.status == 403
    assert again.get_by_role("heading", name="Preview").count() == 0
    second.close()
