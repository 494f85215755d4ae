"""Writing the Clio note again from the app: "Write the note again" on Done and on Clients.

An import's note on the Clio matter (app/clio_action.py `note_after_import`) may fail: Clio
refused it (the Clio app's Notes permission is not ticked) or could not be reached. The import
stands; Done says "Not written", and Clients lists the note as not written, for the whole firm
when the output folder is shared. The button on either page writes it now, through the engine's
`retry_note_anywhere` (what `mapctl clients note` runs): in the words composed at the import,
refused when a record says it is written, and for a client of a shared folder in this
workstation's turn in the firm-wide record, so that two desks (or two tabs) never write two
notes. The outcome is recorded where `mapctl clients` reads it.

The work runs on the app's bounded Clio pool (`jobs`), bounded by the app's deadline: a quick
Clio answers within the request; a slow one gets a page that says mapctl is writing the note,
with the time it still waits, and comes back to the page the button was on when it ends. The
outcome is said in staff words (written, with "Open the note"; already on the matter; another
workstation is writing it now; still not written, with what to do inside the app); Clio's own
words go into the administrator's details.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response

from ..engine.clio.bounded import Deadline
from ..engine.clio.closeloop import notes_page
from ..engine.errors import MapctlError
from ..engine.workflow.clionote import (
    WRITTEN,
    NoteAlreadyWritten,
    NoteBeingWritten,
    retry_note_anywhere,
)
from .jobs import Job
from .workspace import Bounded

QUICK = 0.6  # seconds the button's request waits before showing the page that follows the work


@dataclass(frozen=True)
class Outcome:
    """What "Write the note again" did, in staff words.

    `kind`: written, already (on the matter before this click), elsewhere (another workstation
    or window is writing it now), failed (still not written)."""

    kind: str
    contact_id: int
    name: str
    said: str
    advice: str = ""
    url: str | None = None  # "Open the note"
    details: str = ""  # for the administrator's fold

    @property
    def on_matter(self) -> bool:
        return self.kind in ("written", "already")


# Why the note is still not written, by the app's causes (errors.cause_of): what happened and
# what to do, inside the app. Never a command line: that stays in the administrator's details.
FAILED: dict[str, tuple[str, str]] = {
    "no-permission": (
        "Clio refused it: the firm's Clio app may not write notes.",
        "Ask your administrator to tick Notes (read and write) in the permissions of the "
        "firm's Clio app. Then connect to Clio again on the Connection page, and write the "
        "note again.",
    ),
    "token-refused": (
        "Clio no longer accepts mapctl's connection.",
        "Connect to Clio again on the Connection page, then write the note again.",
    ),
    "not-connected": (
        "mapctl is not connected to Clio.",
        "Connect to Clio on the Connection page, then write the note again.",
    ),
    "too-slow": (
        "Clio did not answer in time, so mapctl cannot tell whether Clio took the note.",
        "Open the matter in Clio and look at its notes before trying again. If Clio keeps "
        "being slow, check the connection on the Connection page.",
    ),
    "rate-limited": (
        "Clio asked mapctl to slow down.",
        "Wait a minute, then write the note again.",
    ),
    "busy": (
        "mapctl is busy waiting on Clio for other screens.",
        "Wait a moment, then write the note again.",
    ),
    "clio-down": (
        "Clio could not be reached.",
        "Check the connection on the Connection page (is this computer online?), then write "
        "the note again in a few minutes.",
    ),
    "clio-other": (
        "Clio did not take it.",
        "Check the connection on the Connection page, then write the note again. If it keeps "
        "happening, show your administrator the details below.",
    ),
}
OTHER = (
    "mapctl could not write it.",
    "Look at the Clients page: it shows whether the note is written. If it keeps happening, show "
    "your administrator the details below.",
)


def register(app: Flask) -> None:
    """The routes, and the templates' helpers (the Clients page's outcome and note links)."""
    app.extensions["mapctl_notes"] = {
        "jobs": Bounded[Job](50),
        "writing": set(),  # contacts this app is writing a note for now (two tabs)
        "lock": threading.Lock(),
    }
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    app.jinja_env.globals.update(note_outcome=note_outcome, clio_note_url=clio_note_url)


def _state() -> dict[str, Any]:
    state: dict[str, Any] = current_app.extensions["mapctl_notes"]
    return state


def _go(path: str) -> Response:
    return redirect(request.script_root + path, code=303)


def note_url(base: str, sandbox: bool, matter_id: int, note_id: int | None) -> str:
    """The note's place in Clio ("Open the note"): the matter's notes (the sandbox's page
    scrolls to the note itself)."""
    url = notes_page(base, matter_id, sandbox=sandbox)
    if sandbox and note_id is not None:
        url = url.replace("#notes", f"#note-{note_id}")
    return url


def _base() -> tuple[str, bool] | None:
    from .clio_action import _clio_base

    try:
        base, sandbox = _clio_base()
    except MapctlError:
        return None
    return (base, sandbox) if base else None


def clio_note_url(matter_id: Any, note_id: Any) -> str | None:
    """For the Clients page: a written note's "Open the note" (None when not connected)."""
    base = _base()
    if base is None or not isinstance(matter_id, int):
        return None
    return note_url(base[0], base[1], matter_id, note_id if isinstance(note_id, int) else None)


# --- the buttons -------------------------------------------------------------------------------


def retry_from_done(key: str) -> Response:
    """Done's "Write the note again": for the client this draft imported."""
    from .views import _draft

    draft = _draft(key)
    if draft.result is None:
        return _go(f"/drafts/{key}")
    entry = draft.result.entry
    return _start(entry.clio_contact_id, entry.name, f"/drafts/{key}/done", draft=key)


def retry_from_clients(contact: int) -> Response:
    """Clients' "Write the note again": any client listed, this desk's or another's."""
    from .imported import ImportedIndex

    found = ImportedIndex.of(_config(), [contact]).by_contact.get(contact)
    if found is None or not found.done:  # forgotten meanwhile, or not finished: nothing to do
        name = found.name if found is not None else f"Clio contact {contact}"
        gone = Outcome(
            "failed",
            contact,
            name,
            "Not written. This client is not among the clients mapctl has imported (it may "
            "have been forgotten meanwhile, or its import has not finished).",
            "Look at the Clients page again: it lists the clients and their notes now.",
        )
        return _finished(gone, "/clients")
    return _start(contact, found.name, "/clients")


def _finished(outcome: Outcome, origin: str) -> Response:
    job = Job(f"Writing the note for {outcome.name}")
    job.about.update(origin=origin, contact=str(outcome.contact_id), name=outcome.name)
    job.finish(outcome)
    return _back(job, _state()["jobs"].add(job))


def _config() -> Any:
    return current_app.extensions["mapctl"]


def _start(contact: int, name: str, origin: str, draft: str = "") -> Response:
    config = _config()
    state = _state()
    notes = current_app.extensions["mapctl_clio"]["notes"]  # Done's note rows (clio_action)
    base = _base()
    job = Job(f"Writing the note for {name} on the matter in Clio", deadline=config.deadline)
    job.about.update(origin=origin, contact=str(contact), name=name, draft=draft)
    key = state["jobs"].add(job)
    with state["lock"]:
        mine = contact not in state["writing"]
        state["writing"].add(contact)
    if not mine:  # another tab of this app is writing it (the shared record's turn is per desk)
        job.finish(_elsewhere(contact, name, "another window of mapctl on this computer"))
    else:

        def work(job: Job) -> Outcome:
            try:
                outcome = _write(config, job, contact, name, base)
            finally:
                with state["lock"]:
                    state["writing"].discard(contact)
            if draft:
                _apply(notes, draft, outcome)  # even when the page stopped waiting for it
            return outcome

        try:
            config.workspace.clio_work.start(job, work)
        except MapctlError as error:  # busy, or the app is stopping
            with state["lock"]:
                state["writing"].discard(contact)
            job.finish(error=error)
        job.done.wait(QUICK)
    if not job.done.is_set():
        return _go(f"/notes/{key}")
    return _back(job, key)


def _back(job: Job, key: str) -> Response:
    """The page the button was on, with the outcome."""
    outcome = outcome_of(job)
    draft = job.about.get("draft", "")
    if draft:
        _apply(current_app.extensions["mapctl_clio"]["notes"], draft, outcome)
        return _go(f"{job.about['origin']}#clio-note")
    return _go(f"/clients?note={key}#client-{outcome.contact_id}")


def _apply(notes: dict[str, Any], draft: str, outcome: Outcome) -> None:
    """Done's note row after a retry: on the matter now, or still not written (and why)."""
    known = notes.get(draft) or {}
    if known.get("status") == WRITTEN and not outcome.on_matter:
        return  # a late refusal never hides a note known to be written
    status = WRITTEN if outcome.on_matter else known.get("status", "failed")
    if status == "off" and not outcome.on_matter:
        status = "failed"
    notes[draft] = {
        "status": status,
        "message": outcome.details or known.get("message", ""),
        "url": outcome.url or (known.get("url") if outcome.on_matter else None),
        "outcome": outcome,
    }


def outcome_of(job: Job) -> Outcome:
    """The job's outcome; a job given up (too slow) or never started (busy) as a failure."""
    job.check_deadline()
    if job.error is not None or not isinstance(job.result, Outcome):
        error = job.error or MapctlError("the note's work ended without an outcome")
        return _failed(
            int(job.about.get("contact", "0")), job.about.get("name", ""), error, error.message
        )
    return job.result


def note_outcome() -> Outcome | None:
    """For the Clients page: the outcome its `?note=` names (None: none, or forgotten)."""
    key = request.args.get("note")
    job = _state()["jobs"].get(key) if key else None
    if job is None or not job.done.is_set():
        return None
    return outcome_of(job)


# --- the work (on the pool's threads) ---------------------------------------------------------


class _Watched:
    """A Clio client whose failure is kept (`seen`): the engine turns it into a note status
    with Clio's words; the app needs its cause for staff words."""

    def __init__(self, client: Any, seen: list[MapctlError]) -> None:
        self.client = client
        self.seen = seen

    def __enter__(self) -> Any:
        return self.client.__enter__()

    def __exit__(self, kind: Any, error: Any, trace: Any) -> Any:
        if isinstance(error, MapctlError):
            self.seen.append(error)
        return self.client.__exit__(kind, error, trace)


def _write(
    config: Any, job: Job, contact: int, name: str, base: tuple[str, bool] | None
) -> Outcome:
    from .imported import workstation
    from .views import _clio

    seen: list[MapctlError] = []
    margin = min(1.0, config.deadline / 10)  # the engine gives up before the page does

    def opener() -> _Watched:
        try:
            client = _clio(config, job, deadline=Deadline(config.deadline - margin))
        except MapctlError as error:
            seen.append(error)
            raise
        return _Watched(client, seen)

    try:
        done = retry_note_anywhere(
            config.home,
            config.out_dir,
            contact,
            opener,
            now=config.now(),
            who=workstation(config),
        )
    except NoteAlreadyWritten as already:
        known = already.status
        url = note_url(*base, known.matter_id, known.note_id) if base and known.matter_id else None
        return Outcome(
            "already",
            contact,
            name,
            "The note is already on the matter in Clio (written earlier, perhaps at another "
            "workstation). Nothing more to do.",
            url=url,
            details=already.message,
        )
    except NoteBeingWritten as busy:
        return _elsewhere(contact, name, busy.by.label, busy.message)
    except MapctlError as error:
        return _failed(contact, name, error, error.message + _hint(error))
    status = done.status
    details = "\n".join(done.warnings)
    if status.status == WRITTEN:
        url = note_url(*base, status.matter_id, status.note_id) if base else None
        said = "Written just now: the note is on the matter in Clio."
        if done.warnings:
            said += " Other workstations may still list it as not written for a while."
        return Outcome("written", contact, name, said, url=url, details=details)
    cause = seen[-1] if seen else MapctlError(status.message)
    text = status.message + (f"\n{details}" if details else "")
    return _failed(contact, name, cause, text)


def _hint(error: MapctlError) -> str:
    return f"\nhint: {error.hint}" if error.hint else ""


def _elsewhere(contact: int, name: str, who: str, details: str = "") -> Outcome:
    return Outcome(
        "elsewhere",
        contact,
        name,
        f"Another workstation is writing this note on the matter right now ({who}), so mapctl "
        "did not write it a second time.",
        "In a moment, open the Clients page again: it shows whether the note was written. If "
        "it was not, write it again there.",
        details=details,
    )


def _failed(contact: int, name: str, error: MapctlError, details: str) -> Outcome:
    from .errors import cause_of

    cause = cause_of(error)
    said, advice = FAILED.get(cause, OTHER)
    return Outcome("failed", contact, name, f"Still not written. {said}", advice, details=details)


# --- the page that follows a slow Clio --------------------------------------------------------


def writing_page(key: str) -> Any:
    job = _state()["jobs"].get(key)
    if job is None:  # the app was restarted, or long ago: the Clients page says how it ended
        return _go("/clients")
    job.check_deadline()
    if not job.done.is_set():
        draft = job.about.get("draft", "")
        return render_template(
            "wait.html",
            job=job,
            heading="Writing the note on the matter in Clio",
            progress=f"{request.script_root}/notes/{key}/progress",
            back=request.script_root + job.about.get("origin", "/clients"),
            back_label="Back to the client" if draft else "Back to the clients",
        )
    return _back(job, key)


def writing_progress(key: str) -> Response:
    job = _state()["jobs"].get(key)
    if job is None:
        return jsonify({"done": True, "wait": None, "left": 0})
    return jsonify(job.as_json())


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/drafts/<key>/note", retry_from_done, ["POST"]),
    ("/clients/<int:contact>/note", retry_from_clients, ["POST"]),
    ("/notes/<key>", writing_page, ["GET"]),
    ("/notes/<key>/progress", writing_progress, ["GET"]),
]
