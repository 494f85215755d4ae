"""The sandbox's Clio API v4 subset: routes, filters, `fields`, cursor paging, Clio's errors.

Pure request -> response logic over an in-memory store of raw Clio records; `sandbox.py` puts it
on HTTP and adds auth, rate limits and faults. Shapes follow Clio's OpenAPI document and
../shared/reference/clio/NOTES.md (sections 1, 2, 3, 4, 6, 10). Never does I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ..clio.fields import InvalidFields, check_fields, parse_fields, shape
from ..errors import MapctlError

Record = dict[str, Any]
Query = list[tuple[str, str]]
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


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ApiFailure(Exception):
    """An error response in Clio's Error shape."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.response = Response(status, {"error": {"type": kind, "message": message}})


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
            matter["relationships"] = [r for r in self.relationships if r["matter"] is matter]

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


def _one(query: Query, name: str) -> str | None:
    return next((v for k, v in query if k == name), None)


def _many(query: Query, name: str) -> list[str]:
    return [v for k, v in query if k == name]


def _int_list(query: Query, name: str) -> set[int] | None:
    values = _many(query, name)
    if not values:
        return None
    try:
        return {int(v) for v in values}
    except ValueError:
        raise ApiFailure(400, "InvalidParameter", f"{name} must be a list of integers") from None


def _fields(query: Query, schema: str, strict: bool = False) -> list[Any]:
    try:
        spec = parse_fields(_one(query, "fields"))
        check_fields(spec, schema, strict)
    except InvalidFields as error:
        raise ApiFailure(400, "InvalidFields", str(error)) from None
    return spec


def _page(
    records: list[Record], query: Query, schema: str, url: str, strict: bool = False
) -> Response:
    """Cursor paging: `limit` 1..200 (default 200), opaque `page_token`, full-URL `next`."""
    spec = _fields(query, schema, strict)
    try:
        limit = int(_one(query, "limit") or 200)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 200:
        raise ApiFailure(400, "InvalidParameter", "limit must be between 1 and 200")
    token = _one(query, "page_token")
    offset = _decode_token(token) if token else 0
    chunk = records[offset : offset + limit]
    paging: dict[str, str] = {}
    kept = [(k, v) for k, v in query if k != "page_token"]
    if offset + limit < len(records):
        paging["next"] = url + "?" + urlencode([*kept, ("page_token", _token(offset + limit))])
    if offset > 0:
        previous = [*kept, ("page_token", _token(max(0, offset - limit)))]
        paging["previous"] = url + "?" + urlencode(previous)
    data = [_shape(r, query, spec, schema) for r in chunk]
    return Response(200, {"data": data, "meta": {"paging": paging, "records": len(records)}})


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset = json.loads(raw)["offset"]
        if isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError):
        pass
    raise ApiFailure(400, "InvalidParameter", "page_token is invalid")


def _order(records: list[Record], query: Query, keys: dict[str, Callable[[Record], Any]]) -> None:
    order = _one(query, "order") or "id(asc)"
    match = re.fullmatch(r"([a-z_.]+)\((asc|desc)\)", order)
    if not match or match.group(1) not in keys:
        raise ApiFailure(400, "InvalidParameter", f"order {order!r} is not a valid order")
    key = keys[match.group(1)]
    records.sort(key=lambda r: (key(r) is None, key(r) or "", r["id"]))
    if match.group(2) == "desc":
        records.reverse()


def _show(
    record: Record | None, query: Query, schema: str, what: str, strict: bool = False
) -> Response:
    if record is None:
        raise ApiFailure(404, "RecordNotFound", f"The requested {what} could not be found")
    return Response(200, {"data": _shape(record, query, _fields(query, schema, strict), schema)})


def _shape(record: Record, query: Query, spec: list[Any], schema: str) -> Record:
    """The record as asked for; a contact hidden by Clio's Contacts Visibility permission
    (`"redacted": true` in the data) comes back as only its id and `redacted` (NOTES 4.3)."""
    if schema == "Contact" and record.get("redacted") is True:
        return {"id": record["id"], "redacted": True}
    return shape(_only_fields(record, query), spec, schema)


def _only_fields(record: Record, query: Query) -> Record:
    """`custom_field_ids[]`: only those custom field values come back."""
    wanted = _int_list(query, "custom_field_ids[]")
    if wanted is None or not isinstance(record.get("custom_field_values"), list):
        return record
    values = [
        v
        for v in record["custom_field_values"]
        if (v.get("custom_field") or {}).get("id") in wanted
    ]
    return {**record, "custom_field_values": values}


class Api:
    """Routes `GET /api/v4/...` to handlers; `base_url` makes the `next` links absolute."""

    def __init__(self, store: Store, base_url: str, strict: bool = False) -> None:
        self.store = store
        self.base_url = base_url
        self.strict = strict  # `fields` checked against the spec to the letter (no OVERRIDES)

    def _page(self, records: list[Record], query: Query, schema: str, url: str) -> Response:
        return _page(records, query, schema, url, self.strict)

    def _show(self, record: Record | None, query: Query, schema: str, what: str) -> Response:
        return _show(record, query, schema, what, self.strict)

    def creates(self, path: str) -> bool:
        """Whether `POST path` is a write the sandbox implements (POST /custom_fields.json)."""
        return _api_creates(path)

    def create(self, path: str, query: Query, body: bytes) -> Response:
        """`POST /custom_fields.json`: a new custom field, or Clio's 400/422."""
        try:
            return _create_custom_field(self.store, query, body)
        except ApiFailure as failure:
            return failure.response

    def handle(self, path: str, query: Query) -> Response:
        route = path.removeprefix("/api/v4/").removesuffix(".json").strip("/").split("/")
        url = self.base_url + path
        try:
            return self._route(route, query, url)
        except ApiFailure as failure:
            return failure.response

    def _route(self, route: list[str], query: Query, url: str) -> Response:
        s = self.store
        match route:
            case ["matters"]:
                return self._page(self._matters(query), query, "Matter", url)
            case ["matters", ident]:
                return self._show(s.matters.get(_int(ident)), query, "Matter", "Matter")
            case ["matters", ident, "client"]:
                matter = s.matters.get(_int(ident))
                return self._show(matter and matter["client"], query, "Client", "Matter")
            case ["matters", ident, "contacts"]:
                return self._page(self._matter_contacts(_int(ident)), query, "MatterContacts", url)
            case ["matters", ident, "related_contacts"]:
                return self._page(self._related(_int(ident)), query, "RelatedContacts", url)
            case ["relationships"]:
                return self._page(self._relationships(query), query, "Relationship", url)
            case ["relationships", ident]:
                rel = next((r for r in s.relationships if r["id"] == _int(ident)), None)
                return self._show(rel, query, "Relationship", "Relationship")
            case ["contacts"]:
                return self._page(self._contacts(query), query, "Contact", url)
            case ["contacts", ident]:
                return self._show(s.contacts.get(_int(ident)), query, "Contact", "Contact")
            case ["custom_fields"]:
                return self._page(self._custom_fields(query), query, "CustomField", url)
            case ["custom_fields", ident]:
                field_ = s.custom_fields.get(_int(ident))
                return self._show(field_, query, "CustomField", "CustomField")
            case ["users", "who_am_i"]:
                return self._show(USER, query, "User", "User")
        raise ApiFailure(404, "RecordNotFound", "The requested resource could not be found")

    def _matters(self, query: Query) -> list[Record]:
        records = list(self.store.matters.values())
        text = (_one(query, "query") or "").casefold()
        if text:
            records = [m for m in records if text in _matter_text(m)]
        if status := _one(query, "status"):
            wanted = {w.strip().lower() for w in status.split(",")}
            if not wanted <= STATUSES.keys():
                raise ApiFailure(400, "InvalidParameter", f"status {status!r} is not valid")
            records = [m for m in records if m.get("status") in {STATUSES[w] for w in wanted}]
        if (ids := _int_list(query, "ids[]")) is not None:
            records = [m for m in records if m["id"] in ids]
        if client := _one(query, "client_id"):
            records = [m for m in records if m.get("client_id") == _int(client)]
        _order(
            records,
            query,
            {
                "id": lambda m: m["id"],
                "display_number": lambda m: m.get("display_number"),
                "open_date": lambda m: m.get("open_date"),
                "close_date": lambda m: m.get("close_date"),
                "client.name": lambda m: (m.get("client") or {}).get("name"),
                "updated_at": lambda m: m.get("updated_at"),
                "created_at": lambda m: m.get("created_at"),
            },
        )
        return records

    def _contacts(self, query: Query) -> list[Record]:
        records = list(self.store.contacts.values())
        text = (_one(query, "query") or "").casefold()
        if text:
            records = [c for c in records if text in _contact_text(c)]
        if (ids := _int_list(query, "ids[]")) is not None:
            records = [c for c in records if c["id"] in ids]
        if (exclude := _int_list(query, "exclude_ids[]")) is not None:
            records = [c for c in records if c["id"] not in exclude]
        if kind := _one(query, "type"):
            records = [c for c in records if c.get("type") == kind]
        if _one(query, "client_only") == "true":
            records = [c for c in records if c.get("is_client")]
        _order(records, query, {"id": lambda c: c["id"], "name": lambda c: c.get("name")})
        return records

    def _custom_fields(self, query: Query) -> list[Record]:
        records = list(self.store.custom_fields.values())
        if parent := _one(query, "parent_type"):  # either case (NOTES 4.4)
            records = [
                f for f in records if str(f.get("parent_type", "")).lower() == parent.lower()
            ]
        if kind := _one(query, "field_type"):
            records = [f for f in records if f.get("field_type") == kind]
        if (deleted := _one(query, "deleted")) is not None:
            records = [f for f in records if bool(f.get("deleted")) == (deleted == "true")]
        if (ids := _int_list(query, "ids[]")) is not None:
            records = [f for f in records if f["id"] in ids]
        _order(
            records,
            query,
            {
                "id": lambda f: f["id"],
                "name": lambda f: f.get("name"),
                "display_order": lambda f: f.get("display_order"),
            },
        )
        return records

    def _relationships(self, query: Query) -> list[Record]:
        records = self.store.relationships
        if matter := _one(query, "matter_id"):
            records = [r for r in records if r["matter"]["id"] == _int(matter)]
        if contact := _one(query, "contact_id"):
            records = [r for r in records if r["contact"]["id"] == _int(contact)]
        if (ids := _int_list(query, "ids[]")) is not None:
            records = [r for r in records if r["id"] in ids]
        return list(records)

    def _matter_or_404(self, ident: int) -> Record:
        matter = self.store.matters.get(ident)
        if matter is None:
            raise ApiFailure(404, "RecordNotFound", "The requested Matter could not be found")
        return matter

    def _matter_contacts(self, ident: int) -> list[Record]:
        matter = self._matter_or_404(ident)
        common = {
            "matter_id": ident,
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
            }
            for rel in matter["relationships"]
        ]
        if matter["client"] is not None:
            rows.append(
                {
                    **matter["client"],
                    **common,
                    "is_client": True,
                    "relationship_name": "Client",
                    "relationship": None,
                }
            )
        return rows  # default order is_client(asc): related first, the client last

    def _related(self, ident: int) -> list[Record]:
        matter = self._matter_or_404(ident)
        return [
            {
                **rel["contact"],
                "id": rel["id"],
                "contact_id": rel["contact"]["id"],
                "is_matter_client": False,
                "relationship": rel,
            }
            for rel in matter["relationships"]
        ]


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


def _api_creates(path: str) -> bool:
    return path.removeprefix("/api/v4/").removesuffix(".json").strip("/") == "custom_fields"


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
    if data.get("parent_type") not in PARENT_TYPES:
        errors.append("Parent type is not included in the list")
    kind = data.get("field_type")
    if kind not in FIELD_TYPES:
        errors.append("Field type is not included in the list")
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


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiFailure(
            404, "RecordNotFound", "The requested resource could not be found"
        ) from None


def _matter_text(matter: Record) -> str:
    client = matter.get("client") or {}
    parts = [
        matter.get("display_number"),
        matter.get("number"),
        matter.get("description"),
        client.get("name"),
        client.get("first_name"),
        client.get("last_name"),
    ]
    return "\n".join(str(p) for p in parts if p is not None).casefold()


def _contact_text(contact: Record) -> str:
    parts = [contact.get("name"), contact.get("primary_email_address"), contact.get("title")]
    parts += [e.get("address") for e in contact.get("email_addresses") or []]
    return "\n".join(str(p) for p in parts if p).casefold()
