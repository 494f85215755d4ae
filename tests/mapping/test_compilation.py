"""Compilation: defaults, custom fields, compiled expressions, every problem in one error."""

from __future__ import annotations

import pytest
from mapctl.engine.errors import MappingError
from mapctl.engine.mapping.compilation import compile_mapping, compile_mapping_text
from mapctl.engine.mapping.relationships import SEED_OTHERWISE, SEED_RELATIONSHIPS


def test_defaults_title_relationships_custom_fields_and_client_record(tmp_path):
    mapping = compile_mapping_text(
        "version: 1\nanswers:\n  A TE: client.name\n", "firm-intake.yaml"
    )
    assert mapping.title == "firm-intake"
    assert dict(mapping.relationships.roles) == dict(SEED_RELATIONSHIPS)
    assert mapping.relationships.otherwise == SEED_OTHERWISE
    assert mapping.custom_fields == ()
    context = {
        "client": {"name": "Jay Pritchett"},
        "matter": {"display_number": "00002-Pritchett"},
        "today": "2026-11-25",
    }
    assert mapping.client_record.name(context) == "Jay Pritchett"
    assert mapping.client_record.notes(context) == (
        "Imported from Clio matter 00002-Pritchett on 2026-11-25"
    )


def test_answers_and_custom_fields_compile_with_locations():
    mapping = compile_mapping_text(
        """\
version: 1
title: Intake
relationships:
  Partner: [partner, spouse]
  otherwise: Other
custom_fields:
  gender: Gender
  ssn: {name: Social Security Number, sensitive: true}
  marital: {id: 71003}
answers:
  Client Name TE: client.name
  Child Name TE: {each: children, value: name, required: true}
  Child Count NU: {type: number, value: length(children)}
""",
        "m.yaml",
    )
    assert mapping.title == "Intake"
    assert mapping.relationships.role_names == ["Partner", "Co-client", "Other"]
    assert [(c.alias, c.name, c.id, c.sensitive) for c in mapping.custom_fields] == [
        ("gender", "Gender", None, False),
        ("ssn", "Social Security Number", None, True),
        ("marital", None, 71003, False),
    ]
    assert mapping.sensitive_aliases == {"ssn"}
    name, child, count = mapping.answers
    assert (name.type, name.repeated, name.required) == ("text", False, False)
    assert (child.type, child.repeated, child.required) == ("text", True, True)
    assert count.type == "number"
    assert str(child.location) == "m.yaml:12:3"
    assert child.value.location is not None and str(child.value.location) == "m.yaml:12:42"
    assert child.each is not None and child.each({"children": [1, 2]}) == [1, 2]
    assert count.value({"children": [1, 2, 3]}) == 3
    assert mapping.files == ("m.yaml",)


def test_every_problem_is_in_one_error_sorted_by_line():
    with pytest.raises(MappingError) as caught:
        compile_mapping_text(
            "version: 1\nanswers:\n  B TE: uper(x)\n  A TE: {type: dat, value: client.name}\n",
            "m.yaml",
        )
    assert [f"{p.location}: {p.message}" for p in caught.value.problems] == [
        "m.yaml:3:9: answer 'B TE': unknown function 'uper()'",
        "m.yaml:3:14: answer 'B TE': unknown name 'x' (expressions start from matter, client, "
        "spouse, spouses, children, grandchildren, parties, co_clients, related, by_role or today)",
        "m.yaml:4:16: answer 'A TE': unknown type 'dat'",
    ]


def test_the_bundled_default_compiles_with_its_declared_fields():
    mapping = compile_mapping()
    assert mapping.title == "ILS Client Interview"
    assert mapping.files == ("<bundled>/ils-client-interview.yaml",)
    assert [(c.alias, c.name) for c in mapping.custom_fields] == [
        ("gender", "Gender"),
        ("citizenship", "Citizenship"),
        ("marital_status", "Marital Status"),
        ("date_of_marriage", "Date of Marriage"),
        ("date_of_death", "Date of Death"),
        ("ssn", "Social Security Number"),
    ]
    assert mapping.sensitive_aliases == {"ssn"}
    required = {a.name for a in mapping.answers if a.required}
    assert {"Client First Name TE", "Client Last Name TE", "Client Birth Date DA"} <= required
    repeated = {a.name for a in mapping.answers if a.repeated}
    assert {"Child Full Name TE", "Grandchild Full Name TE", "Other Party Name TE"} <= repeated


def test_co_client_role_and_review_lines_compile_and_override(tmp_path):
    """Issue 17: `relationships: co_client:` names the co-clients' role (seed roles kept, as
    with `otherwise`); `review:` lines compile, override by name, and `null` drops one."""
    base = tmp_path / "base.yaml"
    base.write_text(
        "version: 1\nrelationships:\n  co_client: Joint Client\nanswers:\n  A TE: client.name\n"
        "review:\n  one: \"'first'\"\n  two: \"'second'\"\n",
        encoding="utf-8",
    )
    mapping = compile_mapping_text(
        "version: 1\nextends: base.yaml\nreview:\n  one: \"format('{} co-clients', "
        'length(co_clients))"\n  two: null\n',
        "firm.yaml",
        tmp_path,
    )
    assert mapping.relationships.co_client == "Joint Client"
    assert dict(mapping.relationships.roles) == dict(SEED_RELATIONSHIPS)
    assert mapping.relationships.role_names[-2:] == ["Joint Client", "Party"]
    assert [rule.name for rule in mapping.review] == ["one"]
    assert mapping.review[0].text({"co_clients": [{}, {}]}) == "2 co-clients"
    assert str(mapping.review[0].location) == "firm.yaml:4:3"


def test_a_review_line_is_checked_like_any_expression():
    with pytest.raises(MappingError) as caught:
        compile_mapping_text(
            "version: 1\nanswers:\n  A TE: client.name\nreview:\n  x: co_clinets[0].name\n",
            "m.yaml",
        )
    assert [f"{p.location}: {p.message}" for p in caught.value.problems] == [
        "m.yaml:5:6: review 'x': unknown name 'co_clinets' (expressions start from matter, "
        "client, spouse, spouses, children, grandchildren, parties, co_clients, related, by_role "
        "or today)",
    ]
