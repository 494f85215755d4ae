"""Closing the loop with Clio in the app (issue 19): "Import to ILS" chosen in Clio opens the
matter's Preview here; the import's note on the matter; links back to Clio.

The custom action's request (`GET /clio/action`): Clio opens the action's `target_url` in a new
tab with `custom_action_id`, `user_id`, `subject_url` and `custom_action_nonce` added (Clio's
developer guide "Custom Actions", "Receiving a Custom Action"). Anyone can make that request, so
before showing anything the app verifies it as Clio's document prescribes (tag "Custom Actions",
"Confirming a User's Action"): it sends the nonce back to Clio with this app's own token, on the
`subject_url` (`engine.clio.closeloop.verify_action`). Clio answers only if it issued the nonce
for a click by the very user this app is connected as; each nonce works once (and the app keeps
the ones it spent, so a replay is refused even before Clio is asked).

A browser that has no session with this launch of the app (it was never opened from the address
`mapctl app` printed, or Clio's tab is cross-site so the SameSite=Strict cookie is not sent) is
let in by a verified request: the proof that Clio's user clicked our action in Clio is at least
as strong as the per-launch token, and is for the person this app is connected as. The session
cookie is then set on a page that moves on to the Preview by itself (a meta refresh, a
same-site navigation, so the Strict cookie goes with it). A request that cannot be verified
shows no preview and imports nothing: the search page when the browser has a session, else a
page that says what happened. Importing still needs the Preview's and Add Client's buttons (POST
with the page's CSRF token). See docs/limits-and-safety.md.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from ..engine.clio.closeloop import NotVerified, matter_page, notes_page, verify_action
from ..engine.errors import MapctlError
from ..engine.workflow import importing
from .security import Guard, _same
from .server import AppConfig, is_loopback
from .workspace import Draft

ROUTE = "/clio/action"
KEPT = 1000  # spent nonces remembered (Clio's expire within a minute anyway)


class Spent:
    """The nonces this launch has sent to Clio: never twice."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def spend(self, nonce: str) -> bool:
        """True the first time a nonce is seen."""
        with self._lock:
            if nonce in self._seen:
                return False
            self._seen[nonce] = None
            while len(self._seen) > KEPT:
                self._seen.popitem(last=False)
            return True


def register(app: Flask, guard: Guard) -> None:
    """The route (open to requests without the launch's token: it verifies them itself) and
    the templates' helpers for links back to Clio and the note."""
    app.extensions["mapctl_clio"] = {"guard": guard, "spent": Spent(), "notes": {}}
    app.add_url_rule(ROUTE, "clio_action", clio_action, methods=["GET"])
    app.jinja_env.globals.update(
        clio_matter_url=clio_matter_url,
        clio_note_default=lambda: _config().clio_note,
        clio_note_for=lambda key: _state()["notes"].get(key),
    )


def _config() -> AppConfig:
    config: AppConfig = current_app.extensions["mapctl"]
    return config


def _state() -> dict[str, Any]:
    state: dict[str, Any] = current_app.extensions["mapctl_clio"]
    return state


def _clio_base() -> tuple[str, bool]:
    """Clio's address for this app's connection, and whether it is the sandbox (on loopback)."""
    from ..engine.clio.auth import TokenStore

    tokens = TokenStore(_config().home).load()
    base = tokens.base_url if tokens is not None else _config().env.get("CLIO_BASE_URL", "")
    return base, is_loopback(urlsplit(base).hostname or "")


def clio_matter_url(matter_id: Any) -> str | None:
    """The matter's page in Clio ("Open in Clio"), or None when not connected."""
    try:
        base, sandbox = _clio_base()
    except MapctlError:
        return None
    if not base or not isinstance(matter_id, int):
        return None
    return matter_page(base, matter_id, sandbox=sandbox)


def _has_session() -> bool:
    guard: Guard = _state()["guard"]
    return _same(request.cookies.get(guard.cookie_name, ""), guard.token)


def clio_action() -> Any:
    """Verify Clio's request, then show that matter's Preview; anything else shows no matter."""
    if request.method != "GET":  # a HEAD (a link checker) must not spend Clio's nonce
        return Response(status=405, headers={"Allow": "GET"})
    args = request.args
    nonce = args.get("custom_action_nonce", "")
    subject = args.get("subject_url", "")
    try:
        if not nonce or not _state()["spent"].spend(nonce):
            raise NotVerified("the request carries no nonce Clio could confirm (or a spent one)")
        key = _verified_draft(subject, nonce)
    except MapctlError as error:
        return _refused(error)
    guard: Guard = _state()["guard"]
    return _enter(f"{guard.prefix}/drafts/{key}")


def _verified_draft(subject: str, nonce: str) -> str:
    from .jobs import Job
    from .views import _clio

    config = _config()
    guard: Guard = _state()["guard"]

    def work(job: Job) -> dict[str, Any]:  # on the app's bounded Clio pool (issue 18)
        with _clio(config, job) as client:
            matter = verify_action(client, subject, nonce)  # NotVerified: forged, replayed
            return importing.fetch_checked_bundle(client, str(matter["id"]))

    job = Job("Checking the request with Clio", deadline=config.deadline)
    bundle = config.workspace.clio_work.run(job, work, wait=30.0)
    return config.workspace.drafts.add(Draft(bundle=bundle, back=f"{guard.prefix}/search"))


def _refused(error: MapctlError) -> Any:
    if _has_session():
        guard: Guard = _state()["guard"]
        return redirect(f"{guard.prefix}/search", code=303)
    page = render_template(
        "clio_action.html", bare=True, message=error.message, hint=error.hint, target=None
    )
    return Response(page, status=403, content_type="text/html; charset=utf-8")


def _enter(target: str) -> Response:
    """The session cookie (as the printed address gives it), on a page that goes on to the
    Preview by itself (same-site, so the cookie goes along)."""
    guard: Guard = _state()["guard"]
    page = render_template("clio_action.html", bare=True, message=None, hint=None, target=target)
    response = Response(page, status=200, content_type="text/html; charset=utf-8")
    response.set_cookie(
        guard.cookie_name,
        guard.token,
        httponly=True,
        samesite="Strict",
        secure=guard.secure_cookie,
        path=f"{guard.prefix}/",  # as the printed address gives it: the secret path only
    )
    return response


# --- the note after an import in the app -------------------------------------------------------


def note_after_import(key: str, result: Any) -> None:
    """Write the import's note on the matter (Add Client's checkbox, preset from `clio_note`);
    its status is shown on the Done page. Never fails the import."""
    from ..engine.workflow.clionote import note_after_import as write
    from ..engine.workflow.ledger import Ledger
    from ..engine.workflow.records import firm_ledger_for, record_extra
    from .views import _clio

    config = _config()
    shown = request.form.get("clio_note_shown") == "1"
    wanted = request.form.get("clio_note") == "on" if shown else config.clio_note
    try:
        with Ledger.open(config.home) as ledger:
            status = write(result, ledger, lambda: _clio(config), now=config.now(), wanted=wanted)
        if firm_ledger_for(config.home, config.out_dir) is not None:  # every desk sees it
            with contextlib.suppress(MapctlError):
                record_extra(
                    status.clio_contact_id,
                    {"note": status.as_shared()},
                    home=config.home,
                    out_dir=config.out_dir,
                )
    except MapctlError as error:
        _state()["notes"][key] = {"status": "failed", "message": error.message, "url": None}
        return
    url = None
    if status.status == "written" and result.entry.matter_id is not None:
        base, sandbox = _clio_base()
        url = notes_page(base, result.entry.matter_id, sandbox=sandbox)
        if sandbox and status.note_id is not None:
            url = url.replace("#notes", f"#note-{status.note_id}")
    _state()["notes"][key] = {"status": status.status, "message": status.message, "url": url}
