"""Small hand-made matter bundles and a compiled mapping for the workflow's unit tests."""

from __future__ import annotations

import copy
from typing import Any

from mapctl.engine.mapping.expressions import compile_expression
from mapctl.engine.mapping.model import (
    AnswerRule,
    ClientRecordRule,
    CompiledMapping,
    CustomFieldSpec,
)
from mapctl.engine.mapping.relationships import Relationships


def person(contact_id: int, first: str, last: str, dob: str | None = None) -> dict[str, Any]:
    return {
        "id": contact_id,
        "type": "Person",
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob,
        "custom_field_values": [],
    }


PRITCHETT: dict[str, Any] = {
    "bundle_version": 1,
    "matter": {
        "id": 9002,
        "display_number": "00002-Pritchett",
        "description": "Estate planning - Jay Pritchett",
        "status": "Open",
        "open_date": "2026-01-15",
        "client": {"id": 5001, "name": "Jay Pritchett"},
    },
    "contacts": [
        person(5001, "Jay", "Pritchett", "1947-05-23"),
        person(5002, "Gloria", "Pritchett", "1971-05-13"),
        person(5004, "Mitchell", "Pritchett", "1975-11-02"),
        person(5005, "Manny", "Delgado"),
        person(5010, "Lily", "Tucker-Pritchett", "2008-02-19"),
        person(5012, "Phil", "Dunphy", "1967-04-03"),
        {"id": 5015, "type": "Company", "name": "Pritchett's Closets & Blinds",
         "custom_field_values": []},
    ],
    "relationships": [
        {"id": 8001, "description": "Wife", "contact": {"id": 5002}},
        {"id": 8002, "description": "son", "contact": {"id": 5004}},
        {"id": 8003, "description": "Step-Son", "contact": {"id": 5005}},
        {"id": 8004, "description": "Grandaughter", "contact": {"id": 5010}},
        {"id": 8005, "description": "Son-in-law", "contact": {"id": 5012}},
        {"id": 8006, "description": "", "contact": {"id": 5015}},
    ],
    "custom_fields": [],
}  # fmt: skip


def pritchett() -> dict[str, Any]:
    return copy.deepcopy(PRITCHETT)


def rule(name: str, value: str, **options: Any) -> AnswerRule:
    each = options.pop("each", None)
    return AnswerRule(
        name=name,
        type=options.pop("type", "text"),
        value=compile_expression(value),
        each=compile_expression(each) if each else None,
        **options,
    )


def mapping(
    *answers: AnswerRule, name: str = "client.name", notes: str | None = None
) -> CompiledMapping:
    notes = notes or "format('Imported from Clio matter {} on {}', matter.display_number, today)"
    return CompiledMapping(
        title="ILS Client Interview",
        relationships=Relationships(),
        custom_fields=(CustomFieldSpec("ssn", name="Social Security Number", sensitive=True),),
        client_record=ClientRecordRule(compile_expression(name), compile_expression(notes)),
        answers=answers
        or (
            rule("Client First Name TE", "client.first_name", required=True),
            rule("Client Birth Date DA", "client.date_of_birth", type="date", required=True),
            rule("Client SSN TE", "client.custom.ssn", required=True),
            rule("Spouse Full Name TE", "spouse.name"),
            rule("Child Full Name TE", "name", each="children"),
            rule(
                "Child Birth Date DA", "date_of_birth", each="children", type="date", required=True
            ),
            rule("Grandchild Full Name TE", "name", each="grandchildren", required=True),
            rule("Other Party Name TE", "name", each="parties"),
        ),
    )
