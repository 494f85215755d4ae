"""Clio's custom field definitions against a compiled mapping (pure: no HTTP)."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from mapctl.engine.hotdocs.interview import Interview, Variable
from mapctl.engine.mapping.compilation import compile_mapping_text
from mapctl.engine.mapping.fieldtypes import direct_alias, suits
from mapctl.engine.mapping.model import FieldCreation
from mapctl.engine.setup.fieldcheck import check_fields

MAPPING = """\
version: 1
custom_fields:
  marital: {name: Marital Status, create: {type: picklist, options: [Single, Married]}}
  died: {name: Date of Death}
  pets: {id: 71020}
  court: {id: 72001}
  gone: {name: Old Field}
  resident: US Resident
answers:
  Marital MC: {type: multiple_choice, value: client.custom.marital}
  Deceased TF: {type: true_false, value: "client.custom.died != `null`"}
  Died DA: {type: date, value: client.custom.died}
  Child Died DA: {each: children, type: date, value: custom.died}
  Pets TE: client.custom.pets
  Resident TF: {type: true_false, value: spouse.custom.resident}
"""


def field(ident: int, name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "name": name, "parent_type": "Contact", "field_type": kind,
            "deleted": False, "picklist_options": [], **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("source", "alias"),
    [
        ("client.custom.marital", "marital"),
        ("custom.gender", "gender"),
        ("spouse.custom.x", "x"),
        ("client.custom.died != `null`", None),
        ("upper(client.custom.x)", None),
        ("client.custom", None),
        ("client.first_name", None),
    ],
)
def test_direct_alias(source: str, alias: str | None) -> None:
    assert direct_alias(dict(jmespath.compile(source).parsed)) == alias


def test_suits() -> None:
    assert suits("date", "date") and not suits("date", "text_line")
    assert suits("multiple_choice", "picklist") and not suits("multiple_choice", "text_area")
    assert suits("true_false", "checkbox") and not suits("true_false", "picklist")
    assert suits("number", "currency") and suits("text", "picklist")


def test_create_is_compiled() -> None:
    compiled = compile_mapping_text(MAPPING)
    marital = compiled.custom_fields[0]
    assert marital.create == FieldCreation("picklist", ("Single", "Married"))
    assert compiled.custom_fields[1].create is None


def test_every_kind_of_mismatch() -> None:
    compiled = compile_mapping_text(MAPPING)
    definitions = [
        field(1, "marital status", "picklist",
              picklist_options=[{"id": 1, "option": "Single", "deleted_at": None},
                                {"id": 2, "option": "Married", "deleted_at": None},
                                {"id": 3, "option": "Engaged", "deleted_at": "2026-01-01"}]),
        field(2, "Date of Death", "text_line"),
        field(71020, "Pets", "text_area", deleted=True),
        {**field(72001, "Court File Number", "text_line"), "parent_type": "Matter"},
        field(4, "Old Field", "text_line", deleted=True),
        field(5, "US Resident", "picklist"),
        field(6, "Hobbies", "text_line"),
    ]  # fmt: skip
    interview = Interview("i.cmp", "component file", {
        "Marital MC": Variable("Marital MC", "multiple_choice", "multipleChoice",
                               ("Single", "Married")),
    })  # fmt: skip
    report = check_fields(compiled, definitions, interview)
    lines = [(c.name, c.status, c.message) for c in report.checks]
    assert lines == [
        ("field marital", "pass",
         "custom field marital ('Marital Status'): found 'marital status' (picklist, id 1)"),
        ("options marital", "pass",
         "options 'marital status' vs i.cmp 'Marital MC': the same 2"),  # a deleted option is not one
        ("field died", "fail",
         "custom field died ('Date of Death'): Clio's 'Date of Death' (text_line, id 2) is the "
         "wrong type: answers 'Died DA', 'Child Died DA' (date) need a date field"),
        ("field pets", "fail",
         "custom field pets (id 71020): the field is deleted in Clio (id 71020); its values are "
         "blank"),
        ("field court", "fail",
         "custom field court (id 72001): 'Court File Number' is a Matter field in Clio; mapctl "
         "reads contact fields"),
        ("field gone", "fail",
         "custom field gone ('Old Field'): the field is deleted in Clio (id 4); its values are "
         "blank"),
        ("field resident", "fail",
         "custom field resident ('US Resident'): Clio's 'US Resident' (picklist, id 5) is the "
         "wrong type: answer 'Resident TF' (true_false) needs a checkbox"),
        ("unread fields", "info",
         "Clio has 1 contact field no mapping reads: Hobbies"),
    ]  # fmt: skip
    assert report.missing == []  # deleted or by id: nothing --create-fields may make


def test_missing_fields_are_creatable_by_name_only() -> None:
    compiled = compile_mapping_text(MAPPING)
    report = check_fields(compiled, [field(9, "Marital Stat", "picklist")])
    assert [s.alias for s in report.missing] == ["marital", "died", "gone", "resident"]
    first = report.checks[0]
    assert first.status == "fail"
    assert first.hint == (
        "did you mean 'Marital Stat'? (fix the name in the mapping or in Clio); `mapctl doctor "
        "--create-fields` creates it as declared"
    )
    died = next(c for c in report.checks if c.name == "field died")
    assert died.hint is not None and "declare how with create: {type: ...}" in died.hint
