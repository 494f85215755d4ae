"""Context: bundle checks, roles from labels, typed custom fields, warnings, exclusions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from mapctl.engine.errors import BundleError, MapctlError
from mapctl.engine.mapping.model import CustomFieldSpec
from mapctl.engine.mapping.relationships import Relationships
from mapctl.engine.render.context import load_bundle

from tests.render.fixtures import value
from tests.render.helpers import contact, context_for, make_bundle, mapping

JAY = contact(5001, "Jay Pritchett")


def roles_of(labels: Sequence[str | None]) -> list[str]:
    related = [(label, contact(6000 + n, f"Person {n}")) for n, label in enumerate(labels)]
    ctx = context_for(make_bundle(JAY, related))
    return [c["role"] for c in ctx.data["related"]]


def test_labels_match_synonyms_ignoring_case_spaces_and_hyphens():
    labels = [
        " Husband ",
        "STEP-DAUGHTER",
        "stepson",
        "Step Son",
        "Grand Daughter",
        "Grand-son",
        "wife",
    ]
    assert roles_of(labels) == [
        "Spouse",
        "Child",
        "Child",
        "Child",
        "Grandchild",
        "Grandchild",
        "Spouse",
    ]


def test_son_in_law_blank_and_missing_labels_are_parties():
    assert roles_of(["Son-in-law", "", None, "   ", "Nephew"]) == ["Party"] * 5


def test_the_label_is_kept_as_typed_and_a_blank_one_is_empty():
    labels = [" Husband ", "", None, " \t ", "Nephew"]
    related = [(label, contact(6000 + n, f"Person {n}")) for n, label in enumerate(labels)]
    ctx = context_for(make_bundle(JAY, related))
    assert [c["relationship"] for c in ctx.data["related"]] == [" Husband ", "", "", "", "Nephew"]
    assert ctx.data["client"]["relationship"] == ""


def test_lists_per_role_keep_clio_order_and_client_is_not_related():
    related = [
        ("Son", contact(2, "A B")),
        ("Wife", contact(3, "C D")),
        ("Daughter", contact(4, "E F")),
        ("grandson", contact(5, "G H")),
        ("Friend", contact(6, "I J")),
    ]
    data = context_for(make_bundle(JAY, related)).data
    assert [c["id"] for c in data["children"]] == [2, 4]
    assert data["spouse"]["id"] == 3 and [c["id"] for c in data["spouses"]] == [3]
    assert [c["id"] for c in data["grandchildren"]] == [5]
    assert [c["id"] for c in data["parties"]] == [6]
    assert [c["id"] for c in data["related"]] == [2, 3, 4, 5, 6]
    assert list(data["by_role"]) == ["Spouse", "Child", "Grandchild", "Co-client", "Party"]
    assert data["client"]["role"] == "Client" and data["client"]["relationship"] == ""
    assert data["today"] == "2026-03-01"
    assert data["children"][0]["relationship"] == "Son"


def test_renamed_roles_are_in_by_role_and_parties_follow_otherwise():
    rels = Relationships({"Husband or Wife": ["wife"], "Kid": ["son"]}, otherwise="Other Person")
    related = [("Wife", contact(2, "A B")), ("Son", contact(3, "C D")), ("Aunt", contact(4, "E F"))]
    data = context_for(make_bundle(JAY, related), mapping(relationships=rels)).data
    assert [c["id"] for c in data["by_role"]["Husband or Wife"]] == [2]
    assert [c["id"] for c in data["by_role"]["Kid"]] == [3]
    assert data["spouse"] is None and data["spouses"] == [] and data["children"] == []
    assert [c["id"] for c in data["parties"]] == [4]


def test_unmatched_labels_are_reported_with_the_nearest_synonym():
    related = [("Grandsun", contact(2, "A B")), ("", contact(3, "C D")), ("Son", contact(4, "E F"))]
    ctx = context_for(make_bundle(JAY, related))
    assert [(u.label, u.role, u.suggestion) for u in ctx.unmatched_labels] == [
        ("Grandsun", "Party", "grandson"),
        ("", "Party", None),
    ]
    views = [(v.id, v.name, v.relationship, v.role, v.classification.synonym) for v in ctx.contacts]
    assert views == [
        (5001, "Jay Pritchett", "", "Client", None),
        (2, "A B", "Grandsun", "Party", None),
        (3, "C D", "", "Party", None),
        (4, "E F", "Son", "Child", "son"),
    ]


def custom_of(values: list[dict[str, Any]], specs: tuple[CustomFieldSpec, ...] | None = None):
    client = contact(5001, "Jay Pritchett", custom_field_values=values)
    ctx = context_for(make_bundle(client, []), mapping(custom_fields=specs) if specs else None)
    return ctx.data["client"]["custom"], ctx.warnings


ALL = tuple(
    CustomFieldSpec(alias, name)
    for alias, name in [
        ("gender", "Gender"),
        ("citizenship", "citizenship "),
        ("marital", "MARITAL STATUS"),
        ("married_on", "Date of Marriage"),
        ("died_on", "Date of Death"),
        ("ssn", "Social Security Number"),
        ("resident", "US Resident"),
        ("marriages", "Prior Marriages"),
        ("estate", "Estimated Estate Value"),
        ("notes", "Notes for Attorney"),
        ("email", "Preferred Email"),
        ("web", "Website"),
        ("guardian", "Guardian"),
        ("other_matter", "Related Matter"),
        ("call_time", "Preferred Call Time"),
    ]
)


def test_every_custom_field_type_is_typed():
    values = [
        value(71001, "81002"),
        value(71002, 81011),
        value(71003, "81022"),
        value(71004, "2009-06-20"),
        value(71005, "2024-02-29T10:00:00-08:00"),
        value(71006, "123-45-6789"),
        value(71007, "true"),
        value(71008, "2"),
        value(71009, "1250000.50"),
        value(71010, "line 1\nline 2"),
        value(71011, "g@example.com"),
        value(71012, "https://x.example"),
        value(71013, "5002"),
        value(71014, 9002),
        value(71015, "18:30:00"),
    ]
    custom, warnings = custom_of(values, ALL)
    assert custom == {
        "gender": "Female",
        "citizenship": "US Citizen",
        "marital": "Married",
        "married_on": "2009-06-20",
        "died_on": "2024-02-29",
        "ssn": "123-45-6789",
        "resident": True,
        "marriages": 2,
        "estate": 1250000.5,
        "notes": "line 1\nline 2",
        "email": "g@example.com",
        "web": "https://x.example",
        "guardian": 5002,
        "other_matter": 9002,
        "call_time": "18:30:00",
    }
    assert warnings == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("No", False),
        (1, True),
        (0, False),
    ],
)
def test_checkbox_values(raw, expected):
    custom, _ = custom_of([value(71007, raw)], ALL)
    assert custom["resident"] is expected


def test_empty_deleted_and_missing_values_are_null_never_a_crash():
    values = [
        value(71001, None, vid=None),
        value(71002, "81011", soft_deleted=True),
        value(71008, ""),
    ]
    specs = (*ALL, CustomFieldSpec("nickname", "Nickname"), CustomFieldSpec("by_id", id=99999))
    custom, warnings = custom_of(values, specs)
    assert set(custom.values()) == {None}
    assert len(custom) == 17 and warnings == []


def test_bad_values_are_null_with_a_warning():
    values = [
        value(71001, "89999"),
        value(71004, "20/06/2009"),
        value(71008, "two"),
        value(71007, "maybe"),
    ]
    custom, warnings = custom_of(values, ALL)
    assert (custom["gender"], custom["married_on"], custom["marriages"], custom["resident"]) == (
        None,
    ) * 4
    assert warnings == [
        'Jay Pritchett: custom field "gender" has picklist option id "89999", which the field does not define; treated as blank',
        'Jay Pritchett: custom field "married_on" (date) has the value "20/06/2009", which is not a valid date value; treated as blank',
        'Jay Pritchett: custom field "resident" (checkbox) has the value "maybe", which is not a valid checkbox value; treated as blank',
        'Jay Pritchett: custom field "marriages" (numeric) has the value "two", which is not a valid numeric value; treated as blank',
    ]


def test_fields_match_by_id_and_fall_back_to_the_values_own_names():
    specs = (CustomFieldSpec("g", id=71001), CustomFieldSpec("nick", "Nickname"))
    nick = {
        "id": "text_line-9",
        "field_name": "nickname",
        "field_type": "text_line",
        "value": "Jay-Jay",
        "custom_field": {"id": 77777},
    }
    label_only = value(71001, "81001", picklist_option={"id": 81001, "option": "Male"})
    client = contact(5001, "Jay Pritchett", custom_field_values=[label_only, nick])
    bundle = make_bundle(client, [], custom_fields=[])  # no definitions (Clio's 403 quirk)
    ctx = context_for(bundle, mapping(custom_fields=specs))
    assert ctx.data["client"]["custom"] == {"g": "Male", "nick": "Jay-Jay"}


def test_odd_contacts_give_warnings_not_failures():
    company = contact(5001, "Dunphy Realty LLC", type="Company", first_name=None, last_name=None)
    related = [
        ("Wife", contact(2, "Maria V")),
        ("Spouse", contact(3, "Linda V")),
        ("Son", contact(4, "", first_name=None, last_name=None)),
        ("Daughter", {"id": 5, "redacted": True}),
    ]
    ctx = context_for(make_bundle(company, related))
    assert ctx.warnings == [
        "the client Dunphy Realty LLC is a Company, not a Person: personal answers (names, birth date) stay blank",
        "2 contacts are in the Spouse role (Maria V, Linda V): the first is `spouse`, all are in `spouses`",
        "contact 4 (a child) has no name",
        "contact 5 is redacted by Clio (your Clio user may not see it): its answers stay blank",
    ]
    assert ctx.data["spouse"]["id"] == 2 and len(ctx.data["spouses"]) == 2


def test_a_contact_related_twice_keeps_its_first_label():
    son = contact(2, "Mitchell Pritchett")
    bundle = make_bundle(JAY, [("Son", son), ("Son-in-law", son)])
    bundle["contacts"].pop()
    ctx = context_for(bundle)
    assert [c["relationship"] for c in ctx.data["related"]] == ["Son"]
    assert ctx.warnings == [
        'Mitchell Pritchett (contact 2) is related more than once; kept the first label "Son", ignored "Son-in-law"'
    ]


def test_exclusions_remove_contacts_from_every_list_but_preview_keeps_them():
    related = [("Wife", contact(2, "A B")), ("Son", contact(3, "C D"))]
    ctx = context_for(make_bundle(JAY, related), exclude=[2])
    assert ctx.data["spouse"] is None and ctx.data["by_role"]["Spouse"] == []
    assert [c["id"] for c in ctx.data["related"]] == [3]
    assert [(v.id, v.excluded) for v in ctx.contacts] == [(5001, False), (2, True), (3, False)]


def test_excluding_the_client_or_a_stranger_is_refused():
    bundle = make_bundle(JAY, [("Son", contact(3, "C D"))])
    with pytest.raises(MapctlError) as error:
        context_for(bundle, exclude=[5001])
    assert error.value.message == "contact 5001 is the matter's client and cannot be excluded"
    with pytest.raises(MapctlError) as error:
        context_for(bundle, exclude=[42, 7])
    assert (
        error.value.message == "cannot exclude contact 7, 42: not a related contact of this matter"
    )


GOOD = make_bundle(JAY, [("Son", contact(3, "C D"))])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"{not json",
            "b.json: not a matter bundle: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        (
            b"[1, 2]",
            "b.json: not a usable matter bundle: the file holds a JSON array, not an object",
        ),
        (b"{}", "b.json: not a usable matter bundle: no bundle_version (expected 1)"),
        (
            json.dumps({**GOOD, "bundle_version": 2}).encode(),
            "b.json: not a usable matter bundle: bundle_version 2 is not supported (expected 1)",
        ),
        (
            json.dumps({**GOOD, "bundle_version": "1"}).encode(),
            'b.json: not a usable matter bundle: bundle_version "1" is not supported (expected 1)',
        ),
        (
            json.dumps({**GOOD, "matter": None}).encode(),
            "b.json: not a usable matter bundle: 'matter' must be an object, got null",
        ),
        (
            json.dumps({**GOOD, "matter": {"id": 1}}).encode(),
            "b.json: not a usable matter bundle: the matter has no client ('matter.client.id' must be a number)",
        ),
        (
            json.dumps({**GOOD, "contacts": GOOD["contacts"][1:]}).encode(),
            "b.json: not a usable matter bundle: the matter's client (contact 5001) is not in 'contacts'",
        ),
        (
            json.dumps({**GOOD, "contacts": GOOD["contacts"][:1]}).encode(),
            "b.json: not a usable matter bundle: relationships[0] (\"Son\") points to contact 3, which is not in 'contacts'",
        ),
        (
            json.dumps({**GOOD, "contacts": {"a": 1}}).encode(),
            "b.json: not a usable matter bundle: 'contacts' must be an array, got object",
        ),
        (
            json.dumps({**GOOD, "contacts": [{"name": "x"}]}).encode(),
            "b.json: not a usable matter bundle: contacts[0] must be a contact object with a numeric id",
        ),
        (
            json.dumps({**GOOD, "relationships": [{"description": "Son"}]}).encode(),
            "b.json: not a usable matter bundle: relationships[0] has no contact id",
        ),
        (
            json.dumps({**GOOD, "custom_fields": "x"}).encode(),
            "b.json: not a usable matter bundle: 'custom_fields' must be an array of objects",
        ),
        (
            json.dumps({**GOOD, "co_clients": {"id": 3}}).encode(),
            "b.json: not a usable matter bundle: 'co_clients' must be an array of objects",
        ),
        (
            json.dumps({**GOOD, "co_clients": [{"id": "3"}]}).encode(),
            "b.json: not a usable matter bundle: co_clients[0] has no contact id",
        ),
        (
            json.dumps({**GOOD, "co_clients": [{"id": 99}]}).encode(),
            "b.json: not a usable matter bundle: co_clients[0] is contact 99, which is not in 'contacts'",
        ),
        (
            b"\xff\xfe garbage",
            "b.json: not a matter bundle: not valid JSON (Expecting value: line 1 column 1 (char 0))",
        ),
    ],
)
def test_a_bundle_that_is_not_a_bundle_is_refused_with_one_clear_message(data, message):
    with pytest.raises(BundleError) as error:
        load_bundle(data, "b.json")
    assert error.value.message == message


def test_property_decorated_synonyms_keep_their_role() -> None:
    import random

    from mapctl.engine.mapping.relationships import SEED_RELATIONSHIPS

    rnd = random.Random(42)
    pairs = [(role, syn) for role, syns in SEED_RELATIONSHIPS.items() for syn in syns]
    for _ in range(40):
        batch = [rnd.choice(pairs) for _ in range(8)]
        labels = []
        for _role, synonym in batch:
            text = "".join(
                (ch.upper() if rnd.random() < 0.5 else ch) + rnd.choice(["", "", " ", "-", "  "])
                for ch in synonym.replace("-", "")
            )
            labels.append(rnd.choice(["", " ", "\t"]) + text + rnd.choice(["", " "]))
        assert roles_of(labels) == [role for role, _ in batch], labels


def test_a_field_deleted_and_made_again_resolves_to_the_live_one():
    """Clio lists deleted fields for a while; listed by id, the old one comes first."""
    old = {"id": 100, "name": "Gender", "parent_type": "Contact", "field_type": "text_line",
           "deleted": True}  # fmt: skip
    new = {"id": 200, "name": "Gender", "parent_type": "Contact", "field_type": "text_line",
           "deleted": False}  # fmt: skip
    values = [
        {"id": "text_line-1", "value": "Old", "soft_deleted": True, "custom_field": {"id": 100}},
        {"id": "text_line-2", "value": "Female", "custom_field": {"id": 200}},
    ]
    client = contact(5001, "Gloria Pritchett", custom_field_values=values)
    bundle = make_bundle(client, [], custom_fields=[old, new])
    ctx = context_for(bundle, mapping(custom_fields=(CustomFieldSpec("gender", "Gender"),)))
    assert ctx.data["client"]["custom"] == {"gender": "Female"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"bundle_version": 1, "n": ' + b"1" * 5000 + b"}", "a number too long"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_json_python_cannot_hold_is_refused_not_a_crash(data: bytes, reason: str) -> None:
    with pytest.raises(BundleError) as error:
        load_bundle(data, "b.json")
    assert error.value.message == f"b.json: not a matter bundle: unreadable JSON ({reason})"


def test_a_numeric_value_with_a_huge_exponent_is_blank_at_once() -> None:
    custom, warnings = custom_of([value(71008, "1e99999999")], ALL)
    assert custom["marriages"] is None and len(warnings) == 1


@pytest.mark.parametrize("raw", ["81002", 81002, 81002.0, " 81002 "])
def test_a_picklist_option_id_in_any_json_form_gives_its_label(raw: Any) -> None:
    custom, warnings = custom_of([value(71001, raw)], ALL)
    assert (custom["gender"], warnings) == ("Female", [])


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("ascii"),  # the escape "\ud83d"
        # the surrogate's own (ill-formed) UTF-8 bytes, which json.loads decodes too
        lambda text: json.dumps(json.loads(text), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        ),
        lambda text: text.encode("utf-16"),  # json.loads also reads UTF-16
    ],
    ids=["escaped", "utf-8-bytes", "utf-16"],
)
def test_a_lone_surrogate_in_a_bundle_becomes_u_fffd(encode: Any) -> None:
    """Issue 9: every form of JSON that decodes to a lone surrogate is cleaned (the fast byte
    check must not miss one)."""
    bundle = make_bundle(contact(1, "Ann Lee", first_name="Ann\ud83d"), [])
    loaded = load_bundle(encode(json.dumps(bundle)), "b.json")
    assert loaded["contacts"][0]["first_name"] == "Ann\ufffd"


# --- co-clients (issue 17) -------------------------------------------------------------------


SON = contact(3, "C D")


def with_co_clients(*others: dict[str, Any], related: Any = (("Son", SON),)) -> Any:
    bundle = make_bundle(JAY, list(related))
    bundle["contacts"] += list(others)
    bundle["co_clients"] = [{"id": other["id"]} for other in others]
    return bundle


def test_co_clients_are_apart_from_related_in_their_own_role() -> None:
    claire = contact(7, "Claire Pritchett")
    ctx = context_for(with_co_clients(claire, contact(8, "Acme Inc", type="Company")))
    data = ctx.data
    assert [c["id"] for c in data["co_clients"]] == [7, 8]
    assert [c["role"] for c in data["co_clients"]] == ["Co-client", "Co-client"]
    assert data["co_clients"][0]["relationship"] == ""
    assert [c["id"] for c in data["related"]] == [3]
    assert [c["id"] for c in data["by_role"]["Co-client"]] == [7, 8]
    assert data["spouse"] is None and data["parties"] == []
    assert [(v.id, v.role, v.co_client) for v in ctx.contacts] == [
        (5001, "Client", False), (7, "Co-client", True), (8, "Co-client", True), (3, "Child", False),
    ]  # fmt: skip
    assert ctx.unmatched_labels == [] and ctx.warnings == []


def test_the_mapping_names_the_co_client_role_and_a_person_may_change_it() -> None:
    rules = Relationships(co_client="Joint Client")
    bundle = with_co_clients(contact(7, "Claire Pritchett"))
    ctx = context_for(bundle, mapping(relationships=rules))
    assert ctx.data["co_clients"][0]["role"] == "Joint Client"
    assert list(ctx.data["by_role"]) == ["Spouse", "Child", "Grandchild", "Joint Client", "Party"]
    chosen = context_for(bundle, roles={7: "Spouse"})
    assert chosen.data["spouse"]["id"] == 7 and chosen.data["co_clients"][0]["role"] == "Spouse"
    assert chosen.data["by_role"]["Co-client"] == []
    excluded = context_for(bundle, exclude={7})
    assert excluded.data["co_clients"] == [] and excluded.contacts[1].excluded


def test_a_relationship_to_a_co_client_is_ignored_with_a_warning() -> None:
    claire = contact(7, "Claire Pritchett")
    ctx = context_for(
        with_co_clients(claire, related=[("Wife", claire), ("Son", contact(3, "C D"))])
    )
    assert [c["id"] for c in ctx.data["related"]] == [3] and ctx.data["spouse"] is None
    assert ctx.warnings == [
        'Claire Pritchett (contact 7) is a co-client and also related as "Wife": kept as a '
        "co-client (Co-client)"
    ]


def test_an_old_bundle_and_one_with_no_co_clients_give_the_same_context() -> None:
    old = make_bundle(JAY, [("Wife", contact(2, "Gloria Pritchett"))])
    new = {**old, "co_clients": []}
    assert context_for(old).data == context_for(new).data
    assert context_for(old).data["co_clients"] == []
    client_twice = {**old, "co_clients": [{"id": 5001}]}  # the default client is no co-client
    assert context_for(client_twice).data["co_clients"] == []
