"""Model: the pure data every stage passes along. Frozen dataclasses, no behaviour, no I/O.

The compiled mapping's types live beside the mapping language (`engine.mapping.model`).
- `AnswerSet` / `Answer` are the answers: what evaluation produces, what `answerfile` writes
  and reads.

Answer values by type (None always means unanswered):
  text -> str; number -> int | float; date -> datetime.date; true_false -> bool;
  multiple_choice -> tuple[str, ...] (one string per selection).
A repeated answer's value is a tuple with one entry per repeat (each a value, None for an
unanswered gap, or a nested tuple for a nested repeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

AnswerType = Literal["text", "number", "date", "true_false", "multiple_choice"]
ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)

# What people see instead of a `sensitive` custom field's value (explain, errors, warnings).
SENSITIVE_MASK = "•••• (sensitive)"

# The HotDocs value element for each answer type.
VALUE_ELEMENTS: dict[str, str] = {
    "text": "TextValue",
    "number": "NumValue",
    "date": "DateValue",
    "true_false": "TFValue",
    "multiple_choice": "MCValue",
}


@dataclass(frozen=True)
class Answer:
    """One answer of an answer file. `value` follows the table in this module's docstring."""

    name: str
    type: AnswerType
    value: Any
    repeated: bool = False


@dataclass(frozen=True)
class AnswerSet:
    """The answers for one interview, in mapping order."""

    title: str
    answers: tuple[Answer, ...] = ()

    def get(self, name: str) -> Answer | None:
        return next((a for a in self.answers if a.name == name), None)
