"""The screens: Connect, Search, Preview, Add Client, Done, Clients (issues 10 and 18).

Each view calls the engine's workflow functions, the ones the command line calls, and renders a
template. Clio's work runs on the bounded pool of `jobs` (never on waitress's threads for long):
a search and "Use Selected Matter" show a page that follows their progress, with a countdown
when Clio asks to wait. Errors are pages (`errors.py`) with advice and an action for their
cause. Nothing here writes a file but `import_client`, all or nothing.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, jsonify, redirect, render_template, request
from flask import send_file as flask_send_file
from werkzeug.wrappers import Response

from ..engine.clio import auth
from ..engine.clio.bounded import Deadline
from ..engine.clio.pool import SharedTransport
from ..engine.clio.regions import REGIONS
from ..engine.errors import ClioError, MapctlError, NotFound
from ..engine.workflow import importing
from . import clio_action, errors, searching
from .imported import Imported, ImportedIndex, imported_clients, workstation
from .jobs import Job
from .server import AppConfig
from .text import download_name, local_time, neutral, staff_warning
from .workspace import SHOWN, Draft, Search

COLUMNS = (
    ("number", "Matter"),
    ("description", "Description"),
    ("client", "Client"),
    ("status", "Status"),
    ("opened", "Opened"),
)
QUICK = 0.6  # seconds a request waits for Clio before showing a page that follows the work


def register(app: Flask) -> None:
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    errors.register(app)
    app.context_processor(_page_globals)
    app.jinja_env.filters["local_time"] = local_time


def _page_globals() -> dict[str, Any]:
    config = _config()
    return {"root": request.script_root, "demo": config.demo}


def _config() -> AppConfig:
    config: AppConfig = current_app.extensions["mapctl"]
    return config


def _go(path: str) -> Response:
    """A 303 to one of the app's pages (under its secret path)."""
    return redirect(request.script_root + path, code=303)


def _today() -> Any:
    return _config().now().astimezone().date()


def _tokens() -> auth.Tokens | None:
    try:
        return auth.TokenStore(_config().home).load()
    except ClioError:
        return None


def _transport(config: AppConfig) -> SharedTransport:
    """One HTTP connection pool for the app's life (issue 18, item 12)."""
    workspace = config.workspace
    if workspace.transport is None:
        workspace.transport = SharedTransport(config.transport)
    transport: SharedTransport = workspace.transport
    return transport


def _clio(
    config: AppConfig | None = None, job: Job | None = None, deadline: Deadline | None = None
) -> Any:
    """A Clio client on the app's connection pool (`config`: outside a request, e.g. on the
    pool's threads); its rate-limit waits are told to `job`; `deadline`: all it may take."""
    from ..engine.clio.client import open_client

    config = config or _config()

    def sleep(seconds: float) -> None:
        if job is not None and seconds >= 1:
            job.waiting(seconds)
        config.sleep(seconds)

    client = open_client(
        config.home,
        config.env,
        transport=_transport(config),
        region=config.region,
        sleep=sleep,
        deadline=deadline,
    )
    # Staff see each rate-limit wait counting down, so the app waits out up to one whole Clio
    # window (60 s) where the command line gives up sooner; the job's deadline still bounds it.
    client.session.max_wait = APP_MAX_WAIT
    return client


APP_MAX_WAIT = 65.0  # seconds of rate-limit waiting one screen's Clio work may spend


def _job(what: str, deadline: float | None = None) -> Job:
    return Job(what, deadline=_config().deadline if deadline is None else deadline)


# --- Connect ---------------------------------------------------------------------------------


def index() -> Response:
    return _go("/search" if _tokens() is not None else "/connect")


def connect_page() -> str:
    config = _config()
    pending = config.workspace.pending_connection
    tokens = _tokens()
    account, asking = _account() if tokens else (None, None)
    return render_template(
        "connect.html",
        regions=REGIONS,
        env_base=config.env.get("CLIO_BASE_URL", ""),
        env_key=config.env.get("CLIO_CLIENT_ID", ""),
        env_secret=bool(config.env.get("CLIO_CLIENT_SECRET")),
        authorize=pending[2] if pending else None,
        connected=tokens is not None,
        host=urlsplit(tokens.base_url).netloc if tokens else "",
        account=account,
        asking=asking,
    )


ASK_AGAIN = 60.0  # seconds after a failed "who is connected" before a page asks by itself again


def _who(user: dict[str, Any]) -> dict[str, str]:
    return {"name": str(user.get("name") or ""), "email": str(user.get("email") or "")}


def _account(again: bool = False, wait: float = QUICK) -> tuple[dict[str, str] | None, Job | None]:
    """The connected Clio user's name and email (asked once, kept until Disconnect), or the
    job asking Clio for them: still going (the page shows that it waits, with the time left,
    and reloads when it ends) or failed (the page says so, with "Ask Clio again").

    A page waits on Clio at most QUICK; the question is bounded by `who_am_i_deadline`, and
    only one is asked at a time however often the page is opened. A failed one is asked again
    by itself only after ASK_AGAIN (a page that reloads when the job ends must not ask a down
    Clio again and again), or at once with `again` (Ask Clio again)."""
    config = _config()
    workspace = config.workspace
    with workspace.account_lock:
        if workspace.account is not None:
            return workspace.account, None
        job = workspace.account_job
        if job is not None:
            job.check_deadline()
        failed = job is not None and job.done.is_set() and job.error is not None
        if job is None or (failed and (again or job.clock() - job.started > ASK_AGAIN)):
            job = _start_who_am_i(config)
            workspace.account_job = job
    job.done.wait(wait)  # a quick Clio: the name is on the page at once, as before
    job.check_deadline()
    if job.done.is_set() and job.error is None:
        with workspace.account_lock:
            if workspace.account_job is job:  # not a question from before a Disconnect
                workspace.account = job.result
        return job.result, None
    return None, job


def _start_who_am_i(config: AppConfig) -> Job:
    seconds = config.who_am_i_deadline
    job = Job("Asking Clio who is connected", deadline=seconds)

    def ask(job: Job) -> dict[str, str]:
        with _clio(config, job, deadline=Deadline(seconds)) as client:  # gives up by itself
            return _who(client.who_am_i())

    try:
        config.workspace.clio_work.start(job, ask)
    except MapctlError as error:  # busy or stopping: said on the page like any failure
        job.finish(error=error)
    return job


def ask_account() -> Response:
    """Ask Clio again who is connected (the Connection page's button after a failed ask)."""
    if _tokens() is not None:
        _account(again=True, wait=0)  # the Connection page it leads to waits a moment
    return _go("/connect")


def account_progress() -> Response:
    job = _config().workspace.account_job
    if job is None:
        return jsonify({"done": True, "wait": None, "left": 0})
    return jsonify(job.as_json())


def connect_start() -> Response:
    config = _config()
    region = request.form.get("region") or None
    base_url = auth.base_url_for(config.env, region)
    key = request.form.get("app_key", "").strip() or config.env.get("CLIO_CLIENT_ID", "")
    secret = request.form.get("app_secret", "").strip() or config.env.get("CLIO_CLIENT_SECRET", "")
    if not key or not secret:
        error = MapctlError("Type both the App Key and the App Secret.")
        error.app_cause = "missing"  # type: ignore[attr-defined]
        raise error
    creds = auth.Credentials(key.strip(), secret.strip())
    url = auth.authorize_url(base_url, creds.client_id, auth.new_state(config.home, base_url))
    config.workspace.pending_connection = (base_url, creds, url)
    return _go("/connect#code")


def connect_finish() -> Response:
    """Finish Connecting: the code (its `state` checked here, as before) is exchanged on the
    pool; a slow Clio gets a page that says mapctl waits for it, with the time left, instead
    of a page that hangs (bounded by `connect_deadline`)."""
    config = _config()
    workspace = config.workspace
    pending = workspace.pending_connection
    if pending is None:
        error = MapctlError("Start with step 1: the App Key and App Secret.")
        error.app_cause = "missing"  # type: ignore[attr-defined]
        raise error
    base_url, creds, _ = pending
    try:
        code = auth.parse_code(request.form.get("code", ""), config.home)
    except MapctlError as error:
        error.app_cause = "bad-code"  # type: ignore[attr-defined]
        raise
    transport = _transport(config)
    seconds = config.connect_deadline
    margin = min(1.0, seconds / 10)  # the engine gives up before the page does

    def finish(job: Job) -> dict[str, str]:
        auth.connect(
            config.home, base_url, creds, code, transport=transport,
            deadline=Deadline(seconds - 2 * margin),
        )  # fmt: skip
        left = min(config.who_am_i_deadline, seconds - margin - (job.clock() - job.started))
        if left <= 0:
            return {"name": "", "email": ""}  # connected; the Connection page asks later
        try:
            with _clio(config, job, deadline=Deadline(left)) as client:  # as `mapctl connect`
                return _who(client.who_am_i())
        except ClioError as error:
            if errors.cause_of(error) == "too-slow" or "too slow" in error.message:
                return {"name": "", "email": ""}  # connected all the same: asked again later
            raise

    job = _job("Connecting to Clio", seconds)
    try:
        workspace.clio_work.start(job, finish)
    except MapctlError as error:
        raise _connect_error(error) from None
    key = workspace.connections.add(job)
    job.done.wait(QUICK)
    if not job.done.is_set():
        return _go(f"/connecting/{key}")
    return _connected(job)


def _connected(job: Job) -> Response:
    """A finished connection: to Search (the account remembered), or its error page."""
    if job.error is not None:
        raise _connect_error(job.error)
    workspace = _config().workspace
    with job.lock:
        if not job.about.get("applied"):  # once, however often its page is reloaded
            job.about["applied"] = "yes"
            workspace.pending_connection = None
            account = job.result
            with workspace.account_lock:
                workspace.account = account if account["name"] or account["email"] else None
                workspace.account_job = None
            workspace.connected_as = account["name"] or account["email"]
    return _go("/search")


def _connect_error(error: MapctlError) -> MapctlError:
    """Connecting failed: Try again leads back to the Connection page (step 2 is kept, so a
    new code can be pasted); the code itself is never put in a page."""
    if errors.cause_of(error) == "too-slow" or "too slow" in error.message:
        error.app_cause = "connect-slow"  # type: ignore[attr-defined]
    error.retry = f"{request.script_root}/connect#code"  # type: ignore[attr-defined]
    return error


def connecting_page(key: str) -> Any:
    job = _config().workspace.connections.get(key)
    if job is None:
        raise NotFound("this screen has expired", hint="connect to Clio again")
    job.check_deadline()
    if not job.done.is_set():
        return render_template(
            "wait.html",
            job=job,
            heading="Connecting to Clio",
            progress=f"{request.script_root}/connecting/{key}/progress",
            back=f"{request.script_root}/connect",
            back_label="Back to the Connection page",
        )
    return _connected(job)


def connecting_progress(key: str) -> Response:
    job = _config().workspace.connections.get(key)
    if job is None:
        return jsonify({"done": True, "wait": None, "left": 0})
    return jsonify(job.as_json())


DISCONNECT_SECONDS = 10.0  # Disconnect waits on Clio's revoke at most this long


def disconnect() -> Response:
    """Forget the connection on this computer, and ask Clio to revoke it (best effort)."""
    config = _config()
    transport = _transport(config)

    def revoke(job: Job) -> None:  # bounded as the page's wait: the worker is freed with it
        auth.disconnect(config.home, transport=transport, deadline=Deadline(DISCONNECT_SECONDS))

    try:
        job = _job("Disconnecting from Clio", DISCONNECT_SECONDS)
        config.workspace.clio_work.run(job, revoke, wait=DISCONNECT_SECONDS)
    except MapctlError:
        auth.TokenStore(config.home).delete()  # Clio unreachable: forgotten here all the same
    with config.workspace.account_lock:
        config.workspace.account = None
        config.workspace.account_job = None
    config.workspace.connected_as = ""
    return _go("/connect?disconnected=1")


# --- Search ----------------------------------------------------------------------------------


def search_page() -> Any:
    if _tokens() is None:
        return _go("/connect")
    query = request.args.get("q", "")
    if not query.strip():
        who = _config().workspace.connected_as
        message = f"Connected to Clio as {who}." if who else None
        return render_template("search.html", query="", search=None, message=message)
    if len(query.strip()) < 2:
        message = "Type at least 2 characters of a matter number, description or client name."
        return render_template("search.html", query=query, search=None, message=message)
    workspace = _config().workspace
    key = request.args.get("job")
    search = workspace.searches.get(key)
    if search is None or search.query != query.strip():
        key = _start_search(query.strip())
        return redirect(_search_url(query, key, request.args.get("sort"), request.args.get("dir")))
    search.check_deadline()
    if search.done.is_set() and search.error is not None:
        search.error.back = f"{request.script_root}/search"  # type: ignore[attr-defined]
        again = _search_url(query, None, request.args.get("sort"), request.args.get("dir"))
        search.error.retry = again  # type: ignore[attr-defined]  # a new search, not this one
        raise search.error
    sort, descending = _sorting()
    done = search.done.is_set()
    rows = search.sorted_rows(sort, descending) if done else search.sorted_rows("", False)
    index = ImportedIndex.for_rows(_config(), rows)
    return render_template(
        "search.html",
        query=query,
        search=search,
        done=done,
        job=key,
        rows=[(row, index.for_row(row)) for row in rows],
        shown_max=SHOWN,
        headers=_headers(query, key, sort, descending),
        here=_search_url(query, key, sort or None, "desc" if descending else None),
        pick=request.args.get("pick", ""),
        message=None,
    )


def _sorting() -> tuple[str, bool]:
    sort = request.args.get("sort", "")
    return (sort if sort in dict(COLUMNS) else ""), request.args.get("dir") == "desc"


def _headers(query: str, key: str | None, sort: str, descending: bool) -> list[dict[str, str]]:
    headers = []
    for column, title in COLUMNS:
        current = column == sort
        flip = "desc" if current and not descending else None
        aria = ("descending" if descending else "ascending") if current else "none"
        headers.append(
            {"title": title, "url": _search_url(query, key, column, flip), "aria_sort": aria}
        )
    return headers


def _search_url(query: str, key: str | None, sort: str | None, direction: str | None) -> str:
    params = [("q", query)] + ([("job", key)] if key else [])
    params += [("sort", sort)] if sort else []
    params += [("dir", direction)] if direction else []
    return f"{request.script_root}/search?" + urlencode(params)


def _start_search(query: str) -> str:
    config = _config()
    search = Search(f"Searching Clio for “{query}”", deadline=config.deadline, query=query)
    key = config.workspace.searches.add(search)

    def work(job: Job) -> None:
        with _clio(config, job) as client:
            searching.run_search(client, query, search)

    config.workspace.clio_work.start(search, work)
    search.done.wait(QUICK)  # most searches finish at once: no progress screen for them
    return key


def search_progress() -> Response:
    search = _config().workspace.searches.get(request.args.get("job"))
    if search is None:
        return jsonify({"done": True, "rows": [], "wait": None})
    since = request.args.get("since", "0")
    state = search.as_json(int(since) if since.isdigit() else 0)
    state["rows"] = [dict(row) for row in state["rows"]]  # copies: the job keeps Clio's text
    index = ImportedIndex.for_rows(_config(), state["rows"]) if state["rows"] else None
    for row in state["rows"]:  # shown by script: made harmless here, as templates do
        row.update({k: neutral(v) for k, v in row.items() if isinstance(v, str)})
        found = index.for_row(row) if index else None
        row["imported"] = f"Imported {local_time(found.created_at)}" if found else ""
    return jsonify(state)


# --- Opening a matter (Use Selected Matter) ----------------------------------------------------


def open_matter() -> Response:
    matter = request.form.get("matter", "").strip()
    back = request.form.get("back", "")
    root = request.script_root
    if not back.startswith(f"{root}/search?") or urlsplit(back).netloc:
        back = f"{root}/search"
    if not matter:
        error = MapctlError("Click a matter in the list first.")
        error.app_cause = "missing"  # type: ignore[attr-defined]
        raise error
    back = _with_pick(back, matter)
    config = _config()
    job = _job(f"Fetching matter {matter} from Clio")
    job.about.update(matter=matter, back=back)

    def fetch(job: Job) -> dict[str, Any]:
        with _clio(config, job) as client:
            return importing.fetch_checked_bundle(client, matter)

    try:
        config.workspace.clio_work.start(job, fetch)
    except MapctlError as error:
        raise _retry(error, matter, back) from None
    key = config.workspace.openings.add(job)
    job.done.wait(QUICK)
    return _go(f"/opening/{key}")


def _with_pick(back: str, matter: str) -> str:
    """The search's address that selects `matter` again (Back keeps the selection)."""
    parts = [p for p in back.split("&") if not p.startswith("pick=")]
    joined = "&".join(parts)
    return joined + ("&" if "?" in joined else "?") + urlencode({"pick": matter})


def _retry(error: MapctlError, matter: str, back: str) -> MapctlError:
    error.retry = {  # type: ignore[attr-defined]
        "_action": f"{request.script_root}/matters", "matter": matter, "back": back,
    }  # fmt: skip
    error.back = back  # type: ignore[attr-defined]
    return error


def opening_page(key: str) -> Any:
    job = _config().workspace.openings.get(key)
    if job is None:
        raise NotFound("this screen has expired", hint="search for the matter again")
    job.check_deadline()
    back = job.about.get("back", f"{request.script_root}/search")
    if not job.done.is_set():
        return render_template("wait.html", job=job, key=key, back=back)
    if job.error is not None:
        raise _retry(job.error, job.about.get("matter", ""), back)
    with job.lock:
        draft_key = job.about.get("draft")
        if draft_key is None:
            draft_key = _config().workspace.drafts.add(Draft(bundle=job.result, back=back))
            job.about["draft"] = draft_key
    return _go(f"/drafts/{draft_key}")


def opening_progress(key: str) -> Response:
    job = _config().workspace.openings.get(key)
    if job is None:
        return jsonify({"done": True, "wait": None})
    return jsonify(job.as_json())


# --- Preview ---------------------------------------------------------------------------------


def _draft(key: str) -> Draft:
    draft = _config().workspace.drafts.get(key)
    if draft is None:
        raise NotFound(
            "this import screen has expired (the app was restarted, or it is long closed)",
            hint="search for the matter again",
        )
    return draft


def _preview(draft: Draft) -> importing.Preview:
    config = _config()
    return importing.preview(
        draft.bundle, config.mapping, today=_today(), exclude=draft.excluded, roles=draft.roles
    )


def _existing(draft: Draft) -> Imported | None:
    """The client this matter's client became already (issue 18, item 4), if any; never the
    one this very draft just created."""
    if draft.result is not None:
        return None
    client = draft.bundle["matter"]["client"]["id"]
    return ImportedIndex.of(_config(), [client]).by_contact.get(client)


def preview_page(key: str) -> str:
    draft = _draft(key)
    note = request.args.get("note", "")
    preview = _preview(draft)
    relationships = _config().mapping.relationships
    suggested = {  # did-you-mean's role, chosen already (issue 18, item 8)
        c.id: relationships.classify(c.suggestion).role for c in preview.unmatched if c.suggestion
    }
    return render_template(
        "preview.html",
        key=key,
        draft=draft,
        preview=preview,
        suggested=suggested,
        warnings=[staff_warning(w) for w in preview.warnings],
        existing=_existing(draft),
        note=note,
        undo=request.args.get("undo", ""),
        focus=request.args.get("focus", ""),
    )


def _contact_id(draft: Draft) -> int:
    text = request.form.get("contact", "").strip()
    ids = {c["id"] for c in draft.bundle["contacts"]}
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or int(text) not in ids:
        error = MapctlError("Click a contact in the list first.")
        error.app_cause = "missing"  # type: ignore[attr-defined]
        raise error
    return int(text)


def _name(draft: Draft, contact: int) -> str:
    for c in draft.bundle["contacts"]:
        if c["id"] == contact:
            return str(c.get("name") or "").strip() or "The contact"
    return "The contact"


def _back_to_preview(key: str, note: str, focus: str, undo: int | None = None) -> Response:
    """The preview again, with a confirmation where the person looks and focus kept."""
    params = [("note", note), ("focus", focus)] + ([("undo", str(undo))] if undo else [])
    return _go(f"/drafts/{key}?{urlencode(params)}")


def remove_contact(key: str) -> Response:
    draft = _draft(key)
    contact = _contact_id(draft)
    with draft.lock:
        importing.preview(
            draft.bundle,
            _config().mapping,
            today=_today(),
            exclude=draft.excluded | {contact},
            roles=draft.roles,
        )  # the client cannot be removed: refused here with the engine's words
        draft.excluded.add(contact)
    return _back_to_preview(key, f"{_name(draft, contact)} removed", "undo", undo=contact)


def restore_contact(key: str) -> Response:
    draft = _draft(key)
    contact = _contact_id(draft)
    with draft.lock:
        draft.excluded.discard(contact)
    return _back_to_preview(key, f"{_name(draft, contact)} restored", f"row-{contact}")


def set_role(key: str) -> Response:
    draft = _draft(key)
    contact = _contact_id(draft)
    role = request.form.get("role", "")
    config = _config()
    with draft.lock:
        roles = dict(draft.roles)
        roles.pop(contact, None)
        natural = importing.preview(
            draft.bundle, config.mapping, today=_today(), exclude=draft.excluded, roles=roles
        )
        by_label = next((c.role for c in natural.contacts if c.id == contact), "")
        if role not in ("", by_label):  # the label's own role: nothing set by hand
            roles[contact] = role
        importing.preview(  # an unknown role or the client: refused with the engine's words
            draft.bundle, _config().mapping, today=_today(), exclude=draft.excluded, roles=roles
        )
        draft.roles = roles
    who = _name(draft, contact)
    note = f"{who}'s role is now {role}" if role else f"{who}'s role follows Clio's label again"
    return _back_to_preview(key, note, f"role-{contact}")


# --- Add Client, Done ------------------------------------------------------------------------


def client_page(key: str) -> Any:
    draft = _draft(key)
    if draft.result is not None:  # Back from Done: this client is prepared already
        return _go(f"/drafts/{key}/done")
    config = _config()
    existing = _existing(draft)
    if existing is not None:
        raise _already(existing, draft)
    name, notes = importing.client_record_defaults(
        draft.bundle, config.mapping, today=_today(), exclude=draft.excluded, roles=draft.roles
    )
    return render_template("client.html", key=key, name=name, notes=notes, preview=_preview(draft))


def _already(existing: Imported, draft: Draft | None) -> MapctlError:
    by = f" by {existing.imported_by} on {existing.computer}" if existing.imported_by else ""
    if not existing.done:  # another workstation's import, running or stopped half-way
        error = MapctlError(
            f"{existing.name} (Clio contact {existing.contact_id}) is being imported{by} "
            f"since {existing.created_at}, into {existing.answer_file}"
        )
        error.app_cause = "in-progress"  # type: ignore[attr-defined]
        if draft is not None:
            error.back = draft.back  # type: ignore[attr-defined]
        return error
    error = MapctlError(
        f"{existing.name} (Clio contact {existing.contact_id}) already exists: created "
        f"{existing.created_at}{by} from matter {existing.matter}; its answer file is "
        f"{existing.answer_file}"
    )
    error.app_cause = "already-imported"  # type: ignore[attr-defined]
    error.imported = existing  # type: ignore[attr-defined]
    error.contact_id = existing.contact_id  # type: ignore[attr-defined]
    if draft is not None:
        error.back = draft.back  # type: ignore[attr-defined]
    return error


def import_matter(key: str) -> Response:
    draft = _draft(key)
    config = _config()
    with draft.lock:
        if draft.result is not None:  # OK pressed twice, or again after Back: the same Done
            return _go(f"/drafts/{key}/done")
        try:
            draft.result = importing.import_client(
                draft.bundle,
                config.mapping,
                home=config.home,
                now=config.now(),
                today=_today(),
                exclude=set(draft.excluded),
                roles=dict(draft.roles),
                out_dir=config.out_dir,
                name=request.form.get("name", ""),
                who=workstation(_config()),
                notes=request.form.get("notes", "").replace("\r\n", "\n"),
            )
        except MapctlError:
            existing = _existing(draft)
            if existing is not None:  # another tab, another workstation, just before
                raise _already(existing, draft) from None
            raise
        clio_action.note_after_import(key, draft.result)  # issue 19: never fails it
    return _go(f"/drafts/{key}/done")


def done_page(key: str) -> Any:
    draft = _draft(key)
    if draft.result is None:
        return _go(f"/drafts/{key}")
    config = _config()
    return render_template(
        "done.html",
        key=key,
        result=draft.result,
        mapping_name=config.mapping_name,
        steps=config.ils_steps,
        warnings=[staff_warning(w) for w in draft.result.preview.warnings],
        download=download_name(draft.result.entry.name, draft.result.entry.clio_contact_id),
    )


def answer_file(key: str) -> Response:
    draft = _draft(key)
    if draft.result is None:
        raise NotFound("this matter has not been imported yet", hint="import it first")
    entry = draft.result.entry
    return _send(draft.result.answer_file, download_name(entry.name, entry.clio_contact_id))


def _send(path: Path, name: str) -> Response:
    if not path.is_file():
        raise NotFound(
            f"the answer file {path} is gone",
            hint="it was moved or deleted after the import; look in the client's folder",
        )
    data = io.BytesIO(path.read_bytes())  # small; read at once, so no file is left open
    return flask_send_file(data, as_attachment=True, download_name=name, max_age=0)


# --- Clients ---------------------------------------------------------------------------------


def clients_page() -> str:
    clients = list(reversed(imported_clients(_config())))
    return render_template(
        "clients.html",
        clients=clients,
        who=any(c.imported_by or c.computer for c in clients),
    )


def client_answer_file(contact: int) -> Response:
    found = ImportedIndex.of(_config(), [contact]).by_contact.get(contact)
    if found is None or not found.done:
        raise NotFound(f"mapctl has created no client from Clio contact {contact}")
    return _send(Path(found.answer_file), download_name(found.name, found.contact_id))


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/", index, ["GET"]),
    ("/connect", connect_page, ["GET"]),
    ("/connect", connect_start, ["POST"]),
    ("/connect/code", connect_finish, ["POST"]),
    ("/connect/account", ask_account, ["POST"]),
    ("/connect/account/progress", account_progress, ["GET"]),
    ("/connecting/<key>", connecting_page, ["GET"]),
    ("/connecting/<key>/progress", connecting_progress, ["GET"]),
    ("/disconnect", disconnect, ["POST"]),
    ("/search", search_page, ["GET"]),
    ("/search/progress", search_progress, ["GET"]),
    ("/matters", open_matter, ["POST"]),
    ("/opening/<key>", opening_page, ["GET"]),
    ("/opening/<key>/progress", opening_progress, ["GET"]),
    ("/drafts/<key>", preview_page, ["GET"]),
    ("/drafts/<key>/remove", remove_contact, ["POST"]),
    ("/drafts/<key>/restore", restore_contact, ["POST"]),
    ("/drafts/<key>/role", set_role, ["POST"]),
    ("/drafts/<key>/client", client_page, ["GET"]),
    ("/drafts/<key>/import", import_matter, ["POST"]),
    ("/drafts/<key>/done", done_page, ["GET"]),
    ("/drafts/<key>/answer-file", answer_file, ["GET"]),
    ("/clients", clients_page, ["GET"]),
    ("/clients/<int:contact>/answer-file", client_answer_file, ["GET"]),
]
