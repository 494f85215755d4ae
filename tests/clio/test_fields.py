"""The sandbox's `fields` parser and shaper, including a seeded property test."""

from __future__ import annotations

import random

import pytest
from mapctl.engine.clio.fields import InvalidFields, check_fields, field_table, parse_fields, shape


def test_parse() -> None:
    assert parse_fields("id,client{id,name},etag") == [
        ("id", None),
        ("client", [("id", None), ("name", None)]),
        ("etag", None),
    ]
    assert parse_fields(None) == [("id", None), ("etag", None)]
    assert parse_fields(" ") == [("id", None), ("etag", None)]
    assert parse_fields("id,,name,") == [("id", None), ("name", None)]


@pytest.mark.parametrize("text", ["a{b{c}}", "a{b", "a}", "a{b}c}", "x{y{"])
def test_unbalanced_or_nested_braces(text: str) -> None:
    with pytest.raises(InvalidFields):
        check_fields(parse_fields(text), "Matter")


def test_random_field_strings_shape_exactly_what_was_asked() -> None:
    """Seeded property test: any valid one-level selection of Matter fields comes back with
    exactly those keys (nested ones too); garbage only ever raises InvalidFields."""
    rng = random.Random(42)
    table = field_table()
    matter = table["Matter"]
    record = {
        "id": 1,
        "etag": '"e"',
        "client": {"id": 2, "etag": '"c"', "name": "N"},
        "relationships": [{"id": 3, "description": "Wife", "contact": {"id": 4}}],
    }
    for _ in range(300):
        names = rng.sample(sorted(matter), rng.randint(1, 8))
        parts = []
        expected: dict[str, list[str] | None] = {}
        for name in names:
            kind, target = matter[name]
            if kind != "scalar" and rng.random() < 0.5:
                sub = rng.sample(sorted(table[str(target)]), rng.randint(1, 3))
                parts.append(f"{name}{{{','.join(sub)}}}")
                expected[name] = sub
            else:
                parts.append(name)
                expected[name] = None
        spec = parse_fields(",".join(parts))
        check_fields(spec, "Matter")
        out = shape(record, spec, "Matter")
        assert list(out) == list(expected)
        for name, asked in expected.items():
            value = out[name]
            item = value[0] if isinstance(value, list) and value else value
            if asked is not None and isinstance(item, dict):
                assert list(item) == asked
        garbage = "".join(rng.choice("ab{},_ ") for _ in range(rng.randint(0, 12)))
        try:
            check_fields(parse_fields(garbage), "Matter")
        except InvalidFields:
            pass
