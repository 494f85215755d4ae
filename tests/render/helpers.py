"""Test helpers: build CompiledMappings and bundles directly (no YAML), for unit tests."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Sequence
from typing import Any

from mapctl.engine.errors import SourceLocation
from mapctl.engine.mapping.expressions import compile_expression
from mapctl.engine.mapping.model import (
    AnswerRule,
    ClientRecordRule,
    CompiledMapping,
    CustomFieldSpec,
)
from mapctl.engine.mapping.relationships import Relationships
from mapctl.engine.render.context import Context, build_context, load_bundle

TODAY = datetime.date(2026, 3, 1)
DEFAULT_FIELDS = (
    CustomFieldSpec("gender", "Gender"),
    CustomFieldSpec("citizenship", "Citizenship"),
    CustomFieldSpec("marital_status", "Marital Status"),
    CustomFieldSpec("date_of_marriage", "Date of Marriage"),
    CustomFieldSpec("date_of_death", "Date of Death"),
    CustomFieldSpec("ssn", "Social Security Number", sensitive=True),
)


def rule(
    name: str, value: str, type: str = "text", each: str | None = None, line: int = 10
) -> AnswerRule:
    where = SourceLocation("m.yaml", line, 5)
    return AnswerRule(
        name,
        type,  # type: ignore[arg-type]
        compile_expression(value, where),
        compile_expression(each, where) if each else None,
        location=where,
    )


def mapping(
    *rules: AnswerRule,
    custom_fields: tuple[CustomFieldSpec, ...] = DEFAULT_FIELDS,
    relationships: Relationships | None = None,
    title: str = "Test Interview",
) -> CompiledMapping:
    return CompiledMapping(
        title,
        relationships or Relationships(),
        custom_fields,
        ClientRecordRule(
            compile_expression("client.name"),
            compile_expression(
                "format('Imported from Clio matter {} on {}', matter.display_number, today)"
            ),
        ),
        tuple(rules),
    )


def contact(cid: int, name: str, **extra: Any) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    record = {
        "id": cid,
        "type": "Person",
        "name": name,
        "first_name": first,
        "last_name": last,
        "date_of_birth": None,
        "custom_field_values": [],
    }
    record.update(extra)
    return record


def make_bundle(
    client: dict[str, Any],
    related: Sequence[tuple[str | None, dict[str, Any]]],
    custom_fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    from tests.render.fixtures import CUSTOM_FIELDS

    return {
        "bundle_version": 1,
        "matter": {
            "id": 9001,
            "display_number": "00002-Pritchett",
            "description": "Estate plan",
            "client": {"id": client["id"], "name": client["name"]},
        },
        "contacts": [client] + [c for _, c in related],
        "relationships": [
            {"id": 8000 + n, "description": label, "contact": {"id": c["id"]}}
            for n, (label, c) in enumerate(related)
        ],
        "custom_fields": copy.deepcopy(CUSTOM_FIELDS if custom_fields is None else custom_fields),
    }


def context_for(bundle: dict[str, Any], m: CompiledMapping | None = None, **kw: Any) -> Context:
    checked = load_bundle(json.dumps(bundle).encode(), "test.json")
    return build_context(checked, m or mapping(), today=kw.pop("today", TODAY), **kw)
