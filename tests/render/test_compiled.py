"""The compiled path (engine/render/codegen.py) gives exactly what the interpreter gives: the same
answer-file bytes, warnings, left-out answers and errors, for every case in tests/cases/, every
bundled mapping in mappings/, a mapping of every expression shape, and a seeded set of hostile
bundles (odd types, nulls, lone surrogates, huge strings, missing keys, unexpected shapes,
non-ASCII, control characters...). And it does render most of them itself: a test that only ever
fell back to the interpreter would prove nothing."""

from __future__ import annotations

import copy
import datetime
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mapctl.engine.errors import EvaluationError, MapctlError
from mapctl.engine.hotdocs.answerfile import render_xml
from mapctl.engine.mapping.compilation import compile_mapping, compile_mapping_text
from mapctl.engine.mapping.expressions import compile_expression
from mapctl.engine.mapping.model import CompiledMapping
from mapctl.engine.render.codegen import plan_for, render_compiled, root_reads
from mapctl.engine.render.context import load_bundle
from mapctl.engine.render.rendering import render_bundle
from mapctl.engine.report import format_error, format_problems

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = ROOT / "tests" / "cases"
TODAY = datetime.date(2026, 3, 1)
CASE_BUNDLES = sorted(CASES.glob("*/bundle.json"))
BUNDLED_MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))

# Every shape of expression the engine handles: plain paths (inlined), functions, filters,
# projections, indexes, literals, the whole context (`@`: the generic context), every type.
SHAPES = r"""
version: 1
title: "Every shape & <kind> \"of\" answer"
relationships:
  Spouse: [husband, wife, spouse, partner]
  Child: [son, daughter, child, step-son, step-daughter]
  Grandchild: [grandchild, grandson, granddaughter]
  Parent: [mother, father]
  otherwise: Party
custom_fields:
  gender: Gender
  marital_status: Marital Status
  date_of_marriage: Date of Marriage
  ssn: {name: Social Security Number, sensitive: true}
answers:
  Client First Name TE: client.first_name
  Client Name Upper TE: upper(client.name)
  Client Id TE: client.id
  Client Id NU: {type: number, value: client.id}
  Client Birth DA: {type: date, value: client.date_of_birth}
  Client Gender MC: {type: multiple_choice, value: client.custom.gender}
  Genders MC: {type: multiple_choice, value: "[client.custom.gender, spouse.custom.gender]"}
  Client Married DA: {type: date, value: client.custom.date_of_marriage}
  Client SSN TE: client.custom.ssn
  Client Street TE: primary(client.addresses).street
  First Phone TE: client.phone_numbers[0].number
  Spouse Name TE: spouse.name
  Spouse Relationship TE: spouse.relationship
  Has Spouse TF: {type: true_false, value: "spouse != `null`"}
  Is Company TF: {type: true_false, value: "client.type == 'Company'"}
  Children NU: {type: number, value: length(children)}
  Child Names TE: "join(', ', children[].name)"
  Eldest Child TE: children[0].name
  Child Name TE: {each: children, value: name}
  Child Birth DA: {each: children, type: date, value: date_of_birth}
  Child Gender MC: {each: children, type: multiple_choice, value: custom.gender}
  Child Role TE: {each: children, value: role}
  Child Id NU: {each: children, type: number, value: id}
  Child Redacted TF: {each: children, type: true_false, value: "redacted == `true`"}
  Grandchild Name TE: {each: grandchildren, value: "coalesce(name, first_name)"}
  Party Name TE: {each: parties, value: name}
  Parent Name TE: {each: by_role.Parent, value: name}
  Related Labels TE: {each: "related[?relationship != '']", value: relationship}
  Addresses TE: {each: client.addresses, value: street}
  Matter Number TE: matter.display_number
  Matter Line TE: "format('{} / {}', matter.display_number, today)"
  Context Keys TE: "join(',', keys(@))"
  Odd "Name" & <x> \ TE: matter.description
  Literal NU: {type: number, value: "`42`"}
"""

ODD: list[Any] = [
    None, True, False, 0, 1, -1, 1.5, 2.0, 10**16 + 1, 2**60, 10**400, -0.0, 1e308,
    float("inf"), float("nan"), "", " ", "\t", "x", "\ud800", "a\udc00b", "\ud83d\ude00",
    "\u00c9mile", "Ün\u00efc\u00f6d\u00e9 名前", "a&b<c>\"'", "\x07bell", "\x00", "\r\n", "\ufffe",
    "x" * 16_000, "é" * 20, "2020-02-30", "2020-01-02", "2020-01-02T10:00:00Z", "01/02/2020",
    "yes", "No", "TRUE", "1250.50", "1e5", "9" * 400, " 12 ", [], [1, 2], ["a", None, ""],
    ["\x07"], {}, {"id": 1}, [{"name": "x"}], {"name": "y", "id": 3},
]  # fmt: skip
CONTACT_KEYS = ["first_name", "last_name", "name", "middle_name", "prefix", "date_of_birth",
                "type", "redacted", "addresses", "phone_numbers", "email_addresses",
                "custom_field_values", "id"]  # fmt: skip
LABELS = ["Wife", "husband ", "SON", "Step-Daughter", "grandson", "mother", "Ex-Wife", "",
          "   ", None, "Grand Daughter", "\ud800", "Fr\u00e8re", "child\x07", "Partner"]  # fmt: skip


def _mutate(bundle: dict[str, Any], rng: random.Random) -> None:
    contacts = bundle["contacts"]
    kind = rng.randrange(12)
    if kind <= 3:  # a contact's field: odd, or gone
        contact = rng.choice(contacts)
        key = rng.choice(CONTACT_KEYS[:-1])
        if rng.random() < 0.25:
            contact.pop(key, None)
        else:
            contact[key] = rng.choice(ODD)
    elif kind == 4:  # a custom field value
        values = [v for c in contacts for v in (c.get("custom_field_values") or [])
                  if isinstance(v, dict)]  # fmt: skip
        if values:
            value = rng.choice(values)
            key = rng.choice(["value", "value", "field_type", "id", "soft_deleted",
                              "custom_field", "picklist_option", "field_name"])  # fmt: skip
            value[key] = rng.choice(ODD)
    elif kind == 5:  # a relationship's label
        if bundle.get("relationships"):
            rng.choice(bundle["relationships"])["description"] = rng.choice(LABELS)
    elif kind == 6:  # relationships: one more, one less, one to the client
        rels = bundle.get("relationships") or []
        if rels and rng.random() < 0.4:
            rels.pop(rng.randrange(len(rels)))
        elif rels and rng.random() < 0.5:
            rels.append(copy.deepcopy(rng.choice(rels)))
        else:
            who = rng.choice(contacts)["id"]
            rels.append({"id": 77, "description": rng.choice(LABELS), "contact": {"id": who}})
    elif kind == 7:  # a custom field definition
        fields = bundle.get("custom_fields") or []
        if fields:
            field = rng.choice(fields)
            key = rng.choice(["name", "id", "field_type", "picklist_options", "parent_type",
                              "deleted"])  # fmt: skip
            field[key] = rng.choice(ODD)
    elif kind == 8:  # the matter
        bundle["matter"][rng.choice(["display_number", "description", "status"])] = rng.choice(ODD)
    elif kind == 9:  # a list of odd addresses or phone numbers
        contact = rng.choice(contacts)
        contact[rng.choice(["addresses", "phone_numbers"])] = [
            rng.choice([{"street": rng.choice(ODD), "primary": rng.choice(ODD)}, None, "x", 1])
            for _ in range(rng.randrange(4))
        ]
    elif kind == 10:  # a bundle key nobody knows yet (the generic context), or a broken shape
        if rng.random() < 0.7:
            bundle[rng.choice(["co_clients", "extra"])] = rng.choice(ODD)
        else:
            bundle[rng.choice(["contacts", "relationships", "custom_fields", "matter"])] = (
                rng.choice(ODD)
            )
    else:  # a big family: more children
        if bundle.get("relationships"):
            for n in range(rng.randrange(1, 30)):
                new_id = 880_000 + n
                contacts.append({"id": new_id, "name": f"Kid {n} {rng.choice(['&', 'é', 'x'])}",
                                 "date_of_birth": rng.choice(["2010-01-0" + str(n % 9 + 1),
                                                              None])})  # fmt: skip
                bundle["relationships"].append(
                    {"id": new_id, "description": "Son", "contact": {"id": new_id}}
                )


def _serialise(bundle: dict[str, Any], rng: random.Random) -> bytes:
    form = rng.randrange(10)
    if form < 5:
        return json.dumps(bundle).encode("ascii")  # lone surrogates as \ud800 escapes
    text = json.dumps(bundle, ensure_ascii=False, indent=rng.choice([None, 1]))
    if form == 9:
        return text.encode("utf-16", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")  # lone surrogates as UTF-8 bytes (ED A0 80)


def hostile_bundles(count: int, seed: int = 20) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    originals = [json.loads(path.read_bytes()) for path in CASE_BUNDLES]
    for number in range(count):
        bundle = copy.deepcopy(rng.choice(originals))
        for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 5])):
            try:
                _mutate(bundle, rng)
            except (AttributeError, TypeError, KeyError, IndexError):
                pass  # an earlier mutation broke the shape this one expects
        yield f"hostile-{number:03d}.json", _serialise(bundle, rng)


def _mappings() -> list[tuple[str, CompiledMapping]]:
    found = [(path.name, compile_mapping(path)) for path in BUNDLED_MAPPINGS]
    found.append(("shapes", compile_mapping_text(SHAPES, "shapes.yaml")))
    fast = SHAPES.replace("  Context Keys TE: \"join(',', keys(@))\"\n", "")
    found.append(("shapes-fast-context", compile_mapping_text(fast, "shapes.yaml")))
    return found


MAPPINGS = _mappings()


def outcome(raw: bytes, mapping: CompiledMapping, *, compiled: bool, keep_going: bool) -> Any:
    """Everything a user sees of one render."""
    try:
        rendered = render_bundle(
            raw, "b.json", mapping, today=TODAY, keep_going=keep_going, compiled=compiled
        )
    except MapctlError as error:
        told = error.warnings if isinstance(error, EvaluationError) else None
        return ("refused", type(error).__name__, format_error(error), told)
    errors = format_problems(rendered.errors) if rendered.errors else ""
    if not compiled:  # the writer trusts evaluation's clean text: the same as cleaning it again
        assert render_xml(rendered.evaluation.answer_set) == rendered.output
    return ("rendered", rendered.output, rendered.warnings, errors)


def _check_both(raw: bytes, mapping: CompiledMapping) -> None:
    for keep_going in (False, True):
        interpreted = outcome(raw, mapping, compiled=False, keep_going=keep_going)
        assert outcome(raw, mapping, compiled=True, keep_going=keep_going) == interpreted


def _compiled_renders(raw: bytes, mapping: CompiledMapping) -> bool:
    try:
        bundle = load_bundle(raw)
    except MapctlError:
        return False
    return render_compiled(bundle, mapping, TODAY) is not None


@pytest.mark.parametrize("name,mapping", MAPPINGS, ids=[name for name, _ in MAPPINGS])
def test_every_case_gives_the_same_bytes_both_ways(name: str, mapping: CompiledMapping) -> None:
    compiled = 0
    for path in CASE_BUNDLES:
        raw = path.read_bytes()
        _check_both(raw, mapping)
        compiled += _compiled_renders(raw, mapping)
    assert compiled >= len(CASE_BUNDLES) // 2  # most cases take the compiled path


@pytest.mark.parametrize("name,mapping", MAPPINGS, ids=[name for name, _ in MAPPINGS])
def test_hostile_bundles_give_the_same_bytes_both_ways(name: str, mapping: CompiledMapping) -> None:
    compiled = 0
    bundles = list(hostile_bundles(160))
    for _, raw in bundles:
        _check_both(raw, mapping)
        compiled += _compiled_renders(raw, mapping)
    assert compiled >= len(bundles) // 5, compiled  # not a test of the fallback alone


def test_the_hostile_set_is_hostile() -> None:
    """The generator makes what it says: surrogates both ways, refused bundles, huge text."""
    raws = [raw for _, raw in hostile_bundles(160)]
    assert any(b"\\ud800" in raw for raw in raws)
    assert any(b"\xed\xa0\x80" in raw for raw in raws)
    assert any(raw.startswith((b"\xff\xfe", b"\xfe\xff")) for raw in raws)
    assert any(b"x" * 16_000 in raw for raw in raws)
    refused = sum(1 for raw in raws if outcome(raw, MAPPINGS[0][1], compiled=False,
                                               keep_going=False)[0] == "refused")  # fmt: skip
    assert 0 < refused < len(raws) // 2


def test_the_whole_context_or_an_unknown_key_takes_the_generic_context() -> None:
    plans = {name: plan_for(mapping) for name, mapping in MAPPINGS}
    assert all(plan is not None for plan in plans.values())
    generic = {name: plan.generic_context for name, plan in plans.items() if plan is not None}
    assert generic["shapes"]  # keys(@)
    assert not generic["ils-client-interview.yaml"]
    assert not generic["shapes-fast-context"]
    assert root_reads(compile_expression("co_clients[0].name").ast) == {"co_clients"}
    assert root_reads(compile_expression("sort_by(children, &name)[0].custom").ast) == {"children"}
    assert root_reads(compile_expression("*.name").ast) is None


def test_a_bundle_with_a_new_key_still_renders_compiled_through_the_generic_context() -> None:
    default = dict(MAPPINGS)["ils-client-interview.yaml"]
    bundle = json.loads((CASES / "blended-family" / "bundle.json").read_bytes())
    bundle["a_key_from_a_later_mapctl"] = [{"id": 1}]
    raw = json.dumps(bundle).encode()
    assert _compiled_renders(raw, default)
    _check_both(raw, default)


def test_the_compiled_result_still_has_the_context_and_evaluation_on_demand() -> None:
    default = dict(MAPPINGS)["ils-client-interview.yaml"]
    raw = (CASES / "blended-family" / "bundle.json").read_bytes()
    rendered = render_bundle(raw, "b.json", default, today=TODAY)
    assert rendered._evaluation is None  # compiled
    assert rendered.errors == []
    interpreted = render_bundle(raw, "b.json", default, today=TODAY, compiled=False)
    assert rendered.evaluation.answer_set == interpreted.evaluation.answer_set
    assert rendered.context.data == interpreted.context.data
