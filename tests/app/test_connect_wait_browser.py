"""Connect and "who is connected" on a slow Clio in a real browser (Chromium through Playwright,
as tests/app/test_browser.py, with its skip rules): the waiting page counts the time left down,
then Search; past the bound a page that says what to do, whose Try again works; the Connection
page says it is asking Clio, then names the account or offers Ask Clio again."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from ..clio.hostile import connect_home, hostile_clio
from ..clio.hostile import slow as slow_answer
from .test_browser import JARGON, _page, ready, shot, staff_text
from .test_connect_wait import CODE, TOKEN, WHO, fresh, no_secrets, serve

LEFT = re.compile(r"at most (\d+) s more")


def seconds_left(page: Any, times: int = 8) -> list[int]:
    """The time left as the page shows it, read every 250 ms."""
    seen: list[int] = []
    for _ in range(times):
        found = LEFT.search(staff_text(page))
        if found:
            seen.append(int(found[1]))
        page.wait_for_timeout(250)
    return seen


def finish_connecting(page: Any) -> None:
    from playwright.sync_api import expect

    ready(page)
    page.get_by_role("button", name="Connect to Clio").click()  # Key and Secret: set up
    expect(page.get_by_role("textbox", name="Success code")).to_be_visible()
    page.get_by_role("textbox", name="Success code").fill(CODE)
    page.get_by_role("button", name="Finish Connecting").click()


def test_connect_on_a_slow_clio_shows_the_wait_then_search(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    gate = threading.Event()
    with hostile_clio({TOKEN: slow_answer(60.0, gate)}) as clio:
        for server in serve(tmp_path / "home", fresh(clio), connect_deadline=20.0):
            context, page, problems = _page(browser, server.url)
            try:
                expect(page.get_by_role("heading", name="Connection")).to_be_visible()
                finish_connecting(page)
                expect(page.get_by_role("heading", name="Connecting to Clio")).to_be_visible()
                expect(page.get_by_role("status")).to_contain_text("Connecting to Clio…")
                seen = seconds_left(page)
                assert len(set(seen)) >= 2 and seen == sorted(seen, reverse=True), seen  # live
                assert all(s <= 20 for s in seen)
                assert not JARGON.search(staff_text(page))
                no_secrets(page.content())
                shot(page, "connecting")
                gate.set()  # Clio answers
                expect(page.get_by_role("heading", name="Search")).to_be_visible()
                expect(page.get_by_text("Connected to Clio as Sam Sandbox.")).to_be_visible()
                no_secrets(page.content(), page.url)
            finally:
                gate.set()
                context.close()
            assert [p for p in problems if "Failed to load resource" not in p] == []


def test_connect_past_its_bound_says_what_to_do_and_try_again_works(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    gate = threading.Event()
    with hostile_clio({TOKEN: slow_answer(60.0, gate)}) as clio:
        for server in serve(tmp_path / "home", fresh(clio), connect_deadline=2.0):
            context, page, problems = _page(browser, server.url)
            try:
                finish_connecting(page)
                expect(page.get_by_role("heading", name="Connecting to Clio")).to_be_visible()
                title = "Clio did not finish connecting in time"
                expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=8_000)
                text = staff_text(page)
                assert "What to do:" in text and "mapctl is not connected yet" in text
                assert not JARGON.search(text), JARGON.search(text)
                no_secrets(page.content())
                shot(page, "connect-too-slow")
                page.get_by_role("link", name="Try again").click()
                expect(page.get_by_role("heading", name="Connection")).to_be_visible()
                gate.set()  # Clio is quick again
                page.get_by_role("textbox", name="Success code").fill(CODE)
                page.get_by_role("button", name="Finish Connecting").click()
                expect(page.get_by_role("heading", name="Search")).to_be_visible()
            finally:
                gate.set()
                context.close()
            assert [p for p in problems if "Failed to load resource" not in p] == []


def test_the_connection_page_says_it_asks_clio_then_names_the_account(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    home = tmp_path / "home"
    gate = threading.Event()
    with hostile_clio({WHO: slow_answer(60.0, gate)}) as clio:
        env = connect_home(home, clio)
        for server in serve(home, env, who_am_i_deadline=3.0):
            context, page, problems = _page(browser, server.url)
            try:
                page.get_by_role("link", name="Connection").click()
                connected = page.get_by_role("region", name="Connected to Clio")
                expect(connected).to_contain_text("Asking Clio who is connected…")
                seen = seconds_left(page, times=6)
                assert len(set(seen)) >= 2 and seen == sorted(seen, reverse=True), seen
                assert all(s <= 3 for s in seen)
                expect(page.get_by_role("button", name="Disconnect")).to_be_enabled()
                shot(page, "connection-asking")
                # past its bound: said, with a way to ask again
                expect(connected).to_contain_text("Clio did not say just now", timeout=8_000)
                assert "Asking Clio" not in staff_text(page)
                assert not JARGON.search(staff_text(page))
                page.get_by_role("button", name="Ask Clio again").click()
                expect(connected).to_contain_text("Asking Clio who is connected…")
                gate.set()  # Clio answers: the page shows who, by itself
                expect(connected).to_contain_text("Sam Sandbox")
                assert "Asking Clio" not in staff_text(page)
                assert "Ask Clio again" not in staff_text(page)
            finally:
                gate.set()
                context.close()
            assert [p for p in problems if "Failed to load resource" not in p] == []
