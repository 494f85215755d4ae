"""Every example `mapctl functions` prints (project functions and JMESPath built-ins) is
executed: `EXPR -> RESULT` must hold (house style: docs and examples are executed), over the
blended-family bundle for examples that read the context."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.mapping.expressions import compile_expression
from mapctl.engine.mapping.functionlist import function_list
from mapctl.engine.mapping.functions import project_function_docs
from mapctl.engine.render.context import build_context, load_bundle

BUNDLE = Path(__file__).resolve().parent.parent / "cases" / "blended-family" / "bundle.json"
LISTED = function_list()


def test_every_function_has_an_example() -> None:
    assert [f["name"] for f in LISTED if not f["example"]] == []
    assert {doc.name for doc in project_function_docs()} <= {f["name"] for f in LISTED}


@pytest.mark.parametrize("listed", LISTED, ids=lambda f: f["name"])
def test_the_example_gives_what_it_says(listed) -> None:
    expression, expected = (part.strip() for part in listed["example"].rsplit(" -> ", 1))
    context = build_context(
        load_bundle(BUNDLE.read_bytes()), compile_mapping(), today=datetime.date(2026, 3, 1)
    )
    assert compile_expression(expression)(context.data) == json.loads(expected)
