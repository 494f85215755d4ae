"""Review lines (issue 17): a mapping's `review` entries over a context -> lines people check."""

from __future__ import annotations

from typing import Any

from mapctl.engine.mapping.compilation import compile_mapping_text
from mapctl.engine.render.reviewing import review_lines


def lines_for(*expressions: str, data: dict[str, Any] | None = None) -> list[str]:
    body = "".join(f"  l{n}: {json_text(e)}\n" for n, e in enumerate(expressions))
    mapping = compile_mapping_text(f"version: 1\nanswers:\n  A TE: client.name\nreview:\n{body}")
    return review_lines(mapping, data or {"client": {"name": "Jay"}, "co_clients": []})


def json_text(expression: str) -> str:
    return '"' + expression.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_text_is_a_line_and_nothing_to_say_is_none() -> None:
    assert lines_for(
        "format('Check {}', client.name)",
        "`null`",
        "`false`",
        "''",
        "co_clients",
        "`true`",
        '`["a", null, "b"]`',
        "`3`",
    ) == ["Check Jay", "a, b", "3"]


def test_a_line_that_fails_says_so_and_stops_nothing() -> None:
    assert lines_for("length(client.nothing)", "'still here'") == [
        "the mapping's review line 'l0' failed: In function length(), invalid type for value: "
        "None, expected one of: ['string', 'array', 'object'], received: \"null\"",
        "still here",
    ]
