"""The app's lock against the held-out attack cases (issue 18, items 15, 17, 18 and 19), over
real HTTP: a slow Clio (the sandbox with latency), cookies replayed from another port, bidi
controls from Clio, and POSTs from elsewhere."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.app.server import AppServer
from mapctl.engine.sandbox.seed import demo_data
from mapctl.engine.sandbox.server import Sandbox, connect_home

from .conftest import app_config, served

NOW = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def serve(sandbox: Sandbox, home: Path, **overrides: Any) -> Iterator[AppServer]:
    with served(app_config(home, connect_home(sandbox, home), **overrides)) as server:
        yield server


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def app(sandbox: Sandbox, tmp_path: Path) -> Iterator[AppServer]:
    yield from serve(sandbox, tmp_path / "home", deadline=1.5)


def browser(server: AppServer) -> httpx.Client:
    """An HTTP client that opened the app's address: it holds the cookie. Relative redirects
    are followed against the app's origin."""
    client = httpx.Client(timeout=20, base_url=server.url.split("/s/")[0])
    entered = client.get(server.url)
    assert entered.status_code == 303
    return client


def root(server: AppServer) -> str:
    return server.url.split("?", 1)[0].rstrip("/")


def csrf(client: httpx.Client, server: AppServer) -> str:
    page = client.get(f"{root(server)}/connect").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


# --- item 15: a slow Clio --------------------------------------------------------------------


def test_a_slow_clio_holds_no_page_and_each_piece_of_work_is_bounded(
    app: AppServer, sandbox: Sandbox
) -> None:
    client = browser(app)
    try:
        _slow_clio(client, app, sandbox)
    finally:
        client.close()


def _slow_clio(client: httpx.Client, app: AppServer, sandbox: Sandbox) -> None:
    token = csrf(client, app)
    base = root(app)
    sandbox.latency = 4.0  # every Clio request takes 4 s; the app's deadline is 1.5 s

    def use_selected_matter(_: int) -> tuple[int, float, str]:
        started = time.monotonic()
        response = client.post(
            f"{base}/matters", data={"csrf": token, "matter": "9002", "back": f"{base}/search"}
        )
        return response.status_code, time.monotonic() - started, response.text

    try:
        with ThreadPoolExecutor(12) as pool:
            clicks = pool.map(use_selected_matter, range(12))
            time.sleep(0.3)
            started = time.monotonic()
            clients = client.get(f"{base}/clients")  # still served at once
            took = time.monotonic() - started
            results = list(clicks)
        assert clients.status_code == 200 and took < 2.0, took  # Clio takes 4 s
        assert max(seconds for _, seconds, _ in results) < 3.5  # nobody waits on Clio
        busy = [text for status, _, text in results if status == 503]
        assert len(busy) >= 12 - 4  # at most 4 pieces of Clio work at once
        assert all("mapctl is busy" in text and ">Try again<" in text for text in busy)
        waiting = [s for s, _, _ in results if s == 303]
        assert 1 <= len(waiting) <= 4
        search = client.get(f"{base}/search?q=Pritchett", follow_redirects=True)
        assert search.status_code == 503  # the searches share the same bound
        # the one that waits: past its deadline, "too slow", with Try again
        opening = client.post(
            f"{base}/matters", data={"csrf": token, "matter": "9002", "back": f"{base}/search"}
        )
        time.sleep(2.5)
        page = client.get(f"{base}/clients")
        assert page.status_code == 200
    finally:
        sandbox.latency = 0.0
    time.sleep(4.5)  # the slow requests end; their slots come back
    if opening.status_code == 303:
        late = client.get(f"{base}{opening.headers['Location'].removeprefix(base)}")
        assert late.status_code in (504, 303)
    again = client.get(f"{base}/search?q=Pritchett", follow_redirects=True)
    assert again.status_code == 200 and "00002-Pritchett" in again.text


def test_work_past_its_deadline_says_clio_is_too_slow(sandbox: Sandbox, tmp_path: Path) -> None:
    for server in serve(sandbox, tmp_path / "home", deadline=1.0):
        client = browser(server)
        token = csrf(client, server)
        base = root(server)
        sandbox.latency = 2.0
        try:  # noqa: SIM105
            response = client.post(
                f"{base}/matters", data={"csrf": token, "matter": "9002", "back": f"{base}/search"}
            )
            assert response.status_code == 303
            waiting = client.get(response.headers["Location"])  # says what it waits for
            assert waiting.status_code == 200
            assert "Fetching matter 9002 from Clio…" in waiting.text
            assert "/progress" in waiting.text and ">Back to the search<" in waiting.text
            time.sleep(0.8)  # past the deadline (1 s from the click)
            page = client.get(response.headers["Location"])
            assert page.status_code == 504, page.text
            assert "Clio is answering too slowly" in page.text and ">Try again<" in page.text
            assert 'name="matter" value="9002"' in page.text  # Try again sends it again
        finally:
            sandbox.latency = 0.0
            client.close()
        time.sleep(2.2)


# --- item 17: the cookie and other ports -----------------------------------------------------


def test_the_cookie_is_for_the_secret_path_only_and_useless_without_it(app: AppServer) -> None:
    with httpx.Client(timeout=20) as client:
        entered = client.get(app.url)
        cookie = entered.headers["Set-Cookie"]
        secret_path = root(app).split(":", 2)[2].split("/", 1)[1]
        assert f"Path=/{secret_path}/" in cookie and "HttpOnly" in cookie
        name, value = cookie.split(";")[0].split("=", 1)
    port = root(app).split(":")[2].split("/")[0]
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=20, cookies={name: value}) as replay:  # the cookie, replayed
        for path in ("/", "/search?q=Pritchett", "/clients", "/connect"):
            refused = replay.get(base + path)
            assert refused.status_code == 403, path
            assert "Open mapctl again" in refused.text


# --- item 19: POSTs from elsewhere -----------------------------------------------------------


def test_a_post_from_another_site_or_port_is_refused(app: AppServer) -> None:
    client = browser(app)
    try:
        _foreign_posts(client, app)
    finally:
        client.close()


def _foreign_posts(client: httpx.Client, app: AppServer) -> None:
    token = csrf(client, app)
    base = root(app)
    origin = base.split("/s/")[0]
    other = origin.rsplit(":", 1)[0] + ":1"
    form = {"csrf": token, "matter": "9002", "back": f"{base}/search"}
    for headers in (
        {"Referer": "http://evil.example/page"},
        {"Referer": f"{other}/page"},  # another port: same site, another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
        {"Origin": other},
    ):
        refused = client.post(f"{base}/matters", data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "Refused" in refused.text
    accepted = client.post(
        f"{base}/matters",
        data=form,
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin", "Referer": f"{base}/search"},
    )
    assert accepted.status_code == 303


# --- item 18: bidi controls ------------------------------------------------------------------


def test_bidi_controls_from_clio_never_reach_a_page(tmp_path: Path) -> None:
    data = demo_data()
    for contact in data["contacts"]:
        if contact["id"] == 5014:  # Dylan Marshall
            contact["first_name"] = "\u202enoS"
            contact["name"] = "\u202enoS Marshall"
    for rel in data["relationships"]:
        if rel["contact"]["id"] == 5014:
            rel["description"] = "\u2067Son\u2069\u200f"
    for matter in data["matters"]:
        if matter["id"] == 9002:
            matter["description"] = "Estate \u202eplanning\u061c"
    with Sandbox(data) as own:
        for server in serve(own, tmp_path / "home"):
            client = browser(server)
            try:
                _no_bidi(client, server)
            finally:
                client.close()


def _no_bidi(client: httpx.Client, server: AppServer) -> None:
    base = root(server)
    token = csrf(client, server)
    pages = [client.get(f"{base}/search?q=Pritchett", follow_redirects=True)]
    opened = client.post(
        f"{base}/matters", data={"csrf": token, "matter": "9002", "back": f"{base}/search"}
    )
    for _ in range(200):  # the waiting page, until the matter is fetched
        preview = client.get(opened.headers["Location"], follow_redirects=True)
        if "/drafts/" in str(preview.url):
            break
        time.sleep(0.05)
    pages.append(preview)
    assert "noS Marshall" in preview.text
    key = re.search(r"/drafts/([\w-]+)", str(preview.url))
    assert key is not None
    done = client.post(
        f"{base}/drafts/{key[1]}/import",
        data={"csrf": token, "name": "Jay \u202eP", "notes": "a\u2066b"},
        follow_redirects=True,
    )
    pages += [done, client.get(f"{base}/clients")]
    for page in pages:
        assert page.status_code == 200, page.text
        assert not [c for c in page.text if c in BIDI], str(page.url)
