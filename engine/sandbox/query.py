"""The sandbox's query parameters: checking them, filtering, ordering, paging, conditional GETs.

Pure helpers for `api.py`. Every parameter Clio's OpenAPI document declares for a path has a kind
here (`PARAMS`; a test checks them against the document): a value that does not fit its kind is
refused with 400 InvalidParameter, as Clio's documentation has it for bad input; names the
document does not declare are ignored, as Clio ignores them (NOTES 1). Never does I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

Record = dict[str, Any]
Query = list[tuple[str, str]]
INT64 = (-(2**63), 2**63 - 1)
MAX_OFFSET = 10_000  # offset paging stops there (Paging doc: 422 ArgumentError beyond)
OPERATORS = (">=", "<=", "=", "<", ">")  # longest first
EQUALITY_ONLY = {
    "checkbox",
    "contact",
    "matter",
    "picklist",
    "email",
    "text_area",
    "text_line",
    "url",
}

# Each declared query parameter's kind (the document's type and format, see PARAM_TYPES).
PARAMS: dict[str, str] = {
    "fields": "string",
    "query": "string",
    "page_token": "string",
    "order": "string",
    "status": "string",
    "type": "string",
    "parent_type": "string",
    "field_type": "string",
    "initial": "string",
    "custom_field_values": "string",
    "limit": "int32",
    "offset": "int32",
    "billable": "boolean",
    "client_only": "boolean",
    "clio_connect_only": "boolean",
    "email_only": "boolean",
    "deleted": "boolean",
    "visible_and_required": "boolean",
    "has_time_entries": "boolean",  # notes (issue 19)
    "created_since": "date-time",
    "updated_since": "date-time",
    "open_date[]": "date-filter",
    "close_date[]": "date-filter",
    "pending_date[]": "date-filter",
    **dict.fromkeys(
        (
            "ids[]",
            "exclude_ids[]",
            "custom_field_ids[]",
            "client_id",
            "contact_id",
            "matter_id",
            "currency_id",
            "grant_id",
            "group_id",
            "originating_attorney_id",
            "practice_area_id",
            "responsible_attorney_id",
            "responsible_staff_id",
            "subscriber_user_id",
            "notification_event_subscriber_user_id",
            "shared_resource_id",
        ),
        "int64",
    ),
}
# The document's (type, format) for each kind, for the test that checks PARAMS against it. The
# date filters are strings there (an enum of placeholders such as ">=DATE").
PARAM_TYPES: dict[str, tuple[str, str | None]] = {
    "string": ("string", None),
    "int32": ("integer", "int32"),
    "int64": ("integer", "int64"),
    "boolean": ("boolean", None),
    "date-time": ("string", "date-time"),
    "date-filter": ("string", None),
}
# "Use the keyword `null` to match those without ..." (the document, for these filters only).
NULL_KEYWORD = {
    "grant_id",
    "originating_attorney_id",
    "responsible_attorney_id",
    "responsible_staff_id",
    "subscriber_user_id",
    "notification_event_subscriber_user_id",
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


def invalid(message: str) -> ApiFailure:
    return ApiFailure(400, "InvalidParameter", message)


def one(query: Query, name: str) -> str | None:
    return next((v for k, v in query if k == name), None)


def many(query: Query, name: str) -> list[str]:
    return [v for k, v in query if k == name]


def check_query(query: Query, declared: Iterable[str]) -> None:
    """400 for the first declared parameter whose value does not fit its kind."""
    names = set(declared)
    for name, value in query:
        kind = PARAMS.get(name) if name in names else None
        if name == "limit":
            continue  # `page` says "limit must be between 1 and 200"
        if kind in ("int64", "int32"):
            if not (name in NULL_KEYWORD and value == "null"):
                parse_int(name, value, kind)
        elif kind == "boolean" and value not in ("true", "false"):
            raise invalid(f"{name} must be true or false")
        elif kind == "date-time":
            parse_time(name, value)
        elif kind == "date-filter":
            parse_date_filter(name, value)
        elif name == "custom_field_values" and kind and value not in OPERATORS:
            raise invalid(  # the document's enum for the bare name; filters name a field
                "custom_field_values takes a custom field id, e.g. custom_field_values[123]=42"
            )
        elif name.startswith("custom_field_values[") and "custom_field_values" in names:
            if not re.fullmatch(r"custom_field_values\[\d{1,18}\]", name):
                raise invalid(f"{name} is not a valid custom field filter")


def parse_int(name: str, value: str, kind: str = "int64") -> int:
    low, high = INT64 if kind == "int64" else (-(2**31), 2**31 - 1)
    if re.fullmatch(r"-?\d{1,19}", value) and low <= int(value) <= high:
        return int(value)
    raise invalid(f"{name} must be an integer")


def int_set(query: Query, name: str) -> set[int] | None:
    values = many(query, name)
    return {parse_int(name, v) for v in values} if values else None


def parse_time(name: str, value: str) -> datetime:
    """An ISO-8601 timestamp (a naive one is UTC)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} must be an ISO-8601 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_date_filter(name: str, value: str) -> tuple[str, date]:
    """`>=2020-01-01` -> (">=", date); no operator means `=`."""
    operator = next((op for op in OPERATORS if value.startswith(op)), "")
    text = value[len(operator) :]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return operator or "=", date.fromisoformat(text)
        except ValueError:
            pass
    raise invalid(f"{name} must be an operator and a date (YYYY-MM-DD), e.g. >=2020-01-01")


def compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "=":
        return bool(left == right)
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


def record_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def filter_since(records: list[Record], query: Query) -> list[Record]:
    """`created_since` / `updated_since`: records whose timestamp is after the given time."""
    for name, key in (("created_since", "created_at"), ("updated_since", "updated_at")):
        if (value := one(query, name)) is not None:
            since = parse_time(name, value)
            records = [r for r in records if (t := record_time(r.get(key))) and t > since]
    return records


def filter_dates(records: list[Record], query: Query, names: Iterable[str]) -> list[Record]:
    """`open_date[]=>=2020-01-01&open_date[]=<=2021-12-31`: records meeting every condition."""
    for name in names:
        for value in many(query, name):
            operator, when = parse_date_filter(name, value)
            key = name.removesuffix("[]")
            records = [
                r
                for r in records
                if (d := record_date(r.get(key))) is not None and compare(operator, d, when)
            ]
    return records


def filter_refs(
    records: list[Record], query: Query, refs: dict[str, Callable[[Record], Any]]
) -> list[Record]:
    """`practice_area_id=401` and the like: the nested record's id (`null`: those without)."""
    for name, get in refs.items():
        value = one(query, name)
        if value is None:
            continue
        if value == "null" and name in NULL_KEYWORD:
            records = [r for r in records if get(r) is None]
        else:
            wanted = parse_int(name, value)
            records = [r for r in records if get(r) == wanted]
    return records


def filter_custom_values(
    records: list[Record], query: Query, fields: dict[int, Record]
) -> list[Record]:
    """`custom_field_values[<custom_field.id>]=<value>`, several conditions as `[<=50, >=45]`
    (all must hold). Currency, date, time and numeric fields take `= < > <= >=` (a value that
    is not of the type: 400); the other types compare the value as given (the document: "no
    check for operator is performed on the input string")."""
    for name, raw in query:
        match = re.fullmatch(r"custom_field_values\[(\d{1,18})\]", name)
        if not match:
            continue
        field_id = int(match.group(1))
        kind = str((fields.get(field_id) or {}).get("field_type") or "text_line")
        for value in _condition_list(raw):
            operator = "="
            if kind not in EQUALITY_ONLY:
                operator = next((op for op in OPERATORS if value.startswith(op)), "=")
                value = value.removeprefix(operator)
                if kind in ("numeric", "currency") and not _is_number(value):
                    raise invalid(f"{name}: {value!r} is not a number")
            records = [r for r in records if _custom_match(r, field_id, kind, operator, value)]
    return records


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _condition_list(raw: str) -> list[str]:
    """`[<=50, >=45]` -> ["<=50", ">=45"]; anything else is one condition."""
    if raw.startswith("[") and raw.endswith("]"):
        return [part.strip() for part in raw[1:-1].split(",") if part.strip()]
    return [raw]


def _custom_match(record: Record, field_id: int, kind: str, operator: str, wanted: str) -> bool:
    for value in record.get("custom_field_values") or []:
        if (value.get("custom_field") or {}).get("id") != field_id or value.get("value") is None:
            continue
        have: Any = value["value"]
        if kind in ("numeric", "currency"):
            try:
                return compare(operator, float(have), float(wanted))
            except (TypeError, ValueError):
                return False
        if kind == "checkbox":
            return str(have).lower() == wanted.lower()
        return compare(operator, str(have), wanted)
    return False


def sort_key(value: Any) -> tuple[int, Any]:
    """Sorts values of mixed or missing types without comparing across types (0 sorts fine)."""
    if value is None:
        return (2, 0)
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value).casefold())


def order(records: list[Record], query: Query, keys: dict[str, Callable[[Record], Any]]) -> None:
    """`order=name(asc|desc)`; the names allowed are the document's enum for the path."""
    value = one(query, "order")
    value = next(iter(keys)) + "(asc)" if value is None else value
    match = re.fullmatch(r"([a-z_.]+)\((asc|desc)\)", value)
    if not match or match.group(1) not in keys:
        raise invalid(f"order {value!r} is not a valid order")
    key = keys[match.group(1)]
    records.sort(key=lambda r: (sort_key(key(r)), sort_key(r.get("id"))))
    if match.group(2) == "desc":
        records.reverse()


def page(
    records: list[Record], query: Query, url: str, shape: Callable[[Record], Record]
) -> Response:
    """Cursor paging (`page_token`, opaque) or offset paging (`offset`, up to 10,000, Paging
    doc); `limit` 1..200 (default 200); `meta.paging.next` a full URL with every parameter."""
    limit_text = one(query, "limit")
    limit = 200 if limit_text is None else _int_or(limit_text, 0)
    if not 1 <= limit <= 200:
        raise invalid("limit must be between 1 and 200")
    offset_text = one(query, "offset")
    token = one(query, "page_token")
    if offset_text is not None:
        start = _int_or(offset_text, -1)
        if start < 0:
            raise invalid("offset must be a whole number")
        if start + limit > MAX_OFFSET:
            raise ApiFailure(
                422,
                "ArgumentError",
                f"offset pagination is limited to {MAX_OFFSET} records: use cursor pagination",
            )
    else:
        start = decode_token(token) if token else 0
    chunk = records[start : start + limit]
    kept = [(k, v) for k, v in query if k not in ("page_token", "offset")]
    paging: dict[str, str] = {}
    if start + limit < len(records):
        paging["next"] = url + "?" + urlencode([*kept, _position(offset_text, start + limit)])
    if start > 0:
        paging["previous"] = (
            url + "?" + urlencode([*kept, _position(offset_text, max(0, start - limit))])
        )
    data = [shape(r) for r in chunk]
    return Response(200, {"data": data, "meta": {"paging": paging, "records": len(records)}})


def _int_or(text: str, default: int) -> int:
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else default


def _position(offset_text: str | None, start: int) -> tuple[str, str]:
    return ("offset", str(start)) if offset_text is not None else ("page_token", token_for(start))


def token_for(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset = json.loads(raw)["offset"]
        if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError):
        pass
    raise invalid("page_token is invalid")


def not_modified(record: Record, headers: dict[str, str], etag: str) -> bool:
    """IF-NONE-MATCH (an etag of the list, or `*`) wins over IF-MODIFIED-SINCE, as in RFC 9110.
    IF-MODIFIED-SINCE is a date (the document's type) or an HTTP date; anything else is a 400,
    as for the query parameters."""
    since_text = headers.get("if-modified-since")
    since = None if since_text is None else _http_or_iso_time(since_text)
    if since_text is not None and since is None:
        raise invalid("IF-MODIFIED-SINCE must be a date (YYYY-MM-DD) or an HTTP date")
    if (match := headers.get("if-none-match")) is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    updated = record_time(record.get("updated_at"))
    return since is not None and updated is not None and updated <= since


def _http_or_iso_time(text: str) -> datetime | None:
    moment: datetime | None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = record_time(text.strip())
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
