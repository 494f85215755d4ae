"""Clio's records, checked at the boundary: what mapctl reads of each record has the type Clio's
document gives it, or one ClioError (exit 3) names the record, the field and what was expected.

Stage: between the HTTP session and everything else. A matter whose `client` is a string, a
relationship whose `contact` is a string, a contact without an `id` or with an `id` that is a
list: each once crashed later code (exit 4, the app's 500 page). The TypedDicts below are the
shapes later code may rely on; `check` walks a record against one of them. Records stay raw
Clio records (the bundle format is Clio's own JSON): fields mapctl did not ask for are left
alone, absent fields are fine (Clio leaves out what it does not have), only `Required` ones
must be there. Ids are integers in 1..2**63-1 (never booleans); a custom field value's id is
Clio's text id ("picklist-500101") or an integer.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Required, TypedDict, Union

from ..errors import ClioError

MAX_ID = 2**63 - 1
ClioId = Annotated[int, "clio-id"]
Scalar = str | int | float | bool | None  # a custom field value: text, number, checkbox, none


class Ref(TypedDict, total=False):
    """A nested record asked for as `name{id,name}`."""

    id: ClioId
    name: str | None


class Client(TypedDict, total=False):
    id: Required[ClioId]
    name: str | None
    type: str | None
    first_name: str | None
    last_name: str | None


class Matter(TypedDict, total=False):
    id: Required[ClioId]
    etag: str | None
    number: int | None
    display_number: str | None
    custom_number: str | None
    description: str | None
    status: str | None
    open_date: str | None
    close_date: str | None
    pending_date: str | None
    location: str | None
    client_reference: str | None
    billable: bool | None
    client: Client | None
    practice_area: Ref | None
    responsible_attorney: Ref | None


class ContactRef(TypedDict, total=False):
    id: Required[ClioId]


class Relationship(TypedDict, total=False):
    id: Required[ClioId]
    description: str | None
    contact: ContactRef | None


class Role(TypedDict, total=False):
    id: ClioId | None
    description: str | None


class MatterContact(TypedDict, total=False):
    """A row of `matters/{id}/contacts.json`: a client (is_client) or a related contact."""

    id: Required[ClioId]
    is_client: bool | None
    relationship_name: str | None
    relationship: Role | None


class Address(TypedDict, total=False):
    id: ClioId
    name: str | None
    street: str | None
    city: str | None
    province: str | None
    postal_code: str | None
    country: str | None
    primary: bool | None


class EmailAddress(TypedDict, total=False):
    id: ClioId
    name: str | None
    address: str | None
    primary: bool | None


class PhoneNumber(TypedDict, total=False):
    id: ClioId
    name: str | None
    number: str | None
    primary: bool | None


class WebSite(TypedDict, total=False):
    id: ClioId
    name: str | None
    address: str | None
    default_web_site: bool | None


class IdRef(TypedDict, total=False):
    id: ClioId


class CustomFieldValue(TypedDict, total=False):
    id: str | ClioId | None  # null: a field with no value set (seed.py models it)
    field_name: str | None
    field_type: str | None
    value: Scalar
    custom_field: IdRef | None
    picklist_option: IdRef | None
    soft_deleted: bool | None


class Contact(TypedDict, total=False):
    id: Required[ClioId]
    etag: str | None
    type: str | None
    name: str | None
    prefix: str | None
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    title: str | None
    initials: str | None
    date_of_birth: str | None
    primary_email_address: str | None
    secondary_email_address: str | None
    primary_phone_number: str | None
    secondary_phone_number: str | None
    is_client: bool | None
    created_at: str | None
    updated_at: str | None
    company: Ref | None
    addresses: list[Address] | None
    email_addresses: list[EmailAddress] | None
    phone_numbers: list[PhoneNumber] | None
    web_sites: list[WebSite] | None
    custom_field_values: list[CustomFieldValue] | None


class PicklistOption(TypedDict, total=False):
    id: Required[ClioId]
    etag: str | None
    option: str | None
    deleted_at: str | None


class CustomField(TypedDict, total=False):
    id: Required[ClioId]
    etag: str | None
    name: str | None
    parent_type: str | None
    field_type: str | None
    displayed: bool | None
    deleted: bool | None
    required: bool | None
    display_order: int | None
    picklist_options: list[PicklistOption] | None


class User(TypedDict, total=False):
    id: Required[ClioId]
    name: str | None
    email: str | None


KINDS: dict[str, type] = {
    "matter": Matter,
    "relationship": Relationship,
    "matter contact": MatterContact,
    "contact": Contact,
    "custom field": CustomField,
    "user": User,
}
# What a listing of each endpoint holds.
LISTS: dict[str, str] = {
    "matters.json": "matter",
    "relationships.json": "relationship",
    "contacts.json": "contact",
    "custom_fields.json": "custom field",
}


class Odd(Exception):
    """Inside the walk: `path` (field names, list positions) and what was expected there."""

    def __init__(self, path: list[str | int], expected: str, got: Any) -> None:
        super().__init__(expected)
        self.path = path
        self.expected = expected
        self.got = got


def check(kind: str, record: Any, source: str = "") -> dict[str, Any]:
    """`record` if it has the shape of a Clio `kind` ("matter", "contact"...), else ClioError
    naming the record (its id when it has a usable one), the field and what was expected.
    `source`: where it came from (an endpoint), for the message."""
    try:
        _walk(KINDS[kind], record, [])
    except Odd as odd:
        raise _odd_error(kind, record, odd, source) from None
    checked: dict[str, Any] = record
    return checked


def check_all(kind: str, records: list[Any], source: str = "") -> list[dict[str, Any]]:
    """Every record of a listing checked (see `check`)."""
    return [check(kind, record, source) for record in records]


def check_listing(path: str, records: list[Any]) -> list[dict[str, Any]]:
    """The records of one page of `path` ("contacts.json"...), checked when mapctl knows the
    endpoint; others are returned as they are."""
    kind = LISTS.get(path)
    if kind is None and _MATTER_CONTACTS.fullmatch(path):
        kind = "matter contact"
    return check_all(kind, records, f"/{path}") if kind else records


_MATTER_CONTACTS = re.compile(r"matters/[0-9]+/contacts\.json")


def is_clio_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


# --- the walk -----------------------------------------------------------------------------------

_HINTS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def _shape(typed: type) -> tuple[dict[str, Any], frozenset[str]]:
    if typed not in _HINTS:
        # __required_keys__ misses Required[...] written as a string (PEP 563) before 3.12:
        # read it off the resolved hints instead (every TypedDict here is total=False).
        raw = typing.get_type_hints(typed, include_extras=True)
        hints = {key: _unrequired(hint) for key, hint in raw.items()}
        required = frozenset(k for k, h in raw.items() if typing.get_origin(h) is Required)
        _HINTS[typed] = (hints, required)
    return _HINTS[typed]


def _unrequired(hint: Any) -> Any:
    while typing.get_origin(hint) in (Required, typing.NotRequired):
        (hint,) = typing.get_args(hint)
    return hint


def _walk(expected: Any, value: Any, path: list[str | int]) -> None:
    if typing.is_typeddict(expected):
        if type(value) is not dict:
            raise Odd(path, _describe(expected), value)
        hints, required = _shape(expected)
        for key in required:
            if key not in value:
                raise Odd([*path, key], _describe(hints[key]), _Missing)
        for key, hint in hints.items():
            if key in value:
                _walk(hint, value[key], [*path, key])
        return
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        for option in typing.get_args(expected):
            try:
                _walk(option, value, path)
                return
            except Odd as odd:
                if odd.path != path:  # the right kind of thing, wrong inside: say where
                    raise
        raise Odd(path, _describe(expected), value)
    if origin is list:
        if type(value) is not list:
            raise Odd(path, _describe(expected), value)
        (item,) = typing.get_args(expected)
        for index, element in enumerate(value):
            _walk(item, element, [*path, index])
        return
    if origin is Annotated:  # ClioId
        if not is_clio_id(value):
            raise Odd(path, "an id (a whole number from 1 to 2^63-1)", value)
        return
    if expected is type(None):
        if value is not None:
            raise Odd(path, "null", value)
        return
    if expected is float:
        if type(value) not in (int, float):
            raise Odd(path, "a number", value)
        return
    if type(value) is not expected:  # str, int, bool: exactly (True is no int here)
        raise Odd(path, _describe(expected), value)


class _Missing:
    pass


def _describe(expected: Any) -> str:
    if typing.is_typeddict(expected):
        _, required = _shape(expected)
        return "an object with an id" if "id" in required else "an object"
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(expected) if a is not type(None)]
        nullable = len(options) < len(typing.get_args(expected))
        if len(options) > 2:
            text = "text, a number or true/false"
        else:
            text = " or ".join(_describe(a) for a in options)
        return f"{text} (or null)" if nullable else text
    if origin is list:
        return "a list"
    if origin is Annotated:
        return "an id (a whole number from 1 to 2^63-1)"
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        expected, getattr(expected, "__name__", str(expected))
    )


def _json_kind(value: Any) -> str:
    if value is _Missing:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "a number too large" if abs(value) > MAX_ID else f"the number {value}"
    if isinstance(value, float):
        return "a number with a fraction" if value != int(value) else f"the number {value:g}"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _odd_error(kind: str, record: Any, odd: Odd, source: str) -> ClioError:
    ident = record.get("id") if type(record) is dict else None
    which = f"{kind} {ident}" if is_clio_id(ident) else f"a {kind}"
    field = _dotted(odd.path)
    where = f" from {source}" if source else ""
    if not odd.path:
        what = f"Clio sent {which}{where} that is {_json_kind(record)}, not an object"
    else:
        what = (
            f"Clio sent {which}{where} that mapctl cannot use: `{field}` is "
            f"{_json_kind(odd.got)}, expected {odd.expected}"
        )
    return ClioError(
        what,
        hint="this is not a record as Clio's API documents it: check that CLIO_BASE_URL is "
        "Clio's address; if it is, report this with the matter's number",
        url=source or None,
    )


def _dotted(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
