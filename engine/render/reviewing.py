"""Review lines: a mapping's `review` entries over one context -> lines for a person to check.

Stage: beside evaluation (after context). In: a `CompiledMapping` and a `Context`; out: the
context's warnings gain each line whose expression gave text (issue 17: the bundled ILS mapping
says "Spouse answers come from the co-client ..." when it answers the spouse from a co-client).
Pure: no I/O. A line that fails to evaluate becomes a warning saying so; it never stops a
render, a preview or an import.
"""

from __future__ import annotations

from typing import Any

from ..mapping.model import CompiledMapping
from .context import Context


def review_lines(mapping: CompiledMapping, data: dict[str, Any]) -> list[str]:
    """The text of every `review` entry that has something to say (null, false, "" and []
    say nothing; a number or a list of strings is shown as text)."""
    lines: list[str] = []
    for rule in mapping.review:
        try:
            value = rule.text.evaluate(data)
        except Exception as error:  # noqa: BLE001 - a review line never stops the work
            lines.append(f"the mapping's review line {rule.name!r} failed: {error}")
            continue
        text = _text(value)
        if text:
            lines.append(text)
    return lines


def add_review_lines(mapping: CompiledMapping, context: Context) -> None:
    """Add the mapping's review lines to the context's warnings (each once)."""
    for line in review_lines(mapping, context.data):
        if line not in context.warnings:
            context.warnings.append(line)


def _text(value: Any) -> str:
    if value is None or value is False or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value if item not in (None, ""))
    if value is True:
        return ""  # a condition without words: nothing a person could read
    return str(value).strip()
