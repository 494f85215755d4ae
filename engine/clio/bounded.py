"""Bounded exchanges with Clio: a total deadline, a cap on decoded bytes, JSON that cannot crash.

Stage: under `ClioSession` and the OAuth calls in `auth`. httpx's timeouts apply to each read,
so a Clio that sends its headers and then a byte every few seconds would be waited on for ever;
a 1 MB gzip body may inflate to 1 GB; JSON nested 200,000 deep raises RecursionError. Here a
response's body is read as a stream, decoded chunk by chunk with a bounded output, against a
monotonic deadline, and parsed into JSON no deeper than `MAX_DEPTH`; every failure is one
ClioError (exit 3) that says what happened.

Defaults: `REQUEST_SECONDS` per request, `COMMAND_SECONDS` per command (a CLI command's
session, one page of the app's work); `MAPCTL_CLIO_REQUEST_TIMEOUT` and
`MAPCTL_CLIO_COMMAND_TIMEOUT` (seconds) override them (docs/commands.md).
"""

from __future__ import annotations

import json
import math
import re
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ClioError
from .net import looked_up_too_long

REQUEST_SECONDS = 30.0  # one request: connect, headers and the whole body
COMMAND_SECONDS = 300.0  # everything one command (or one page of the app) asks of Clio
MAX_BYTES = 32 * 1024 * 1024  # decoded bytes per response: a 200-record page is < 1 MiB
MAX_DEPTH = 64  # JSON nesting: Clio's records are < 8 deep
CHUNK = 64 * 1024
REQUEST_ENV = "MAPCTL_CLIO_REQUEST_TIMEOUT"
COMMAND_ENV = "MAPCTL_CLIO_COMMAND_TIMEOUT"
# A socket's timeout may end a few ms before the clock says (Windows' clock ticks every
# 15.6 ms): a timeout with less than this left is the deadline, not a fault to try again.
SLACK = 0.05
ACCEPT_ENCODING = "gzip, deflate"  # what `_Decoder` reads (never br/zstd: no bounded decoder)


class Deadline:
    """A point in time (monotonic) by which some work must be done: one command, one page.

    `Deadline(30)` ends 30 s from now; `Deadline(None)` never ends. The app may make one per
    piece of work and hand it to `ClioSession.deadline`."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.ends = None if seconds is None else clock() + seconds

    def left(self) -> float:
        """Seconds left (inf when unbounded, never negative)."""
        if self.ends is None:
            return math.inf
        return max(self.ends - self.clock(), 0.0)

    def expired(self) -> bool:
        return self.left() <= 0.0


def seconds_from_env(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from `env[name]`; absent, empty or unusable: `default`."""
    text = (env.get(name) or "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


def limits_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """`ClioSession`'s `timeout` and `deadline` from the environment (or the defaults)."""
    return {
        "timeout": seconds_from_env(env, REQUEST_ENV, REQUEST_SECONDS),
        "deadline": Deadline(seconds_from_env(env, COMMAND_ENV, COMMAND_SECONDS)),
    }


def request_deadline_from_env(env: Mapping[str, str]) -> Deadline:
    """One request's deadline outside a session (the OAuth code exchange): the shorter of
    the request's and the command's time."""
    request = seconds_from_env(env, REQUEST_ENV, REQUEST_SECONDS)
    return Deadline(min(request, seconds_from_env(env, COMMAND_ENV, COMMAND_SECONDS)))


def too_slow(url: str, seconds: float | None, what: str = "answer") -> ClioError:
    host = urlsplit(url).netloc or url
    limit = f" within {seconds:g} s" if seconds is not None else ""
    return ClioError(
        f"Clio at {host} is too slow: no complete {what}{limit}; stopped",
        hint="try again later; if Clio is slow for everyone, check status.clio.com "
        f"(waits are set by {REQUEST_ENV} and {COMMAND_ENV}, in seconds)",
        url=_short(url),
    )


def lookup_too_slow(url: str) -> ClioError:
    host = urlsplit(url).netloc or url
    return ClioError(
        f"could not reach Clio at {host}: looking up its address (DNS) took too long; stopped",
        hint="check the network connection (and its DNS server) and CLIO_BASE_URL, then try "
        f"again (waits are set by {REQUEST_ENV} and {COMMAND_ENV}, in seconds)",
        url=_short(url),
    )


def exchange(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    on_timeout: Callable[[], ClioError] | None = None,
    max_bytes: int = MAX_BYTES,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and read its whole body, decoded, within `deadline` and `max_bytes`.

    `on_timeout` makes the error for a deadline that ran out (default: `too_slow`). Returns a
    Response whose `content` is the decoded body (its Content-Encoding dropped).
    httpx.RequestError (connect errors, a read that timed out with time left) gets out as is,
    for the caller's retries; running out of time or bytes is a ClioError."""
    late = on_timeout or (lambda: too_slow(url, deadline.seconds))
    if deadline.expired():
        raise late()
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Accept-Encoding"] = ACCEPT_ENCODING
    try:
        return _exchange(http, method, url, deadline, late, max_bytes, headers, kwargs)
    except httpx.TimeoutException as error:
        if looked_up_too_long(error):  # the name, not Clio: no use waiting for Clio
            raise lookup_too_slow(url) from None
        if deadline.left() <= SLACK:  # the headers came too slowly, or not at all, in time
            raise late() from None
        raise


def _exchange(
    http: httpx.Client,
    method: str,
    url: str,
    deadline: Deadline,
    late: Callable[[], ClioError],
    max_bytes: int,
    headers: dict[str, str],
    kwargs: dict[str, Any],
) -> httpx.Response:
    left = _Left(deadline)  # each socket operation gets what is left, not a fresh timeout
    timeout = httpx.Timeout(
        connect=left,  # type: ignore[arg-type]
        read=left,  # type: ignore[arg-type]
        write=left,  # type: ignore[arg-type]
        pool=min(deadline.left(), REQUEST_SECONDS * 4),
    )
    with http.stream(method, url, headers=headers, timeout=timeout, **kwargs) as streamed:
        try:  # a transport that answers with the body in hand (httpx.MockTransport) read it
            whole: bytes | None = streamed.content
        except httpx.ResponseNotRead:
            whole = None
        encoding = "" if whole is not None else streamed.headers.get("Content-Encoding", "")
        decoder = _Decoder(encoding, url)
        parts: list[bytes] = []
        size = 0
        for raw in [whole] if whole is not None else streamed.iter_raw():
            for piece in decoder.feed(raw, max_bytes - size):
                size += len(piece)
                parts.append(piece)
            if size > max_bytes or decoder.overflow:
                raise too_big(url, max_bytes)
            if deadline.expired():
                raise late()
        for piece in decoder.flush(max_bytes - size):
            size += len(piece)
            parts.append(piece)
        if size > max_bytes or decoder.overflow:
            raise too_big(url, max_bytes)
        kept = [
            (k, v)
            for k, v in streamed.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code, headers=kept, content=b"".join(parts), request=streamed.request
        )


class _Left:
    """A socket timeout that is what is left of a deadline each time it is read.

    httpx's timeouts apply to each read: a Clio trickling its headers one byte at a time
    would never time out. httpcore hands this object to the network backend before every
    look-up, connect, TLS handshake, read and write; `net.DeadlineBackend` (under every real
    transport) reads it as a float (`__float__`), so each waits at most the time left, to the
    microsecond; once none is left it raises TimeoutError, which httpcore reports as a timeout
    like any other. A socket itself takes only a float or an int: another backend (httpcore's
    own) gets whole seconds (`__index__`, rounded up), so up to 1 s late."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __float__(self) -> float:
        left = self.deadline.left()
        if left <= 0:
            raise TimeoutError("the deadline has passed")
        return left if math.isfinite(left) else 3600.0

    def __index__(self) -> int:
        left = self.deadline.left()
        if left <= 0:
            raise TimeoutError("the deadline has passed")
        return max(1, math.ceil(left)) if math.isfinite(left) else 3600


def too_big(url: str, max_bytes: int) -> ClioError:
    return ClioError(
        f"Clio sent more than {max_bytes // (1024 * 1024)} MiB in one answer from "
        f"{_short(url)}; stopped (no page of Clio's is that large)",
        hint="check that CLIO_BASE_URL points at Clio; try again later",
        url=_short(url),
    )


class _Decoder:
    """gzip / deflate / identity, decoded with a bound on the output of every step (zlib's
    max_length), so a gzip bomb costs at most `max_bytes` of memory, never its inflated size."""

    def __init__(self, encoding: str, url: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise ClioError(
                f"Clio sent an answer in an encoding mapctl did not ask for ({encoding[:40]!r})",
                hint="check that CLIO_BASE_URL points at Clio, not a proxy",
                url=_short(url),
            )
        self.url = url
        self.coding = codings[0] if codings else None
        self.overflow = False
        self._first = True
        self._z: Any = None
        if self.coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def feed(self, data: bytes, room: int) -> list[bytes]:
        if self.coding is None:
            if len(data) > room:
                self.overflow = True
            return [data]
        if self._z is None:  # deflate: zlib-wrapped as the RFC says, or raw as some servers do
            self._z = zlib.decompressobj() if _zlib_header(data) else zlib.decompressobj(-15)
        return self._drain(data, room)

    def flush(self, room: int) -> list[bytes]:
        if self._z is None:
            return []
        out = self._drain(b"", room)
        if not self.overflow:
            try:
                out.append(self._z.flush())
            except zlib.error:
                raise self._broken() from None
        return out

    def _drain(self, data: bytes, room: int) -> list[bytes]:
        out: list[bytes] = []
        pending = data
        while True:
            try:
                piece = self._z.decompress(pending, max(room, 0) + 1)
            except zlib.error:
                raise self._broken() from None
            out.append(piece)
            room -= len(piece)
            if room < 0:
                self.overflow = True
                return out
            pending = self._z.unconsumed_tail
            if not pending:
                return out

    def _broken(self) -> ClioError:
        return ClioError(
            f"Clio sent a damaged compressed answer from {_short(self.url)}",
            hint="try again; if it persists, check that CLIO_BASE_URL points at Clio",
            url=_short(self.url),
        )


def _zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0


class NotJson(ValueError):
    """The bytes are not JSON mapctl can use; `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson("a number too large")
    return value


def parse_json(data: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """JSON text -> Python values, or NotJson: not UTF-8/JSON, NaN/Infinity, a number too long
    for Python (4,300 digits), nesting deeper than `max_depth` (json's own recursion is caught;
    what it parses is then measured, so no later walk over the values runs out of stack)."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except NotJson:
        raise
    except UnicodeDecodeError:
        raise NotJson("not UTF-8 text") from None
    except json.JSONDecodeError:
        raise NotJson("not JSON") from None
    except RecursionError:
        raise NotJson(f"nested more than {max_depth} deep") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits)"
        raise NotJson("a number too long") from None
    if _depth(data, max_depth) > max_depth:
        raise NotJson(f"nested more than {max_depth} deep")
    return value


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _depth(data: bytes, max_depth: int) -> int:
    """How deep valid JSON bytes nest [ and { (strings left out); stops counting past
    `max_depth`. Linear: the strings go in one regex pass (valid JSON: every string ends)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return 0
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > max_depth:
            return depth
    return 0


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
