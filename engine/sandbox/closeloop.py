"""The sandbox's notes and custom actions (issue 19), and its emulation of Clio's matter page.

Pure request -> response logic like `api.py`, over the same `Store` (`store.notes`,
`store.custom_actions`). Shapes follow Clio's OpenAPI document (tests/fixtures/clio/
clio-api-v4-openapi-notes-actions.json): Note#index needs `type` (Matter or Contact) and filters
by `matter_id`/`contact_id`; Note#create takes `{"data": {type, matter{id} | contact{id},
subject, detail, detail_text_type, date}}` and answers 201 with Note_Show; CustomAction#create
takes `{"data": {label, target_url, ui_reference}}` (all three required; `ui_reference` one of
the document's five). The document's tag text: "Links are unique across an application, user,
location in the UI (ui_reference) and label": a second action with the same label and place is
a 422 here [INFERRED: the wording is Rails' "has already been taken"].

The matter page (`GET /nc/matters/{id}`) stands in for Clio Manage's: the matter, its notes and
its custom actions for `matters/show` as links with their label as the text. A link goes
through `/nc/custom_actions/{id}/launch`, which, like Clio, sends the browser to the action's
`target_url` with `custom_action_id`, `user_id`, `subject_url` and a fresh
`custom_action_nonce` added (Clio's developer guide "Custom Actions": "Receiving a Custom
Action"). The nonce is good once, for 60 seconds, for the sandbox's user; `Nonces.check` is what
the server asks when an API request carries one (the document's "Confirming a User's Action").
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from .query import (
    INT64,
    ApiFailure,
    Query,
    Record,
    Response,
    filter_since,
    int_set,
    invalid,
    one,
    order,
)

if TYPE_CHECKING:
    from .api import Api, Request

NONCE_LIFETIME = 60.0
UI_REFERENCES = (
    "activities/show",
    "documents/show",
    "contacts/show",
    "matters/show",
    "folders/show",
)
NOTE_ORDERS = ("id", "date", "author", "updated_at")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _body(request: Request) -> Record:
    """The request's `data` object, or Clio's 400s for a body that is not one."""
    try:
        payload = json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, ValueError):
        raise ApiFailure(400, "BadRequest", "The request body is not valid JSON") from None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not data:
        raise ApiFailure(400, "BadRequest", "param is missing or the value is empty: data")
    return data


def _unprocessable(errors: list[str]) -> ApiFailure:
    return ApiFailure(422, "UnprocessableEntity", "Validation failed: " + ", ".join(errors))


def _ref_id(value: Any) -> int | None:
    ident = value.get("id") if isinstance(value, dict) else None
    if isinstance(ident, int) and not isinstance(ident, bool) and INT64[0] <= ident <= INT64[1]:
        return ident
    return None


def _next_id(records: dict[int, Record], start: int) -> int:
    return max(records, default=start) + 1


def load_notes(store: Any, data: dict[str, Any], source: str) -> None:
    """Notes a --data file (or the seed) brings: `"notes": [Note records]`, each on a matter
    of the file (`"matter": {"id": ...}`)."""
    from ..errors import MapctlError
    from .api import USER

    notes = data.get("notes") or []
    if not isinstance(notes, list):
        raise MapctlError(f"{source}: 'notes' must be a list of Clio Note records")
    for record in notes:
        if not isinstance(record, dict) or _ref_id(record) is None:
            raise MapctlError(f"{source}: every note needs an integer 'id'")
        matter = store.matters.get(_ref_id(record.get("matter")))
        if matter is None:
            continue  # a note on a matter the file leaves out (e.g. the seed's, cut down)
        store.notes[record["id"]] = {
            "type": "Matter",
            "subject": "",
            "detail": "",
            "detail_text_type": "plain_text",
            "time_entries_count": 0,
            "author": USER,
            **record,
            "matter": matter,
        }


# --- notes -----------------------------------------------------------------------------------


def list_notes(api: Api, request: Request) -> Response:
    query = request.query
    kind = one(query, "type")
    if kind is None:
        raise invalid("type is missing")
    # The document's enum is Matter/Contact; a live client saw lower case accepted (NOTES 9.10):
    # the sandbox takes either.
    if kind.lower() not in ("matter", "contact"):
        raise invalid(f"type {kind!r} is not valid: use Matter or Contact")
    records = [n for n in api.store.notes.values() if n["type"].lower() == kind.lower()]
    for name, key in (("matter_id", "matter"), ("contact_id", "contact")):
        if (wanted := int_set(query, name)) is not None:
            records = [n for n in records if (n.get(key) or {}).get("id") in wanted]
    if (ids := int_set(query, "ids[]")) is not None:
        records = [n for n in records if n["id"] in ids]
    if text := (one(query, "query") or "").casefold():
        records = [n for n in records if text in f"{n['subject']}\n{n['detail']}".casefold()]
    if (timed := one(query, "has_time_entries")) is not None:
        records = [n for n in records if (timed == "true") == bool(n["time_entries_count"])]
    records = filter_since(records, query)
    order(
        records,
        query,
        {
            "id": lambda n: n["id"],
            "date": lambda n: n.get("date"),
            "author": lambda n: (n.get("author") or {}).get("name"),
            "updated_at": lambda n: n.get("updated_at"),
        },
    )
    return api.page(records, request, "Note")


def show_note(api: Api, request: Request) -> Response:
    return api.show(api.store.notes.get(request.ident()), request, "Note", "Note")


def create_note(api: Api, request: Request) -> Response:
    from .api import USER

    data = _body(request)
    errors, links = _note_errors(api, data, partial=False)
    if errors:
        raise _unprocessable(errors)
    now = _now()
    ident = _next_id(api.store.notes, 60000)
    note: Record = {
        "id": ident,
        "etag": f'"n{ident}-{secrets.token_hex(4)}"',
        "type": data["type"],
        "subject": data.get("subject") or "",
        "detail": data.get("detail") or "",
        "detail_text_type": data.get("detail_text_type") or "plain_text",
        "date": data.get("date") or date.today().isoformat(),
        "created_at": now,
        "updated_at": now,
        "time_entries_count": 0,
        "author": USER,
        "time_entries": [],
        "notification_event_subscribers": [],
        **links,
    }
    api.store.notes[ident] = note
    return Response(201, {"data": api.shaped(note, request, "Note")})


def update_note(api: Api, request: Request) -> Response:
    note = api.store.notes.get(request.ident())
    if note is None:
        raise ApiFailure(404, "RecordNotFound", "The requested Note could not be found")
    data = _body(request)
    errors, _ = _note_errors(api, {**note, **data}, partial=True)
    if errors:
        raise _unprocessable(errors)
    for key in ("subject", "detail", "detail_text_type", "date"):
        if key in data:
            note[key] = data[key]
    note["updated_at"] = _now()
    note["etag"] = f'"n{note["id"]}-{secrets.token_hex(4)}"'
    return Response(200, {"data": api.shaped(note, request, "Note")})


def delete_note(api: Api, request: Request) -> Response:
    if api.store.notes.pop(request.ident(), None) is None:
        raise ApiFailure(404, "RecordNotFound", "The requested Note could not be found")
    return Response(204, b"")


def _note_errors(api: Api, data: Record, *, partial: bool) -> tuple[list[str], Record]:
    errors: list[str] = []
    links: Record = {}
    kind = data.get("type")
    if kind not in ("Matter", "Contact"):
        errors.append("Type is not included in the list")
    elif not partial:
        key = "matter" if kind == "Matter" else "contact"
        ident = _ref_id(data.get(key))
        found = (api.store.matters if key == "matter" else api.store.contacts).get(ident or -1)
        if ident is None:
            errors.append(f"{key.capitalize()} can't be blank")
        elif found is None:
            raise ApiFailure(
                404, "RecordNotFound", f"The requested {key.capitalize()} could not be found"
            )
        else:
            links[key] = found
    for key in ("subject", "detail"):
        if key in data and not isinstance(data[key], str):
            errors.append(f"{key.capitalize()} is not a string")
    if not str(data.get("subject") or "").strip() and not str(data.get("detail") or "").strip():
        errors.append("Subject can't be blank")
    if data.get("detail_text_type", "plain_text") not in ("plain_text", "rich_text"):
        errors.append("Detail text type is not included in the list")
    when = data.get("date")
    if when is not None:
        try:
            date.fromisoformat(str(when))
        except ValueError:
            errors.append("Date is not a date")
    return errors, links


# --- custom actions --------------------------------------------------------------------------


def list_actions(api: Api, request: Request) -> Response:
    records = list(api.store.custom_actions.values())
    if (ids := int_set(request.query, "ids[]")) is not None:
        records = [a for a in records if a["id"] in ids]
    records = filter_since(records, request.query)
    return api.page(records, request, "CustomAction")


def show_action(api: Api, request: Request) -> Response:
    found = api.store.custom_actions.get(request.ident())
    return api.show(found, request, "CustomAction", "CustomAction")


def create_action(api: Api, request: Request) -> Response:
    data = _body(request)
    errors = _action_errors(api, data, None)
    if errors:
        raise _unprocessable(errors)
    now = _now()
    ident = _next_id(api.store.custom_actions, 40000)
    action: Record = {
        "id": ident,
        "etag": f'"a{ident}-{secrets.token_hex(4)}"',
        "label": data["label"].strip(),
        "target_url": data["target_url"].strip(),
        "ui_reference": data["ui_reference"],
        "created_at": now,
        "updated_at": now,
    }
    api.store.custom_actions[ident] = action
    return Response(201, {"data": api.shaped(action, request, "CustomAction")})


def update_action(api: Api, request: Request) -> Response:
    action = api.store.custom_actions.get(request.ident())
    if action is None:
        raise ApiFailure(404, "RecordNotFound", "The requested CustomAction could not be found")
    data = _body(request)
    merged = {
        **action,
        **{k: v for k, v in data.items() if k in ("label", "target_url", "ui_reference")},
    }
    errors = _action_errors(api, merged, action["id"])
    if errors:
        raise _unprocessable(errors)
    action.update(
        label=merged["label"].strip(),
        target_url=merged["target_url"].strip(),
        ui_reference=merged["ui_reference"],
        updated_at=_now(),
        etag=f'"a{action["id"]}-{secrets.token_hex(4)}"',
    )
    return Response(200, {"data": api.shaped(action, request, "CustomAction")})


def delete_action(api: Api, request: Request) -> Response:
    if api.store.custom_actions.pop(request.ident(), None) is None:
        raise ApiFailure(404, "RecordNotFound", "The requested CustomAction could not be found")
    return Response(204, b"")


def _action_errors(api: Api, data: Record, own: int | None) -> list[str]:
    errors = []
    label, url, place = data.get("label"), data.get("target_url"), data.get("ui_reference")
    if not isinstance(label, str) or not label.strip():
        errors.append("Label can't be blank")
    if not isinstance(url, str) or not url.strip():
        errors.append("Target url can't be blank")
    elif urlsplit(url.strip()).scheme not in ("http", "https") or not urlsplit(url.strip()).netloc:
        errors.append("Target url is invalid")
    if not isinstance(place, str) or place not in UI_REFERENCES:
        errors.append("Ui reference is not included in the list")
    if isinstance(label, str) and any(
        a["id"] != own and a["label"] == label.strip() and a["ui_reference"] == place
        for a in api.store.custom_actions.values()
    ):
        errors.append("Label has already been taken")
    return errors


# --- nonces and the matter page ----------------------------------------------------------------


class Nonces:
    """The custom action nonces the matter page has handed out: good once, for 60 seconds."""

    def __init__(self, lifetime: float = NONCE_LIFETIME) -> None:
        self.lifetime = lifetime
        self._issued: dict[str, tuple[int, str, float]] = {}  # nonce -> (user, subject, expiry)
        self._lock = threading.Lock()

    def issue(self, user_id: int, subject_url: str) -> str:
        nonce = secrets.token_urlsafe(24)
        with self._lock:
            self._issued[nonce] = (user_id, subject_url, time.time() + self.lifetime)
        return nonce

    def check(self, nonce: str, user_id: int, path: str) -> bool:
        """Whether `nonce` was issued for this user and this record (`path`, .json or not); it
        is spent either way, as Clio's nonce is single-use."""
        with self._lock:
            issued = self._issued.pop(nonce, None)
        if issued is None:
            return False
        owner, subject, expiry = issued
        same = path.removesuffix(".json") == subject.removesuffix(".json")
        return owner == user_id and same and expiry > time.time()


def nonce_refused() -> Response:
    return Response(
        403,
        {
            "error": {
                "type": "ForbiddenError",
                "message": "The custom action nonce is invalid, expired or already used",
            }
        },
    )


def matter_page(api: Api, matter_id: int) -> Response:
    """Clio Manage's matter page, as much of it as mapctl needs: the matter, its custom actions
    for `matters/show` (links), its notes."""
    matter = api.store.matters.get(matter_id)
    if matter is None:
        return page(404, "Not found", "<p>No such matter.</p>")
    esc = html.escape
    client = (matter.get("client") or {}).get("name") or ""
    actions = [a for a in api.store.custom_actions.values() if a["ui_reference"] == "matters/show"]
    subject = f"/api/v4/matters/{matter_id}"
    links = "".join(
        f'<li><a href="/nc/custom_actions/{a["id"]}/launch?{urlencode({"subject_url": subject})}">'
        f"{esc(a['label'])}</a></li>"
        for a in actions
    )
    notes = [n for n in api.store.notes.values() if (n.get("matter") or {}).get("id") == matter_id]
    items = "".join(
        f'<li id="note-{n["id"]}"><h3>{esc(n["subject"])}</h3><pre>{esc(n["detail"])}</pre></li>'
        for n in notes
    )
    body = (
        f"<h1>{esc(str(matter.get('display_number') or matter_id))}</h1>"
        f"<p>{esc(str(matter.get('description') or ''))}</p><p>Client: {esc(client)}</p>"
        f'<nav aria-label="Custom actions"><ul>{links or "<li>(none)</li>"}</ul></nav>'
        f'<section id="notes"><h2>Notes</h2><ul>{items or "<li>(none)</li>"}</ul></section>'
    )
    return page(200, str(matter.get("display_number") or matter_id), body)


def launch(api: Api, nonces: Nonces, action_id: int, query: Query) -> Response:
    """What choosing a custom action does in Clio: a new tab on `target_url` with Clio's
    parameters added."""
    from .api import USER

    action = api.store.custom_actions.get(action_id)
    subject = one(query, "subject_url") or ""
    if action is None or not subject.startswith("/api/v4/"):
        return page(404, "Not found", "<p>No such custom action.</p>")
    params = {
        "custom_action_id": str(action["id"]),
        "user_id": str(USER["id"]),
        "subject_url": subject,
        "custom_action_nonce": nonces.issue(int(USER["id"]), subject),
    }
    target = action["target_url"]
    sep = "&" if urlsplit(target).query else "?"
    return Response(302, b"", {"Location": f"{target}{sep}{urlencode(params)}"})


def page(status: int, title: str, body: str) -> Response:
    text = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)} - Clio sandbox</title></head><body>{body}</body></html>"
    )
    return Response(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


def routes() -> list[Any]:
    """The routes for `Api` (method, pattern, handler, the document's query parameters)."""
    from .api import PAGING, SHOW, SINCE, Route

    return [
        Route(
            "GET",
            "notes",
            list_notes,
            (
                *PAGING,
                *SINCE,
                "type",
                "matter_id",
                "contact_id",
                "ids[]",
                "order",
                "query",
                "has_time_entries",
            ),
            NOTE_ORDERS,
        ),  # fmt: skip
        Route("POST", "notes", create_note, SHOW),
        Route("GET", "notes/{id}", show_note, SHOW),
        Route("PATCH", "notes/{id}", update_note, SHOW),
        Route("DELETE", "notes/{id}", delete_note),
        Route("GET", "custom_actions", list_actions, (*PAGING, *SINCE, "ids[]")),
        Route("POST", "custom_actions", create_action, SHOW),
        Route("GET", "custom_actions/{id}", show_action, SHOW),
        Route("PATCH", "custom_actions/{id}", update_action, SHOW),
        Route("DELETE", "custom_actions/{id}", delete_action),
    ]
