"""Compiled expressions give exactly what jmespath.search gives, fast path or not."""

from __future__ import annotations

import jmespath
import pytest
from mapctl.engine.mapping.expressions import (
    OPTIONS,
    called_functions,
    compile_expression,
    field_paths,
)

DATA = {
    "client": {
        "name": "Jay Pritchett",
        "custom": {"marital": "Married", "kids": 3},
        "addresses": [{"city": "LA", "primary": False}, {"city": "NY", "primary": True}],
    },
    "children": [{"name": "Claire"}, {"name": None}, {"name": "Mitchell"}],
    "spouse": None,
}

EXPRESSIONS = [
    "client.name",
    "client.custom.marital",
    "client.nope.deeper",
    "spouse.name",
    "children[*].name",
    "children[0].name",
    "children[-1].name",
    "children[5].name",
    "children | [1]",
    "children[?name].name",
    "client.addresses[*].city | [0]",
    "primary(client.addresses).city",
    "length(children)",
    "format('{} ({})', client.name, client.custom.kids)",
    "upper(spouse.name)",
    "coalesce(spouse.name, client.name)",
    "`1`",
    "'literal'",
    "@.client.name",
    "client.name || 'x'",
    "join(', ', children[*].name)",
    "{n: client.name}",
]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_compiled_expression_matches_jmespath(source: str) -> None:
    assert compile_expression(source)(DATA) == jmespath.search(source, DATA, OPTIONS)


def test_called_functions_lists_nested_calls_in_order() -> None:
    ast = compile_expression("upper(trim(client.name))").ast
    assert called_functions(ast) == ["upper", "trim"]


def test_field_paths_names_the_clio_fields_read() -> None:
    ast = compile_expression("coalesce(client.custom.marital, spouse.name)").ast
    assert field_paths(ast) == [("client", "custom", "marital"), ("spouse", "name")]
