"""Every example `mapctl functions` prints is executed: `EXPR -> RESULT` must hold (house
style: docs and examples are executed), over the blended-family bundle for examples that read
the context."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from engine.compilation import compile_mapping
from engine.context import build_context, load_bundle
from engine.expressions import compile_expression
from engine.functions import project_function_docs

BUNDLE = Path(__file__).resolve().parent.parent / "cases" / "blended-family" / "bundle.json"
DOCS = [doc for doc in project_function_docs() if doc.example]


def test_every_project_function_has_an_example() -> None:
    assert {doc.name for doc in project_function_docs()} == {doc.name for doc in DOCS}


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_the_example_gives_what_it_says(doc) -> None:
    expression, expected = (part.strip() for part in doc.example.rsplit(" -> ", 1))
    context = build_context(
        load_bundle(BUNDLE.read_bytes()), compile_mapping(), today=datetime.date(2026, 3, 1)
    )
    assert compile_expression(expression)(context.data) == json.loads(expected)
