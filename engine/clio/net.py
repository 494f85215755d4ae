"""Sockets that keep a request's deadline: name look-up, connect, TLS, every read and write.

Stage: under httpx (httpcore's network backend), below `bounded`. httpcore's own backend calls
`socket.create_connection`, whose `getaddrinfo` no timeout bounds (a resolver that never answers
is waited on for its own timeouts, 10-40 s, once per try), and sets socket timeouts as it is
given them: `bounded._Left` can only reach a socket as whole seconds (`__index__`; a socket
takes a float or an int, nothing else), so a request could end up to 1 s after its deadline.

Here each timeout is read as a float at the moment of use (`float(_Left)`: what is left, to the
microsecond), and the name is looked up on a daemon thread that the request waits on only as
long as its time allows; then each address is tried in turn, as `create_connection` does, each
with what is left. TLS is not touched: httpcore still wraps the socket with the same SSL context
and `server_hostname` (the URL's host, never the address), so SNI, the Host header and the
certificate's check on the host name are exactly as before. Nothing is cached: a look-up still
running is shared by requests for the same host and port (so a hung resolver costs one thread
per name, not one per request), and its answer is dropped when it ends.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx
from httpcore._backends.sync import SyncStream  # the stream SyncBackend makes (not exported)

AddrInfo = tuple[Any, ...]  # one entry of socket.getaddrinfo's answer


class LookupTimeout(httpcore.ConnectTimeout):
    """The host's address did not come in the time the request had left. httpcore's own
    exception, so httpx reports it as a ConnectTimeout whose cause it is (`looked_up_too_long`):
    a TimeoutError's would not survive, httpcore's pool raises what it catches `from None`."""

    def __init__(self, host: str) -> None:
        super().__init__(f"looking up {host} did not finish in time")
        self.host = host


def _seconds(timeout: Any) -> float | None:
    """A timeout as a socket takes it: None (no limit) or seconds left, read now (a
    `bounded._Left` gives what is left of its deadline, or TimeoutError when none is)."""
    return None if timeout is None else float(timeout)


class _Lookups:
    """getaddrinfo on daemon threads, one per (host, port) at a time, waited on with a bound."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[str, int], Future[list[AddrInfo]]] = {}

    def resolve(self, host: str, port: int, timeout: float | None) -> list[AddrInfo]:
        if _is_address(host):  # no name to look up: getaddrinfo answers at once
            return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        key = (host, port)
        with self._lock:
            future = self._running.get(key)
            if future is None:
                future = Future()
                thread = threading.Thread(
                    target=self._look_up, args=(key, future), name="mapctl-lookup", daemon=True
                )
                try:
                    thread.start()
                except RuntimeError as error:  # no thread to be had: a connect error
                    raise OSError(f"cannot look up {host}: {error}") from None
                self._running[key] = future
        try:
            return future.result(timeout)
        except TimeoutError:  # concurrent.futures' TimeoutError is this one (3.11)
            if future.done():
                return future.result()
            raise LookupTimeout(host) from None

    def running(self, host: str, port: int) -> bool:
        """Whether a look-up of (host, port) is still under way (one that hung, say)."""
        with self._lock:
            return (host, port) in self._running

    def _look_up(self, key: tuple[str, int], future: Future[list[AddrInfo]]) -> None:
        try:
            infos = socket.getaddrinfo(key[0], key[1], 0, socket.SOCK_STREAM)
        except BaseException as error:  # handed to the waiting request(s), never lost here
            self._forget(key, future)
            future.set_exception(error)
        else:
            self._forget(key, future)  # first: a request after this one looks the name up anew
            future.set_result(infos)

    def _forget(self, key: tuple[str, int], future: Future[list[AddrInfo]]) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]


LOOKUPS = _Lookups()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") aside
    except ValueError:
        return False
    return True


def _left(ends: float | None) -> float | None:
    if ends is None:
        return None
    left = ends - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline has passed")
    return left


def connect(
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """`socket.create_connection`, with the look-up inside `timeout` too: every step (the
    look-up, each address's connect) gets what is left of it."""
    ends = None if timeout is None else time.monotonic() + timeout
    infos = LOOKUPS.resolve(host, port, _left(ends))
    error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(ends))
            if source_address is not None:
                sock.bind(source_address)
            sock.connect(address)
        except OSError as failed:
            sock.close()
            error = failed
            if isinstance(failed, TimeoutError):  # no time is left for the next address
                break
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error if error is not None else OSError(f"{host} has no address")


@contextmanager
def _mapped(timed_out: type[Exception], failed: type[Exception]) -> Iterator[None]:
    """OSError -> httpcore's exception for the step, as httpcore's own backend maps them."""
    try:
        yield
    except TimeoutError as error:
        raise timed_out(error) from error
    except OSError as error:
        raise failed(error) from error


class DeadlineStream(SyncStream):
    """httpcore's stream, with each timeout read when it is used (see `_seconds`)."""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            seconds = _seconds(timeout)
        return super().read(max_bytes, seconds)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            seconds = _seconds(timeout)
        super().write(buffer, seconds)

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            seconds = _seconds(timeout)
        stream = super().start_tls(ssl_context, server_hostname, seconds)
        sock = stream.get_extra_info("socket")
        if type(stream) is SyncStream and isinstance(sock, ssl.SSLSocket):
            return DeadlineStream(sock)
        return stream  # TLS in TLS (an HTTPS proxy): httpcore's own, as before


class DeadlineBackend(httpcore.SyncBackend):
    """httpcore's sync backend with the look-up bounded and timeouts read as they are used."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        source = None if local_address is None else (local_address, 0)
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            sock = connect(host, port, _seconds(timeout), source)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except BaseException:
                sock.close()
                raise
        return DeadlineStream(sock)


def looked_up_too_long(error: BaseException) -> bool:
    """Whether an (httpx) timeout came from a name look-up that ran out of time
    (`LookupTimeout`, which httpcore and httpx keep as the cause of their own)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None or isinstance(seen, LookupTimeout):
            return seen is not None
        seen = seen.__cause__ or seen.__context__
    return False


def keep_deadlines(client: httpx.Client) -> httpx.Client:
    """`client` with `DeadlineBackend` under each of its real transports (the default one and
    any proxy's from the environment); a test's transport is left alone. Returns `client`."""
    transports = [getattr(client, "_transport", None)]
    transports += list(getattr(client, "_mounts", {}).values())
    for transport in transports:
        install(transport)
    return client


def install(transport: httpx.BaseTransport | None) -> None:
    """`DeadlineBackend` under an httpx.HTTPTransport's connection pool (httpx takes no backend
    of its own: its pool, httpcore's, does). Should a later httpx or httpcore keep it elsewhere,
    requests still work, with httpcore's own backend (whole seconds, the look-up unbounded);
    tests/clio/test_deadlines.py fails then, not a firm's mapctl."""
    if not isinstance(transport, httpx.HTTPTransport):
        return
    pool = getattr(transport, "_pool", None)
    if isinstance(getattr(pool, "_network_backend", None), httpcore.SyncBackend):
        pool._network_backend = DeadlineBackend()  # type: ignore[union-attr]


def client(transport: httpx.BaseTransport | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx.Client, as `httpx.Client(transport=transport, ...)` makes it, that keeps
    deadlines (`keep_deadlines`)."""
    return keep_deadlines(httpx.Client(transport=transport, **kwargs))
