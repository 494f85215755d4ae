"""The shared demo custom-field definitions (common conventions), as Clio sends them."""

from __future__ import annotations

from typing import Any


def _picklist(fid: int, name: str, options: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "id": fid,
        "name": name,
        "parent_type": "Contact",
        "field_type": "picklist",
        "deleted": False,
        "picklist_options": [{"id": i, "option": o, "deleted_at": None} for i, o in options],
    }


def _field(fid: int, name: str, field_type: str) -> dict[str, Any]:
    return {
        "id": fid,
        "name": name,
        "parent_type": "Contact",
        "field_type": field_type,
        "deleted": False,
        "picklist_options": [],
    }


CUSTOM_FIELDS: list[dict[str, Any]] = [
    _picklist(71001, "Gender", [(81001, "Male"), (81002, "Female"), (81003, "Non-binary")]),
    _picklist(
        71002,
        "Citizenship",
        [(81011, "US Citizen"), (81012, "Permanent Resident"), (81013, "Other")],
    ),
    _picklist(
        71003,
        "Marital Status",
        [
            (81021, "Single"),
            (81022, "Married"),
            (81023, "Divorced"),
            (81024, "Widowed"),
            (81025, "Domestic Partnership"),
        ],
    ),
    _field(71004, "Date of Marriage", "date"),
    _field(71005, "Date of Death", "date"),
    _field(71006, "Social Security Number", "text_line"),
    _field(71007, "US Resident", "checkbox"),
    _field(71008, "Prior Marriages", "numeric"),
    _field(71009, "Estimated Estate Value", "currency"),
    _field(71010, "Notes for Attorney", "text_area"),
    _field(71011, "Preferred Email", "email"),
    _field(71012, "Website", "url"),
    _field(71013, "Guardian", "contact"),
    _field(71014, "Related Matter", "matter"),
    _field(71015, "Preferred Call Time", "time"),
]


def value(field_id: int, raw: Any, *, vid: str | None = "auto", **extra: Any) -> dict[str, Any]:
    field = next(f for f in CUSTOM_FIELDS if f["id"] == field_id)
    out = {
        "id": f"{field['field_type']}-{field_id}" if vid == "auto" else vid,
        "field_name": field["name"],
        "field_type": field["field_type"],
        "value": raw,
        "soft_deleted": False,
        "custom_field": {"id": field_id},
    }
    if field["field_type"] == "picklist":
        out["picklist_option"] = (
            {"id": int(raw)} if isinstance(raw, str) and raw.isdigit() else None
        )
    out.update(extra)
    return out
