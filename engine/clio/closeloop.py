"""Writing back to Clio (issue 19): notes on a matter, the "Import to ILS" custom action, and
the verification of a custom action's request.

Stage: the HTTP boundary, over `ClioSession` like `client.py`. Shapes from Clio's OpenAPI
document (tests/fixtures/clio/clio-api-v4-openapi-notes-actions.json): `POST /notes.json` takes
`{"data": {"type": "Matter", "matter": {"id"}, "subject", "detail"}}` (Note#create; `detail` is
plain text unless `detail_text_type` says rich_text); `GET /notes.json` needs `type` and filters
by `matter_id`; `POST /custom_actions.json` takes `{"data": {label, target_url, ui_reference}}`.

Verifying a custom action (Clio's document, tag "Custom Actions", section "Security: Confirming a
User's Action"; Clio's developer guide "Custom Actions", "Receiving a Custom Action"): Clio opens
`target_url` in a new tab with `custom_action_id`, `user_id`, `subject_url` (the API URL of the
record the action was chosen on, e.g. `/api/v4/matters/1`) and `custom_action_nonce` added. That
GET can be forged by anyone, so the app sends the nonce back: an authenticated request to
`subject_url` with `custom_action_nonce=` added. Clio answers it only when the nonce is one it
issued for a click by the user whose token makes the request; otherwise an error (403). Public
integrations add that the nonce is single-use and short-lived (60 s). Nothing here prints.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..errors import ClioError, MapctlError
from .client import PAGE_LIMIT, ClioClient, Record

NOTE_FIELDS = "id,etag,type,subject,detail,date,created_at,matter{id,display_number}"
ACTION_FIELDS = "id,etag,label,target_url,ui_reference,created_at,updated_at"
ACTION_LABEL = "Import to ILS"
ACTION_UI = "matters/show"
ACTION_ROUTE = "/clio/action"  # the app's route a custom action opens (app/clio_action.py)
ACTION_PARAMS = ("custom_action_id", "user_id", "subject_url", "custom_action_nonce")
_SUBJECT = re.compile(r"/api/v4/matters/(\d{1,19})(?:\.json)?")


class NotVerified(MapctlError):
    """A custom action's request that Clio did not confirm (forged, replayed, expired)."""


def create_note(client: ClioClient, matter_id: int, subject: str, detail: str) -> Record:
    """A plain-text Note on the matter (`POST /notes.json`, type Matter) -> the new note."""
    data = {"type": "Matter", "matter": {"id": matter_id}, "subject": subject, "detail": detail}
    body = client.session.post(
        f"{client.session.api}/notes.json", {"data": data}, [("fields", NOTE_FIELDS)]
    )
    return _data(body)


def matter_notes(client: ClioClient, matter_id: int) -> list[Record]:
    """The matter's notes (`GET /notes.json?type=Matter&matter_id=`), every page."""
    params = [
        ("type", "Matter"),
        ("matter_id", str(matter_id)),
        ("fields", NOTE_FIELDS),
        ("order", "id(asc)"),
        ("limit", PAGE_LIMIT),
    ]
    return client._list("notes.json", params)


def custom_actions(client: ClioClient) -> list[Record]:
    """The connected user's custom actions (`GET /custom_actions.json`), every page: Clio
    scopes custom actions to one user and one app (its guide: "Custom actions are scoped to an
    individual user")."""
    params = [("fields", ACTION_FIELDS), ("limit", PAGE_LIMIT)]
    return client._list("custom_actions.json", params)


def create_custom_action(
    client: ClioClient, target_url: str, label: str = ACTION_LABEL, ui_reference: str = ACTION_UI
) -> Record:
    """`POST /custom_actions.json` -> the new custom action."""
    data = {"label": label, "target_url": target_url, "ui_reference": ui_reference}
    body = client.session.post(
        f"{client.session.api}/custom_actions.json", {"data": data}, [("fields", ACTION_FIELDS)]
    )
    return _data(body)


def point_action(client: ClioClient, action_id: int, target: str) -> Record:
    """`PATCH /custom_actions/{id}.json` with a new `target_url` -> the action. Sent once (like
    a POST: never repeated after a 5xx or a timeout)."""
    import httpx

    from .session import _json_body, _network_error, _status_error

    session = client.session
    url = f"{session.api}/custom_actions/{action_id}.json"
    session._check_origin(url)
    session._before_request()
    with session._lock:
        session.request_count += 1
    try:
        response = session.http.patch(
            url,
            params=httpx.QueryParams([("fields", ACTION_FIELDS)]),
            json={"data": {"target_url": target}},
            headers=session._headers(),
        )
    except httpx.RequestError as error:
        raise _network_error(error, url, 1) from None
    if response.status_code >= 400:
        raise _status_error(response, url)
    return _data(_json_body(response, url))


def target_url(port: int) -> str:
    """Where "Import to ILS" sends the browser: the staff app on this workstation."""
    return f"http://127.0.0.1:{port}{ACTION_ROUTE}"


def find_action(actions: list[Record], label: str = ACTION_LABEL) -> Record | None:
    """Our action among the user's: on matters, with our label (the last one, if several)."""
    ours = [a for a in actions if a.get("label") == label and a.get("ui_reference") == ACTION_UI]
    return ours[-1] if ours else None


def subject_matter_id(subject_url: str, base_url: str) -> int | None:
    """The matter id of a custom action's `subject_url` (`/api/v4/matters/1`, with or without
    `.json`, relative or on Clio's own host); None for anything else."""
    parts = urlsplit(subject_url)
    if parts.scheme or parts.netloc:
        mine = urlsplit(base_url)
        if (parts.scheme, parts.netloc.lower()) != (mine.scheme, mine.netloc.lower()):
            return None
    if parts.query or parts.fragment:
        return None
    match = _SUBJECT.fullmatch(parts.path)
    return int(match.group(1)) if match and int(match.group(1)) < 2**63 else None


def verify_action(client: ClioClient, subject_url: str, nonce: str) -> Record:
    """Confirm a custom action's request with Clio: GET its `subject_url` with the
    `custom_action_nonce` (see the module's docstring) -> the matter. `NotVerified` when the
    subject is not a matter on this Clio, the nonce is missing, or Clio refuses it."""
    base = client.session.tokens.base_url
    matter_id = subject_matter_id(subject_url, base)
    if matter_id is None or not nonce.strip() or len(nonce) > 500:
        raise NotVerified("the request does not name a Clio matter with Clio's nonce")
    url = f"{client.session.api}/matters/{matter_id}.json"
    try:
        body = client.session.get(
            url, [("custom_action_nonce", nonce), ("fields", "id,display_number")]
        )
    except ClioError as error:
        if error.status in (400, 401, 403, 404, 422):
            raise NotVerified(
                f"Clio did not confirm the request (HTTP {error.status})",
                hint='choose "Import to ILS" on the matter in Clio again (its link works once)',
            ) from None
        raise
    matter = _data(body)
    if matter.get("id") != matter_id:
        raise NotVerified("Clio answered for another matter than the request named")
    return matter


def matter_page(base_url: str, matter_id: int, *, sandbox: bool = False) -> str:
    """The matter's page in Clio Manage: `<host>/nc/#/matters/<id>` (Clio's single-page app);
    the sandbox's emulation is `/nc/matters/<id>` (a hash never reaches a server)."""
    if sandbox:
        return f"{base_url}/nc/matters/{matter_id}"
    return f"{base_url}/nc/#/matters/{matter_id}"


def notes_page(base_url: str, matter_id: int, *, sandbox: bool = False) -> str:
    """The matter's notes in Clio Manage (`/nc/#/matters/<id>/notes`: public integrations link
    a matter's tabs as `/nc/#/matters/<id>/tasks`, `.../documents`; notes by analogy, not
    verified); the sandbox lists them on its matter page."""
    if sandbox:
        return f"{base_url}/nc/matters/{matter_id}#notes"
    return f"{base_url}/nc/#/matters/{matter_id}/notes"


def _data(body: dict[str, Any]) -> Record:
    data = body.get("data")
    if not isinstance(data, dict):
        raise ClioError("Clio sent a record mapctl cannot read (`data` is not an object)")
    return data
