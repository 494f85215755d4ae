"""The app's error pages: what happened in plain words, the right advice for its cause, and an
action inside the app (issue 10; issue 18, items 1 and 2).

Each failure is sorted into a cause (`cause_of`): wrong App Secret, bad success code, token
refused, Clio down, too slow, rate limited, no permission, busy, already imported, not found,
the mapping, the matter. Each cause has its own headline, advice and buttons (Connect again,
Try again, Open the existing client's answer file, Back to the search). The engine's own words
(which may name commands, settings or HTTP statuses) go only into the "Details for your
administrator" fold, with a Copy button. Anything else is a bug: one line asking for a report,
and the server keeps serving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from ..engine.errors import (
    BundleError,
    ClioError,
    EvaluationError,
    FolderInTheWay,
    ImportInProgress,
    ImportRefused,
    MapctlError,
    MappingError,
    NotFound,
)
from .jobs import ClioBusy, ClioTooSlow


@dataclass(frozen=True)
class Cause:
    title: str
    happened: str
    advice: str
    status: int
    actions: tuple[str, ...] = ("search",)  # see `_action`


CAUSES: dict[str, Cause] = {
    "not-connected": Cause(
        "mapctl is not connected to Clio",
        "mapctl needs to be connected to your firm's Clio account before it can search.",
        "Connect to Clio: you will need the App Key and App Secret from your administrator.",
        409,
        ("connect",),
    ),
    "wrong-secret": Cause(
        "Clio did not accept the App Key or App Secret",
        "Clio refused the App Key and App Secret that were typed in.",
        "Check both with your administrator (they are in Clio's developer settings), then "
        "type them again.",
        400,
        ("connect",),
    ),
    "bad-code": Cause(
        "The success code was not accepted",
        "The code from Clio's approval page did not work. A code works only once and only for "
        "a few minutes.",
        "Start connecting again: open Clio's approval page once more and copy the new code.",
        400,
        ("connect",),
    ),
    "missing": Cause(
        "Something is missing",
        "A box that is needed was left empty.",
        "Go back, fill it in and try again.",
        400,
        ("back",),
    ),
    "token-refused": Cause(
        "Clio no longer accepts mapctl's connection",
        "Clio refused mapctl's sign-in: it has expired or was withdrawn in Clio.",
        "Connect to Clio again.",
        401,
        ("connect",),
    ),
    "clio-down": Cause(
        "Clio could not be reached",
        "mapctl could not get an answer from Clio.",
        "Check that this computer is online (can you open other web sites?), then try again in "
        "a few minutes. If Clio itself is down, wait until it is back.",
        502,
        ("retry", "search"),
    ),
    "too-slow": Cause(
        "Clio is answering too slowly",
        "Clio took too long to answer, so mapctl stopped waiting. Nothing was imported.",
        "Try again in a minute. If it keeps happening, Clio may be having trouble.",
        504,
        ("retry", "search"),
    ),
    "connect-slow": Cause(
        "Clio did not finish connecting in time",
        "mapctl waited for Clio to accept the success code, and Clio did not answer in time. "
        "mapctl is not connected yet.",
        "Try again in a minute: on the Connection page, open Clio's approval page once more, "
        "copy the new code and choose Finish Connecting. If it keeps happening, Clio may be "
        "having trouble.",
        504,
        ("retry",),
    ),
    "rate-limited": Cause(
        "Clio asked mapctl to slow down",
        "Clio limits how many questions it answers each minute, and that limit was reached.",
        "Wait a minute, then try again.",
        429,
        ("retry", "search"),
    ),
    "no-permission": Cause(
        "Your Clio account may not see this",
        "Clio refused to show this to the connected account.",
        "Ask your administrator to give the Clio account (and mapctl's Clio app) permission "
        "to read matters and contacts; then connect again.",
        403,
        ("connect", "search"),
    ),
    "busy": Cause(
        "mapctl is busy",
        "mapctl is already waiting on Clio for several other screens.",
        "Wait a moment, then try again.",
        503,
        ("retry", "search"),
    ),
    "already-imported": Cause(
        "This client was already imported",
        "mapctl creates each client once, and this one already exists.",
        "Open the existing client in ILS. If it was deleted in ILS or imported by mistake, ask "
        "your administrator.",
        409,
        ("answer-file", "search"),
    ),
    "in-progress": Cause(
        "This client is being imported right now",
        "Someone else (the details below say who, and on which computer) started importing "
        "this client, and that import has not finished. mapctl creates each client once for "
        "the whole firm, so nothing was imported here.",
        "Wait a minute, then look in Clients. If that computer crashed, the import is taken "
        "back by itself after a while, or your administrator can take it back at once.",
        409,
        ("clients", "search"),
    ),
    "folder-exists": Cause(
        "A folder for this client is in the way",
        "The clients folder already holds a folder for this client that mapctl did not record "
        "(perhaps from an import that was stopped). mapctl never overwrites it, so nothing was "
        "imported.",
        "Ask your administrator to look at that folder; the details below say which one.",
        409,
        ("search",),
    ),
    "not-found": Cause(
        "Not found",
        "Clio has no such matter, or this screen has expired (the app was restarted).",
        "Search for the matter again.",
        404,
        ("search",),
    ),
    "mapping": Cause(
        "The answers could not be filled in",
        "The firm's mapping (the rules that turn a Clio matter into ILS answers) has a problem. "
        "Nothing was imported.",
        "Ask your administrator to fix the mapping; show them the details below.",
        422,
        ("search",),
    ),
    "matter": Cause(
        "This matter cannot be imported as it is",
        "Clio sent something about this matter that mapctl cannot use. Nothing was imported.",
        "Check the matter and its contacts in Clio, then try again.",
        422,
        ("retry", "search"),
    ),
    "other": Cause(
        "That did not work",
        "mapctl could not do this.",
        "Go back and try again.",
        400,
        ("back", "search"),
    ),
    "clio-other": Cause(
        "Clio refused",
        "Clio did not do what mapctl asked.",
        "Try again; if it keeps happening, ask your administrator.",
        502,
        ("retry", "search"),
    ),
}


def cause_of(error: MapctlError) -> str:
    """Which of CAUSES an engine or app error is (views may say it: `error.app_cause`)."""
    given = getattr(error, "app_cause", None)
    if isinstance(given, str) and given in CAUSES:
        return given
    text = error.message.lower()
    checks: list[tuple[bool, str]] = [
        (isinstance(error, ClioBusy), "busy"),
        (isinstance(error, ClioTooSlow), "too-slow"),
        (isinstance(error, ImportInProgress), "in-progress"),
        (isinstance(error, FolderInTheWay), "folder-exists"),
        (
            isinstance(error, ImportRefused)
            and "already exists" in text
            and "clio contact" in text,
            "already-imported",
        ),
        (isinstance(error, ImportRefused), "folder-exists"),
        (isinstance(error, NotFound), "not-found"),
        (isinstance(error, MappingError | EvaluationError), "mapping"),
        (isinstance(error, BundleError), "matter"),
    ]
    if isinstance(error, ClioError):
        status = error.status or 0
        checks += [
            (status == 429 or "rate limit" in text, "rate-limited"),
            (status == 403, "no-permission"),
            ("invalid_client" in text, "wrong-secret"),
            ("authorization code" in text or "did not authorize" in text, "bad-code"),
            (text.startswith("not connected to clio") and status == 0, "not-connected"),
            (status == 401 or "token" in text, "token-refused"),
            ("did not answer in time" in text or "timeout" in text, "too-slow"),
            ("could not reach" in text or status >= 500, "clio-down"),
            (True, "clio-other"),
        ]
    for matched, cause in checks:
        if matched:
            return cause
    return "other"


@dataclass
class Action:
    label: str
    url: str = ""
    form: dict[str, str] = field(default_factory=dict)  # a POST again (Try again)
    primary: bool = False


def register(app: Flask) -> None:
    app.register_error_handler(MapctlError, _mapctl_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)


def _root() -> str:
    return request.script_root


def _action(name: str, error: MapctlError | None) -> Action | None:
    root = _root()
    if name == "connect":
        return Action("Connect to Clio", f"{root}/connect")
    if name == "search":
        back = getattr(error, "back", None)
        return Action("Back to the search", back if isinstance(back, str) else f"{root}/search")
    if name == "back":
        came = request.referrer or ""
        own = came.startswith(request.host_url + root.lstrip("/")) if root else False
        return Action("Go back", came if own else f"{root}/search")
    if name == "retry":
        retry = getattr(error, "retry", None)
        if isinstance(retry, dict):
            fields = dict(retry)
            return Action("Try again", str(fields.pop("_action")), form=fields)
        if isinstance(retry, str):
            return Action("Try again", retry)
        if request.method == "GET":
            return Action("Try again", root + request.full_path.rstrip("?"))
        return None
    if name == "clients":
        return Action("See the clients imported", f"{root}/clients")
    if name == "answer-file":
        contact = getattr(error, "contact_id", None)
        if contact is None:
            return None
        return Action(
            "Open the existing client's answer file", f"{root}/clients/{contact}/answer-file"
        )
    return None


def render_cause(
    cause: str, error: MapctlError | None, details: str, **extra: Any
) -> tuple[str, int]:
    known = CAUSES[cause]
    actions = [a for a in (_action(n, error) for n in known.actions) if a is not None]
    if actions:
        actions[0].primary = True
    page = render_template(
        "error.html",
        cause=cause,
        title=known.title,
        happened=known.happened,
        advice=known.advice,
        actions=actions,
        details=details,
        **extra,
    )
    return page, known.status


def _details(error: MapctlError) -> str:
    lines = [f"{type(error).__name__}: {error.message}"]
    if error.hint:
        lines.append(f"hint: {error.hint}")
    if isinstance(error, MappingError | EvaluationError):
        from ..engine.report import format_problem

        lines += [format_problem(p) for p in error.problems]
    if isinstance(error, ClioError) and error.url:
        lines.append(f"address: {error.url}" + (f" (HTTP {error.status})" if error.status else ""))
    return "\n".join(lines)


_JARGON = re.compile(r"`|\bmapctl [a-z]|CLIO_|MAPCTL_|\bHTTP\b|--[a-z]|\$[A-Z]")


def _plain(text: str) -> bool:
    """No command line, setting name or HTTP talk: fit for staff outside the fold."""
    return not _JARGON.search(text)


def _mapctl_error(error: MapctlError) -> tuple[str, int]:
    cause = cause_of(error)
    extra: dict[str, Any] = {}
    if cause == "already-imported":
        extra["imported"] = getattr(error, "imported", None)
    if cause in ("missing", "other") and _plain(error.message):
        said = error.message  # the engine's refusal, when it is in staff words already
        extra["said"] = said[:1].upper() + said[1:] + ("" if said.endswith(".") else ".")
    return render_cause(cause, error, _details(error), **extra)


_REFUSALS = {
    "unknown-host": (
        "Wrong address",
        "This address is not the one mapctl uses.",
        "Open mapctl again from its shortcut on your desktop or in the Start menu, or ask your "
        "administrator.",
    ),
    "bad-token": (
        "This address has expired",
        "mapctl makes a new private address each time it starts, and this one is from an "
        "earlier start (or it was copied wrongly).",
        "Open mapctl again from its shortcut on your desktop or in the Start menu, or ask your "
        "administrator.",
    ),
    "no-token": (
        "Open mapctl again",
        "This page was opened without mapctl's private key: from a bookmark, from the browser's "
        "history, or after mapctl was restarted. For your clients' privacy, mapctl opens only "
        "from its own shortcut.",
        "Open mapctl again from its shortcut on your desktop or in the Start menu, or ask your "
        "administrator. If mapctl is already open in another tab, use that tab.",
    ),
    "foreign-origin": (
        "Refused",
        "This request did not come from one of mapctl's own pages, so mapctl refused it.",
        "Use mapctl's own pages and buttons.",
    ),
    "bad-csrf": (
        "This page has expired",
        "The page was made by an earlier start of mapctl, or it was changed.",
        "Reload the page and try again.",
    ),
}


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    key = str(error.description)
    if key in _REFUSALS:
        title, happened, advice = _REFUSALS[key]
    else:
        title, happened, advice = error.name, "That page does not exist in mapctl.", "Go back."
    bare = key in ("unknown-host", "bad-token", "no-token")
    details = (
        f"HTTP {code} ({key}). The app is reached only through the address `mapctl app` prints "
        "or opens, with its per-launch key."
        if bare
        else f"HTTP {code} ({key})"
    )
    actions = [] if bare else [Action("Back to the search", f"{_root()}/search", primary=True)]
    page = render_template(
        "error.html", cause=key, title=title, happened=happened, advice=advice,
        actions=actions, details=details, bare=bare,
    )  # fmt: skip
    return page, code


def _internal_error(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _http_error(error)
    if current_app.extensions["mapctl"].env.get("MAPCTL_DEBUG") == "1":
        current_app.logger.exception("internal error in mapctl app")  # the traceback, on stderr
    else:
        current_app.logger.error(
            "internal error in mapctl app (%s); MAPCTL_DEBUG=1 shows the traceback",
            type(error).__name__,
        )
    details = (
        f"internal error ({type(error).__name__}): this is a bug in mapctl; nothing was "
        "imported by this request. Please report it with what you did (MAPCTL_DEBUG=1 shows "
        "the traceback in the window where mapctl runs)."
    )
    page = render_template(
        "error.html", cause="internal", title="Something went wrong",
        happened="mapctl ran into a problem of its own. Nothing was imported by this step.",
        advice="Try again. If it happens again, tell your administrator what you did.",
        actions=[Action("Back to the search", f"{_root()}/search", primary=True)],
        details=details,
    )  # fmt: skip
    return page, 500
