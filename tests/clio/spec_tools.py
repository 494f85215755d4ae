"""Helpers that read Clio's OpenAPI document (tests/fixtures/clio/, copied from Clio's published document) for the faithfulness tests.

`derive_field_table` turns the document's component schemas into the sandbox's table of valid
`fields` names (engine/clio/clio_fields.json); `python -m tests.clio.spec_tools` rewrites it.
`response_schema` translates a path's 200 response schema into plain JSON Schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SUBSET = (
    Path(__file__).resolve().parents[1] / "fixtures" / "clio" / "clio-api-v4-openapi-subset.json"
)
# Issue 19: the notes and custom actions paths, a second subset of the same document.
NOTES_ACTIONS = SUBSET.with_name("clio-api-v4-openapi-notes-actions.json")
FIELD_TABLE = Path(__file__).resolve().parents[2] / "engine" / "clio" / "clio_fields.json"

# The one list of what the sandbox sends that Clio's document does not allow: nulls. The
# document marks nothing nullable, yet Clio sends null for a field a record does not have (an
# unset middle name or date, a company's first name, an empty custom field value's id,
# `picklist_option` outside picklists: NOTES "Reading the spec's schemas", 4.3). Keyed by the
# component schema that defines the property. Used by the tests (`response_schema`) and by
# `make conformance` (scripts/conformance_hooks.py), through `mark_nullable`.
NULLABLE: dict[str, tuple[str, ...]] = {
    "Contact_base": (
        "first_name",  # a company
        "middle_name",
        "last_name",
        "prefix",
        "title",
        "initials",
        "date_of_birth",
        "secondary_email_address",
        "secondary_phone_number",
    ),
    "Contact": ("company", "primary_address"),
    "Client": ("company",),
    "CustomFieldValue_base": ("id", "etag", "value"),  # displayed but empty (NOTES 4.3)
    "CustomFieldValue": ("picklist_option",),  # every type but picklist
    "PicklistOption_base": ("deleted_at",),
    "Matter_base": ("client_reference", "close_date", "custom_number", "pending_date"),
    "Matter": ("responsible_attorney",),
    "MatterContacts": ("relationship",),  # the client's row
    "Note": ("matter", "contact"),  # a matter's note has no contact, a contact's no matter
}


def load_spec() -> dict[str, Any]:
    """Both subsets as one document: the second's paths and schemas added to the first's (a
    schema both have is the same text: both are cut from one document, without edits)."""
    spec: dict[str, Any] = json.loads(SUBSET.read_text(encoding="utf-8"))
    more = json.loads(NOTES_ACTIONS.read_text(encoding="utf-8"))
    spec["paths"].update(more["paths"])
    spec["components"]["schemas"].update(more["components"]["schemas"])
    spec["tags"] = [*spec.get("tags", []), *more.get("tags", [])]
    return spec


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _properties(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _properties(schemas, schemas[_ref_name(schema["$ref"])])
    props: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        props.update(_properties(schemas, part))
    return props


def derive_field_table(spec: dict[str, Any]) -> dict[str, dict[str, list[str | None]]]:
    """{schema: {field: [kind, target]}}: kind scalar|one|many, target the nested schema."""
    schemas = spec["components"]["schemas"]
    table: dict[str, dict[str, list[str | None]]] = {}
    for name in sorted(schemas):
        fields: dict[str, list[str | None]] = {}
        for prop, sub in sorted(_properties(schemas, schemas[name]).items()):
            if "$ref" in sub:
                fields[prop] = ["one", _ref_name(sub["$ref"])]
            elif sub.get("type") == "array" and "$ref" in sub.get("items", {}):
                fields[prop] = ["many", _ref_name(sub["items"]["$ref"])]
            else:
                fields[prop] = ["scalar", None]
        table[name] = fields
    return table


def mark_nullable(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with `nullable: true` on each NULLABLE property (in place; returned too)."""
    schemas = spec["components"]["schemas"]
    for name, props in NULLABLE.items():
        if name not in schemas:  # a schema of the other subset (conformance reads one)
            continue
        defined = dict(schemas[name].get("properties", {}))
        for part in schemas[name].get("allOf", []):  # Contact = allOf [Contact_base, {...}]
            defined.update(part.get("properties", {}))
        for prop in props:
            defined[prop]["nullable"] = True  # a KeyError: the list names what is not there
    return spec


def _nullable(schema: Any, schemas: dict[str, Any], depth: int = 0) -> Any:
    """OpenAPI 3.0 -> JSON Schema: resolve $ref, `nullable: true` -> null allowed."""
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        if depth > 6:  # the spec's schemas are recursive (Contact -> related_contacts ...)
            return {}
        resolved = _nullable(schemas[_ref_name(schema["$ref"])], schemas, depth + 1)
        return {"anyOf": [resolved, {"type": "null"}]} if schema.get("nullable") else resolved
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {
                prop: (
                    {"anyOf": [_nullable(sub, schemas, depth), {"type": "null"}]}
                    if sub.get("nullable")
                    else _nullable(sub, schemas, depth)
                )
                for prop, sub in value.items()
            }
        elif key == "items":
            out[key] = _nullable(value, schemas, depth)
        elif key == "allOf":
            out[key] = [_nullable(part, schemas, depth) for part in value]
        elif key in ("description", "format", "example", "nullable"):
            continue
        else:
            out[key] = value
    return out


def response_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The JSON Schema of `GET path`'s 200 body, translated for jsonschema."""
    spec = mark_nullable(copy.deepcopy(spec))
    schemas = spec["components"]["schemas"]
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    schema = next(iter(content.values()))["schema"]
    return _nullable(schema, schemas)  # type: ignore[no-any-return]


def declared_parameters(spec: dict[str, Any], path: str, method: str = "get") -> set[str]:
    op = spec["paths"][path][method]
    return {p["name"] for p in op.get("parameters", []) if p.get("in") in ("query", "header")}


if __name__ == "__main__":
    table = derive_field_table(load_spec())
    FIELD_TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FIELD_TABLE} ({len(table)} schemas)")
