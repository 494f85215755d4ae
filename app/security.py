"""The app's guard: who may talk to it and what its responses allow (issue 10, Safety).

- Every request needs the per-launch token: first from the address `mapctl app` printed
  (`?token=`), which is swapped for an HttpOnly, SameSite=Strict cookie and dropped from the
  address by a redirect; then from that cookie. The cookie's name carries the port, so two apps
  on one machine do not log each other out.
- Every POST carries the page's CSRF token (a second random value, not derived from the first),
  and a foreign `Origin` is refused.
- A request whose `Host` is not the app's own address is refused (DNS rebinding).
- Responses: a Content-Security-Policy without inline scripts, no framing, no referrer, no
  caching, no CORS headers ever.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlencode

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


@dataclass(frozen=True)
class Guard:
    """The per-launch secrets and the addresses the app answers to (`host:port` strings)."""

    allowed_hosts: frozenset[str]
    cookie_name: str = "mapctl_app"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secure_cookie: bool = False
    # Paths that verify their requests themselves: Clio's custom action (app/clio_action.py,
    # issue 19) arrives without the token and is checked with Clio before anything is shown.
    open_paths: frozenset[str] = frozenset({"/clio/action"})

    @classmethod
    def for_address(cls, hosts: Collection[str], port: int) -> Guard:
        allowed = frozenset(f"{_bracketed(host)}:{port}".lower() for host in hosts)
        return cls(allowed_hosts=allowed, cookie_name=f"mapctl_app_{port}")

    def entry_url(self, base_url: str) -> str:
        """The address to print: the app's root with the token."""
        return f"{base_url}/?{urlencode({'token': self.token})}"

    def install(self, app: Flask) -> None:
        app.before_request(self._check)
        app.after_request(self._headers)
        app.jinja_env.globals["csrf_token"] = self.csrf

    def _check(self) -> Response | None:
        host = (request.headers.get("Host") or "").lower()
        if host not in self.allowed_hosts:
            abort(400, description="unknown-host")
        if request.path in self.open_paths and request.method in ("GET", "HEAD"):
            return None
        given = request.args.get("token")
        if given is not None:
            if not _same(given, self.token):
                abort(403, description="bad-token")
            return self._enter()
        if not _same(request.cookies.get(self.cookie_name, ""), self.token):
            abort(403, description="no-token")
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            if origin is not None and origin.lower() not in self._origins():
                abort(403, description="foreign-origin")
            if not _same(request.form.get("csrf", ""), self.csrf):
                abort(400, description="bad-csrf")
        return None

    def _enter(self) -> Response:
        """Swap the address's token for the cookie; the same page without `token=`."""
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        target = request.path + (f"?{urlencode(kept)}" if kept else "")
        response = redirect(target, code=303)
        response.set_cookie(
            self.cookie_name,
            self.token,
            httponly=True,
            samesite="Strict",
            secure=self.secure_cookie,
            path="/",
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


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
