"""The sandbox's Clio API v4 subset: routes, filters, `fields`, paging, Clio's errors.

Pure request -> response logic over an in-memory store of raw Clio records; `server.py` puts it
on HTTP and adds auth, rate limits and faults. Shapes follow Clio's OpenAPI document and
../shared/reference/clio/NOTES.md (sections 1, 2, 3, 4, 6, 10). Never does I/O.

Routes are data (`ROUTES`: method, pattern, handler, the query parameters the document declares,
the `order` names it allows): a path the table has with another method answers 405 with `Allow`;
a documented write answers 403 (the sandbox's app may only read) until a route serves it
(`Api.add_route`). `fields` names only what the document defines for the path, nested ones
included (400 InvalidFields otherwise). Show routes answer 304 to IF-NONE-MATCH and
IF-MODIFIED-SINCE.

Multi-client matters (issue 17; Clio's help centre "Multi-Client Matters", NOTES 12): a matter
of the data may name its other clients, `"co_clients": [{"id": ...}]` (sandbox data only: Clio's
Matter has no such field); `client` stays the default one, `/relationships.json` lists none of
them, and `matters/{id}/contacts.json` lists every client (`is_client: true`,
`relationship_name: "Client"`, `relationship: null`) besides the related contacts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from typing import Any

from ..clio.fields import (
    DEFAULT_NESTED,
    InvalidFields,
    field_kind,
    parse_fields,
    refuse_fields,
    shape,
)
from ..errors import MapctlError
from . import closeloop
from .query import (
    INT64,
    ApiFailure,
    Query,
    Record,
    Response,
    check_query,
    filter_custom_values,
    filter_dates,
    filter_refs,
    filter_since,
    int_set,
    invalid,
    not_modified,
    one,
    order,
    page,
)

__all__ = ["Api", "ApiFailure", "Request", "Response", "Route", "Store", "ROUTES"]
STATUSES = {"open": "Open", "closed": "Closed", "pending": "Pending"}
USER: Record = {
    "id": 3001,
    "etag": '"0b6f2c1e9d1a4e3b8c7d6e5f4a3b2c1d"',
    "name": "Sam Sandbox",
    "first_name": "Sam",
    "last_name": "Sandbox",
    "email": "sam@sandbox.example",
    "enabled": True,
    "roles": ["Admin"],
    "subscription_type": "Attorney",
    "time_zone": "Pacific Time (US & Canada)",
    "account_owner": True,
}


def _ids(record: Any, what: str, source: str) -> None:
    ident = record.get("id") if isinstance(record, dict) else None
    if not isinstance(ident, int) or isinstance(ident, bool):
        raise MapctlError(f"{source}: every record in {what!r} needs an integer 'id'")


def _reference(value: Any, allow_null: bool = True) -> bool:
    """A nested Clio record reference: {"id": <int>, ...} (or null where Clio allows it)."""
    if value is None:
        return allow_null
    ident = value.get("id") if isinstance(value, dict) else None
    return isinstance(ident, int) and not isinstance(ident, bool)


def _objects(value: Any) -> bool:
    """A list of objects, or absent/null."""
    return value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _check_shapes(data: dict[str, Any], source: str) -> None:
    """Nested references shaped like Clio's, so a hand-written --data file gets one clear line
    instead of a crash (an unusable file is the user's input, exit 1)."""
    for rel in data["relationships"]:
        for key in ("matter", "contact"):
            if not _reference(rel.get(key), allow_null=False):
                raise MapctlError(
                    f"{source}: relationship {rel['id']}: {key!r} must be an object with an "
                    f'integer id, e.g. {{"id": 5002}}'
                )
    for matter in data["matters"]:
        client_id = matter.get("client_id")
        if not _reference(matter.get("client")) or not (
            client_id is None or (isinstance(client_id, int) and not isinstance(client_id, bool))
        ):
            raise MapctlError(
                f"{source}: matter {matter['id']}: 'client' must be null or an object with an "
                'integer id, e.g. {"id": 5001}'
            )
        others = matter.get("co_clients")
        if not _objects(others) or not all(_reference(o, False) for o in others or []):
            raise MapctlError(
                f"{source}: matter {matter['id']}: 'co_clients' (the matter's other clients) "
                'must be a list of objects with an integer id, e.g. [{"id": 5003}]'
            )
    for field_ in data["custom_fields"]:
        options = field_.get("picklist_options")
        if not _objects(options) or not all(_reference(o, False) for o in options or []):
            raise MapctlError(
                f"{source}: custom field {field_['id']}: 'picklist_options' must be a list of "
                "objects with an integer id"
            )
    for contact in data["contacts"]:
        values = contact.get("custom_field_values")
        if not _objects(values) or not all(
            _reference(v.get("custom_field")) and _reference(v.get("picklist_option"))
            for v in values or []
        ):
            raise MapctlError(
                f"{source}: contact {contact['id']}: 'custom_field_values' must be a list of "
                'objects whose custom_field and picklist_option are null or {"id": ...}'
            )


class Store:
    """Raw Clio records, indexed and cross-linked once (nested references resolved)."""

    def __init__(self, data: dict[str, Any], source: str = "seed") -> None:
        for key in ("matters", "contacts", "relationships", "custom_fields"):
            if not isinstance(data.get(key), list):
                raise MapctlError(f"{source}: {key!r} must be a list of Clio records")
            for record in data[key]:
                _ids(record, key, source)
        _check_shapes(data, source)
        self.custom_fields = {r["id"]: r for r in data["custom_fields"]}
        options = {
            o["id"]: o for r in data["custom_fields"] for o in r.get("picklist_options") or []
        }
        self.contacts = {r["id"]: self._contact(r, options) for r in data["contacts"]}
        self.matters: dict[int, Record] = {r["id"]: dict(r) for r in data["matters"]}
        self.relationships: list[Record] = []
        for rel in data["relationships"]:
            matter_ref, contact_ref = rel.get("matter") or {}, rel.get("contact") or {}
            if (
                matter_ref.get("id") not in self.matters
                or contact_ref.get("id") not in self.contacts
            ):
                raise MapctlError(
                    f"{source}: relationship {rel['id']} refers to a matter or contact "
                    "that is not in the file"
                )
            self.relationships.append(
                {
                    **rel,
                    "matter": self.matters[matter_ref["id"]],
                    "contact": self.contacts[contact_ref["id"]],
                }
            )
        for matter in self.matters.values():
            client_id = (matter.get("client") or {}).get("id", matter.get("client_id"))
            if client_id is not None and client_id not in self.contacts:
                raise MapctlError(f"{source}: matter {matter['id']} has unknown client {client_id}")
            matter["client"] = self.contacts.get(client_id) if client_id is not None else None
            matter["client_id"] = client_id
            matter["co_clients"] = self._co_clients(matter, source)
            matter["relationships"] = [r for r in self.relationships if r["matter"] is matter]
        # Issue 19: what mapctl writes back (sandbox/closeloop.py); a --data file may seed notes.
        self.notes: dict[int, Record] = {}
        self.custom_actions: dict[int, Record] = {}
        closeloop.load_notes(self, data, source)

    def _co_clients(self, matter: Record, source: str) -> list[Record]:
        """A multi-client matter's other clients (Clio allows up to 11 clients; `client` is the
        default one). Not a field of Clio's Matter: the sandbox's data only, served through
        `matters/{id}/contacts.json` (`is_client: true`)."""
        found: list[Record] = []
        for ref in matter.get("co_clients") or []:
            contact = self.contacts.get(ref["id"])
            if contact is None:
                raise MapctlError(
                    f"{source}: matter {matter['id']} has unknown co-client {ref['id']}"
                )
            if contact is not matter["client"] and contact not in found:
                found.append(contact)
        if len(found) > 10:
            raise MapctlError(
                f"{source}: matter {matter['id']} has {len(found) + 1} clients; Clio allows 11"
            )
        return found

    def _contact(self, record: Record, options: dict[int, Record]) -> Record:
        contact = dict(record)
        values = []
        for value in record.get("custom_field_values") or []:
            value = dict(value)
            ref = (value.get("custom_field") or {}).get("id")
            if ref in self.custom_fields:
                value["custom_field"] = self.custom_fields[ref]
            option = (value.get("picklist_option") or {}).get("id")
            if option in options:
                value["picklist_option"] = options[option]
            values.append(value)
        contact["custom_field_values"] = values
        return contact


def _fields(query: Query, schema: str, refused: Iterable[str] = ()) -> list[Any]:
    """`fields` checked against the document's fields for `schema`, nested ones included, and
    `refused` (names a live Clio refuses although its document lists them, NOTES 12): a 400
    naming every bad one, in Clio's words."""
    text = one(query, "fields")
    if text is None or not text.strip():  # id and etag, where the resource has them
        return [(name, None) for name in DEFAULT_NESTED if field_kind(schema, name)]
    try:
        spec = parse_fields(text)
        refuse_fields(spec, schema, refused)
    except InvalidFields as error:
        raise ApiFailure(400, "InvalidFields", str(error)) from None
    return spec


def _shape(record: Record, query: Query, spec: list[Any], schema: str) -> Record:
    """The record as asked for; a contact hidden by Clio's Contacts Visibility permission
    (`"redacted": true` in the data) comes back as only its id and `redacted` (NOTES 4.3)."""
    if schema == "Contact" and record.get("redacted") is True:
        return {"id": record["id"], "redacted": True}
    return shape(_only_fields(record, query), spec, schema)


def _only_fields(record: Record, query: Query) -> Record:
    """`custom_field_ids[]`: only those custom field values come back."""
    wanted = int_set(query, "custom_field_ids[]")
    if wanted is None or not isinstance(record.get("custom_field_values"), list):
        return record
    values = [
        v
        for v in record["custom_field_values"]
        if (v.get("custom_field") or {}).get("id") in wanted
    ]
    return {**record, "custom_field_values": values}


def etag_of(record: Record) -> str:
    """The record's etag, or one made from its content (a --data file may have none)."""
    tag = record.get("etag")
    if isinstance(tag, str) and tag:
        return tag
    # Its own values only: the store links records to each other (a matter's relationships
    # point back at the matter), so the whole record may be circular.
    own = {k: v for k, v in record.items() if not isinstance(v, dict | list)}
    text = json.dumps(own, sort_keys=True, default=str)
    return '"' + hashlib.md5(text.encode(), usedforsecurity=False).hexdigest() + '"'


@dataclass
class Request:
    """One API request: `path` under /api/v4 (`.json` optional), `params` its path parameters,
    `headers` with lower-case names, `url` the absolute URL of the path (for `next` links)."""

    method: str
    path: str
    query: Query
    headers: dict[str, str]
    url: str
    params: dict[str, str] = dc_field(default_factory=dict)
    body: bytes = b""
    route: str = ""  # the route's pattern, e.g. "contacts/{id}"

    def ident(self, name: str = "id") -> int:
        """A path id: an int64 (the document's type), else 400 like a bad query integer."""
        text = self.params[name]
        if re.fullmatch(r"-?\d{1,19}", text) and INT64[0] <= int(text) <= INT64[1]:
            return int(text)
        raise invalid(f"{name} must be an integer")


Handler = Callable[["Api", Request], Response]


@dataclass(frozen=True)
class Route:
    """`method` on `pattern` ("matters/{id}"), the query parameters the document declares for
    it (others are ignored, as Clio ignores them), and the `order` names it allows."""

    method: str
    pattern: str
    handler: Handler
    params: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()

    def match(self, parts: list[str]) -> dict[str, str] | None:
        mine = self.pattern.split("/")
        if len(mine) != len(parts):
            return None
        found: dict[str, str] = {}
        for want, have in zip(mine, parts, strict=True):
            if want.startswith("{"):
                found[want.strip("{}")] = have
            elif want != have:
                return None
        return found


def _parts(path: str) -> list[str]:
    return path.removeprefix("/api/v4/").removesuffix(".json").strip("/").split("/")


def _not_found(what: str) -> ApiFailure:
    return ApiFailure(404, "RecordNotFound", f"The requested {what} could not be found")


def _forbidden(api: Api, request: Request) -> Response:
    """A write: the sandbox's app has read-only permissions, so Clio answers 403 (documented
    for every write the subset has)."""
    raise ApiFailure(403, "ForbiddenError", "User is forbidden from taking that action")


class Api:
    """Routes `/api/v4/...` requests to handlers (`ROUTES`; `add_route` adds or replaces one);
    `base_url` makes the `next` links absolute."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url
        self.routes: list[Route] = list(ROUTES)
        # Live Clio's quirks (issue 17, NOTES 12), off by default: field names refused on a
        # route although the document lists them ({"contacts/{id}": {"web_sites{primary}"}}),
        # and custom field values stripped to their id (the app's Custom Fields permission
        # not ticked).
        self.refused: dict[str, set[str]] = {}
        self.strip_custom_values = False

    def add_route(self, route: Route) -> None:
        """Serve `route`, in place of one with the same method and pattern (e.g. a write that
        answers 403 today)."""
        self.routes = [
            r for r in self.routes if (r.method, r.pattern) != (route.method, route.pattern)
        ]
        self.routes.append(route)

    def allows(self, path: str, method: str) -> bool:
        """Whether a route takes `method` on `path` (True for a path no route has: a 404)."""
        parts = _parts(path)
        methods = {r.method for r in self.routes if r.match(parts) is not None}
        return not methods or ("GET" if method.upper() == "HEAD" else method.upper()) in methods

    def handle(
        self,
        path: str,
        query: Query,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        parts = _parts(path)
        request = Request(
            method.upper(), path, query, headers or {}, self.base_url + path, body=body
        )
        matching = [(r, found) for r in self.routes if (found := r.match(parts)) is not None]
        wanted = "GET" if request.method == "HEAD" else request.method
        try:
            if not matching:
                raise _not_found("resource")
            for route, found in matching:
                if route.method == wanted:
                    request.params = found
                    request.route = route.pattern
                    check_query(query, route.params)
                    return route.handler(self, request)
            allowed = sorted({r.method for r, _ in matching})
            failure = ApiFailure(
                405, "MethodNotAllowed", f"{request.method} is not allowed on {path}"
            )
            failure.response.headers["Allow"] = ", ".join(allowed)
            raise failure
        except ApiFailure as failure:
            return failure.response

    # --- shared by the handlers ----------------------------------------------------------
    def page(self, records: list[Record], request: Request, schema: str) -> Response:
        spec = _fields(request.query, schema, self.refused.get(request.route, ()))
        return page(
            records, request.query, request.url, lambda r: self._shape(r, request, spec, schema)
        )

    def shaped(self, record: Record, request: Request, schema: str) -> Record:
        """One record as the request's `fields` ask (what a create answers with)."""
        spec = _fields(request.query, schema, self.refused.get(request.route, ()))
        return self._shape(record, request, spec, schema)

    def _shape(self, record: Record, request: Request, spec: list[Any], schema: str) -> Record:
        shaped = _shape(record, request.query, spec, schema)
        values = shaped.get("custom_field_values")
        if self.strip_custom_values and isinstance(values, list):
            shaped["custom_field_values"] = [
                {"id": v.get("id"), "etag": v.get("etag") or etag_of(v)} for v in values
            ]
        return shaped

    def show(self, record: Record | None, request: Request, schema: str, what: str) -> Response:
        if record is None:
            raise _not_found(what)
        spec = _fields(request.query, schema, self.refused.get(request.route, ()))
        tag = etag_of(record)
        if not_modified(record, request.headers, tag):
            return Response(304, b"", {"ETag": tag})
        return Response(200, {"data": self._shape(record, request, spec, schema)}, {"ETag": tag})

    def matter(self, request: Request, name: str = "id") -> Record:
        found = self.store.matters.get(request.ident(name))
        if found is None:
            raise _not_found("Matter")
        return found

    # --- handlers --------------------------------------------------------------------------
    def list_matters(self, request: Request) -> Response:
        query = request.query
        records = list(self.store.matters.values())
        if text := (one(query, "query") or "").casefold():
            records = [m for m in records if text in _matter_text(m)]
        if (status := one(query, "status")) is not None:
            wanted = {w.strip().lower() for w in status.split(",")}
            if not wanted <= STATUSES.keys():
                raise invalid(f"status {status!r} is not valid")
            records = [m for m in records if m.get("status") in {STATUSES[w] for w in wanted}]
        if (ids := int_set(query, "ids[]")) is not None:
            records = [m for m in records if m["id"] in ids]
        if (billable := one(query, "billable")) is not None:
            records = [m for m in records if bool(m.get("billable")) == (billable == "true")]
        records = filter_refs(records, query, MATTER_REFS)
        records = filter_dates(records, query, ("open_date[]", "close_date[]", "pending_date[]"))
        records = filter_since(records, query)
        records = filter_custom_values(records, query, self.store.custom_fields)
        order(records, query, MATTER_ORDERS)
        return self.page(records, request, "Matter")

    def show_matter(self, request: Request) -> Response:
        return self.show(self.matter(request), request, "Matter", "Matter")

    def show_matter_client(self, request: Request) -> Response:
        client = self.matter(request, "matter_id")["client"]
        return self.show(client, request, "Client", "Client")

    def listed_matter(self, request: Request) -> Record:
        """The matter whose contacts are listed: an unknown one lists none (the document gives
        these lists no 404)."""
        found = self.store.matters.get(request.ident("matter_id"))
        if found is None:
            return {"id": None, "relationships": [], "client": None, "co_clients": []}
        return found

    def list_matter_contacts(self, request: Request) -> Response:
        matter = self.listed_matter(request)
        common = {
            "matter_id": matter["id"],
            "matter_number": matter.get("display_number"),
            "description": matter.get("description"),
        }
        rows = [
            {
                **rel["contact"],
                **common,
                "is_client": False,
                "relationship_name": rel.get("description"),
                "relationship": rel,
                "relationship_id": rel["id"],
            }
            for rel in matter["relationships"]
        ]
        clients = [matter["client"]] if matter["client"] is not None else []
        for contact in [*clients, *matter.get("co_clients", [])]:  # multi-client matters
            client = {"is_client": True, "relationship_name": "Client", "relationship": None}
            rows.append({**contact, **common, **client, "relationship_id": None})
        order(
            rows,
            request.query,
            {"is_client": lambda r: r["is_client"], "id": lambda r: r["relationship_id"]},
        )
        return self.page(rows, request, "MatterContacts")

    def list_related_contacts(self, request: Request) -> Response:
        matter = self.listed_matter(request)
        rows = [
            {
                **rel["contact"],
                "id": rel["id"],
                "contact_id": rel["contact"]["id"],
                "is_matter_client": False,
                "relationship": rel,
            }
            for rel in matter["relationships"]
        ]
        order(
            rows, request.query, {"id": lambda r: r["id"], "contact.name": lambda r: r.get("name")}
        )
        return self.page(rows, request, "RelatedContacts")

    def list_relationships(self, request: Request) -> Response:
        query = request.query
        records = filter_refs(
            list(self.store.relationships),
            query,
            {"matter_id": lambda r: r["matter"]["id"], "contact_id": lambda r: r["contact"]["id"]},
        )
        if (ids := int_set(query, "ids[]")) is not None:
            records = [r for r in records if r["id"] in ids]
        return self.page(filter_since(records, query), request, "Relationship")

    def show_relationship(self, request: Request) -> Response:
        ident = request.ident()
        found = next((r for r in self.store.relationships if r["id"] == ident), None)
        return self.show(found, request, "Relationship", "Relationship")

    def list_contacts(self, request: Request) -> Response:
        query = request.query
        records = list(self.store.contacts.values())
        if text := (one(query, "query") or "").casefold():
            records = [c for c in records if text in _contact_text(c)]
        if (ids := int_set(query, "ids[]")) is not None:
            records = [c for c in records if c["id"] in ids]
        if (exclude := int_set(query, "exclude_ids[]")) is not None:
            records = [c for c in records if c["id"] not in exclude]
        if (kind := one(query, "type")) is not None:
            if kind not in ("Company", "Person"):
                raise invalid(f"type {kind!r} is not valid: use Company or Person")
            records = [c for c in records if c.get("type") == kind]
        if (initial := one(query, "initial")) is not None:
            if not re.fullmatch(r"[A-Z]", initial):
                raise invalid(f"initial {initial!r} is not valid: use a letter A to Z")
            records = [c for c in records if _initial(c) == initial]
        for flag, holds in CONTACT_FLAGS.items():
            if one(query, flag) == "true":
                records = [c for c in records if holds(c)]
        records = filter_refs(records, query, {"shared_resource_id": lambda c: None})
        records = filter_since(records, query)
        records = filter_custom_values(records, query, self.store.custom_fields)
        order(
            records,
            query,
            {"id": lambda c: c["id"], "name": lambda c: c.get("name"), "shared_at": _no_key},
        )
        return self.page(records, request, "Contact")

    def show_contact(self, request: Request) -> Response:
        return self.show(self.store.contacts.get(request.ident()), request, "Contact", "Contact")

    def list_custom_fields(self, request: Request) -> Response:
        query = request.query
        records = list(self.store.custom_fields.values())
        if (parent := one(query, "parent_type")) is not None:  # either case (NOTES 4.4)
            if parent.lower() not in ("contact", "matter"):
                raise invalid(f"parent_type {parent!r} is not valid: use contact or matter")
            records = [
                f for f in records if str(f.get("parent_type", "")).lower() == parent.lower()
            ]
        if (kind := one(query, "field_type")) is not None:
            if kind not in FIELD_TYPES:
                raise invalid(f"field_type {kind!r} is not valid")
            records = [f for f in records if f.get("field_type") == kind]
        if (deleted := one(query, "deleted")) is not None:
            records = [f for f in records if bool(f.get("deleted")) == (deleted == "true")]
        if one(query, "visible_and_required") == "true":
            records = [f for f in records if f.get("displayed") and f.get("required")]
        if text := (one(query, "query") or "").casefold():
            records = [f for f in records if text in str(f.get("name") or "").casefold()]
        if (ids := int_set(query, "ids[]")) is not None:
            records = [f for f in records if f["id"] in ids]
        records = filter_since(records, query)
        order(
            records,
            query,
            {
                "id": lambda f: f["id"],
                "name": lambda f: f.get("name"),
                "display_order": lambda f: f.get("display_order"),
            },
        )
        return self.page(records, request, "CustomField")

    def show_custom_field(self, request: Request) -> Response:
        found = self.store.custom_fields.get(request.ident())
        return self.show(found, request, "CustomField", "CustomField")

    def who_am_i(self, request: Request) -> Response:
        return self.show(USER, request, "User", "User")


# --- writes: POST /custom_fields.json (issue 11: `mapctl doctor --create-fields`) -------------
# Clio's OpenAPI document: CustomField#create, body {"data": {name, parent_type, field_type,
# picklist_options, displayed, required, display_order}} with name, parent_type and field_type
# required; 201 with CustomField_Show; 400 and 422 in the Error shape. The wording of the 422
# messages follows Rails' validation messages, which Clio's errors use [INFERRED].
FIELD_TYPES = frozenset(
    "checkbox contact currency date time email matter numeric picklist text_area text_line "
    "url".split()
)
PARENT_TYPES = ("Contact", "Matter")


def _create_custom_field_route(api: Api, request: Request) -> Response:
    return _create_custom_field(api.store, request.query, request.body)


def _create_custom_field(store: Store, query: Query, body: bytes) -> Response:
    try:
        payload = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        raise ApiFailure(400, "BadRequest", "The request body is not valid JSON") from None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not data:
        raise ApiFailure(400, "BadRequest", "param is missing or the value is empty: data")
    spec = _fields(query, "CustomField")
    errors = _custom_field_errors(store, data)
    if errors:
        raise ApiFailure(422, "UnprocessableEntity", "Validation failed: " + ", ".join(errors))
    record = _new_custom_field(store, data)
    store.custom_fields[record["id"]] = record
    return Response(201, {"data": _shape(record, query, spec, "CustomField")})


def _custom_field_errors(store: Store, data: Record) -> list[str]:
    errors = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append("Name can't be blank")
    if not isinstance(data.get("parent_type"), str) or data["parent_type"] not in PARENT_TYPES:
        errors.append("Parent type is not included in the list")
    kind = data.get("field_type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:  # any JSON may come: {} too
        errors.append("Field type is not included in the list")
    for flag in ("displayed", "required"):
        if flag in data and not isinstance(data[flag], bool):
            errors.append(f"{flag.capitalize()} is not a boolean")
    order = data.get("display_order")
    if order is not None and (
        isinstance(order, bool) or not isinstance(order, int) or not INT64[0] <= order <= INT64[1]
    ):
        errors.append("Display order is not a number")
    options = data.get("picklist_options")
    if options is not None and (
        not isinstance(options, list)
        or not all(isinstance(o, dict) and isinstance(o.get("option"), str) for o in options)
    ):
        errors.append("Picklist options is invalid")
    elif kind == "picklist" and not [o for o in options or [] if o["option"].strip()]:
        errors.append("Picklist options can't be blank")
    if (
        isinstance(name, str)
        and name.strip()
        and any(
            not f.get("deleted")
            and f.get("parent_type") == data.get("parent_type")
            and str(f.get("name", "")).strip().casefold() == name.strip().casefold()
            for f in store.custom_fields.values()
        )
    ):
        errors.append("Name has already been taken")
    return errors


def _new_custom_field(store: Store, data: Record) -> Record:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    ident = max(store.custom_fields, default=70000) + 1
    next_option = 1 + max(
        (o["id"] for f in store.custom_fields.values() for o in f.get("picklist_options") or []),
        default=80000,
    )
    options = []
    if data["field_type"] == "picklist":
        for offset, item in enumerate(data.get("picklist_options") or []):
            options.append(
                {
                    "id": next_option + offset,
                    "etag": f'"o{next_option + offset}"',
                    "option": item["option"].strip(),
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                }
            )
    order = max((f.get("display_order") or 0 for f in store.custom_fields.values()), default=0)
    return {
        "id": ident,
        "etag": f'"f{ident}"',
        "created_at": now,
        "updated_at": now,
        "name": data["name"].strip(),
        "parent_type": data["parent_type"],
        "field_type": data["field_type"],
        "displayed": bool(data.get("displayed", True)),
        "deleted": False,
        "required": bool(data.get("required", False)),
        "display_order": int(data.get("display_order") or order + 1),
        "picklist_options": options,
    }


def _no_key(record: Record) -> None:
    """An order the sandbox's records carry no data for: every record ties (then by id)."""
    return None


def _name(key: str) -> Callable[[Record], Any]:
    """A nested record's name, e.g. practice_area.name."""
    return lambda m: (m.get(key) or {}).get("name")


def _nested_id(key: str) -> Callable[[Record], Any]:
    return lambda m: (m.get(key) or {}).get("id")


MATTER_ORDERS: dict[str, Callable[[Record], Any]] = {
    "id": lambda m: m["id"],
    "display_number": lambda m: m.get("display_number"),
    "custom_number": lambda m: m.get("custom_number"),
    "client.name": lambda m: (m.get("client") or {}).get("name"),
    "clients": lambda m: (m.get("client") or {}).get("name"),
    "open_date": lambda m: m.get("open_date"),
    "close_date": lambda m: m.get("close_date"),
    "pending_date": lambda m: m.get("pending_date"),
    "practice_area.name": _name("practice_area"),
    "matter_stage.name": _name("matter_stage"),
    "responsible_attorney.name": _name("responsible_attorney"),
    "originating_attorney.name": _name("originating_attorney"),
    "statute_of_limitations.due_at": lambda m: (m.get("statute_of_limitations") or {}).get(
        "due_at"
    ),
    "updated_at": lambda m: m.get("updated_at"),
    "created_at": lambda m: m.get("created_at"),
    "matter_stage_updated_at": lambda m: m.get("matter_stage_updated_at"),
    "grants": _no_key,
}
MATTER_REFS: dict[str, Callable[[Record], Any]] = {
    "client_id": lambda m: m.get("client_id"),
    "practice_area_id": _nested_id("practice_area"),
    "responsible_attorney_id": _nested_id("responsible_attorney"),
    "originating_attorney_id": _nested_id("originating_attorney"),
    "responsible_staff_id": _nested_id("responsible_staff"),
    "group_id": _nested_id("group"),
    "currency_id": _nested_id("currency"),
    "grant_id": _no_key,
    "subscriber_user_id": _no_key,
    "notification_event_subscriber_user_id": _no_key,
}
CONTACT_FLAGS: dict[str, Callable[[Record], bool]] = {
    "client_only": lambda c: bool(c.get("is_client")),
    "clio_connect_only": lambda c: bool(c.get("clio_connect_email")),
    "email_only": lambda c: bool(c.get("primary_email_address") or c.get("email_addresses")),
}
PAGING = ("fields", "limit", "page_token", "offset")  # offset: the Paging doc, not the document
SHOW = ("fields",)
WITH_VALUES = ("custom_field_ids[]",)
SINCE = ("created_since", "updated_since")
ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "matters",
        Api.list_matters,
        (
            *PAGING,
            *WITH_VALUES,
            *SINCE,
            *MATTER_REFS,
            "query",
            "status",
            "ids[]",
            "billable",
            "order",
            "open_date[]",
            "close_date[]",
            "pending_date[]",
            "custom_field_values",
        ),
        tuple(MATTER_ORDERS),
    ),
    Route("POST", "matters", _forbidden, (*SHOW, *WITH_VALUES)),
    Route("GET", "matters/{id}", Api.show_matter, (*SHOW, *WITH_VALUES)),
    Route("PATCH", "matters/{id}", _forbidden, (*SHOW, *WITH_VALUES)),
    Route("DELETE", "matters/{id}", _forbidden),
    Route("GET", "matters/{matter_id}/client", Api.show_matter_client, SHOW),
    Route(
        "GET",
        "matters/{matter_id}/contacts",
        Api.list_matter_contacts,
        (*PAGING, *WITH_VALUES, "order"),
        ("is_client", "id"),
    ),
    Route(
        "GET",
        "matters/{matter_id}/related_contacts",
        Api.list_related_contacts,
        (*PAGING, "order"),
        ("id", "contact.name"),
    ),
    Route(
        "GET",
        "relationships",
        Api.list_relationships,
        (*PAGING, *SINCE, "matter_id", "contact_id", "ids[]"),
    ),
    Route("POST", "relationships", _forbidden, SHOW),
    Route("GET", "relationships/{id}", Api.show_relationship, SHOW),
    Route("PATCH", "relationships/{id}", _forbidden, SHOW),
    Route("DELETE", "relationships/{id}", _forbidden),
    Route(
        "GET",
        "contacts",
        Api.list_contacts,
        (
            *PAGING,
            *WITH_VALUES,
            *SINCE,
            *CONTACT_FLAGS,
            "query",
            "type",
            "ids[]",
            "exclude_ids[]",
            "initial",
            "order",
            "shared_resource_id",
            "custom_field_values",
        ),
        ("id", "name", "shared_at"),
    ),
    Route("POST", "contacts", _forbidden, (*SHOW, *WITH_VALUES)),
    Route("GET", "contacts/{id}", Api.show_contact, (*SHOW, *WITH_VALUES)),
    Route("PATCH", "contacts/{id}", _forbidden, (*SHOW, *WITH_VALUES)),
    Route("DELETE", "contacts/{id}", _forbidden),
    Route(
        "GET",
        "custom_fields",
        Api.list_custom_fields,
        (
            *PAGING,
            *SINCE,
            "parent_type",
            "field_type",
            "deleted",
            "visible_and_required",
            "query",
            "ids[]",
            "order",
        ),
        ("id", "name", "display_order"),
    ),
    Route("POST", "custom_fields", _create_custom_field_route, SHOW),
    Route("GET", "custom_fields/{id}", Api.show_custom_field, SHOW),
    Route("PATCH", "custom_fields/{id}", _forbidden, SHOW),
    Route("DELETE", "custom_fields/{id}", _forbidden),
    Route("GET", "users/who_am_i", Api.who_am_i, SHOW),
    *closeloop.routes(),  # notes and custom actions (issue 19)
)


def _initial(contact: Record) -> str:
    """The letter a contact is filed under: a person's last name, else the name."""
    text = str(contact.get("last_name") or contact.get("name") or "").strip()
    return text[:1].upper()


def _matter_text(matter: Record) -> str:
    parts = [matter.get("display_number"), matter.get("number"), matter.get("description")]
    for client in [matter.get("client") or {}, *matter.get("co_clients", [])]:
        parts += [client.get("name"), client.get("first_name"), client.get("last_name")]
    return "\n".join(str(p) for p in parts if p is not None).casefold()


def _contact_text(contact: Record) -> str:
    parts = [contact.get("name"), contact.get("primary_email_address"), contact.get("title")]
    parts += [e.get("address") for e in contact.get("email_addresses") or []]
    return "\n".join(str(p) for p in parts if p).casefold()
