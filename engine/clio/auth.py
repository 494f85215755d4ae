"""OAuth 2.0 with Clio: the authorize URL, code exchange, refresh, deauthorize, the token store.

Stage: talks to Clio's /oauth endpoints over an injected httpx transport and keeps tokens in
`$MAPCTL_HOME/clio-token.json` (written atomically, mode 0600). Secrets (tokens, the App Secret)
never appear in a message, a repr or an exception: the dataclasses hide them and errors name
only what failed. Regions: one host for OAuth and API (NOTES.md section 8).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from ..errors import ClioError, MapctlError
from ..fsutil import read_private, refuse_link, write_atomic
from . import net
from .bounded import REQUEST_SECONDS, Deadline, NotJson, exchange, parse_json
from .regions import DEFAULT_BASE_URL, REGIONS, TOKEN_FILE

STATE_FILE = "clio-oauth-state.json"
CACHE_DIR = "cache"  # the client's short-lived copies of Clio data (custom field definitions)
REFRESH_MARGIN = 300.0  # refresh this many seconds before expiry (oktopeak: expiry - 5 min)
MAX_TOKEN_LENGTH = 4096  # Clio's tokens are 40-ish characters; a header must stay sane
MAX_LIFETIME = 10 * 365 * 86_400.0  # expires_in above ten years is not a real answer
DEFAULT_LIFETIME = 2_592_000.0  # Clio's 30 days, when expires_in is not given
RECONNECT = "run `mapctl connect` to connect mapctl to Clio again"


def base_url_for(env: Mapping[str, str], region: str | None = None) -> str:
    """`--region` wins, then CLIO_BASE_URL, then Clio's US host. No trailing slash."""
    if region is not None:
        if region.lower() not in REGIONS:
            raise MapctlError(f"unknown Clio region {region!r}; use one of: {', '.join(REGIONS)}")
        return REGIONS[region.lower()]
    url = (env.get("CLIO_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
    url = url.removesuffix("/api/v4")
    if not re.match(r"^https?://[^/\s]+$", url):
        raise MapctlError(
            f"CLIO_BASE_URL {url!r} is not a host URL",
            hint="use e.g. https://app.clio.com or the sandbox's http://127.0.0.1:8765",
        )
    return url


@dataclass(frozen=True)
class Credentials:
    """The Clio app's App Key and App Secret; the secret never shows in a repr."""

    client_id: str
    client_secret: str = field(repr=False)


def credentials_from_env(
    env: Mapping[str, str],
    prompt: Callable[[str, bool], str] | None = None,
    *,
    need_secret: bool = True,
) -> Credentials:
    """CLIO_CLIENT_ID / CLIO_CLIENT_SECRET, else asked through `prompt(text, hidden)`."""
    client_id = env.get("CLIO_CLIENT_ID", "").strip()
    secret = env.get("CLIO_CLIENT_SECRET", "").strip()
    if not client_id and prompt is not None:
        client_id = prompt("Clio App Key", False).strip()
    if need_secret and not secret and prompt is not None:
        secret = prompt("Clio App Secret", True).strip()
    if not client_id or (need_secret and not secret):
        raise MapctlError(
            "the Clio App Key and App Secret are needed",
            hint="set CLIO_CLIENT_ID and CLIO_CLIENT_SECRET (the sandbox's are sandbox-app and "
            "sandbox-secret)",
        )
    return Credentials(client_id, secret)


@dataclass
class Tokens:
    """What Clio granted, plus where (base URL) and until when (epoch seconds)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    base_url: str
    client_id: str
    # The App Secret is stored too, on purpose: Clio's refresh grant authenticates the app, and
    # a later run (cron, another shell) may not have CLIO_CLIENT_SECRET set. It lives only in
    # this file (mode 0600, written atomically), next to the refresh token, which grants as much
    # on its own; it is never printed (repr=False) and `mapctl disconnect` deletes the file.
    # CLIO_CLIENT_ID / CLIO_CLIENT_SECRET, when set, win over the stored values (open_client).
    client_secret: str = field(default="", repr=False)
    issued_at: float = 0.0

    def needs_refresh(self, now: float) -> bool:
        """Shortly before expiry: 5 minutes, or a tenth of a short lifetime (no refresh storm)."""
        margin = REFRESH_MARGIN
        if self.issued_at:
            margin = min(margin, (self.expires_at - self.issued_at) / 10)
        return self.refresh_token is not None and now >= self.expires_at - margin


class TokenStore:
    """`$MAPCTL_HOME/clio-token.json`, mode 0600, replaced atomically."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / TOKEN_FILE

    def load(self) -> Tokens | None:
        try:
            data = json.loads(read_private(self.path))
            tokens = Tokens(**data)
            _check_stored(tokens)
            return tokens
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, RecursionError) as error:
            raise ClioError(
                f"the stored Clio connection ({self.path}) is unreadable",
                hint=RECONNECT,
            ) from error

    def save(self, tokens: Tokens) -> None:
        data = json.dumps(asdict(tokens), indent=2).encode() + b"\n"
        refuse_link(self.path)
        write_atomic(self.path, data, mode=0o600)

    def delete(self) -> bool:
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False


def new_state(home: Path, base_url: str) -> str:
    """A fresh OAuth `state`, remembered (0600) so a pasted approval URL can be checked."""
    state = secrets.token_urlsafe(16)
    payload = json.dumps({"state": state, "base_url": base_url}).encode()
    refuse_link(Path(home) / STATE_FILE)
    write_atomic(Path(home) / STATE_FILE, payload, mode=0o600)
    return state


def authorize_url(base_url: str, client_id: str, state: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri(base_url),
            "state": state,
        }
    )
    return f"{base_url}/oauth/authorize?{query}"


def redirect_uri(base_url: str) -> str:
    return f"{base_url}/oauth/approval"


def parse_code(text: str, home: Path) -> str:
    """A bare code, `Success code=...` (the page title) or the approval page's whole URL.

    A URL's `state` must be the one mapctl generated; `error=access_denied` is reported.
    """
    text = text.strip()
    if text.lower().startswith("failure error="):  # the approval page's title on a decline
        reason = text.split("=", 1)[1].strip() or "access_denied"
        raise ClioError(f"Clio did not authorize mapctl ({reason})", hint=RECONNECT)
    if text.lower().startswith("success code="):
        text = text.split("=", 1)[1].strip()
    if "://" not in text and "code=" not in text:
        if not text:
            raise MapctlError("no authorization code given", hint="paste the code Clio showed")
        if any(c.isspace() for c in text):
            raise MapctlError(
                "that is not an authorization code (a code has no spaces)",
                hint="paste the code Clio showed, its page title (Success code=...) or address",
            )
        return text
    query = parse_qs(urlsplit(text).query if "://" in text else text.lstrip("?"))
    if "error" in query:
        raise ClioError(f"Clio did not authorize mapctl ({query['error'][0]})", hint=RECONNECT)
    if "code" not in query:
        raise MapctlError("the address has no `code`", hint="paste the code Clio showed")
    state = query.get("state", [None])[0]
    if state is not None and state != _remembered_state(home):
        raise MapctlError(
            "the approval address does not belong to this connection attempt (state mismatch)",
            hint="start again with `mapctl connect`",
        )
    return query["code"][0]


def _remembered_state(home: Path) -> str | None:
    try:
        value = json.loads(read_private(Path(home) / STATE_FILE)).get("state")
        return value if isinstance(value, str) else None
    except (OSError, ValueError, AttributeError, RecursionError):
        return None


def exchange_code(
    http: httpx.Client,
    base_url: str,
    creds: Credentials,
    code: str,
    *,
    deadline: Deadline | None = None,
) -> Tokens:
    """authorization_code grant -> Tokens (expiry from expires_in)."""
    form = {
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(base_url),
    }
    what = "exchange the authorization code"
    body = _token_request(http, base_url, form, what, deadline)
    return _tokens(body, base_url, creds, previous_refresh=None, what=what)


def refresh(
    http: httpx.Client, tokens: Tokens, creds: Credentials, *, deadline: Deadline | None = None
) -> Tokens:
    """refresh_token grant; a response without refresh_token keeps the old one (NOTES 8.4)."""
    form = {
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": tokens.refresh_token or "",
    }
    what = "refresh the access token"
    body = _token_request(http, tokens.base_url, form, what, deadline)
    return _tokens(body, tokens.base_url, creds, previous_refresh=tokens.refresh_token, what=what)


def deauthorize(http: httpx.Client, tokens: Tokens, *, deadline: Deadline | None = None) -> None:
    """Revoke the grant at Clio (authenticated with the token being revoked)."""
    try:
        response = exchange(
            http,
            "POST",
            f"{tokens.base_url}/oauth/deauthorize",
            deadline=deadline or Deadline(REQUEST_SECONDS),
            data={"token": tokens.access_token},
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
    except httpx.HTTPError as error:
        raise ClioError(
            f"could not reach Clio at {tokens.base_url} to deauthorize ({type(error).__name__})"
        ) from None
    if response.status_code >= 400 and response.status_code != 401:
        raise ClioError(
            f"Clio refused to deauthorize mapctl (HTTP {response.status_code})",
            status=response.status_code,
        )


def _token_request(
    http: httpx.Client,
    base_url: str,
    form: dict[str, str],
    what: str,
    deadline: Deadline | None = None,
) -> Any:
    url = f"{base_url}/oauth/token"
    try:
        response = exchange(
            http, "POST", url, deadline=deadline or Deadline(REQUEST_SECONDS), data=form
        )
    except httpx.HTTPError as error:
        raise ClioError(
            f"could not reach Clio at {base_url} to {what} ({type(error).__name__})",
            hint="check the network and CLIO_BASE_URL, then try again",
            url=url,
        ) from None
    try:
        body = parse_json(response.content)
    except NotJson:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        reason = body.get("error") if isinstance(body, dict) else None
        detail = reason if isinstance(reason, str) else f"HTTP {response.status_code}"
        hint = RECONNECT
        if detail == "invalid_client":
            hint = "check CLIO_CLIENT_ID and CLIO_CLIENT_SECRET (the app's App Key and Secret)"
        elif "code" in what:
            hint = "codes work once and expire after 10 minutes: run `mapctl connect` again"
        raise ClioError(
            f"Clio refused to {what} ({detail})", hint=hint, status=response.status_code, url=url
        )
    return body


def _tokens(
    body: dict[str, Any],
    base_url: str,
    creds: Credentials,
    previous_refresh: str | None,
    what: str = "exchange the authorization code",
) -> Tokens:
    """Clio's token answer, checked before anything is stored: a usable access token, a
    refresh token (may be left out on a refresh: the old one stays, NOTES 8.4), a sane
    expires_in. Anything else is a ClioError naming the field, never its value."""
    access = body.get("access_token")
    problem = _token_problem(access, "access_token")
    refresh_token = body.get("refresh_token", None)
    if problem is None:
        if refresh_token is None and previous_refresh is not None:
            refresh_token = previous_refresh
        else:
            problem = _token_problem(refresh_token, "refresh_token")
    lifetime = body.get("expires_in", None)
    if problem is None and lifetime is not None:
        if type(lifetime) not in (int, float) or not 0 < lifetime <= MAX_LIFETIME:
            problem = "its expires_in is not a number of seconds between 1 and ten years"
    if problem is not None:
        raise ClioError(
            f"Clio's answer when asked to {what} is not a usable token ({problem}); "
            "nothing was stored",
            hint="try `mapctl connect` again; if it persists, check that CLIO_BASE_URL is "
            "Clio's address",
            url=f"{base_url}/oauth/token",
        )
    assert isinstance(access, str) and isinstance(refresh_token, str)
    return Tokens(
        access_token=access,
        refresh_token=refresh_token,
        expires_at=time.time() + float(lifetime or DEFAULT_LIFETIME),
        issued_at=time.time(),
        base_url=base_url,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
    )


def connect(
    home: Path,
    base_url: str,
    creds: Credentials,
    code: str,
    transport: httpx.BaseTransport | None = None,
    *,
    deadline: Deadline | None = None,
) -> Tokens:
    """Exchange `code` and store the tokens (0600); forget the pending `state`. Clio's answer
    is checked first (a token that could not be sent, no refresh token...): ClioError, and
    nothing is stored."""
    with net.client(transport, timeout=REQUEST_SECONDS) as http:
        tokens = exchange_code(http, base_url, creds, code, deadline=deadline)
    TokenStore(home).save(tokens)
    (Path(home) / STATE_FILE).unlink(missing_ok=True)
    forget_cache(home)
    return tokens


def forget_cache(home: Path) -> None:
    """Drop cached Clio data: after (dis)connecting, the account may be another firm's on the
    same host, whose custom fields must not be read from the last one's cache."""
    shutil.rmtree(Path(home) / CACHE_DIR, ignore_errors=True)


def disconnect(
    home: Path,
    transport: httpx.BaseTransport | None = None,
    *,
    deadline: Deadline | None = None,
) -> str | None:
    """Deauthorize at Clio and delete the tokens. Returns a warning when Clio could not be told
    (the local tokens are deleted anyway); raises nothing when not connected."""
    store = TokenStore(home)
    try:
        tokens = store.load()
    except ClioError:
        tokens = None
    warning = None
    if tokens is not None:
        try:
            with net.client(transport, timeout=REQUEST_SECONDS) as http:
                deauthorize(http, tokens, deadline=deadline)
        except ClioError as error:
            warning = f"could not deauthorize at Clio: {error.message}"
    try:
        store.delete()
        (Path(home) / STATE_FILE).unlink(missing_ok=True)
    except OSError as error:  # a read-only MAPCTL_HOME, say
        told = (
            "Clio was told to revoke them"
            if tokens is not None and warning is None
            else ("Clio could not be told to revoke them")
        )
        raise MapctlError(
            f"cannot delete the stored tokens {store.path}: {error.strerror or error} ({told})",
            hint=f"make {Path(home)} writable and run `mapctl disconnect` again, or delete "
            f"{store.path} yourself",
        ) from None
    forget_cache(home)
    return warning


def _token_problem(value: Any, name: str) -> str | None:
    """What is wrong with a token Clio sent (None: nothing). A token goes into an HTTP header
    as is: printable ASCII without spaces, and not absurdly long."""
    if value is None:
        return f"no {name}"
    if not isinstance(value, str):
        return f"its {name} is not text"
    if not value:
        return f"its {name} is empty"
    if len(value) > MAX_TOKEN_LENGTH:
        return f"its {name} is longer than {MAX_TOKEN_LENGTH} characters"
    if not all("!" <= c <= "~" for c in value):
        return f"its {name} holds spaces, line breaks or characters that are not ASCII"
    return None


def _check_stored(tokens: Tokens) -> None:
    """A token file that mapctl would choke on later (hand-edited, or written by an older
    mapctl that stored a token with a line break): ValueError, read as unreadable."""
    problem = _token_problem(tokens.access_token, "access_token")
    if problem is None and tokens.refresh_token is not None:
        problem = _token_problem(tokens.refresh_token, "refresh_token")
    numbers = (tokens.expires_at, tokens.issued_at)
    if problem is None and not all(type(n) in (int, float) and n == n for n in numbers):
        problem = "expires_at is not a number"
    texts = (tokens.base_url, tokens.client_id, tokens.client_secret)
    if problem is None and not all(isinstance(t, str) for t in texts):
        problem = "a field is not text"
    if problem is not None:
        raise ValueError(problem)
