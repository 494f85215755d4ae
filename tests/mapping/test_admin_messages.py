"""Validate messages from an admin's day (issue 11) beyond the error-text snapshots in
tests/invalid/: the cases a snapshot cannot show on its own."""

from __future__ import annotations

from mapctl.engine.mapping.loading import load_text
from mapctl.engine.mapping.validation import validate


def messages(text: str, tmp_path) -> list[tuple[int, str, str]]:
    problems = validate(load_text(text, "m.yaml", tmp_path))
    return [(p.location.line if p.location else 0, p.severity, p.message) for p in problems]


def test_a_misspelled_relationships_section_is_one_error(tmp_path):
    text = (
        "version: 1\nrelationship:\n  Business: [partner]\nanswers:\n"
        "  A TE: by_role.Business[0].name\n  B TE: by_role.Busines[0].name\n"
    )
    assert messages(text, tmp_path) == [
        (2, "error", "unknown key 'relationship'"),
        (6, "error", "answer 'B TE': undeclared role 'Busines'"),
    ]


def test_a_required_each_reading_a_missing_field_is_an_error(tmp_path):
    text = (
        "version: 1\nanswers:\n"
        "  A TE: {each: client.kids, value: name, required: true}\n"
        "  B TE: {each: client.kids, value: name}\n"
    )
    assert [(line, severity) for line, severity, _ in messages(text, tmp_path)] == [
        (3, "error"),
        (4, "warning"),
    ]


def test_required_false_stays_a_warning(tmp_path):
    text = "version: 1\nanswers:\n  A TE: {value: client.frist_name, required: false}\n"
    assert [severity for _, severity, _ in messages(text, tmp_path)] == ["warning"]
