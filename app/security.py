"""The app's guard: who may talk to it and what its responses allow (issue 10, Safety; issue 18,
items 15-19; the reasoning is in docs/limits-and-safety.md, "The staff app's lock").

- The app lives under a per-launch secret path (`/s/<random>/`), and needs the per-launch
  token: first from the address (`?token=`), swapped for an HttpOnly, SameSite=Strict cookie
  whose Path is that secret path, then from that cookie. Browsers send cookies to every port of
  a host, but only for paths under the cookie's Path: a server on another port never receives
  the cookie unless it already knows the secret path, and the cookie alone opens nothing.
- Every POST carries the page's CSRF token (a second random value, not derived from the first);
  a foreign `Origin`, a foreign `Referer` or `Sec-Fetch-Site` other than same-origin is refused.
- A request whose `Host` is not the app's own address is refused (DNS rebinding).
- The static files (the style sheet, the script, the icon) are public: they hold nothing
  private, and the "open mapctl again" page needs its style sheet without the token.
- Responses: a Content-Security-Policy without inline scripts, no framing, no referrer to other
  origins, no caching, no CORS headers ever.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # Chromium sends `Origin: null` under no-referrer
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PUBLIC = ("/static/",)  # no secret in them; the refusal pages need the style sheet
SAFE_SITES = ("same-origin", "none")  # Sec-Fetch-Site values a form of the app's own sends


@dataclass(frozen=True)
class Guard:
    """The per-launch secrets and the addresses the app answers to (`host:port` strings).

    `prefix`: the secret path the app lives under ("" in tests that call routes directly)."""

    allowed_hosts: frozenset[str]
    cookie_name: str = "mapctl_app"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secure_cookie: bool = False
    prefix: str = field(default="", repr=False)
    # Paths that verify their requests themselves: Clio's custom action (app/clio_action.py,
    # issue 19) arrives without the token or the secret path (Clio's action has a fixed
    # address) and is checked with Clio before anything is shown.
    open_paths: frozenset[str] = frozenset({"/clio/action"})

    @classmethod
    def for_address(cls, hosts: Collection[str], port: int) -> Guard:
        allowed = frozenset(f"{_bracketed(host)}:{port}".lower() for host in hosts)
        return cls(
            allowed_hosts=allowed,
            cookie_name=f"mapctl_app_{port}",
            prefix=f"/s/{secrets.token_urlsafe(18)}",
        )

    def entry_url(self, base_url: str) -> str:
        """The address that opens the app: its secret path with the token."""
        return f"{base_url}{self.prefix}/?{urlencode({'token': self.token})}"

    def install(self, app: Flask) -> None:
        app.before_request(self._check)
        app.after_request(self._headers)
        app.jinja_env.globals["csrf_token"] = self.csrf
        if self.prefix:
            app.wsgi_app = _Mounted(app.wsgi_app, self.prefix)  # type: ignore[method-assign]

    def _check(self) -> Response | None:
        host = (request.headers.get("Host") or "").lower()
        if host not in self.allowed_hosts:
            abort(400, description="unknown-host")
        if request.method in ("GET", "HEAD") and request.path.startswith(PUBLIC):
            return None
        if request.path in self.open_paths and request.method in ("GET", "HEAD"):
            return None
        if request.script_root != self.prefix:
            abort(403, description="no-token")  # a bookmark, or an address from an older run
        given = request.args.get("token")
        if given is not None:
            if not _same(given, self.token):
                abort(403, description="bad-token")
            return self._enter()
        if not _same(request.cookies.get(self.cookie_name, ""), self.token):
            abort(403, description="no-token")
        if request.method not in ("GET", "HEAD"):
            self._check_post()
        return None

    def _check_post(self) -> None:
        """A form of the app's own, sent from one of its pages: nothing else may change state.
        `Origin` decides when present; without it (some browsers, some requests), a
        `Sec-Fetch-Site` other than same-origin or a `Referer` elsewhere is refused too."""
        origins = self._origins()
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in origins:
            abort(403, description="foreign-origin")
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site.lower() not in SAFE_SITES:
            abort(403, description="foreign-origin")
        referer = request.headers.get("Referer")
        if referer is not None and _origin_of(referer) not in origins:
            abort(403, description="foreign-origin")
        if not _same(request.form.get("csrf", ""), self.csrf):
            abort(400, description="bad-csrf")

    def _enter(self) -> Response:
        """Swap the address's token for the cookie; the same page without `token=`."""
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        target = request.script_root + request.path + (f"?{urlencode(kept)}" if kept else "")
        response = redirect(target, code=303)
        response.set_cookie(
            self.cookie_name,
            self.token,
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
            path=f"{self.prefix}/",  # sent only to the secret path, whatever the port
        )
        return response

    def _origins(self) -> set[str]:
        return {f"http://{host}" for host in self.allowed_hosts} | {
            f"https://{host}" for host in self.allowed_hosts
        }

    def _headers(self, response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers[name] = value
        for name in list(response.headers.keys()):
            if name.lower().startswith("access-control-"):
                del response.headers[name]
        return response


class _Mounted:
    """WSGI: requests under `prefix` reach the app with `prefix` as SCRIPT_NAME (so
    `request.script_root` is the secret path); others keep SCRIPT_NAME "" and are refused."""

    def __init__(self, inner: Callable[..., Iterable[bytes]], prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ = {**environ, "SCRIPT_NAME": self.prefix, "PATH_INFO": path[len(self.prefix) :]}
            if not environ["PATH_INFO"]:
                environ["PATH_INFO"] = "/"
        return self.inner(environ, start_response)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
