"""One authenticated conversation with Clio: headers, refresh, rate limits, retries, errors.

Stage: the HTTP boundary. Every API request goes through `ClioSession.get`, which pins
X-API-VERSION, refreshes the token before expiry and once on a 401 `invalid_token`, slows down
when X-RateLimit-Remaining is low, waits out 429s (Retry-After as seconds or an HTTP date) within
a bounded total wait, retries 5xx, timeouts and connection errors with backoff, and turns every
failure into one ClioError line saying what happened and what to do. No httpx exception gets
out of here. Sleeping and the clock are injected so tests never really wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ClioError, NotFound
from ..textsafe import may_hold_surrogates, replace_surrogates, without_surrogates
from . import auth
from .auth import Credentials, Tokens, TokenStore

API_VERSION = "4.0.13"  # the minor version this code was written against (NOTES section 1)
MAX_TRIES = 3  # for 5xx, timeouts and connection errors
MAX_WAIT = 60.0  # total seconds spent waiting on rate limits in one run
MAX_429 = 8  # 429s in a row for one request, even with tiny Retry-After values
DEFAULT_RETRY_AFTER = 10.0  # when Retry-After is missing or garbage
LOW_REMAINING = 2  # slow down when this few requests are left in the window
WINDOW = 60.0  # Clio's rate-limit window (seconds)
PERMISSIONS = {
    "matters": "Matters (read)",
    "contacts": "Contacts (read)",
    "relationships": "Matters (read)",
    "custom_fields": "Custom Fields (read)",
    "users": "Users (read)",
    "notes": "Notes (read and write)",  # issue 19: the note on the matter after an import
    "custom_actions": "Custom Actions",  # issue 19: "Import to ILS"
}


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds to wait: delta-seconds or an HTTP date; garbage or NaN -> a sane default."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, inf
            return DEFAULT_RETRY_AFTER
        return min(max(seconds, 0.0), 3600.0)
    except ValueError:
        pass
    try:
        return min(max(parsedate_to_datetime(value).timestamp() - now, 0.0), 3600.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return DEFAULT_RETRY_AFTER


@dataclass
class _Again:
    """What one request has used up of its second chances: the token refresh, the 429 waits."""

    refreshed: bool = False
    limited: int = 0


class ClioSession:
    """Authenticated GETs against `<base_url>/api/v4` with Clio's rules built in."""

    def __init__(
        self,
        tokens: Tokens,
        *,
        store: TokenStore | None = None,
        credentials: Credentials | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_WAIT,
        timeout: float = 30.0,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.tokens = tokens
        self.store = store
        self.credentials = credentials or Credentials(tokens.client_id, tokens.client_secret)
        self.http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.notice = notice  # told about long waits, so a person does not think mapctl hangs
        self.waited = 0.0
        self.request_count = 0
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self._lock = threading.Lock()

    @property
    def api(self) -> str:
        return f"{self.tokens.base_url}/api/v4"

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """GET `url` (with `params`, or as-is: a `meta.paging.next` URL must be sent untouched,
        since httpx >= 0.28 drops its query when params= is given) -> the JSON body."""
        self._check_origin(url)
        again = _Again()
        tries = 0
        while True:
            self._before_request()
            response = self._send(url, params, tries)
            if response is None:
                tries += 1
                continue
            status = response.status_code
            if self._may_send_again(response, url, again):
                continue
            if status >= 500 and tries + 1 < MAX_TRIES:
                self._backoff(tries)
                tries += 1
                continue
            if status >= 400:
                raise _status_error(response, url)
            return _json_body(response, url)

    def post(
        self, url: str, body: dict[str, Any], params: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """POST `body` as JSON to `url` -> the JSON body of Clio's answer (201 or 200).

        Not idempotent, so unlike `get` it is never re-sent after a 5xx, a timeout or a lost
        connection (Clio may have created the record): one ClioError instead. A 401
        `invalid_token` (refresh, then once more) and a 429 (wait, then again) are safe to
        repeat: Clio did not act on those."""
        self._check_origin(url)
        again = _Again()
        while True:
            self._before_request()
            with self._lock:
                self.request_count += 1
            try:
                query = httpx.QueryParams(tuple(params or ()))
                response = self.http.post(url, params=query, json=body, headers=self._headers())
            except httpx.RequestError as error:
                raise _network_error(error, url, 1) from None
            self._note_limits(response)
            status = response.status_code
            if self._may_send_again(response, url, again):
                continue
            if status >= 500:
                raise ClioError(
                    f"Clio failed with HTTP {status}",
                    hint="Clio may or may not have done it: check in Clio, then try again",
                    status=status,
                    url=short_url(url),
                )
            if status >= 400:
                raise _status_error(response, url)
            return _json_body(response, url)

    def _check_origin(self, url: str) -> None:
        if not same_origin(url, self.tokens.base_url):  # the token goes nowhere else
            raise ClioError(
                f"mapctl sends the Clio access token only to {origin(self.tokens.base_url)}, "
                f"not to {origin(url)}; stopped",
                hint="check that CLIO_BASE_URL is Clio's address; if it is, report this",
                url=short_url(url),
            )

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens.access_token}",
            "X-API-VERSION": API_VERSION,
            "Accept": "application/json",
        }

    def _may_send_again(self, response: httpx.Response, url: str, again: _Again) -> bool:
        """A 401 `invalid_token` (refresh, once) or a 429 (wait; bounded): Clio did not act on
        either, so the request may be sent again, even a POST."""
        status = response.status_code
        if status == 401 and not again.refreshed and _is_invalid_token(response):
            self._refresh()
            again.refreshed = True
            return True
        if status == 429:
            again.limited += 1
            if again.limited > MAX_429:
                raise self._still_limited(url)
            self._wait_rate_limited(response, url)
            return True
        return False

    def _send(self, url: str, params: Any, tries: int) -> httpx.Response | None:
        with self._lock:
            self.request_count += 1
        try:
            response = self.http.get(url, params=params, headers=self._headers())
        except httpx.RequestError as error:  # timeouts, connection errors, protocol errors
            if tries + 1 >= MAX_TRIES:
                raise _network_error(error, url, tries + 1) from None
            self._backoff(tries)
            return None
        self._note_limits(response)
        return response

    def _before_request(self) -> None:
        if self.tokens.needs_refresh(self.clock()):
            self._refresh()
        with self._lock:
            remaining, reset_at = self.remaining, self.reset_at
        if remaining is not None and remaining <= LOW_REMAINING and reset_at is not None:
            # Slowing down is a courtesy, never a failure: a reset far away (a skewed clock, or
            # a window longer than Clio's minute) waits at most a window and what is left of
            # the budget; a real 429 then decides.
            with self._lock:
                left = self.max_wait - self.waited
            pause = min(reset_at - self.clock(), WINDOW, left)
            if pause > 0:
                self._wait(pause, None)
            with self._lock:
                self.remaining = None

    def _note_limits(self, response: httpx.Response) -> None:
        try:
            remaining = int(response.headers["X-RateLimit-Remaining"])
            reset_at = float(response.headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return
        with self._lock:
            self.remaining, self.reset_at = remaining, reset_at

    def _wait_rate_limited(self, response: httpx.Response, url: str) -> None:
        seconds = parse_retry_after(response.headers.get("Retry-After"), self.clock())
        self._wait(seconds, url)

    def _wait(self, seconds: float, url: str | None) -> None:
        with self._lock:
            if self.waited + seconds > self.max_wait:
                raise self._still_limited(url, seconds)
            self.waited += seconds
        if self.notice is not None and seconds >= 1:
            self.notice(f"Clio's rate limit is reached: waiting {seconds:.0f} s before going on")
        self.sleep(seconds)

    def _still_limited(self, url: str | None, asked: float | None = None) -> ClioError:
        hint = "too many requests for now: try again in a minute"
        if asked is not None and asked > self.max_wait:  # e.g. Retry-After: 3600
            hint = f"Clio asks to wait {asked:.0f} s before the next request: try again then"
        return ClioError(
            f"Clio's rate limit is still exceeded after waiting {self.waited:.0f} s",
            hint=hint,
            status=429,
            url=short_url(url or self.api),
        )

    def _backoff(self, tries: int) -> None:
        self.sleep(0.5 * 2**tries)

    def _refresh(self) -> None:
        with self._lock:
            if self.tokens.refresh_token is None:
                raise ClioError("the Clio access token has expired", hint=auth.RECONNECT)
            before = self.tokens.access_token
        new = auth.refresh(self.http, self.tokens, self.credentials)  # ClioError: reconnect
        with self._lock:
            if self.tokens.access_token == before:
                self.tokens = new
                if self.store is not None:
                    self.store.save(new)


def _is_invalid_token(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return "invalid_token" in response.headers.get("WWW-Authenticate", "")
    return isinstance(body, dict) and body.get("error") == "invalid_token"


def _error_message(response: httpx.Response) -> str | None:
    """Clio's error text: `error` may be an object {type, message} or a string (NOTES 5); a bare
    top-level `message` or a short plain-text body are read too. One line, at most 300
    characters, no control characters."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text)
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        text = error.get("message") or error.get("type")
    elif isinstance(error, str):
        text = body.get("error_description") or error
    else:
        text = body.get("message")
    return _one_line(replace_surrogates(text)) if isinstance(text, str) else None


def _one_line(text: str) -> str | None:
    if "<html" in text[:200].lower():  # a proxy's error page says nothing useful
        return None
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return (line[:297] + "...") if len(line) > 300 else (line or None)


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, lower-case; a default port (443, 80) is left out."""
    try:
        parts = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "an unreadable address"
    host = f"[{parts.host}]" if ":" in parts.host else parts.host
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}".lower()


def same_origin(url: str, base_url: str) -> bool:
    """Whether `url` is on the scheme, host and port of `base_url` (where the token was issued)."""
    mine = origin(base_url)
    return origin(url) == mine and mine.startswith(("https://", "http://"))


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _resource(url: str) -> str:
    path = urlsplit(url).path.removeprefix("/api/v4/")
    return path.split("/")[0].removesuffix(".json")


def _status_error(response: httpx.Response, url: str) -> ClioError:
    status, where = response.status_code, short_url(url)
    message = _error_message(response)
    if status == 401:
        if _is_invalid_token(response):
            return ClioError(
                "Clio rejected mapctl's access token (expired or revoked)",
                hint=auth.RECONNECT,
                status=status,
                url=where,
            )
        return ClioError(
            "not connected to Clio (Clio says the request is not authorized)",
            hint=auth.RECONNECT,
            status=status,
            url=where,
        )
    if status == 403:
        permission = PERMISSIONS.get(_resource(url), "read access to this resource")
        return ClioError(
            f"Clio refused access to {_resource(url)} (HTTP 403"
            + (f": {message})" if message else ")"),
            hint=f"the Clio user, or the app's permissions, must allow {permission}; "
            "after changing the app's permissions run `mapctl connect` again",
            status=status,
            url=where,
        )
    if status == 410:  # Clio's answer to a retired X-API-VERSION (NOTES 1)
        return ClioError(
            f"Clio no longer serves the API version this mapctl speaks ({API_VERSION}); "
            "upgrade mapctl",
            hint="install a newer version of mapctl, then run the command again",
            status=status,
            url=where,
        )
    if status == 404:
        return NotFound(f"Clio has no such record: {where} (HTTP 404)", status=status, url=where)
    if status >= 500:
        return ClioError(
            f"Clio failed with HTTP {status} {MAX_TRIES} times in a row",
            hint="Clio may be having trouble: try again in a few minutes",
            status=status,
            url=where,
        )
    detail = f": {message}" if message else ""
    return ClioError(
        f"Clio rejected the request to {where} (HTTP {status}){detail}", status=status, url=where
    )


def _network_error(error: Exception, url: str, tries: int) -> ClioError:
    host = urlsplit(url).netloc
    if isinstance(error, httpx.TimeoutException):
        what = f"Clio at {host} did not answer in time ({tries} tries)"
    else:
        what = f"could not reach Clio at {host} ({type(error).__name__}, {tries} tries)"
    return ClioError(
        what,
        hint="check the network connection and CLIO_BASE_URL, then try again",
        url=short_url(url),
    )


def _json_body(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "data" not in body:
        raise ClioError(
            f"Clio sent a response mapctl cannot read from {short_url(url)} "
            f"(HTTP {response.status_code}, expected JSON with `data`)",
            hint="check CLIO_BASE_URL points at Clio (or the sandbox); try again later",
            status=response.status_code,
            url=short_url(url),
        )
    if may_hold_surrogates(response.content):  # Clio text with "\ud83d" (issue 9)
        cleaned: dict[str, Any] = without_surrogates(body)
        return cleaned
    return body
