"""Fixtures for the Clio tests: a MockTransport "App" (a Clio in memory, with scripted faults),
a connected token store, and the sandbox on 127.0.0.1 over real HTTP."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.clio.auth import Tokens, TokenStore
from mapctl.engine.clio.client import ClioClient, open_client
from mapctl.engine.sandbox.api import Api, Store
from mapctl.engine.sandbox.seed import demo_data
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox

BASE = "https://app.clio.com"
ACCESS = "access-token-SECRET-1111"
REFRESH = "refresh-token-SECRET-2222"
SECRET = "app-secret-SECRET-3333"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class App:
    """A Clio in memory for httpx.MockTransport: the sandbox's API logic, Bearer auth, a token
    endpoint, and per-path queues of scripted replies (responses or exceptions) served first."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.api = Api(Store(data if data is not None else demo_data()), BASE)
        self.requests: list[httpx.Request] = []
        self.scripted: dict[str, list[Reply]] = {}
        self.valid_tokens = {ACCESS}
        self.token_replies: list[httpx.Response] = []

    def script(self, path: str, *replies: Reply) -> None:
        self.scripted.setdefault(path, []).extend(replies)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        queue = self.scripted.get(path)
        if queue:
            reply = queue.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply if isinstance(reply, httpx.Response) else reply(request)
        if path == "/oauth/token":
            if self.token_replies:
                return self.token_replies.pop(0)
            self.valid_tokens.add("access-token-SECRET-renewed")
            return httpx.Response(
                200,
                json={
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "access_token": "access-token-SECRET-renewed",
                },
            )
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_tokens:
            return httpx.Response(401, json={"error": "invalid_token", "error_description": "x"})
        query = urllib.parse.parse_qsl(request.url.query.decode(), keep_blank_values=True)
        result = self.api.handle(path, query)
        headers = {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "40",
            "X-RateLimit-Reset": str(int(time.time()) + 60),
            **result.headers,
        }
        return httpx.Response(result.status, json=result.body, headers=headers)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/api/v4/")]


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connected_home(mapctl_home: Path) -> Path:
    tokens = Tokens(ACCESS, REFRESH, time.time() + 3600, BASE, "app-key", SECRET)
    TokenStore(mapctl_home).save(tokens)
    return mapctl_home


@pytest.fixture
def make_client(connected_home: Path, app: App, sleeps: list[float]) -> Callable[..., ClioClient]:
    def make(**kwargs: Any) -> ClioClient:
        return open_client(
            connected_home, {}, transport=httpx.MockTransport(app), sleep=sleeps.append, **kwargs
        )

    return make


@pytest.fixture
def client(make_client: Callable[..., ClioClient]) -> ClioClient:
    return make_client()


@pytest.fixture(scope="session")
def clio_sandbox() -> Iterator[Sandbox]:
    """The seeded sandbox on a free 127.0.0.1 port for the whole session (do not break it:
    tests that expire or revoke tokens start their own)."""
    with Sandbox() as running:
        yield running


def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    return {
        "CLIO_BASE_URL": sandbox.base_url,
        "CLIO_CLIENT_ID": APP_KEY,
        "CLIO_CLIENT_SECRET": APP_SECRET,
    }


def connect_via_cli(run_cli: Any, sandbox: Sandbox) -> dict[str, str]:
    """The real flow: --print-url, the browser's approval (followed over HTTP), --code URL."""
    env = sandbox_env(sandbox)
    printed = run_cli("connect", "--print-url", env=env)
    assert printed.exit_code == 0, printed.output
    approval = httpx.get(printed.stdout.strip(), follow_redirects=True)
    assert approval.status_code == 200 and "Success code=" in approval.text
    done = run_cli("connect", "--code", str(approval.url), env=env)
    assert done.exit_code == 0, done.output
    return env
