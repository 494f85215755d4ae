"""One authenticated conversation with Clio: headers, refresh, rate limits, retries, errors.

Stage: the HTTP boundary. Every API request goes through `ClioSession.get`, which pins
X-API-VERSION, refreshes the token before expiry and once on a 401 `invalid_token`, slows down
when X-RateLimit-Remaining is low, waits out 429s (Retry-After as seconds or an HTTP date) within
a bounded total wait, retries 5xx, timeouts and connection errors with backoff, and turns every
failure into one ClioError line saying what happened and what to do. No httpx exception gets
out of here. Sleeping and the clock are injected so tests never really wait.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
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
from . import auth, bounded, net
from .auth import Credentials, Tokens, TokenStore
from .bounded import COMMAND_SECONDS, REQUEST_SECONDS, Deadline, NotJson, exchange, parse_json
from .fields import refused_names

API_VERSION = "4.0.13"  # the minor version this code was written against (NOTES section 1)
MAX_TRIES = 3  # for 5xx, timeouts and connection errors
# Rate limits (issue 17 item 5): a command never stalls for a minute. One wait longer than
# MAX_WAIT, or waits adding up past it, stop the command at once with exit 3 saying how long
# Clio asked for; MAX_429 rate-limit answers in a row for one request (a storm) stop it too.
MAX_WAIT = 45.0  # total seconds spent waiting on rate limits in one run
MAX_429 = 5  # rate-limit answers in a row for one request, even with tiny waits
DEFAULT_RETRY_AFTER = 10.0  # when Clio says nothing usable about how long
LOW_REMAINING = 0  # wait for the reset when no request is left in the window (the next
# would be refused); waiting earlier would leave requests unused (bench/broad_search.py --all:
# with 2, 100 pages took three windows instead of two)
WINDOW = 60.0  # Clio's rate-limit window (seconds)
# The permissions of the Clio app (developer portal, "App Permissions"; Clio's Permissions doc:
# relationships need both Matters and Contacts) each resource needs, for the 403 messages and
# `mapctl doctor`. Custom actions need the custom_actions permission (Clio's Custom Actions
# guide); notes are written on matters.
PERMISSIONS = {
    "matters": "Matters",
    "contacts": "Contacts",
    "relationships": "Matters and Contacts",
    "matter_contacts": "Matters and Contacts",
    "custom_fields": "Custom Fields",
    "users": "Users",
    "notes": "Notes",
    "custom_actions": "Custom Actions",
}


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds to wait: delta-seconds or an HTTP date; garbage or NaN -> a sane default."""
    seconds = _retry_after(value, now)
    return DEFAULT_RETRY_AFTER if seconds is None else seconds


def _retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or garbage."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
        if not math.isfinite(seconds):  # NaN, inf
            return None
        return min(max(seconds, 0.0), 3600.0)
    except ValueError:
        pass
    try:
        return min(max(parsedate_to_datetime(value).timestamp() - now, 0.0), 3600.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_reset(value: str | None, now: float) -> float | None:
    """X-RateLimit-Reset (a Unix time, Rate-limits doc) -> when the window ends; a small number
    is read as seconds from now. `inf`, NaN, garbage, the past, or more than a window away
    (a skewed clock) -> None: nothing worth waiting for."""
    try:
        reset = float(value or "")
    except ValueError:
        return None
    if not math.isfinite(reset) or reset < 0:
        return None
    if reset <= 2 * WINDOW:  # seconds, not a time
        reset += now
    return reset if now < reset <= now + WINDOW + 1 else None


_RETRY_IN = re.compile(r"retry in (\d{1,6}(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b", re.IGNORECASE)


def retry_in(text: str | None) -> float | None:
    """The N of Clio's "Rate limit of 50 exceeded. Retry in N seconds." (NOTES 12)."""
    match = _RETRY_IN.search(text or "")
    return float(match.group(1)) if match else None


def odd_rate_limit(body: Any) -> str | None:
    """Clio's other rate-limit answer, a 200 with {"metadata": {"encodingDecoded":
    "text/plain"}, "data": "<base64 text containing RateLimited>"} (NOTES 5, 12) -> its text;
    None for anything else."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
        return None
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or "encodingDecoded" not in metadata:
        return None
    try:
        text = base64.b64decode(body["data"][:100_000], validate=False).decode("utf-8", "replace")
    except (ValueError, binascii.Error):
        return None
    return text if "ratelimited" in text.casefold().replace(" ", "") else None


@dataclass(frozen=True)
class Wait:
    """A rate-limit wait, told to `on_wait` when it starts, then every second (`left` counting
    down to 0), so the CLI and the app can show a countdown."""

    seconds: float  # the whole wait
    left: float  # what is still to wait
    why: str = "Clio's rate limit"

    @property
    def message(self) -> str:
        return f"waiting {math.ceil(self.left)} s for {self.why}"


class RefusedFields(ClioError):
    """Clio's 400 naming `fields` entries it does not take ("a, b{c} are not valid fields")."""

    def __init__(self, message: str, names: list[str], clio_text: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.names = names
        self.clio_text = clio_text


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
        timeout: float = REQUEST_SECONDS,
        notice: Callable[[str], None] | None = None,
        deadline: Deadline | None = None,
        on_wait: Callable[[Wait], None] | None = None,
    ) -> None:
        self.tokens = tokens
        self.store = store
        self.credentials = credentials or Credentials(tokens.client_id, tokens.client_secret)
        self.http = net.client(transport, timeout=timeout, follow_redirects=False)
        self.sleep = self._bounded_sleep
        self._sleep = sleep
        # Every request is bounded as a whole (`timeout` seconds: headers and the whole body),
        # and so is the conversation (`deadline`: one command, one page of the app), which the
        # owner may replace (a new Deadline) before each piece of work.
        self.request_timeout = timeout
        self.deadline = deadline or Deadline(COMMAND_SECONDS)
        self.clock = clock
        self.max_wait = max_wait
        self.notice = notice  # told about long waits, so a person does not think mapctl hangs
        self.on_wait = on_wait  # told each second of a wait (a countdown); replaces `notice`
        self.waited = 0.0
        self.request_count = 0
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.last_reset: float | None = None  # the latest usable X-RateLimit-Reset
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
            body = _json_body(response, url, odd_ok=True)
            if self._odd_limit(body, url, again):
                continue
            return body

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
                response = self._exchange(
                    "POST", url, params=query, json=body, headers=self._headers()
                )
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
                raise _status_error(response, url, "POST")
            body = _json_body(response, url, odd_ok=True)
            if self._odd_limit(body, url, again):
                continue
            return body

    def _odd_limit(self, body: dict[str, Any], url: str, again: _Again) -> bool:
        """Clio's 200 that is a rate limit in disguise: wait as for a 429 (bounded), then send
        again; True when it was one."""
        text = odd_rate_limit(body)
        if text is None:
            if not isinstance(body.get("data"), dict | list):
                raise _unreadable(url, 200)
            return False
        again.limited += 1
        if again.limited > MAX_429:
            raise self._still_limited(url, storm=True)
        self._wait(self._limit_wait(None, text), url)
        with self._lock:
            self.remaining = None  # waited out: the window is a new one
        return True

    def _exchange(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, its body read whole within this request's and the command's time
        and within the size cap (bounded.exchange); a ClioError when either runs out."""
        deadline, seconds, what = self._request_deadline()
        return exchange(
            self.http,
            method,
            url,
            deadline=deadline,
            on_timeout=lambda: bounded.too_slow(url, seconds, what),
            **kwargs,
        )

    def _request_deadline(self) -> tuple[Deadline, float | None, str]:
        """This request's deadline: `request_timeout`, or what is left of the command's."""
        left = self.deadline.left()
        if left < self.request_timeout:
            return Deadline(left), self.deadline.seconds, "answers"
        return Deadline(self.request_timeout), self.request_timeout, "answer"

    def _bounded_sleep(self, seconds: float) -> None:
        """Waits (rate limits, back-off) count against the command's deadline too."""
        if seconds > self.deadline.left():
            raise bounded.too_slow(self.api, self.deadline.seconds, "answers")
        self._sleep(seconds)

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
                raise self._still_limited(url, storm=True)
            self._wait_rate_limited(response, url)
            return True
        return False

    def _send(self, url: str, params: Any, tries: int) -> httpx.Response | None:
        with self._lock:
            self.request_count += 1
        try:
            response = self._exchange("GET", url, params=params, headers=self._headers())
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
            # Slowing down is a courtesy, never a failure: only a reset within Clio's minute
            # (`parse_reset`) is waited for, within what is left of the budget; a real 429
            # then decides.
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
        except (KeyError, ValueError):
            return
        reset_at = parse_reset(response.headers.get("X-RateLimit-Reset"), self.clock())
        with self._lock:
            self.remaining, self.reset_at = remaining, reset_at
            self.last_reset = reset_at

    def _wait_rate_limited(self, response: httpx.Response, url: str) -> None:
        self._wait(self._limit_wait(response, _error_message(response)), url)
        with self._lock:
            self.remaining = None  # waited out: the window is a new one

    def _limit_wait(self, response: httpx.Response | None, text: str | None) -> float:
        """How long a rate limit asks for: Retry-After (seconds or a date), else the text's
        "Retry in N seconds", else until X-RateLimit-Reset (when it is a time within Clio's
        minute), else DEFAULT_RETRY_AFTER."""
        now = self.clock()
        if response is not None:
            after = _retry_after(response.headers.get("Retry-After"), now)
            if after is not None:
                return after
        said = retry_in(text)
        if said is not None:
            return said
        reset = None
        if response is not None:
            reset = parse_reset(response.headers.get("X-RateLimit-Reset"), now)
        if reset is None:
            with self._lock:
                reset = self.last_reset
        if reset is not None and reset > now:
            return float(math.ceil(reset - now))
        return DEFAULT_RETRY_AFTER

    def _wait(self, seconds: float, url: str | None) -> None:
        with self._lock:
            if self.waited + seconds > self.max_wait:
                raise self._still_limited(url, seconds)
            self.waited += seconds
        if self.on_wait is not None and seconds > 0:
            self._count_down(seconds)
            return
        if self.notice is not None and seconds >= 1:
            self.notice(Wait(seconds, seconds).message)
        self.sleep(seconds)

    def _count_down(self, seconds: float) -> None:
        """Sleep `seconds` in steps of at most one, telling `on_wait` before each and at the
        end (left 0), so a countdown can be shown."""
        assert self.on_wait is not None
        left = seconds
        while left > 0:
            self.on_wait(Wait(seconds, left))
            step = min(1.0, left)
            self.sleep(step)
            left = round(left - step, 6)
        self.on_wait(Wait(seconds, 0.0))

    def _still_limited(
        self, url: str | None, asked: float | None = None, *, storm: bool = False
    ) -> ClioError:
        waited = f"after waiting {self.waited:.0f} s" if self.waited else "at once"
        if storm:
            message = (
                f"Clio answered 'rate limit exceeded' {MAX_429 + 1} times in a row; mapctl "
                f"stopped {waited} rather than keep asking"
            )
            hint = "too many requests for now: try again in a minute"
        elif asked is not None and asked > self.max_wait - self.waited:
            message = (
                f"Clio's rate limit is exceeded and Clio asks to wait {asked:.0f} s; mapctl "
                f"stopped {waited} rather than wait that long (it waits {self.max_wait:.0f} s "
                "at most per command)"
            )
            hint = f"try again in {max(1, math.ceil(asked))} s"
        else:
            message = f"Clio's rate limit is still exceeded {waited}"
            hint = "too many requests for now: try again in a minute"
        return ClioError(message, hint=hint, status=429, url=short_url(url or self.api))

    def _backoff(self, tries: int) -> None:
        self.sleep(0.5 * 2**tries)

    def _refresh(self) -> None:
        with self._lock:
            if self.tokens.refresh_token is None:
                raise ClioError("the Clio access token has expired", hint=auth.RECONNECT)
            before = self.tokens.access_token
        deadline, _, _ = self._request_deadline()
        # ClioError: reconnect (refused, or Clio's answer is not a usable token)
        new = auth.refresh(self.http, self.tokens, self.credentials, deadline=deadline)
        with self._lock:
            if self.tokens.access_token == before:
                self.tokens = new
                if self.store is not None:
                    self.store.save(new)


def _json_or_none(response: httpx.Response) -> Any:
    """The response's JSON, or None when it is not JSON mapctl can read (never raises)."""
    try:
        return parse_json(response.content)
    except NotJson:
        return None


def _is_invalid_token(response: httpx.Response) -> bool:
    body = _json_or_none(response)
    if body is None:
        return "invalid_token" in response.headers.get("WWW-Authenticate", "")
    return isinstance(body, dict) and body.get("error") == "invalid_token"


def _error_message(response: httpx.Response) -> str | None:
    """Clio's error text: `error` may be an object {type, message} or a string (NOTES 5); a bare
    top-level `message` or a short plain-text body are read too. One line, at most 300
    characters, no control characters."""
    body = _json_or_none(response)
    if body is None:
        return _one_line(response.text[:2000])
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
    """The resource of an API URL: `matters`, `contacts`... (`matter_contacts` for
    /matters/{id}/contacts.json)."""
    parts = urlsplit(url).path.removeprefix("/api/v4/").removesuffix(".json").split("/")
    if len(parts) >= 3 and parts[0] == "matters" and parts[2] in ("contacts", "client"):
        return "matter_contacts"
    return parts[0]


def portal(url: str) -> str:
    """Clio's developer portal for the region of `url` (NOTES 8.1): developers.clio.com,
    eu.developers.clio.com...; "Clio's developer portal" for another host (the sandbox)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "app.clio.com" or host.endswith(".app.clio.com"):
        return f"{host.removesuffix('app.clio.com')}developers.clio.com"
    return "Clio's developer portal"


def permission_for(url: str, method: str = "GET") -> str:
    """The Clio app permission (and level) a request needs, e.g. "Custom Fields (read)"."""
    name = PERMISSIONS.get(_resource(url), _resource(url).replace("_", " ").title())
    level = "read" if method.upper() in ("GET", "HEAD") else "write"
    return f"{name} ({level})"


def permission_hint(url: str, method: str = "GET") -> str:
    """What to tick where, after a 403."""
    return (
        f"in {portal(url)}, open mapctl's app and tick the {permission_for(url, method)} "
        "permission, then run `mapctl connect` again (Clio applies a changed permission only "
        "when the app is authorized again); if it is ticked, the Clio user's role may not "
        "allow it: ask a Clio administrator"
    )


def forbidden(url: str, message: str | None, method: str = "GET") -> ClioError:
    """The ClioError for a 403: what was refused and the permission to tick."""
    what = _resource(url).replace("_", " ")
    return ClioError(
        f"Clio refused access to {what} (HTTP 403"
        + (f": {message})" if message else ")")
        + f"; it needs the Clio app's {permission_for(url, method)} permission",
        hint=permission_hint(url, method),
        status=403,
        url=short_url(url),
    )


def _status_error(response: httpx.Response, url: str, method: str = "GET") -> ClioError:
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
        return forbidden(url, message, method)
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
    names = refused_names(message) if status == 400 else None
    if names is not None:
        return RefusedFields(
            f"Clio rejected the request to {where} (HTTP {status}){detail}",
            names,
            message or "",
            status=status,
            url=where,
        )
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


def _json_body(response: httpx.Response, url: str, *, odd_ok: bool = False) -> dict[str, Any]:
    """The JSON object with `data` (`odd_ok`: whatever `data` holds, for the caller to check
    for Clio's rate limit in disguise)."""
    reason = "expected JSON with `data`"
    try:
        body = parse_json(response.content)
    except NotJson as error:
        body = None
        if error.reason not in ("not JSON", "not UTF-8 text"):  # nested too deep, NaN...
            reason = f"{error.reason}; expected JSON with `data`"
    if not isinstance(body, dict) or "data" not in body:
        raise _unreadable(url, response.status_code, reason)
    if not odd_ok and not isinstance(body["data"], dict | list):
        raise _unreadable(url, response.status_code)
    if may_hold_surrogates(response.content):  # Clio text with "\ud83d" (issue 9)
        cleaned: dict[str, Any] = without_surrogates(body)
        return cleaned
    return body


def _unreadable(url: str, status: int, reason: str = "expected JSON with `data`") -> ClioError:
    return ClioError(
        f"Clio sent a response mapctl cannot read from {short_url(url)} (HTTP {status}, {reason})",
        hint="check CLIO_BASE_URL points at Clio (or the sandbox); try again later",
        status=status,
        url=short_url(url),
    )
