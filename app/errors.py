"""The app's error pages: what happened and what to do, never a traceback (issue 10).

The engine's typed errors become pages with a status code that fits (an existing client 409,
Clio 502, its rate limit 429, a mapping problem 422...); the guard's refusals say which address
to open; anything else is a bug: one line asking for a report, and the server keeps serving.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template
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


def register(app: Flask) -> None:
    app.register_error_handler(MapctlError, _mapctl_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)


_TITLES: list[tuple[type[MapctlError], str, int, str]] = [
    (
        ImportInProgress,
        "This client is being imported",
        409,
        "Wait a minute, then look in Clients; if that computer crashed, ask the firm's admin.",
    ),
    (
        FolderInTheWay,
        "A folder with this client's name is already there",
        409,
        "Nothing was imported. Ask the firm's admin what that folder is; mapctl never changes it.",
    ),
    (ImportRefused, "This client already exists", 409, "Open the existing client in ILS."),
    (NotFound, "Not found", 404, "Go back to the search and try again."),
    (
        ClioError,
        "Clio could not be reached or refused",
        502,
        "Check the network and try again in a minute; if it goes on, connect to Clio again.",
    ),
    (
        EvaluationError,
        "The mapping could not fill in the answers",
        422,
        "Nothing was imported. Ask the person who looks after the mapping to fix it.",
    ),
    (MappingError, "The mapping has a problem", 422, "Ask the person who looks after the mapping."),
    (BundleError, "Clio sent a matter mapctl cannot use", 422, "Check the matter in Clio."),
]


def _mapctl_error(error: MapctlError) -> tuple[str, int]:
    title, status, todo = "That did not work", 400, "Go back and try again."
    for kind, kind_title, kind_status, kind_todo in _TITLES:
        if isinstance(error, kind):
            title, status, todo = kind_title, kind_status, kind_todo
            break
    if isinstance(error, ClioError) and error.status == 429:
        title, status = "Clio is busy (rate limit)", 429
        todo = "Clio limits how often it may be asked: wait a minute, then try again."
    if isinstance(error, ClioError) and "not connected" in error.message:
        title, todo = "Not connected to Clio", "Connect to Clio first."
    problems: list[str] = []
    if isinstance(error, MappingError | EvaluationError):
        from ..engine.report import format_problem

        problems = [format_problem(p) for p in error.problems]
    message = error.message if not problems else f"{len(problems)} problem(s):"
    page = render_template(
        "error.html", title=title, message=message, hint=error.hint, todo=todo, problems=problems
    )
    return page, status


_HTTP_WORDS = {
    "unknown-host": ("Wrong address", "Open the address that `mapctl app` printed."),
    "bad-token": ("This address is not valid", "Open the address that `mapctl app` printed."),
    "no-token": (
        "This page needs the address mapctl printed",
        "Open the address that `mapctl app` printed (it changes each time the app starts).",
    ),
    "foreign-origin": ("Refused", "Use the app's own pages."),
    "bad-csrf": (
        "The form has expired",
        "Go back, reload the page and try again (the app may have been restarted).",
    ),
}


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, todo = _HTTP_WORDS.get(
        str(error.description), (error.name, "Go back to the search and try again.")
    )
    bare = error.description in ("unknown-host", "bad-token", "no-token")
    page = render_template(
        "error.html", title=title, message=None, hint=None, todo=todo, problems=[], bare=bare
    )
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
    message = (
        f"internal error ({type(error).__name__}): this is a bug in mapctl; nothing was imported "
        "by this request. Please report it with what you did."
    )
    page = render_template(
        "error.html", title="Something went wrong", message=message, hint=None,
        todo="Go back and try again.", problems=[],
    )  # fmt: skip
    return page, 500
