"""Custom field values: Clio's raw `custom_field_values` -> {alias: typed value} per contact.

Stage: part of building the context (engine/context.py). Pure: no I/O. A value that cannot be
read is null with a warning, never a crash: Clio sends picklist option ids, `id: null` values
(displayed but empty), values of deleted fields (`soft_deleted`), and may omit a field entirely.

Typing by Clio field type (spec/mapping-format.md "Custom fields"):
  picklist -> the option's label (the value is the option id, string or number)
  checkbox -> true/false (JSON booleans, "true"/"false", "1"/"0", "yes"/"no", 1/0)
  numeric, currency -> number (int when whole, else float; strings like "1250.50" accepted)
  date -> "YYYY-MM-DD" (an ISO date-time keeps its date part)
  contact, matter -> the referenced record's id (int)
  text_line, text_area, email, url, time and anything else -> string
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..mapping.model import CustomFieldSpec
from ..model import SENSITIVE_MASK

_TRUE = frozenset({"true", "1", "yes", "y", "on", "checked"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "unchecked", ""})
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


def _key(name: Any) -> str:
    return name.strip().casefold() if isinstance(name, str) else ""


class _Target:
    """One alias resolved against the bundle's field definitions."""

    __slots__ = ("alias", "field_id", "name_key", "field_type", "options", "sensitive")

    def __init__(self, spec: CustomFieldSpec, definition: dict[str, Any] | None) -> None:
        self.alias = spec.alias
        self.sensitive = spec.sensitive
        field_id = definition.get("id") if definition else spec.id
        self.field_id: int | None = field_id if type(field_id) is int else None
        self.name_key = _key(definition.get("name") if definition else spec.name)
        field_type = definition.get("field_type") if definition else None
        self.field_type: str | None = field_type if isinstance(field_type, str) else None
        self.options: dict[str, str] = {}
        options = (definition or {}).get("picklist_options")
        for option in options if isinstance(options, list) else ():
            if isinstance(option, dict) and option.get("id") is not None:
                label = option.get("option")
                if isinstance(label, str):
                    self.options[str(option["id"])] = label


class CustomFieldIndex:
    """The mapping's aliases matched once per bundle; `values_for` types one contact's values."""

    def __init__(
        self,
        specs: Iterable[CustomFieldSpec],
        definitions: Iterable[dict[str, Any]],
        warnings: list[str],
    ) -> None:
        by_id: dict[int, dict[str, Any]] = {}
        by_name: dict[str, dict[str, Any]] = {}
        for definition in definitions:
            if definition.get("parent_type") not in (None, "Contact", "contact"):
                continue
            if isinstance(definition.get("id"), int):
                by_id.setdefault(definition["id"], definition)
            # A field deleted and made again keeps its name: the live one wins (Clio lists
            # deleted fields for a while, and by id the old one comes first).
            name_key = _key(definition.get("name"))
            known = by_name.get(name_key)
            if known is None or (known.get("deleted") is True and not definition.get("deleted")):
                by_name[name_key] = definition
        self.targets: list[_Target] = []
        for spec in specs:
            found = by_id.get(spec.id) if spec.id is not None else by_name.get(_key(spec.name))
            self.targets.append(_Target(spec, found))
        self.empty: dict[str, Any] = {t.alias: None for t in self.targets}

    def values_for(self, record: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        """{alias: typed value or None} for one contact record."""
        raw = record.get("custom_field_values")
        if not raw or not self.targets or not isinstance(raw, list):
            return dict(self.empty)
        by_id: dict[Any, dict[str, Any]] = {}
        for value in raw:
            if _usable(value):
                field = value.get("custom_field")
                field_id = field.get("id") if isinstance(field, dict) else None
                if isinstance(field_id, (int, str)) and field_id not in by_id:
                    by_id[field_id] = value
        by_name: dict[str, dict[str, Any]] | None = None
        out: dict[str, Any] = {}
        for target in self.targets:
            if target.field_id is not None:
                found = by_id.get(target.field_id)
            elif target.name_key:
                # No definition in the bundle: match the values' own field names.
                if by_name is None:
                    by_name = {}
                    for item in raw:
                        if _usable(item):
                            by_name.setdefault(_key(item.get("field_name")), item)
                found = by_name.get(target.name_key)
            else:
                found = None
            out[target.alias] = None if found is None else _typed(target, found, record, warnings)
        return out


def _usable(value: Any) -> bool:
    """A value Clio holds: not `id: null` (displayed in Clio but never given a value), not one
    of a deleted field."""
    return (
        isinstance(value, dict)
        and value.get("id") is not None
        and value.get("soft_deleted") is not True
    )


def _typed(
    target: _Target, value: dict[str, Any], record: dict[str, Any], warnings: list[str]
) -> Any:
    field_type = target.field_type or value.get("field_type") or "text_line"
    raw = value.get("value")
    if field_type == "picklist":
        return _picklist(target, value, raw, record, warnings)
    if raw is None or raw == "":
        if field_type in ("contact", "matter"):
            return _reference(value.get(field_type))
        return None
    convert: Callable[[Any], Any] = _CONVERTERS.get(field_type, _text)
    typed = convert(raw)
    if typed is None:
        warnings.append(
            _blank_warning(
                record,
                target,
                f"({field_type}) has the value",
                raw,
                f"which is not a valid {field_type} value",
            )  # fmt: skip
        )
    return typed


def _blank_warning(record: dict[str, Any], target: _Target, has: str, value: Any, why: str) -> str:
    """'<contact>: custom field "<alias>" <has> <value>, <why>; treated as blank', the value
    masked when the field is sensitive."""
    who = record.get("name") or f"contact {record.get('id')}"
    shown = SENSITIVE_MASK if target.sensitive else json.dumps(value)
    return f"{who}: custom field {json.dumps(target.alias)} {has} {shown}, {why}; treated as blank"


def _picklist(
    target: _Target, value: dict[str, Any], raw: Any, record: dict[str, Any], warnings: list[str]
) -> str | None:
    option = value.get("picklist_option")
    option_id = raw if raw not in (None, "") else (option or {}).get("id")
    if option_id is None or isinstance(option_id, bool):
        return None
    key = str(int(option_id)) if isinstance(option_id, float) and option_id.is_integer() else None
    label = target.options.get(key or str(option_id).strip())
    if label is None and isinstance(option, dict) and isinstance(option.get("option"), str):
        label = option["option"]
    if label is None:
        warnings.append(
            _blank_warning(
                record,
                target,
                "has picklist option id",
                option_id,
                "which the field does not define",
            )  # fmt: skip
        )
    return label


def _checkbox(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _number(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw if raw == raw and raw not in (float("inf"), float("-inf")) else None
    if not isinstance(raw, str):
        return None
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number.adjusted() > 30:  # "1e99999999": no exact int (making one would take minutes)
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _date(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    match = _DATE.match(raw.strip())
    if not match:
        return None
    try:
        return datetime.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


def _reference(raw: Any) -> int | None:
    if isinstance(raw, dict):
        raw = raw.get("id")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 19:
        return int(raw.strip())
    return None


def _text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
    return None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "checkbox": _checkbox,
    "numeric": _number,
    "currency": _number,
    "date": _date,
    "contact": _reference,
    "matter": _reference,
}
