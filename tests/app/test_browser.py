"""The staff app in a real browser: Chromium through Playwright's Python API, against the
sandbox over HTTP (issue 10). Each screen is saved under screenshots/ (git-ignored); the
search, preview and Add Client screens also go to docs/ for the documentation when they are
missing there or MAPCTL_DOCS_SCREENSHOTS=1 (`MAPCTL_DOCS_SCREENSHOTS=1 make test` refreshes them).

Playwright cannot download its own browser here: Debian's `chromium` is used through
`executable_path`. Without it these tests skip saying why, except in CI (CI=true): there a
missing browser fails the run (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from mapctl.app.server import AppConfig, AppServer, start_app
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox, connect_home
from mapctl.engine.workflow.ledger import LEDGER_FILE, Ledger

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
DOCS = ROOT / "docs"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
NOW = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
COLUMNS = ["Matter", "Description", "Client", "Status", "Opened"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (install Debian's: apt-get install -y chromium)"
    return None


# `browser` (one headless Chromium for the session) is in conftest.py: issue 19's browser tests
# (test_clio_action_browser.py) share it, as Playwright's sync API runs once per process.


@dataclass
class Live:
    server: AppServer
    sandbox: Sandbox
    home: Path


def _serve(sandbox: Sandbox, home: Path, env: dict[str, str]) -> Iterator[Live]:
    config = AppConfig(
        home=home,
        env={"MAPCTL_HOME": str(home), **env},
        mapping=compile_mapping(None),
        mapping_name="the bundled mapping",
        out_dir=home / "clients",
        now=lambda: NOW,  # the same dates on every run: the same screenshots
    )
    server = start_app(config)
    thread = threading.Thread(target=server.run, name="mapctl-app-test", daemon=True)
    thread.start()
    try:
        yield Live(server, sandbox, home)
    finally:
        server.stop()
        thread.join(timeout=10)
        server.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def live(sandbox: Sandbox, tmp_path: Path) -> Iterator[Live]:
    """The app on a free 127.0.0.1 port, its home connected to the sandbox."""
    home = tmp_path / "home"
    yield from _serve(sandbox, home, connect_home(sandbox, home))


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 820}, accept_downloads=True)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []  # a script error or a Content-Security-Policy violation
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.goto(live.server.url)
    yield opened
    context.close()
    expected = "Failed to load resource: the server responded with a status of 409 (CONFLICT)"
    assert [p for p in problems if p != expected] == []  # (409: the refused re-import's page)


def shot(page: Any, name: str, docs: bool = False) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.mouse.move(0, 0)  # no hover effect: the same picture on every run
    image = page.screenshot(path=str(SHOTS / f"app-{name}.png"), full_page=True)
    target = DOCS / f"app-{name}.png"
    if docs and (os.environ.get("MAPCTL_DOCS_SCREENSHOTS") == "1" or not target.exists()):
        # only on request (or when missing): Chromium's anti-aliasing varies by a few pixels
        # between runs on a busy machine, which would leave docs/ modified after every test run
        target.write_bytes(image)


def ready(page: Any) -> Any:
    """The page's script has set its rows up (a click before that would select nothing)."""
    page.locator("body[data-ready=true]").wait_for()
    return page


def search(page: Any, text: str) -> None:
    page.get_by_role("textbox", name="Search Matters").fill(text)
    page.get_by_role("textbox", name="Search Matters").press("Enter")
    page.wait_for_url(re.compile(rf"[?&]q={re.escape(quote_plus(text))}(&|$)"))
    ready(page)


def column(page: Any, index: int) -> list[str]:
    cells = page.locator("table[role=grid] tbody tr").locator(f"td:nth-child({index + 1})")
    return [text.strip() for text in cells.all_inner_texts()]


def written(home: Path) -> list[str]:
    folder = home / "clients"
    found = sorted(str(p.relative_to(home)) for p in folder.rglob("*")) if folder.exists() else []
    return found + ([LEDGER_FILE] if (home / LEDGER_FILE).exists() else [])


def test_search_shows_progress_and_sorts_by_each_column_both_ways(page: Any, live: Live) -> None:
    from playwright.sync_api import expect

    # the address's token became a cookie; the address no longer carries it
    assert "token=" not in page.url
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    search(page, "E")
    expect(page.get_by_role("status")).to_have_text(re.compile("Type at least 2 characters"))
    live.sandbox.latency = 0.5  # slow Clio: the pages load one by one, with progress
    try:
        search(page, "Estate")
        expect(page.get_by_text(re.compile(r"Loading matters from Clio: page \d"))).to_be_visible()
        shot(page, "search-progress")
        expect(page.get_by_text("471 matters found")).to_be_visible()
    finally:
        live.sandbox.latency = 0.0
    assert page.locator("table[role=grid] tbody tr").count() == 471
    search(page, "Garcia")  # fewer rows: sorting is checked faster, just as well
    expect(page.get_by_text(re.compile(r"^\d+ matters found"))).to_be_visible()
    assert page.locator("table[role=grid] tbody tr").count() > 10
    for index, title in enumerate(COLUMNS):
        header = page.get_by_role("columnheader", name=title, exact=True)
        for aria in ("ascending", "descending"):
            header.get_by_role("link").click()
            expect(header).to_have_attribute("aria-sort", aria)
            values = column(page, index)
            ordered = sorted(values, key=str.casefold, reverse=aria == "descending")
            assert [v.casefold() for v in values] == [v.casefold() for v in ordered], (title, aria)
            others = [COLUMNS[i] for i in range(len(COLUMNS)) if i != index]
            for other in others:
                expect(page.get_by_role("columnheader", name=other, exact=True)).to_have_attribute(
                    "aria-sort", "none"
                )


def test_the_whole_workflow(page: Any, live: Live) -> None:
    from playwright.sync_api import expect

    search(page, "Pritchett")
    opened = page.get_by_role("columnheader", name="Opened", exact=True)
    opened.get_by_role("link").click()
    opened.get_by_role("link").click()
    expect(opened).to_have_attribute("aria-sort", "descending")
    ready(page)
    order = column(page, 0)
    row = page.get_by_role("row", name=re.compile("00002-Pritchett"))
    use = page.get_by_role("button", name="Use Selected Matter")
    expect(use).to_be_disabled()
    row.click()
    expect(row).to_have_attribute("aria-selected", "true")
    expect(use).to_be_enabled()
    shot(page, "search", docs=True)
    use.click()

    # Preview; Back keeps the results and their sort
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("columnheader", name="Opened", exact=True)).to_have_attribute(
        "aria-sort", "descending"
    )
    assert column(page, 0) == order
    ready(page).get_by_role("row", name=re.compile("00002-Pritchett")).dblclick()  # opens at once
    expect(page.get_by_text("Estate planning - Jay Pritchett")).to_be_visible()
    contacts = page.get_by_role("grid", name="Contacts")
    for name in ("Name", "Relationship", "Role"):
        expect(contacts.get_by_role("columnheader", name=name, exact=True)).to_be_visible()
    first = contacts.get_by_role("row").nth(1)
    expect(first).to_contain_text("Jay Pritchett")
    expect(first).to_contain_text("Client")

    # remove, restore, remove again; set a role
    remove = page.get_by_role("button", name="Remove Selected Contact")
    company = contacts.get_by_role("row", name=re.compile("Pritchett's Closets"))
    ready(page)
    company.click()
    remove.click()
    removed = page.get_by_role("listitem").filter(has_text="Pritchett's Closets")
    expect(removed).to_contain_text("removed")
    expect(contacts.get_by_role("row", name=re.compile("Pritchett's Closets"))).to_have_count(0)
    removed.get_by_role("button", name="Restore").click()
    expect(contacts.get_by_role("row", name=re.compile("Pritchett's Closets"))).to_have_count(1)
    ready(page)
    contacts.get_by_role("row", name=re.compile("Pritchett's Closets")).click()
    remove.click()
    page.get_by_label("Role for Dylan Marshall").select_option("Child")
    page.get_by_role("listitem").filter(
        has=page.get_by_label("Role for Dylan Marshall")
    ).get_by_role("button", name="Set Role").click()
    expect(contacts.get_by_role("row", name=re.compile("Dylan Marshall"))).to_contain_text(
        "Child (set by hand)"
    )
    shot(page, "preview", docs=True)

    # Add Client: Cancel writes nothing; then OK with edited notes
    page.get_by_role("button", name="Import to ILS").click()
    name = page.get_by_role("textbox", name="Client Name")
    notes = page.get_by_role("textbox", name="Notes")
    expect(name).to_have_value("Jay Pritchett")
    expect(notes).to_have_value(re.compile(r"^Imported from Clio matter 00002-Pritchett on "))
    shot(page, "add-client", docs=True)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    assert written(live.home) == []
    page.get_by_role("button", name="Import to ILS").click()
    notes.fill("Walk-in on Monday.\nCall back about the closets.")
    page.get_by_role("button", name="OK", exact=True).click()

    # Done
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ of 53 answers pre-filled$"))).to_be_visible()
    expect(page.get_by_text("ILS Client Interview")).to_be_visible()
    review = page.get_by_role("region", name="Review")
    expect(review).to_contain_text("Dylan Marshall: (blank) → Child")
    expect(review).to_contain_text("Pritchett's Closets & Blinds: Business")
    shot(page, "done")
    answer_file = live.home / "clients" / "Pritchett-Jay-5001" / "ils-client-interview.anx"
    expect(page.get_by_text(str(answer_file))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the answer file").click()
    assert Path(download.value.path()).read_bytes() == answer_file.read_bytes()
    with Ledger.open(live.home) as ledger:
        (entry,) = ledger.list_clients()
    assert entry.notes == "Walk-in on Monday.\nCall back about the closets."

    page.get_by_role("link", name="Clients").first.click()
    expect(page.get_by_role("table", name="Clients")).to_contain_text("Jay Pritchett")
    shot(page, "clients")

    # the same matter again: refused, saying when, from where and what to do
    page.get_by_role("link", name="Search").first.click()
    search(page, "Pritchett")
    page.get_by_role("row", name=re.compile("00002-Pritchett")).click()
    page.get_by_role("button", name="Use Selected Matter").click()
    page.get_by_role("button", name="Import to ILS").click()
    expect(page.get_by_role("heading", name="This client already exists")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("from matter 00002-Pritchett")
    expect(page.get_by_role("alert")).to_contain_text("Open the existing client in ILS")
    shot(page, "already-exists")


def test_rows_are_chosen_with_the_keyboard(page: Any) -> None:
    from playwright.sync_api import expect

    search(page, "Pritchett")
    rows = page.get_by_role("grid", name="Matters").get_by_role("row")
    rows.nth(1).focus()
    page.keyboard.press("Space")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(rows.nth(2)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    chosen = rows.nth(1).locator("td").first.inner_text()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_text(chosen)).to_be_visible()

    # the contacts list: Enter only selects; the button (reached with Tab) removes
    assert chosen == "00002-Pritchett"  # Clio's order: the first row
    contacts = page.get_by_role("grid", name="Contacts").get_by_role("row")
    ready(page)
    contacts.nth(1).focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(contacts.nth(2)).to_have_attribute("aria-selected", "true")
    name = contacts.nth(2).locator("td").first.inner_text()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Remove Selected Contact")).to_be_focused()
    page.keyboard.press("Enter")
    removed = page.get_by_role("listitem").filter(has_text=name)
    expect(removed).to_contain_text("removed")
    removed.get_by_role("button", name="Restore").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("grid", name="Contacts")).to_contain_text(name)


def test_connect_screen(browser: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    home = tmp_path / "fresh"
    for live in _serve(sandbox, home, {"CLIO_BASE_URL": sandbox.base_url}):
        context = browser.new_context(viewport={"width": 1200, "height": 820})
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(live.server.url)
        expect(page.get_by_role("heading", name="Connect")).to_be_visible()
        page.get_by_role("textbox", name="App Key").fill(APP_KEY)
        page.get_by_label("App Secret").fill(APP_SECRET)
        page.get_by_role("button", name="Connect to Clio").click()
        expect(page.get_by_role("textbox", name="Success code")).to_be_visible()
        assert APP_SECRET not in page.content()
        shot(page, "connect")
        with context.expect_page() as popup:
            page.get_by_role("link", name="Open Clio's approval page").click()
        approval = popup.value
        approval.wait_for_load_state()
        title = approval.title()
        assert title.startswith("Success code=")
        approval.close()
        page.get_by_role("textbox", name="Success code").fill(title)
        page.get_by_role("button", name="Finish Connecting").click()
        expect(page.get_by_role("heading", name="Search")).to_be_visible()
        context.close()
