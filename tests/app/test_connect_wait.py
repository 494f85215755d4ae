"""Connect and "who is connected" on a slow Clio, over real HTTP: the app on waitress, a fake
Clio on 127.0.0.1 (tests/clio/hostile.py) whose token endpoint or who-am-I answers late. The
staff member sees that mapctl waits for Clio, with the time left, never a page that hangs; at
the end Search, the account, or a page saying what to do in the app, with a way to try again.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from mapctl.app.server import AppServer
from mapctl.engine.clio.auth import TokenStore

from ..clio.hostile import ACCESS, REFRESH, SECRET, Server, base_url, connect_home, hostile_clio
from ..clio.hostile import slow as slow_answer
from .conftest import app_config, served

NOW = datetime(2026, 3, 2, 15, 30, 5, tzinfo=UTC)
TOKEN = "/oauth/token"
WHO = "/api/v4/users/who_am_i.json"
CODE = "code-from-clio-4444"
LEFT = re.compile(r"Waiting for Clio(?:'|&#39;)s answer: at most (\d+) s more\.")


def serve(home: Path, env: dict[str, str], **overrides: Any) -> Iterator[AppServer]:
    with served(app_config(home, env, **overrides)) as server:
        yield server


class Staff:
    """A browser's HTTP side: it opened the app's address and holds the cookie."""

    def __init__(self, server: AppServer) -> None:
        self.root = urlsplit(server.url).path.rstrip("/")  # the secret path: /s/...
        self.http = httpx.Client(timeout=20, base_url=server.url.split("/s/")[0])
        assert self.http.get(server.url).status_code == 303
        page = self.get("/connect").text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        self.csrf = found[1]

    def __enter__(self) -> Staff:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path if path.startswith(self.root + "/") else self.root + path)

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.http.post(self.root + path, data={"csrf": self.csrf, **data})

    def timed(self, path: str) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = self.get(path)
        return response, time.monotonic() - started

    def until_done(self, progress: str, limit: float = 15.0) -> dict[str, Any]:
        ends = time.monotonic() + limit
        while time.monotonic() < ends:
            state: dict[str, Any] = self.get(progress).json()
            if state["done"]:
                return state
            time.sleep(0.1)
        raise AssertionError(f"{progress} still not done after {limit} s")


def fresh(server: Server) -> dict[str, str]:
    """The administrator's settings for `server`, nobody connected yet."""
    return {
        "CLIO_BASE_URL": base_url(server),
        "CLIO_CLIENT_ID": "key",
        "CLIO_CLIENT_SECRET": SECRET,
    }


def no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (ACCESS, REFRESH, SECRET, CODE):
            assert secret not in text


def finish_connecting(staff: Staff) -> tuple[httpx.Response, float]:
    assert staff.post("/connect").status_code == 303  # step 1: the administrator's App Key
    started = time.monotonic()
    response = staff.post("/connect/code", code=CODE)
    return response, time.monotonic() - started


def test_a_slow_token_exchange_shows_the_wait_with_the_time_left_then_search(
    tmp_path: Path,
) -> None:
    with hostile_clio({TOKEN: slow_answer(3.0)}) as clio:
        for server in serve(tmp_path / "home", fresh(clio), connect_deadline=10.0):
            with Staff(server) as staff:
                response, took = finish_connecting(staff)
                assert response.status_code == 303 and took < 2.0, took  # Clio takes 3 s
                waiting = response.headers["Location"]
                assert re.fullmatch(r"/s/[\w-]+/connecting/[\w-]+", waiting)
                page, took = staff.timed(waiting)
                assert page.status_code == 200 and took < 2.0
                assert "<h1>Connecting to Clio</h1>" in page.text
                assert "Connecting to Clio…" in page.text
                left = LEFT.search(page.text)
                assert left is not None and 7 <= int(left[1]) <= 10, page.text  # of the 10 s bound
                assert ">Back to the Connection page<" in page.text
                progress = f"{waiting}/progress"
                state = staff.get(progress).json()
                assert state["done"] is False and 7 <= state["left"] <= 10
                no_secrets(page.text, str(state))
                # the waiting page and its progress are locked to this launch like the others
                with httpx.Client(base_url=staff.http.base_url) as stranger:
                    assert stranger.get(waiting).status_code == 403
                    assert stranger.get(progress).status_code == 403
                no_csrf = staff.http.post(staff.root + "/connect/account", data={})
                assert no_csrf.status_code == 400
                assert TokenStore(tmp_path / "home").load() is None  # not yet
                assert staff.until_done(progress)["done"] is True
                done = staff.get(waiting)
                assert done.status_code == 303 and done.headers["Location"].endswith("/search")
                assert "Connected to Clio as Sam Sandbox." in staff.get("/search").text
                stored = TokenStore(tmp_path / "home").load()
                assert stored is not None and stored.access_token == ACCESS
                again = staff.get(waiting)  # reloaded later: Search again, applied once
                assert again.status_code == 303 and again.headers["Location"].endswith("/search")
                connection = staff.get("/connect").text
                assert "Sam Sandbox" in connection and "Success code" not in connection
                no_secrets(connection)


def test_a_token_exchange_past_its_bound_says_what_to_do_and_try_again_works(
    tmp_path: Path,
) -> None:
    gate = threading.Event()
    with hostile_clio({TOKEN: slow_answer(60.0, gate)}) as clio:
        for server in serve(tmp_path / "home", fresh(clio), connect_deadline=2.0):
            with Staff(server) as staff:
                response, took = finish_connecting(staff)
                assert response.status_code == 303 and took < 2.5, took  # Clio: 60 s
                waiting = response.headers["Location"]
                started = time.monotonic()
                staff.until_done(f"{waiting}/progress")
                assert time.monotonic() - started < 3.5  # the bound (2 s), not Clio's 60 s
                page = staff.get(waiting)
                assert page.status_code == 504, page.text
                assert "Clio did not finish connecting in time" in page.text
                assert "mapctl is not connected yet" in page.text
                staff_part = page.text.split('<details class="admin">')[0]
                assert not re.search(r"mapctl connect|CLIO_|MAPCTL_|\bHTTP\b|`", staff_part)
                assert re.search(r'href="/s/[\w-]+/connect#code"[^>]*>Try again<', page.text)
                no_secrets(page.text)
                assert TokenStore(tmp_path / "home").load() is None
                # Try again: the Connection page keeps step 2; Clio answers now
                assert "Success code" in staff.get("/connect").text
                gate.set()
                response, _ = finish_connecting(staff)
                assert response.status_code == 303 and response.headers["Location"].endswith(
                    "/search"
                )
                assert TokenStore(tmp_path / "home").load() is not None


def test_a_slow_who_am_i_while_connecting_still_connects(tmp_path: Path) -> None:
    with hostile_clio({WHO: slow_answer(60.0)}) as clio:
        for server in serve(
            tmp_path / "home", fresh(clio), connect_deadline=3.0, who_am_i_deadline=1.0
        ):
            with Staff(server) as staff:
                response, _ = finish_connecting(staff)
                waiting = response.headers["Location"]
                assert "/connecting/" in waiting
                started = time.monotonic()
                staff.until_done(f"{waiting}/progress")
                assert time.monotonic() - started < 3.0  # who-am-I's own bound (1 s), not 60 s
                done = staff.get(waiting)
                assert done.status_code == 303 and done.headers["Location"].endswith("/search")
                assert TokenStore(tmp_path / "home").load() is not None  # connected all the same
                assert "Connected to Clio as" not in staff.get("/search").text  # nobody named


def test_a_slow_who_am_i_never_holds_a_page_beyond_its_bound(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with hostile_clio({WHO: slow_answer(60.0)}) as clio:
        env = connect_home(home, clio)
        for server in serve(home, env):  # who-am-I's bound: the app's own, 5 s
            with Staff(server) as staff:  # opened the Connection page once already
                for _ in range(3):  # opened again and again while Clio is slow
                    page, took = staff.timed("/connect")
                    assert page.status_code == 200 and took < 2.5, took  # bound 5 s; waits 0.6 s
                    assert "Asking Clio who is connected…" in page.text
                    left = LEFT.search(page.text)
                    assert left is not None and 1 <= int(left[1]) <= 5
                    assert "Disconnect" in page.text  # the rest of the page works meanwhile
                assert clio.hits.count(WHO) == 1  # one question at a time, however often opened
                state = staff.until_done("/connect/account/progress")
                assert state["done"] is True
                page, took = staff.timed("/connect")
                assert took < 2.5
                assert "Clio did not say just now" in page.text
                assert ">Ask Clio again<" in page.text and "Asking Clio" not in page.text
                assert clio.hits.count(WHO) == 1  # a failed question is not asked again by itself
                # the slow question holds no slot: a search still runs
                search = staff.http.get(staff.root + "/search?q=Pritchett", follow_redirects=True)
                assert search.status_code == 200 and "00002-Pritchett" in search.text
                # Clio is quick again: Ask Clio again names the account
                del clio.behaviours[WHO]
                asked = staff.post("/connect/account")
                assert asked.status_code == 303 and asked.headers["Location"].endswith("/connect")
                assert "Sam Sandbox" in staff.get("/connect").text
                assert clio.hits.count(WHO) == 2


def test_disconnect_on_a_slow_clio_is_bounded_and_frees_its_worker(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Disconnect asks Clio to revoke the connection: a Clio that never answers costs the page
    its bound (DISCONNECT_SECONDS) and no more, the connection is forgotten here all the same,
    and the revoke gives up by then too, so the one worker it took is free for the next page."""
    from mapctl.app import views
    from mapctl.app.jobs import ClioWork
    from mapctl.app.workspace import Workspace

    monkeypatch.setattr(views, "DISCONNECT_SECONDS", 1.0)
    home = tmp_path / "home"
    workspace = Workspace()
    workspace.clio_work.close()
    workspace.clio_work = ClioWork(slots=1)  # one worker: a revoke left running holds it
    with hostile_clio({"/oauth/deauthorize": slow_answer(60.0)}) as clio:
        env = connect_home(home, clio)
        for server in serve(home, env, workspace=workspace):
            with Staff(server) as staff:
                started = time.monotonic()
                done = staff.post("/disconnect")
                took = time.monotonic() - started
                assert done.status_code == 303, done.text
                assert done.headers["Location"].endswith("/connect?disconnected=1")
                assert took < 2.0, took  # Clio would take 60 s
                assert TokenStore(home).load() is None  # forgotten here all the same
                assert clio.hits.count("/oauth/deauthorize") == 1
                connect_home(home, clio)  # connected again: the next page needs the worker
                time.sleep(0.5)
                found = staff.http.get(staff.root + "/search?q=Pritchett", follow_redirects=True)
                assert found.status_code == 200 and "00002-Pritchett" in found.text, found.text


def test_opening_a_matter_on_a_slow_clio_shows_the_time_left(tmp_path: Path) -> None:
    """Use Selected Matter while Clio is slow: the waiting page says how long mapctl still
    waits for Clio's answer (the page's bound), as Connect does, then the matter opens."""
    home = tmp_path / "home"
    with hostile_clio({"/api/v4/matters/9002.json": slow_answer(2.0)}) as clio:
        env = connect_home(home, clio)
        for server in serve(home, env, deadline=20.0):
            with Staff(server) as staff:
                response = staff.post("/matters", matter="9002", back="")
                assert response.status_code == 303, response.text
                opening = response.headers["Location"]
                page = staff.get(opening)
                assert page.status_code == 200 and "<h1>Opening the matter</h1>" in page.text
                left = LEFT.search(page.text)
                assert left is not None and 15 <= int(left[1]) <= 20, page.text
                ends = time.monotonic() + 15
                while page.status_code == 200 and time.monotonic() < ends:
                    time.sleep(0.1)
                    page = staff.get(opening)
                assert page.status_code == 303, page.text  # on to the matter's preview
