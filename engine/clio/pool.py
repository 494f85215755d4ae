"""One HTTP connection pool for a long-lived process (the staff app), shared by its sessions.

Stage: the HTTP boundary, like `session`. A `ClioSession` makes its own `httpx.Client` and closes
it (and its transport) when it is done; the app opens a session per action, which would build a
TLS context and new connections every time. `SharedTransport` wraps one real transport (or a
test's) whose `close` from a session is ignored; `shut` closes it once, when the app stops.
httpx's transports are safe to use from several threads at once (issue 18, item 12).
"""

from __future__ import annotations

import threading

import httpx

from . import net


class SharedTransport(httpx.BaseTransport):
    """A transport many short-lived clients use; only `shut` closes the pool under it."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        if inner is None:  # the real one: with deadlines kept down to the sockets
            inner = httpx.HTTPTransport(retries=0)
            net.install(inner)
        self.inner = inner
        self._lock = threading.Lock()
        self.shut_down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        """What a session's client calls when it closes: the pool lives on."""

    def shut(self) -> None:
        with self._lock:
            if self.shut_down:
                return
            self.shut_down = True
        self.inner.close()
