"""Redaction: personal data replaced by stable fakes; ids, labels and picklist values kept."""

from __future__ import annotations

import copy
import datetime
import json
import random
import stat
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.clio.client import CONTACT_FIELDS
from mapctl.engine.errors import MapctlError
from mapctl.engine.render.redact import Redactor, home_key, redact_bundle
from mapctl.engine.sandbox.api import Api, Store
from mapctl.engine.sandbox.seed import demo_data

from tests.conftest import POSIX_MODES

PERSONAL = [
    "Pritchett",
    "Gloria",
    "Dunphy",
    "Delgado",
    "Tucker",
    "Marshall",
    "Jay ",
    "jay.pritchett@example.com",
    "900-12-3456",
    "900-65-4321",
    "1947-05-23",
    "1971-05-13",
    "Closets",
    "Prefers morning",
    "pritchettclosets",
]


def demo_bundle() -> dict[str, Any]:
    api = Api(Store(demo_data()), "http://sandbox")
    matter = api.handle(
        "/api/v4/matters/9002.json",
        [
            (
                "fields",
                "id,display_number,description,client{id,name,first_name,last_name}",
            )
        ],
    ).body["data"]
    rels = api.handle(
        "/api/v4/relationships.json",
        [("matter_id", "9002"), ("fields", "id,description,contact{id}")],
    ).body["data"]
    ids = [5001, *(r["contact"]["id"] for r in rels)]
    query = [("ids[]", str(i)) for i in ids] + [("fields", CONTACT_FIELDS)]
    contacts = api.handle("/api/v4/contacts.json", query).body["data"]
    fields = api.handle(
        "/api/v4/custom_fields.json", [("fields", "id,name,field_type,picklist_options{id,option}")]
    ).body["data"]
    return {
        "bundle_version": 1,
        "matter": matter,
        "contacts": contacts,
        "relationships": [
            {"id": r["id"], "description": r["description"], "contact": {"id": r["contact"]["id"]}}
            for r in rels
        ],
        "custom_fields": fields,
    }


def strip_personal(value: Any) -> Any:
    """The structure with every string/number of personal data replaced by its type."""
    if isinstance(value, dict):
        return {k: strip_personal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_personal(v) for v in value]
    return type(value).__name__


def test_no_personal_data_is_left() -> None:
    text = json.dumps(redact_bundle(demo_bundle()))
    for word in PERSONAL:
        assert word not in text, word


def test_structure_ids_labels_and_picklists_are_kept() -> None:
    bundle = demo_bundle()
    redacted = redact_bundle(bundle)
    assert strip_personal(redacted) == strip_personal(bundle)
    assert redacted["relationships"] == bundle["relationships"]
    assert redacted["custom_fields"] == bundle["custom_fields"]
    for before, after in zip(bundle["contacts"], redacted["contacts"], strict=True):
        assert after["id"] == before["id"] and after["type"] == before["type"]
        kept = [
            (v["field_type"], v["value"])
            for v in before["custom_field_values"]
            if v["field_type"] in ("picklist", "checkbox", "numeric", "contact", "matter")
        ]
        assert kept == [
            (v["field_type"], v["value"])
            for v in after["custom_field_values"]
            if v["field_type"] in ("picklist", "checkbox", "numeric", "contact", "matter")
        ]
    assert bundle == demo_bundle()  # the input is not modified


def test_the_same_person_gets_the_same_fake_everywhere() -> None:
    redacted = redact_bundle(demo_bundle())
    jay = redacted["contacts"][0]
    assert redacted["matter"]["client"]["name"] == jay["name"]
    assert jay["last_name"] in redacted["matter"]["display_number"]
    assert redacted["matter"]["description"].endswith(jay["name"])
    assert jay["email_addresses"][0]["address"] == jay["primary_email_address"]
    assert jay["primary_email_address"].startswith(
        f"{jay['first_name']}.{jay['last_name']}".lower()
    )
    surnames = {c["last_name"] for c in redacted["contacts"][:2]}  # Jay and Gloria Pritchett
    assert len(surnames) == 1
    assert redact_bundle(demo_bundle()) == redacted  # deterministic across runs


def test_birth_dates_stay_plausible() -> None:
    bundle, redacted = demo_bundle(), redact_bundle(demo_bundle())
    for before, after in zip(bundle["contacts"], redacted["contacts"], strict=True):
        if before["date_of_birth"]:
            assert after["date_of_birth"] != before["date_of_birth"]
            assert abs(int(after["date_of_birth"][:4]) - int(before["date_of_birth"][:4])) <= 1


def test_sensitive_fields_from_the_mapping_are_redacted_too() -> None:
    plain = redact_bundle(demo_bundle())
    extra = redact_bundle(demo_bundle(), ["Date of Marriage", 71008])

    def value(bundle: dict[str, Any], name: str) -> Any:
        return next(
            v["value"]
            for v in bundle["contacts"][0]["custom_field_values"]
            if v["field_name"] == name
        )

    assert value(plain, "Date of Marriage") == "2007-06-16"
    assert value(extra, "Date of Marriage") not in ("2007-06-16", None)
    assert value(extra, "Social Security Number").startswith("9")
    assert len(value(extra, "Social Security Number")) == len("900-12-3456")


def test_random_bundles_keep_shape_and_lose_names() -> None:
    """Property test (fixed seed): any mix of contacts keeps its shape and loses its names."""
    rng = random.Random(7)
    base = demo_bundle()
    for _ in range(30):
        bundle = copy.deepcopy(base)
        bundle["contacts"] = rng.sample(base["contacts"], rng.randint(1, len(base["contacts"])))
        redacted = redact_bundle(bundle)
        assert strip_personal(redacted) == strip_personal(bundle)
        for contact in bundle["contacts"]:
            for key in ("first_name", "last_name"):
                if contact[key]:
                    assert contact[key] not in json.dumps(redacted["contacts"])


def birth_dates_that_give(fake: str, contact_id: int) -> list[str]:
    """The attack on an unkeyed redaction: every date whose public-salt fake is `fake`."""
    day = datetime.date.fromisoformat(fake)
    candidates = (day + datetime.timedelta(days=d) for d in range(-181, 182))
    public = Redactor()
    return [c.isoformat() for c in candidates if public.date(c.isoformat(), contact_id) == fake]


def test_a_keyed_redaction_cannot_be_worked_back() -> None:
    """With the public salt a fake birth date gives the real one back (a few hundred tries);
    with a secret key the same search misses it."""
    jay_born = "1947-05-23"
    unkeyed = redact_bundle(demo_bundle())["contacts"][0]["date_of_birth"]
    assert jay_born in birth_dates_that_give(unkeyed, 5001)
    keyed = redact_bundle(demo_bundle(), key=bytes(range(32)))
    assert jay_born not in birth_dates_that_give(keyed["contacts"][0]["date_of_birth"], 5001)
    other = redact_bundle(demo_bundle(), key=bytes(range(1, 33)))
    assert keyed["contacts"][0]["name"] != other["contacts"][0]["name"] or (
        keyed["contacts"][0]["date_of_birth"] != other["contacts"][0]["date_of_birth"]
    )
    assert redact_bundle(demo_bundle(), key=bytes(range(32))) == keyed  # same key, same fakes


def test_the_home_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = home_key(tmp_path)
    path = tmp_path / "redact.key"
    assert len(key) == 32
    assert not POSIX_MODES or stat.S_IMODE(path.stat().st_mode) == 0o600
    assert home_key(tmp_path) == key
    path.write_text("not hex\n")
    with pytest.raises(MapctlError) as info:
        home_key(tmp_path)
    assert info.value.message == f"the redaction key {path} is unreadable"


def test_the_responsible_attorney_is_renamed_too() -> None:
    bundle = demo_bundle()
    bundle["matter"]["responsible_attorney"] = {"id": 3001, "name": "Sam Sandbox"}
    redacted = redact_bundle(bundle)["matter"]["responsible_attorney"]
    assert redacted["id"] == 3001 and redacted["name"] != "Sam Sandbox"
    assert "Sam" not in redacted["name"] and len(redacted["name"].split()) == 2


@pytest.mark.parametrize("ssn", [123456789, 123456789.0, -4321, 9.5])
def test_a_numeric_sensitive_field_is_redacted_too(ssn: int | float) -> None:
    """Issue 9: a numeric custom field marked sensitive was skipped (its value is no string), so
    `fetch --redact` kept the client's SSN. It gets a fake of the same type and shape."""
    bundle = demo_bundle()
    values = bundle["contacts"][0]["custom_field_values"]
    values.append(
        {"id": "numeric-1", "field_name": "SSN Number", "field_type": "numeric", "value": ssn,
         "custom_field": {"id": 71999}}
    )  # fmt: skip
    redacted = redact_bundle(bundle, ["SSN Number"])
    fake = next(
        v["value"] for v in redacted["contacts"][0]["custom_field_values"] if v["id"] == "numeric-1"
    )
    assert fake != ssn
    assert type(fake) is type(ssn)
    assert len(str(abs(fake))) == len(str(abs(ssn)))
    assert str(ssn) not in json.dumps(redacted)


def _person(ident: int, first: str, last: str) -> dict[str, Any]:
    return {"id": ident, "type": "Person", "name": f"{first} {last}", "first_name": first,
            "last_name": last}  # fmt: skip


def test_different_people_get_different_fakes_within_a_bundle() -> None:
    """Paper cut 5 (issue 15): the fake was picked per name from 30 first names, so a client
    and his wife could both become "Corin Rowntree" (Gloria and Haley both hash to one fake with
    the public salt). Within a bundle, different names now get different fakes, whatever the
    contacts' order, and the same name keeps its fake (a family keeps one surname)."""
    from mapctl.engine.render.redact import FIRST, SALT, _hash

    picks = {name: _hash(SALT.encode(), "firs", name.casefold()) % len(FIRST) for name in
             ("Gloria", "Haley")}  # fmt: skip
    assert picks["Gloria"] == picks["Haley"]  # what made the same fake before
    family = [_person(5001, "Gloria", "Pritchett"), _person(5002, "Haley", "Pritchett"),
              _person(5003, "Jay", "Pritchett")]  # fmt: skip
    bundle = {"matter": {"id": 1, "client": {"id": 5001}}, "contacts": family}
    names = [c["name"] for c in redact_bundle(bundle)["contacts"]]
    assert len(set(names)) == 3, names
    assert len({n.split()[1] for n in names}) == 1  # one surname still
    backwards = {"matter": bundle["matter"], "contacts": list(reversed(family))}
    assert sorted(c["name"] for c in redact_bundle(backwards)["contacts"]) == sorted(names)
    assert redact_bundle(bundle) == redact_bundle(copy.deepcopy(bundle))  # stable


def test_a_family_larger_than_the_name_pools_still_gets_distinct_fakes() -> None:
    contacts = [_person(6000 + n, f"Given{chr(65 + n % 26)}{n}", f"Family{n % 3}") for n in
                range(45)]  # fmt: skip
    bundle = {"matter": {"id": 1, "client": {"id": 6000}}, "contacts": contacts}
    names = [c["name"] for c in redact_bundle(bundle, key=b"k" * 32)["contacts"]]
    assert len(set(names)) == 45
    assert not any("Given" in n or "Family" in n for n in names)


def test_fetch_warnings_name_no_one_once_redacted() -> None:
    """A fetched bundle's warnings (issue 17: refused fields, stub records) name contacts."""
    bundle = demo_bundle()
    bundle["fetch_warnings"] = [
        "contact Jay Pritchett (5001): Clio sent addresses 77 with an id but none of street",
        "matter 00002-Pritchett (9002): Clio sent only its id (none of description)",
    ]
    redacted = redact_bundle(bundle)["fetch_warnings"]
    assert len(redacted) == 2 and "(5001)" in redacted[0]
    for word in ("Jay", "Pritchett"):
        assert word not in json.dumps(redacted), word
