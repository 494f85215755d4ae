"""The screens: Connect, Search, Preview, Add Client, Done, Clients (issue 10).

Each view calls the engine's workflow functions, the ones the command line calls, and renders a
template. Errors are pages (`errors.py`) that say what happened and what to do; the server keeps
serving. Nothing here writes a file: `import_client` does, all or nothing.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, current_app, jsonify, redirect, render_template, request
from flask import send_file as flask_send_file
from werkzeug.wrappers import Response

from ..engine.clio import auth
from ..engine.clio.regions import REGIONS
from ..engine.errors import ClioError, MapctlError, NotFound
from ..engine.render.context import co_client_ids
from ..engine.workflow import importing, records
from ..engine.workflow.ledger import already_exists
from . import clio_action, errors
from .server import AppConfig
from .workspace import Draft, Search

COLUMNS = (
    ("number", "Matter"),
    ("description", "Description"),
    ("client", "Client"),
    ("status", "Status"),
    ("opened", "Opened"),
)


def register(app: Flask) -> None:
    for rule, view, methods in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=methods)
    errors.register(app)


def _config() -> AppConfig:
    config: AppConfig = current_app.extensions["mapctl"]
    return config


def _today() -> Any:
    return _config().now().astimezone().date()


def _connected() -> bool:
    try:
        return auth.TokenStore(_config().home).load() is not None
    except ClioError:
        return False


def _clio(config: AppConfig | None = None, **extra: Any) -> Any:
    """A Clio client for this app's home and settings (`config`: outside a request, e.g. in the
    search's thread; `extra`: more of `open_client`'s options)."""
    from ..engine.clio.client import open_client

    config = config or _config()
    return open_client(
        config.home,
        config.env,
        transport=config.transport,
        region=config.region,
        sleep=config.sleep,
        **extra,
    )


# --- Connect ---------------------------------------------------------------------------------


def index() -> Response:
    return redirect("/search" if _connected() else "/connect", code=303)


def connect_page() -> str:
    config = _config()
    pending = config.workspace.pending_connection
    return render_template(
        "connect.html",
        regions=REGIONS,
        env_base=config.env.get("CLIO_BASE_URL", ""),
        env_key=config.env.get("CLIO_CLIENT_ID", ""),
        env_secret=bool(config.env.get("CLIO_CLIENT_SECRET")),
        authorize=pending[2] if pending else None,
        connected=_connected(),
    )


def connect_start() -> Response:
    config = _config()
    region = request.form.get("region") or None
    base_url = auth.base_url_for(config.env, region)
    key = request.form.get("app_key", "").strip() or config.env.get("CLIO_CLIENT_ID", "")
    secret = request.form.get("app_secret", "").strip() or config.env.get("CLIO_CLIENT_SECRET", "")
    if not key or not secret:
        raise MapctlError(
            "the App Key and the App Secret are both needed",
            hint="copy them from your Clio app's settings (Settings > Developer Applications)",
        )
    creds = auth.Credentials(key.strip(), secret.strip())
    url = auth.authorize_url(base_url, creds.client_id, auth.new_state(config.home, base_url))
    config.workspace.pending_connection = (base_url, creds, url)
    return redirect("/connect#code", code=303)


def connect_finish() -> Response:
    config = _config()
    pending = config.workspace.pending_connection
    if pending is None:
        raise MapctlError("start with the App Key and App Secret", hint="fill in step 1 first")
    base_url, creds, _ = pending
    code = auth.parse_code(request.form.get("code", ""), config.home)
    auth.connect(config.home, base_url, creds, code, transport=config.transport)
    config.workspace.pending_connection = None
    with _clio() as client:  # as `mapctl connect`: check the connection, say as whom
        user = client.who_am_i()
    config.workspace.connected_as = str(user.get("name") or user.get("email") or "")
    return redirect("/search", code=303)


# --- Search ----------------------------------------------------------------------------------


def search_page() -> Any:
    if not _connected():
        return redirect("/connect", code=303)
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
    if search.done.is_set() and search.error is not None:
        raise search.error
    sort, descending = _sorting()
    return render_template(
        "search.html",
        query=query,
        search=search,
        job=key,
        rows=search.sorted_rows(sort, descending) if search.done.is_set() else [],
        headers=_headers(query, key, sort, descending),
        here=_search_url(query, key, sort or None, "desc" if descending else None),
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
    return "/search?" + urlencode(params)


def _start_search(query: str) -> str:
    config = _config()
    search = Search(query)
    key = config.workspace.searches.add(search)

    def run() -> None:
        try:
            with _clio(config, notice=lambda text: setattr(search, "waiting", text)) as client:
                search.rows = client.search(query, progress=search.progress)
        except MapctlError as error:
            search.error = error
        except Exception as error:  # noqa: BLE001 - reported as a page, never a traceback
            search.error = MapctlError(f"the search failed ({type(error).__name__})")
        finally:
            search.done.set()

    threading.Thread(target=run, name=f"mapctl-search-{key}", daemon=True).start()
    search.done.wait(0.5)  # most searches finish at once: no progress screen for them
    return key


def search_progress() -> Response:
    search = _config().workspace.searches.get(request.args.get("job"))
    if search is None:
        return jsonify({"done": True, "pages": 0, "matters": 0, "total": None, "waiting": ""})
    return jsonify(search.as_json())


# --- Preview ---------------------------------------------------------------------------------


def open_matter() -> Response:
    matter = request.form.get("matter", "").strip()
    if not matter:
        raise MapctlError("no matter was selected", hint="click a matter in the list first")
    back = request.form.get("back", "")
    if not back.startswith("/search?") or urlsplit(back).netloc:
        back = "/search"
    with _clio() as client:
        bundle = importing.fetch_checked_bundle(client, matter)
    key = _config().workspace.drafts.add(Draft(bundle=bundle, back=back))
    return redirect(f"/drafts/{key}", code=303)


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


def preview_page(key: str) -> str:
    draft = _draft(key)
    return render_template("preview.html", key=key, draft=draft, preview=_preview(draft))


def _contact_id(draft: Draft) -> int:
    text = request.form.get("contact", "").strip()
    ids = {c["id"] for c in draft.bundle["contacts"]}
    if not text.isdigit() or int(text) not in ids:
        raise MapctlError("no contact was selected", hint="click a contact in the list first")
    return int(text)


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
    return redirect(f"/drafts/{key}", code=303)


def restore_contact(key: str) -> Response:
    draft = _draft(key)
    with draft.lock:
        draft.excluded.discard(_contact_id(draft))
    return redirect(f"/drafts/{key}", code=303)


def set_role(key: str) -> Response:
    draft = _draft(key)
    contact = _contact_id(draft)
    role = request.form.get("role", "")
    with draft.lock:
        roles = dict(draft.roles)
        rules = _config().mapping.relationships
        back = rules.co_client if contact in co_client_ids(draft.bundle) else rules.otherwise
        if role in ("", back):  # back to what Clio said
            roles.pop(contact, None)
        else:
            roles[contact] = role
        importing.preview(  # an unknown role or the client: refused with the engine's words
            draft.bundle, _config().mapping, today=_today(), exclude=draft.excluded, roles=roles
        )
        draft.roles = roles
    return redirect(f"/drafts/{key}", code=303)


# --- Add Client, Done ------------------------------------------------------------------------


def client_page(key: str) -> str:
    draft = _draft(key)
    config = _config()
    # The personal and the shared folder's ledger; looking never creates one (Cancel: nothing)
    importing.check_not_imported(draft.bundle, config.home, out_dir=config.out_dir)
    name, notes = importing.client_record_defaults(
        draft.bundle, config.mapping, today=_today(), exclude=draft.excluded, roles=draft.roles
    )
    return render_template("client.html", key=key, name=name, notes=notes, preview=_preview(draft))


def import_matter(key: str) -> Response:
    draft = _draft(key)
    config = _config()
    with draft.lock:
        if draft.result is None:
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
                who=_workstation(),
                notes=request.form.get("notes", "").replace("\r\n", "\n"),
            )
            clio_action.note_after_import(key, draft.result)  # issue 19: never fails it
        else:
            raise already_exists(draft.result.entry)
    return redirect(f"/drafts/{key}/done", code=303)


def done_page(key: str) -> Any:
    draft = _draft(key)
    if draft.result is None:
        return redirect(f"/drafts/{key}", code=303)
    return render_template(
        "done.html", key=key, result=draft.result, mapping_name=_config().mapping_name
    )


def answer_file(key: str) -> Response:
    draft = _draft(key)
    if draft.result is None:
        raise NotFound("this matter has not been imported yet", hint="import it first")
    return _send(draft.result.answer_file)


def _send(path: Path) -> Response:
    if not path.is_file():
        raise NotFound(
            f"the answer file {path} is gone",
            hint="it was moved or deleted after the import; look in the client's folder",
        )
    data = io.BytesIO(path.read_bytes())  # small; read at once, so no file is left open
    return flask_send_file(data, as_attachment=True, download_name=path.name, max_age=0)


# --- Clients ---------------------------------------------------------------------------------


def clients_page() -> str:
    config = _config()
    listing = records.list_clients(config.home, config.out_dir, _workstation())
    listed = list(reversed(listing.clients))  # the firm's, for a shared output folder
    rows = [(c.entry, Path(c.entry.answer_file).is_file()) for c in listed]
    shared = listing.firm is not None and listing.firm.exists()
    by = {c.entry.clio_contact_id: c.imported_by.label for c in listed} if shared else {}
    return render_template("clients.html", rows=rows, imported_by=by)


def client_answer_file(contact: int) -> Response:
    config = _config()
    found = records.lookup_imported([contact], home=config.home, out_dir=config.out_dir)
    client = found.get(contact)
    if client is None or not client.done:
        raise NotFound(f"mapctl has created no client from Clio contact {contact}")
    return _send(Path(client.entry.answer_file))


def _workstation() -> Any:
    from ..engine.workflow.firmledger import Workstation

    config = _config()
    return Workstation.current(config.home, env=config.env)


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/", index, ["GET"]),
    ("/connect", connect_page, ["GET"]),
    ("/connect", connect_start, ["POST"]),
    ("/connect/code", connect_finish, ["POST"]),
    ("/search", search_page, ["GET"]),
    ("/search/progress", search_progress, ["GET"]),
    ("/matters", open_matter, ["POST"]),
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
