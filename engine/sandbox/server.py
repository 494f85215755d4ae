"""The sandbox: a local Clio (API v4 subset + OAuth) on a stdlib ThreadingHTTPServer.

Used in-process by tests and the demo (`with Sandbox() as sb: sb.base_url`, port 0 = a free
port) and by `mapctl sandbox`. Adds to `sandbox_api` what sits in front of the API: Bearer auth
with Clio's two 401 shapes, per-token rate limits (X-RateLimit-* headers, 429 + Retry-After),
the X-API-VERSION header, the OAuth endpoints, and fault injection (latency, failure rate,
forced 429s, expired tokens). Listens on loopback unless told otherwise; never calls out.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import MapctlError
from . import closeloop
from .api import USER, Api, Response, Store
from .seed import demo_data

APP_KEY = "sandbox-app"
APP_SECRET = "sandbox-secret"
API_VERSION = "4.0.13"
CODE_LIFETIME = 600.0
MAX_BODY = 1 << 20  # request bodies read at most (the sandbox takes no writes anyway)
# Clio's OAuth is Doorkeeper's (Rails); these are Doorkeeper's texts [INFERRED: NOTES 8 has no
# captured answer for a redirect URI that is not registered].
INVALID_REDIRECT = "The redirect uri included is not valid."
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed or invalid for other reasons."
)


def load_data_file(path: Path) -> dict[str, Any]:
    """A `--data FILE`: {"matters", "contacts", "relationships", "custom_fields"} raw records."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise MapctlError(f"cannot read {path}: {error.strerror or error}") from error
    except ValueError as error:
        raise MapctlError(f"{path} is not valid JSON: {error}") from error
    except RecursionError:  # json.loads recurses once per level: `[[[[...]]]]` 100,000 deep
        raise MapctlError(
            f"{path} is nested too deeply to be Clio records",
            hint="a --data file holds matters, contacts, relationships and custom_fields "
            "as Clio returns them (a few levels deep)",
        ) from None
    if not isinstance(data, dict):
        raise MapctlError(
            f"{path}: expected an object with matters, contacts, relationships, custom_fields"
        )
    if "bundle_version" in data:  # a fetched (maybe redacted) bundle: serve that one matter
        data = bundle_as_data(data)
    Store(data, source=str(path))  # validate now, with the file's name in the message
    return dict(data)


def bundle_as_data(bundle: dict[str, Any]) -> dict[str, Any]:
    """A matter bundle (`mapctl fetch`) as sandbox data, so support can replay a firm's case."""
    matter = bundle.get("matter")
    matter_id = matter.get("id") if isinstance(matter, dict) else None
    relationships = [
        {**rel, "matter": {"id": matter_id}}
        for rel in bundle.get("relationships") or []
        if isinstance(rel, dict)
    ]
    if isinstance(matter, dict) and isinstance(bundle.get("co_clients"), list):
        matter = {**matter, "co_clients": bundle["co_clients"]}  # a multi-client matter
    return {
        "matters": [matter] if isinstance(matter, dict) else [],
        "contacts": bundle.get("contacts"),
        "relationships": relationships,
        "custom_fields": bundle.get("custom_fields"),
    }


class Sandbox:
    """A local Clio. Settable faults: `latency` (s), `failure_rate` (0..1), `force_429()`,
    `expire_tokens()`, `revoke_refresh_tokens()`, `retired_versions` (API minor versions
    answered 410 Gone); `rate_limit` requests per token per minute. `redirect_uris`: the app's
    registered redirect URIs (default: the approval page on the sandbox's own host)."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        rate_limit: int = 1000,
        token_lifetime: int = 2_592_000,
        refresh_returns_refresh_token: bool = False,
        redirect_uris: list[str] | None = None,
        retired_versions: tuple[str, ...] = (),
        seed: int = 0,
        log: Callable[[str], None] | None = None,
        forbidden: Iterable[str] = (),
        refuse_fields: Mapping[str, Iterable[str]] | None = None,
        odd_rate_limits: bool = False,
        no_retry_after: bool = False,
    ) -> None:
        self.store = Store(data if data is not None else demo_data(), "data")
        # A --data file may name resources too: "refused": ["notes"] is --forbid notes.
        refused = (data or {}).get("refused") or []
        if not isinstance(refused, list) or not all(isinstance(r, str) for r in refused):
            raise MapctlError("data: 'refused' must be a list of API resources, e.g. [\"notes\"]")
        self.nonces = closeloop.Nonces()
        # Live Clio (issue 17, NOTES 12): resources the app may not use (a permission not
        # ticked: 403 "User is forbidden from taking that action"; "custom_fields" also strips
        # custom field values to their id), fields refused per route although documented,
        # rate limits answered as a 200 with base64 text (`odd_rate_limits`) or as 429s
        # without Retry-After (`no_retry_after`). `forbidden` may change while it runs.
        self.forbidden: set[str] = set(forbidden) | set(refused)
        self.odd_rate_limits = odd_rate_limits
        self.no_retry_after = no_retry_after
        self.latency = latency
        self.failure_rate = failure_rate
        self.rate_limit = rate_limit
        self.token_lifetime = token_lifetime
        self.refresh_returns_refresh_token = refresh_returns_refresh_token
        self.retired_versions = set(retired_versions)
        self.log = log
        self.requests: list[tuple[str, str]] = []  # (method, path?query) of every request
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, float, bool]] = {}  # code -> (redirect, expiry, used)
        self._access: dict[str, tuple[str, float]] = {}  # token -> (refresh token, expiry)
        self._refresh: dict[str, bool] = {}  # refresh token -> still valid
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window start, count)
        self._forced: list[tuple[int, bool]] = []  # pending forced 429s: (retry_after, as date)
        try:
            self._server = ThreadingHTTPServer((host, port), _Handler)
        except OSError as error:
            raise MapctlError(
                f"the sandbox cannot listen on {host}:{port}: {error.strerror or error}",
                hint="choose another --port (0 picks a free one)",
            ) from None
        self._server.daemon_threads = True
        self._server.sandbox = self  # type: ignore[attr-defined]
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        self.api = Api(self.store, self.base_url)
        self.api.refused = {k.strip("/"): set(v) for k, v in (refuse_fields or {}).items()}
        self.redirect_uris = (
            list(redirect_uris)
            if redirect_uris is not None
            else [self.base_url + "/oauth/approval"]
        )
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        """Release the socket after `serve_forever` returned (e.g. on Ctrl-C)."""
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults and helpers for tests --------------------------------------------------------
    def force_429(self, count: int = 1, retry_after: int = 1, http_date: bool = False) -> None:
        """The next `count` API requests get 429 with this Retry-After (seconds or a date)."""
        with self._lock:
            self._forced.extend([(retry_after, http_date)] * count)

    def needs(self, path: str) -> set[str]:
        """The app permissions (as resource names) a path needs: relationships and a matter's
        contacts need matters and contacts (Clio's Permissions doc); who_am_i none."""
        parts = path.removeprefix("/api/v4/").removesuffix(".json").strip("/").split("/")
        if parts[0] == "relationships" or (
            parts[0] == "matters" and len(parts) >= 3 and parts[2] != ""
        ):
            return {"matters", "contacts"}
        if parts[0] == "users":
            return set()
        return {parts[0]}

    def expire_tokens(self) -> None:
        """Every access token issued so far is expired (refresh tokens stay valid)."""
        with self._lock:
            self._access = {t: (r, 0.0) for t, (r, _) in self._access.items()}

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh = dict.fromkeys(self._refresh, False)

    def issue_tokens(self) -> dict[str, Any]:
        """Tokens without the browser dance (what /oauth/token would return)."""
        with self._lock:
            refresh = secrets.token_urlsafe(24)
            self._refresh[refresh] = True
            return self._new_access(refresh, include_refresh=True)

    def _new_access(self, refresh: str, include_refresh: bool) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        self._access[token] = (refresh, time.time() + self.token_lifetime)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": token,
            "expires_in": self.token_lifetime,
        }
        if include_refresh:
            body["refresh_token"] = refresh
        return body

    # --- request handling --------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        self.requests.append((method, target))
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        path = parts.path
        if path.startswith("/oauth/"):
            form = parse_qsl(body.decode("utf-8", "replace")) if method == "POST" else []
            return self._oauth(method, path, query, dict(form), headers)
        if path.startswith("/nc/"):
            return self._manage(method, path, query)
        if not path.startswith("/api/v4/"):
            return Response(404, {"error": {"type": "RecordNotFound", "message": "Not found"}})
        return self._api(method, path, query, headers, body)

    def _api(
        self, method: str, path: str, query: Any, headers: dict[str, str], body: bytes = b""
    ) -> Response:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return Response(
                401, {"error": {"type": "UnauthorizedError", "message": "User is not authorized"}}
            )
        token = auth.removeprefix("Bearer ").strip()
        with self._lock:
            entry = self._access.get(token)
            valid = entry is not None and entry[1] > time.time() and self._refresh.get(entry[0])
            if not valid:
                return _invalid_token()
            limited = self._rate(token)
        # No header: the default version; present but invalid, or retired: 410 Gone (the
        # document's "Minor Versions"). A method the path does not take is a 405 whatever the
        # version (routing comes first).
        version = headers.get("x-api-version", API_VERSION).strip()
        if not self.api.allows(path, method):
            response = self.api.handle(path, query, method, headers)
        elif not _served_version(version) or version in self.retired_versions:
            response = Response(
                410,
                {
                    "error": {
                        "type": "Gone",
                        "message": f"API version {version[:40]!r} is not supported",
                    }
                },
            )
            version = API_VERSION
        elif limited is not None:
            response = limited
        elif self.needs(path) & self.forbidden:
            response = Response(403, {"error": {"type": "ForbiddenError", "message": FORBIDDEN}})
        elif self.failure_rate and self._random.random() < self.failure_rate:
            response = Response(
                500,
                {
                    "error": {
                        "type": "InternalServerError",
                        "message": "Something went wrong (injected)",
                    }
                },
            )
        elif (nonce := dict(query).get("custom_action_nonce")) is not None and not (
            self.nonces.check(nonce, int(USER["id"]), path)
        ):
            response = closeloop.nonce_refused()
        elif method in ("GET", "HEAD"):
            self.api.strip_custom_values = "custom_fields" in self.forbidden
            response = self.api.handle(path, query, method, headers)
        else:
            with self._lock:  # a write (POST /custom_fields.json) changes the store
                response = self.api.handle(path, query, method, headers, body)
        response.headers["X-API-VERSION"] = version
        response.headers.update(self._rate_headers(token))
        return response

    def _manage(self, method: str, path: str, query: Any) -> Response:
        """Clio Manage's pages, emulated (issue 19): a matter's page with its custom actions,
        and what choosing one does. No login: the sandbox has one user."""
        if method not in ("GET", "HEAD"):
            return closeloop.page(405, "Not allowed", "<p>Only GET.</p>")
        if match := re.fullmatch(r"/nc/matters/(\d{1,18})", path):
            return self.api_page(int(match.group(1)))
        if match := re.fullmatch(r"/nc/custom_actions/(\d{1,18})/launch", path):
            with self._lock:
                return closeloop.launch(self.api, self.nonces, int(match.group(1)), query)
        return closeloop.page(404, "Not found", "<p>No such page.</p>")

    def api_page(self, matter_id: int) -> Response:
        with self._lock:
            return closeloop.matter_page(self.api, matter_id)

    def matter_url(self, matter_id: int) -> str:
        """The sandbox's page of a matter (Clio Manage's `/nc/#/matters/<id>`)."""
        return f"{self.base_url}/nc/matters/{matter_id}"

    def _rate(self, token: str) -> Response | None:
        now = time.time()
        start, count = self._windows.get(token, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        if self._forced:
            seconds, as_date = self._forced.pop(0)
            return self._too_many(seconds, as_date)
        count += 1
        self._windows[token] = (start, count)
        if count > self.rate_limit:
            return self._too_many(max(1, int(start + 60 - now + 0.999)), False)
        return None

    def _too_many(self, seconds: int, as_date: bool) -> Response:
        if self.odd_rate_limits:  # NOTES 5: no wait given; the X-RateLimit-* headers come too
            text = json.dumps({"error": {"type": "RateLimited", "message": "Rate limited"}})
            body = {
                "metadata": {"encodingDecoded": "text/plain"},
                "data": base64.b64encode(text.encode()).decode(),
            }
            return Response(200, body)
        response = _too_many(self.rate_limit, seconds, as_date)
        if self.no_retry_after:
            response.headers.pop("Retry-After", None)
        return response

    def _rate_headers(self, token: str) -> dict[str, str]:
        with self._lock:
            start, count = self._windows.get(token, (time.time(), 0))
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - count)),
            "X-RateLimit-Reset": str(int(start + 60)),
        }

    def _oauth(
        self, method: str, path: str, query: Any, form: dict[str, str], headers: dict[str, str]
    ) -> Response:
        params = dict(query)
        route = path.removesuffix(".json")
        if route == "/oauth/authorize" and method == "GET":
            return self._authorize(params)
        if route == "/oauth/approval" and method == "GET":
            return _approval_page(params)
        if route == "/oauth/token" and method == "POST":
            with self._lock:
                return self._token(form)
        if route == "/oauth/deauthorize" and method == "POST":
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            token = token or form.get("token", "")
            with self._lock:
                entry = self._access.pop(token, None)
                if entry is None:
                    return _invalid_token()
                self._refresh[entry[0]] = False
            return Response(200, {})
        return Response(404, {"error": {"type": "RecordNotFound", "message": "Not found"}})

    def _authorize(self, params: dict[str, str]) -> Response:
        if params.get("client_id") != APP_KEY or params.get("response_type") != "code":
            return _page_response(400, "Error", "Invalid client_id or response_type.")
        redirect = params.get("redirect_uri", "")
        if not redirect:
            return _page_response(400, "Error", "redirect_uri is required.")
        if not self.redirect_allowed(redirect):  # shown, never redirected to
            return _page_response(400, "Error", INVALID_REDIRECT)
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (redirect, time.time() + CODE_LIFETIME, False)
        answer = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        sep = "&" if "?" in redirect else "?"
        return Response(302, b"", {"Location": redirect + sep + urlencode(answer)})

    def redirect_allowed(self, uri: str) -> bool:
        """A registered redirect URI, or one with extra query parameters added to a registered
        URI that has none (Clio's "How to Set Redirect URIs" support article)."""
        parts = urlsplit(uri)
        for registered in self.redirect_uris:
            if uri == registered:
                return True
            mine = urlsplit(registered)
            if not mine.query and parts.query and not parts.fragment:
                if (parts.scheme, parts.netloc, parts.path) == (
                    mine.scheme,
                    mine.netloc,
                    mine.path,
                ):
                    return True
        return False

    def _token(self, form: dict[str, str]) -> Response:
        if form.get("client_id") != APP_KEY or form.get("client_secret") != APP_SECRET:
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            redirect, expiry, used = self._codes.get(form.get("code", ""), ("", 0.0, True))
            given = form.get("redirect_uri", "")
            if not self.redirect_allowed(given):
                return _oauth_error(400, "invalid_grant", INVALID_GRANT)
            if used or expiry < time.time() or redirect != given:
                return _oauth_error(400, "invalid_grant", INVALID_GRANT)
            self._codes[form["code"]] = (redirect, expiry, True)
            refresh = secrets.token_urlsafe(24)
            self._refresh[refresh] = True
            return Response(200, self._new_access(refresh, include_refresh=True))
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if not self._refresh.get(refresh):
                return _oauth_error(400, "invalid_grant", "The refresh token is invalid.")
            body = self._new_access(refresh, self.refresh_returns_refresh_token)
            return Response(200, body)
        return _oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")


FORBIDDEN = "User is forbidden from taking that action"  # Clio's 403 text (NOTES 12)


def _served_version(version: str) -> bool:
    """4.0.0 to 4.0.13, the minor versions of the copied document (NOTES 1)."""
    match = re.fullmatch(r"4\.0\.(\d{1,2})", version)
    return match is not None and int(match.group(1)) <= 13


def _invalid_token() -> Response:
    return Response(
        401,
        {"error": "invalid_token", "error_description": INVALID_TOKEN},
        {
            "WWW-Authenticate": f'Bearer realm="Clio API", error="invalid_token", '
            f'error_description="{INVALID_TOKEN}"'
        },
    )


def _too_many(limit: int, seconds: int, as_date: bool) -> Response:
    after = formatdate(time.time() + seconds, usegmt=True) if as_date else str(seconds)
    message = f"Rate limit of {limit} exceeded. Retry in {seconds} seconds."
    return Response(
        429, {"error": {"type": "RateLimited", "message": message}}, {"Retry-After": after}
    )


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


def _page_response(status: int, title: str, text: str) -> Response:
    page = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return Response(status, page.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _approval_page(params: dict[str, str]) -> Response:
    """Like Clio's desktop-app page: the code (or the failure) in the title."""
    if "code" in params:
        title = f"Success code={params['code']}"
        text = "Copy this code into mapctl: " + params["code"]
    else:
        title = f"Failure error={params.get('error', 'access_denied')}"
        text = "The authorization was not granted."
    return _page_response(200, title, text)


class _Handler(BaseHTTPRequestHandler):
    server_version = "ClioSandbox/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

    def _serve(self, method: str) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        length = 0
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = self._read_chunked()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = sandbox.handle(method, self.path, headers, body)
        except Exception as error:  # noqa: BLE001 - a sandbox bug answers 500, like a server
            message = f"sandbox error: {type(error).__name__}: {error}"
            response = Response(500, {"error": {"type": "InternalServerError", "message": message}})
        if length > MAX_BODY:
            self.close_connection = True  # the rest of the body is not read
        payload = (
            response.body
            if isinstance(response.body, bytes)
            else (json.dumps(response.body).encode())
        )
        if response.status == 304:
            payload = b""  # no body, ever (RFC 9110)
        self.send_response(response.status)
        if not isinstance(response.body, bytes):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)
        if sandbox.log is not None:
            sandbox.log(f"{method} {self.path.split('?')[0]} -> {response.status}")

    def _read_chunked(self) -> bytes:
        """A chunked request body (what is left of it would otherwise be read as the next
        request on this connection); past MAX_BODY the connection is closed instead."""
        body = b""
        while True:
            size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return body
            if len(body) + size > MAX_BODY:
                self.close_connection = True
                return body
            body += self.rfile.read(size)
            self.rfile.readline(10)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line, headers too long...)
        in Clio's JSON Error shape instead of its HTML page."""
        self.close_connection = True
        payload = json.dumps(
            {"error": {"type": "BadRequest", "message": message or explain or "Bad request"}}
        ).encode()
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(payload)

    def __getattr__(self, name: str) -> Any:
        """`do_GET`, `do_PATCH`, `do_TRACE`...: every method gets an answer in Clio's JSON (the
        routes say which are allowed), not the standard library's HTML 501 page."""
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return lambda: self._serve(name[3:])
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # silence the stdlib's stderr log
        return


def connect_home(sandbox: Sandbox, home: Path) -> dict[str, str]:
    """Connect `home` to a running sandbox through its real OAuth flow (authorize, approval,
    code exchange over HTTP) without a browser: what `mapctl app --demo` starts from. Returns
    the environment that points mapctl at the sandbox."""
    from ..clio import auth

    base = sandbox.base_url
    url = auth.authorize_url(base, APP_KEY, auth.new_state(home, base))
    response = sandbox.handle("GET", url.removeprefix(base), {}, b"")
    location = dict(response.headers).get("Location", "")
    code = auth.parse_code(location, home)
    auth.connect(home, base, auth.Credentials(APP_KEY, APP_SECRET), code)
    return {"CLIO_BASE_URL": base, "CLIO_CLIENT_ID": APP_KEY, "CLIO_CLIENT_SECRET": APP_SECRET}
