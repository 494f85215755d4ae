"""The button "Write the note again" in a real browser (Chromium through Playwright, as
tests/app/test_browser.py, with its skip rules): Done says the note was not written (the
sandbox refuses notes); once notes are allowed, a click on a slowish Clio shows the page that
waits with the time left, which comes back to Done by itself: the note is on the matter, once,
with "Open the note"; the Clients page lists it written."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from mapctl.engine.sandbox.server import Sandbox, connect_home

from .test_browser import JARGON, Faults, _page, shot, staff_text
from .test_connect_wait import Staff
from .test_note_retry import PRITCHETT, clients_row, import_matter, no_secrets, notes_on, serve


def test_write_the_note_again_in_the_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    slow = Faults()

    def late(request: httpx.Request) -> None:  # Clio takes a moment to take the note
        if request.method == "POST" and request.url.path.endswith("/notes.json"):
            time.sleep(1.5)

    with Sandbox() as sandbox:
        home = tmp_path / "home"
        env = connect_home(sandbox, home)
        with serve(home, env, home / "clients", transport=slow) as server, Staff(server) as staff:
            sandbox.forbidden.add("notes")
            done = import_matter(staff, PRITCHETT, "Jay Pritchett")  # Clio refuses the note
            sandbox.forbidden.discard("notes")
            slow.fault = late
            context, page, problems = _page(browser, server.url)
            try:
                page.goto(server.base_url + staff.root + done)
                expect(
                    page.get_by_role("heading", name="Ready for ILS: Jay Pritchett")
                ).to_be_visible()
                expect(page.locator("dd")).to_contain_text(["Not written: Clio refused it"])
                shot(page, "note-not-written")
                page.get_by_role("button", name="Write the note again").click()
                expect(
                    page.get_by_role("heading", name="Writing the note on the matter in Clio")
                ).to_be_visible()
                expect(page.get_by_role("status")).to_contain_text("at most")
                assert not JARGON.search(staff_text(page))
                expect(
                    page.get_by_role("heading", name="Ready for ILS: Jay Pritchett")
                ).to_be_visible(timeout=15_000)  # back by itself when Clio has answered
                status = page.locator(".note-outcome")
                expect(status).to_have_text("Written just now: the note is on the matter in Clio.")
                (note,) = notes_on(sandbox, home, env, PRITCHETT)
                link = page.get_by_role("link", name="Open the note")
                assert link.get_attribute("href") == (
                    f"{sandbox.base_url}/nc/matters/{PRITCHETT}#note-{note['id']}"
                )
                expect(page.get_by_role("button", name="Write the note again")).to_have_count(0)
                assert not JARGON.search(staff_text(page))
                shot(page, "note-written")
                no_secrets(home, page.content())
                page.get_by_role("link", name="All clients").click()
                expect(page.get_by_role("heading", name="Clients")).to_be_visible()
                assert "Written Open the note" in clients_row(page.content(), 5001)
                shot(page, "clients-notes")
            finally:
                context.close()
            assert [p for p in problems if "Failed to load resource" not in p] == []
            assert len(notes_on(sandbox, home, env, PRITCHETT)) == 1
    slow.close()
