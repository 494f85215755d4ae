"""The staff app in a real browser: Chromium through Playwright's Python API, against the
sandbox over HTTP (issues 10 and 18). Each screen is saved under screenshots/ (git-ignored) at
1366x768 and 1024x700; the search, preview and Add Client screens also go to docs/ when they are
missing there or MAPCTL_DOCS_SCREENSHOTS=1 (`MAPCTL_DOCS_SCREENSHOTS=1 make test` refreshes them).

Playwright cannot download its own browser here: Debian's `chromium` is used through
`executable_path`. Without it these tests skip saying why, except in CI (CI=true): there a
missing browser fails the run (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import pytest
from mapctl.app.server import AppServer
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox, connect_home
from mapctl.engine.workflow.ledger import LEDGER_FILE, Ledger

from .conftest import app_config, served

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
SIZES = {"1366": (1366, 768), "1024": (1024, 700)}
# What staff must never be told outside the administrator's fold (issue 18, item 1)
JARGON = re.compile(
    r"mapctl (connect|clients|app|import|settings)|CLIO_[A-Z_]+|MAPCTL_[A-Z_]+|\bHTTP\b|"
    r"\b(401|403|404|429|500|502|503)\b|`|\bmv\b|environment variable"
)


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


class Faults(httpx.BaseTransport):
    """Real HTTP to the sandbox; `fault(request)` may answer instead (Clio down, 403...)."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.fault: Callable[[httpx.Request], httpx.Response | None] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.fault is not None:
            answer = self.fault(request)
            if answer is not None:
                return answer
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


@dataclass
class Live:
    server: AppServer
    sandbox: Sandbox
    home: Path
    faults: Faults


def _serve(sandbox: Sandbox, home: Path, env: dict[str, str], **extra: Any) -> Iterator[Live]:
    faults = extra.pop("faults", None) or Faults()
    try:
        with served(app_config(home, env, transport=faults, **extra)) as server:
            yield Live(server, sandbox, home, faults)
    finally:
        faults.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def live(sandbox: Sandbox, tmp_path: Path) -> Iterator[Live]:
    """The app on a free 127.0.0.1 port, its home connected to the sandbox."""
    home = tmp_path / "home"
    yield from _serve(sandbox, home, connect_home(sandbox, home), deadline=3.0)


def _page(browser: Any, url: str, size: str = "1366") -> tuple[Any, Any, list[str]]:
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []  # a script error or a Content-Security-Policy violation
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.goto(url)
    return context, opened, problems


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context, opened, problems = _page(browser, live.server.url)
    yield opened
    context.close()
    # a status page (409, 502...) is logged by Chromium as a failed resource: not a problem
    assert [p for p in problems if "Failed to load resource" not in p] == []


def shot(page: Any, name: str, docs: bool = False) -> None:
    """The screen at both sizes (what fits without scrolling is what staff see first)."""
    SHOTS.mkdir(exist_ok=True)
    page.mouse.move(0, 0)  # no hover effect: the same picture on every run
    if docs:
        page.evaluate("window.scrollTo(0, 0)")  # the documentation shows each screen's top
    before = page.viewport_size
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        image = page.screenshot(path=str(SHOTS / f"app-{name}-{size}.png"))
        target = DOCS / f"app-{name}.png"
        if docs and size == "1366":
            if os.environ.get("MAPCTL_DOCS_SCREENSHOTS") == "1" or not target.exists():
                target.write_bytes(image)
    page.set_viewport_size(before)


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


def staff_text(page: Any) -> str:
    """What staff read: the page's visible text, the administrator's fold closed."""
    return str(page.locator("body").inner_text())


def test_search_shows_progress_and_sorts_by_each_column_both_ways(page: Any, live: Live) -> None:
    from playwright.sync_api import expect

    # the address's token became a cookie; the address no longer carries it
    assert "token=" not in page.url
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    search(page, "E")
    expect(page.get_by_role("status")).to_have_text(re.compile("Type at least 2 characters"))
    live.sandbox.latency = 0.4  # slow Clio: the pages load one by one, with progress
    try:
        search(page, "Estate")
        expect(page.get_by_text(re.compile(r"Loading matters from Clio: \d+"))).to_be_visible()
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
            box = header.bounding_box()  # the whole cell sorts: click its far right edge
            page.mouse.click(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
            expect(header).to_have_attribute("aria-sort", aria)
            expect(header.get_by_role("link")).to_be_focused()  # focus stays on the header
            values = column(page, index)
            ordered = sorted(values, key=str.casefold, reverse=aria == "descending")
            assert [v.casefold() for v in values] == [v.casefold() for v in ordered], (title, aria)
    search(page, "zzqx-nothing")
    expect(page.get_by_role("status")).to_contain_text("Try part of the client's last name")


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
    expect(use).to_be_in_viewport()  # the sticky action bar
    shot(page, "search", docs=True)
    use.click()

    # Preview; Back keeps the results, their sort and the selection
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("columnheader", name="Opened", exact=True)).to_have_attribute(
        "aria-sort", "descending"
    )
    assert column(page, 0) == order
    chosen = page.get_by_role("row", name=re.compile("00002-Pritchett"))
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(chosen).to_be_focused()
    ready(page).get_by_role("row", name=re.compile("00002-Pritchett")).dblclick()
    expect(page.get_by_text("Estate planning - Jay Pritchett")).to_be_visible()
    contacts = page.get_by_role("grid", name="Contacts")
    first = contacts.get_by_role("row").nth(1)
    expect(first).to_contain_text("Jay Pritchett")
    remove = page.get_by_role("button", name="Remove Selected Contact")
    importing = page.get_by_role("button", name="Import to ILS")
    expect(remove).to_be_in_viewport()
    expect(importing).to_be_in_viewport()

    # remove: "… removed — Undo" where the person looks, focus on Undo; undo; remove again
    company = contacts.get_by_role("row", name=re.compile("Pritchett's Closets"))
    ready(page)
    company.click()
    remove.click()
    note = page.get_by_role("status").filter(has_text="removed")
    expect(note).to_contain_text("Pritchett's Closets & Blinds removed")
    expect(note).to_be_in_viewport()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    undo.click()
    expect(contacts.get_by_role("row", name=re.compile("Pritchett's Closets"))).to_have_count(1)
    ready(page)
    contacts.get_by_role("row", name=re.compile("Pritchett's Closets")).click()
    remove.click()
    expect(page.get_by_role("button", name="Undo")).to_be_focused()

    # set a role: focus comes back to that contact's choice
    page.get_by_label("Role for Dylan Marshall").select_option("Child")
    page.get_by_role("listitem").filter(
        has=page.get_by_label("Role for Dylan Marshall")
    ).get_by_role("button", name="Set Role").click()
    expect(contacts.get_by_role("row", name=re.compile("Dylan Marshall"))).to_contain_text(
        "Child (set by hand)"
    )
    expect(page.get_by_label("Role for Dylan Marshall")).to_be_focused()
    shot(page, "preview", docs=True)

    # Add Client: the name has focus; Esc cancels and writes nothing; then OK with new notes
    page.get_by_role("button", name="Import to ILS").click()
    name = page.get_by_role("textbox", name="Client Name")
    notes = page.get_by_role("textbox", name="Notes")
    expect(name).to_have_value("Jay Pritchett")
    expect(name).to_be_focused()
    expect(notes).to_have_value(re.compile(r"^Imported from Clio matter 00002-Pritchett on "))
    shot(page, "add-client", docs=True)
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    assert written(live.home) == []
    page.get_by_role("button", name="Import to ILS").click()
    notes.fill("Walk-in on Monday.\nCall back about the closets.")
    page.get_by_role("button", name="OK", exact=True).click()

    # Done: ready for ILS (not in it yet); name and notes with Copy buttons; the ILS steps
    expect(page.get_by_role("heading", name="Ready for ILS: Jay Pritchett")).to_be_visible()
    expect(page.get_by_text("not in ILS yet")).to_be_visible()
    expect(page.get_by_role("textbox", name="Client Name")).to_have_value("Jay Pritchett")
    expect(page.get_by_role("textbox", name="Notes")).to_have_value(
        "Walk-in on Monday.\nCall back about the closets."
    )
    steps = page.get_by_role("region", name="In ILS").get_by_role("listitem")
    expect(steps.first).to_contain_text("SmartContent")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the name").click()
    expect(page.get_by_text("Copied: the name")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "Jay Pritchett"
    page.get_by_role("button", name="Copy the notes").click()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "Walk-in on Monday.\nCall back about the closets."
    )
    review = page.get_by_role("region", name="Review")
    expect(review).to_contain_text("Dylan Marshall: (no label) → Child")
    shot(page, "done")
    answer_file = live.home / "clients" / "Pritchett-Jay-5001" / "ils-client-interview.anx"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the answer file").click()
    assert download.value.suggested_filename == "Jay Pritchett (5001).anx"
    assert Path(download.value.path()).read_bytes() == answer_file.read_bytes()
    with Ledger.open(live.home) as ledger:
        (entry,) = ledger.list_clients()
    assert entry.notes == "Walk-in on Monday.\nCall back about the closets."
    page.go_back()  # Back from Done: no red "already exists" for the client just created
    expect(page.get_by_role("alert")).to_have_count(0)

    page.get_by_role("link", name="Clients").first.click()
    expect(page.get_by_role("table", name="Clients")).to_contain_text("Jay Pritchett")
    expect(page.get_by_role("table", name="Clients")).to_contain_text("2 Mar 2026")
    shot(page, "clients")
    page.set_viewport_size({"width": 800, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= 800  # no overflow
    page.get_by_role("searchbox", name="Filter").fill("nobody")
    expect(page.get_by_role("row", name=re.compile("Jay Pritchett"))).to_be_hidden()
    page.get_by_role("searchbox", name="Filter").fill("download")  # a link's word, not the row's
    expect(page.get_by_role("row", name=re.compile("Jay Pritchett"))).to_be_hidden()
    page.get_by_role("searchbox", name="Filter").fill("pritch")
    expect(page.get_by_role("row", name=re.compile("Jay Pritchett"))).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 768})

    # the same matter again: marked at the search, said at once on the preview
    page.get_by_role("link", name="Search").first.click()
    search(page, "Pritchett")
    marked = page.get_by_role("row", name=re.compile("00002-Pritchett"))
    expect(marked).to_contain_text("Imported 2 Mar 2026")
    marked.click()
    page.get_by_role("button", name="Use Selected Matter").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Already imported")
    expect(alert).to_contain_text("from matter 00002-Pritchett")
    expect(page.get_by_role("button", name="Import to ILS")).to_have_count(0)
    shot(page, "already-imported")
    with page.expect_download() as again:
        alert.get_by_role("link", name="Open the existing client's answer file").click()
    assert again.value.suggested_filename == "Jay Pritchett (5001).anx"


def test_a_keyboard_only_import(page: Any, live: Live) -> None:
    from playwright.sync_api import expect

    def tab_to(test: str, limit: int = 30) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {test}; }})()"):
                return
        raise AssertionError(f"Tab never reached {test}")

    ready(page)
    expect(page.get_by_role("textbox", name="Search Matters")).to_be_focused()
    page.keyboard.type("Pritchett")
    page.keyboard.press("Enter")
    ready(page)
    tab_to("e.tagName === 'TR'")
    page.keyboard.press("Enter")  # the first Enter on a row reached by Tab opens it
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    ready(page)
    tab_to("e.tagName === 'TR'")
    contacts = page.get_by_role("grid", name="Contacts").get_by_role("row")
    page.keyboard.press("End")
    name = contacts.last.locator("td").first.inner_text()
    page.keyboard.press("Enter")  # selects it and goes to Remove
    expect(page.get_by_role("button", name="Remove Selected Contact")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="removed")).to_contain_text(name)
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    tab_to("e.textContent.trim() === 'Import to ILS'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Client Name")).to_be_focused()
    page.keyboard.press("Enter")  # OK
    expect(page.get_by_role("heading", name=re.compile("^Ready for ILS"))).to_be_visible()
    review = page.get_by_role("region", name="Review")
    expect(review).to_contain_text("Contacts removed")
    expect(review.get_by_role("listitem").filter(has_text=name)).to_have_count(1)
    with Ledger.open(live.home) as ledger:
        (entry,) = ledger.list_clients()
    assert entry.name == "Jay Pritchett"


def test_the_skip_link_and_opening_without_the_key(page: Any, live: Live) -> None:
    from playwright.sync_api import expect

    ready(page)
    page.get_by_role("link", name="Clients").first.click()  # a page without autofocus
    expect(page.get_by_role("heading", name="Clients", exact=True)).to_be_visible()
    page.wait_for_load_state("load")  # Tab on the new page, not the one it leaves
    page.keyboard.press("Tab")  # the first stop
    skip = page.get_by_role("link", name="Skip to the main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # past the header's links: into the page itself
    assert page.evaluate("document.activeElement.closest('main') !== null")
    origin = live.server.url.split("/s/")[0]
    page.goto(f"{origin}/search")  # a bookmark without the secret path
    expect(page.get_by_role("heading", name="Open mapctl again")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    assert page.locator("link[rel=stylesheet]").count() == 1
    assert not JARGON.search(staff_text(page))
    shot(page, "open-again")


def _fault(kind: str) -> Callable[[httpx.Request], httpx.Response | None]:
    def answer(request: httpx.Request) -> httpx.Response | None:
        if "/api/v4/" not in request.url.path:
            return None
        if kind == "clio-down":
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        if kind == "rate-limited":
            return httpx.Response(429, headers={"Retry-After": "3600"}, json={"error": "x"})
        if kind == "no-permission":
            return httpx.Response(403, json={"error": {"type": "Forbidden", "message": "no"}})
        if kind == "token-refused":
            return httpx.Response(401, json={"error": "invalid_token"})
        return None

    return answer


ERRORS = {
    "clio-down": ("Clio could not be reached", "Try again", "Search"),
    "rate-limited": ("Clio asked mapctl to slow down", "Try again", "Search"),
    "no-permission": ("Your Clio account may not see this", "Connect to Clio", "Connection"),
    "token-refused": (
        "Clio no longer accepts mapctl's connection",
        "Connect to Clio",
        "Connection",
    ),
    "too-slow": ("Clio is answering too slowly", "Try again", "Search"),
}


@pytest.mark.parametrize("cause", list(ERRORS))
def test_each_error_says_what_to_do_in_the_app(
    browser: Any, sandbox: Sandbox, tmp_path: Path, cause: str
) -> None:
    from playwright.sync_api import expect

    title, action, lands = ERRORS[cause]
    home = tmp_path / "home"
    deadline = 0.8 if cause == "too-slow" else 5.0
    for live in _serve(sandbox, home, connect_home(sandbox, home), deadline=deadline):
        context, page, _ = _page(browser, live.server.url)
        try:
            ready(page)
            if cause == "too-slow":
                sandbox.latency = 1.5
            else:
                live.faults.fault = _fault(cause)
            search(page, "Pritchett")
            expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=15_000)
            sandbox.latency = 0.0
            live.faults.fault = None
            text = staff_text(page)
            assert "What to do:" in text
            assert not JARGON.search(text), (cause, JARGON.search(text))
            fold = page.get_by_text("Details for your administrator")
            fold.click()
            expect(page.get_by_role("button", name="Copy the details")).to_be_visible()
            if cause == "clio-down":
                shot(page, "error")
            page.get_by_role("link", name=action).first.click()
            expect(page.get_by_role("heading", name=lands)).to_be_visible()
            if action == "Try again":
                expect(page.get_by_role("grid", name="Matters")).to_contain_text("00002-Pritchett")
        finally:
            sandbox.latency = 0.0
            context.close()
        if cause == "too-slow":
            time.sleep(1.5)  # the slow request ends before the app stops


def test_a_20000_match_search_at_50_requests_a_minute(
    browser: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A broad search ends with "showing the first N of M: refine" after 5 pages, never an
    error page; while Clio makes mapctl wait, a live countdown. Clio here is a fake: 20,000
    matches, 50 requests a minute of which other work has used 47, on a clock that the app's
    waits move on (a minute passes in 2 s)."""
    from playwright.sync_api import expect

    clock = {"now": 0.0, "window": 0.0, "count": 47}  # other work used 47 of this minute
    lock = threading.Lock()
    asked: list[int] = []

    def big(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/api/v4/matters.json":
            return None
        with lock:
            if clock["now"] - clock["window"] >= 60:
                clock["window"], clock["count"] = clock["now"], 0
            clock["count"] += 1
            if clock["count"] > 50:
                left = 60 - (clock["now"] - clock["window"])
                return httpx.Response(429, headers={"Retry-After": f"{left:.0f}"}, json={})
        query = parse_qs(urlsplit(str(request.url)).query)
        start = int(query.get("page_token", ["0"])[0])
        asked.append(start)
        rows = [
            {"id": 100000 + n, "display_number": f"{n:05d}-Smith", "description": "Estate",
             "status": "Open", "open_date": "2025-01-01", "client": {"id": 1, "name": "A Smith"}}
            for n in range(start, min(start + 200, 20_000))
        ]  # fmt: skip
        paging = {}
        if start + 200 < 20_000:
            paging["next"] = f"{sandbox.base_url}/api/v4/matters.json?page_token={start + 200}"
        return httpx.Response(
            200, json={"data": rows, "meta": {"records": 20_000, "paging": paging}}
        )

    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 2.0) if seconds >= 1 else 0)
        with lock:
            clock["now"] += seconds

    faults = Faults()
    faults.fault = big
    home = tmp_path / "home"
    env = connect_home(sandbox, home)
    for live in _serve(sandbox, home, env, faults=faults, sleep=sleep):
        context, page, _ = _page(browser, live.server.url)
        try:
            ready(page)
            page.get_by_role("textbox", name="Search Matters").fill("Smith")
            page.get_by_role("textbox", name="Search Matters").press("Enter")
            countdown = page.get_by_text(re.compile(r"Going on in \d+ s"))
            expect(countdown).to_be_visible(timeout=15_000)
            shot(page, "search-waiting")
            seen = []
            for _ in range(6):
                seen += [int(n) for n in re.findall(r"Going on in (\d+) s", staff_text(page))]
                page.wait_for_timeout(250)
            assert len(set(seen)) >= 2 and seen == sorted(seen, reverse=True)  # live
            status = page.get_by_text(re.compile("Showing the first"))
            expect(status).to_contain_text(
                "Showing the first 1,000 of 20,000 matters for “Smith”: refine the search",
                timeout=15_000,
            )
            assert page.locator("table[role=grid] tbody tr").count() == 1000
            assert not JARGON.search(staff_text(page))
            assert asked == [0, 200, 400, 600, 800]  # 5 pages served, then no more asked
        finally:
            context.close()


def approve(page: Any, context: Any, secret: str) -> str:
    """Connect step 1 with `secret`, then Clio's approval page: its title (the code)."""
    from playwright.sync_api import expect

    page.get_by_role("textbox", name="App Key").fill(APP_KEY)
    page.get_by_label("App Secret").fill(secret)
    page.get_by_role("button", name="Connect to Clio").click()
    expect(page.get_by_role("textbox", name="Success code")).to_be_visible()
    assert secret not in page.content()
    with context.expect_page() as popup:
        page.get_by_role("link", name="Open Clio's approval page").click()
    approval = popup.value
    approval.wait_for_load_state()
    title = str(approval.title())
    approval.close()
    return title


def test_connect_screen(browser: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    home = tmp_path / "fresh"
    for live in _serve(sandbox, home, {"CLIO_BASE_URL": sandbox.base_url}):
        context, page, _ = _page(browser, live.server.url)
        expect(page.get_by_role("heading", name="Connection")).to_be_visible()
        assert not JARGON.search(staff_text(page))

        # a made-up code, then a wrong App Secret: each its own advice, and the way back
        approve(page, context, APP_SECRET)
        page.get_by_role("textbox", name="Success code").fill("made-up-code")
        page.get_by_role("button", name="Finish Connecting").click()
        expect(
            page.get_by_role("heading", name="The success code was not accepted")
        ).to_be_visible()
        assert not JARGON.search(staff_text(page))
        page.get_by_role("link", name="Connect to Clio").click()
        title = approve(page, context, "wrong-secret")
        page.get_by_role("textbox", name="Success code").fill(title)
        page.get_by_role("button", name="Finish Connecting").click()
        expect(
            page.get_by_role("heading", name="Clio did not accept the App Key or App Secret")
        ).to_be_visible()
        assert not JARGON.search(staff_text(page))
        shot(page, "wrong-secret")
        page.get_by_role("link", name="Connect to Clio").click()

        title = approve(page, context, APP_SECRET)
        assert title.startswith("Success code=")
        shot(page, "connect")
        page.get_by_role("textbox", name="Success code").fill(title)
        page.get_by_role("button", name="Finish Connecting").click()
        expect(page.get_by_role("heading", name="Search")).to_be_visible()
        page.get_by_role("link", name="Connection").click()
        expect(page.get_by_role("region", name="Connected to Clio")).to_contain_text(
            urlsplit(sandbox.base_url).netloc
        )
        shot(page, "connection")
        page.get_by_role("button", name="Disconnect").click()
        expect(page.get_by_text("Disconnected")).to_be_visible()
        context.close()


def test_demo_shows_a_banner_and_what_to_search(
    browser: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    home = tmp_path / "home"
    for live in _serve(sandbox, home, connect_home(sandbox, home), demo=True):
        context, page, _ = _page(browser, live.server.url, size="1024")
        banner = page.get_by_role("note")
        expect(banner).to_contain_text("DEMO")
        expect(banner).to_be_in_viewport()
        expect(page.get_by_text("In the demo, try Pritchett")).to_be_visible()
        shot(page, "demo")
        context.close()
