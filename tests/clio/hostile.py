"""A hostile Clio on 127.0.0.1 over real HTTP (issue 17 items 7-16): the sandbox's API logic by
default, and per path a scripted misbehaviour: wrong shapes, HTML, a trickle of bytes, a gzip
bomb, a bad token answer. Tests run the CLI against it as a firm would meet such a Clio."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mapctl.engine.clio.auth import Tokens, TokenStore
from mapctl.engine.sandbox.api import Api, Store
from mapctl.engine.sandbox.seed import demo_data

ACCESS = "access-token-SECRET-1111"
REFRESH = "refresh-token-SECRET-2222"
SECRET = "app-secret-SECRET-3333"

Behaviour = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length)
        self._serve()

    def _serve(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        self.server.hits.append(path)
        behaviour = self.server.behaviours.get(path)
        if behaviour is not None:
            behaviour(self)
        else:
            usual(self)

    @property
    def stopping(self) -> threading.Event:
        return self.server.stopping


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # mapctl hanging up on a bomb or a trickle is the point, not a failure

    behaviours: dict[str, Behaviour]
    hits: list[str]
    api: Api
    stopping: threading.Event


@contextmanager
def hostile_clio(behaviours: dict[str, Behaviour] | None = None) -> Iterator[Server]:
    server = Server(("127.0.0.1", 0), Handler)
    server.behaviours = dict(behaviours or {})
    server.hits = []
    server.stopping = threading.Event()
    server.api = Api(Store(demo_data()), base_url(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def base_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def connect_home(home: Path, server: Server, *, expires_in: float = 3600) -> dict[str, str]:
    """Tokens for `server` in `home` (as `mapctl connect` leaves them); the env to use it."""
    url = base_url(server)
    TokenStore(home).save(Tokens(ACCESS, REFRESH, time.time() + expires_in, url, "key", SECRET))
    return {"CLIO_BASE_URL": url, "CLIO_CLIENT_ID": "key", "CLIO_CLIENT_SECRET": SECRET}


# --- behaviours ---------------------------------------------------------------------------------


def usual(handler: Handler) -> None:
    """What this Clio answers without a behaviour: tokens for any code, the sandbox's API."""
    path = urllib.parse.urlsplit(handler.path).path
    if path == "/oauth/token":
        send_json(handler, {"token_type": "bearer", "access_token": ACCESS, "expires_in": 3600,
                            "refresh_token": REFRESH})  # fmt: skip
        return
    query = urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path).query, True)
    result = handler.server.api.handle(path, query)
    send_json(handler, result.body, result.status)


def slow(seconds: float, gate: threading.Event | None = None) -> Behaviour:
    """The usual answer, after `seconds` of silence (or sooner, once `gate` is set): a Clio
    that is slow to answer at all. The server stopping ends the wait too."""

    def behave(handler: Handler) -> None:
        ends = time.monotonic() + seconds
        while time.monotonic() < ends and not handler.stopping.is_set():
            if gate is not None and gate.is_set():
                break
            handler.stopping.wait(min(0.05, max(ends - time.monotonic(), 0)))
        if handler.stopping.is_set():
            handler.close_connection = True
            return
        try:
            usual(handler)
        except OSError:  # mapctl gave up and hung up: the point of a slow Clio
            handler.close_connection = True

    return behave


def send_json(handler: Handler, body: Any, status: int = 200) -> None:
    send_raw(handler, json.dumps(body).encode(), status)


def send_raw(
    handler: Handler,
    data: bytes,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def answer(body: Any, status: int = 200) -> Behaviour:
    return lambda handler: send_json(handler, body, status)


def raw(data: bytes, status: int = 200, **kw: Any) -> Behaviour:
    return lambda handler: send_raw(handler, data, status, **kw)


def trickle(every: float = 0.2) -> Behaviour:
    """Headers at once, then one byte every `every` seconds, for ever (until the client gives
    up or the server stops): each read is quick, the whole answer never comes."""

    def behave(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000000")
        handler.end_headers()
        handler.wfile.write(b'{"data": [')
        try:
            while not handler.stopping.wait(every):
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass
        handler.close_connection = True

    return behave


def slow_headers(every: float = 0.1) -> Behaviour:
    """The status line, then the headers one byte every `every` seconds, for ever: no single
    read waits long, so only a deadline on the whole request ends it."""

    def behave(handler: Handler) -> None:
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not handler.stopping.wait(every):
                handler.wfile.write(b"a")
                handler.wfile.flush()
        except OSError:
            pass
        handler.close_connection = True

    return behave


def gzip_bomb(gib: int = 1) -> bytes:
    """About 1 MB of gzip that inflates to `gib` GiB of zeros (a valid prefix: each 1 MiB of
    zeros, fully flushed, compresses to the same bytes, which are repeated)."""
    block = bytes(1 << 20)
    first = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    head = first.compress(block) + first.flush(zlib.Z_FULL_FLUSH)
    again = first.compress(block) + first.flush(zlib.Z_FULL_FLUSH)
    return head + again * (1024 * gib - 1) + first.flush()


def gzipped(data: bytes) -> Behaviour:
    return raw(data, headers={"Content-Encoding": "gzip"})


def deep(levels: int) -> bytes:
    return b'{"data": ' + b"[" * levels + b"]" * levels + b"}"


def mutated(change: Callable[[Any], Any]) -> Behaviour:
    """The sandbox's own answer, changed by `change(body)` (which edits it in place, or
    returns a new body)."""

    def behave(handler: Handler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qsl(parts.query, True)
        result = handler.server.api.handle(parts.path, query)
        body = json.loads(json.dumps(result.body))
        changed = change(body)
        send_json(handler, body if changed is None else changed, result.status)

    return behave
