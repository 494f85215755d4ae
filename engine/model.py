"""Model: the pure data every stage passes along. Frozen dataclasses, no behaviour, no I/O.

- `CompiledMapping` is what `compilation.compile_mapping` makes of a validated mapping file
  (every expression already compiled) and what evaluation consumes.
- `AnswerSet` / `Answer` are the answers: what evaluation produces, what `answerfile` writes
  and reads.

Answer values by type (None always means unanswered):
  text -> str; number -> int | float; date -> datetime.date; true_false -> bool;
  multiple_choice -> tuple[str, ...] (one string per selection).
A repeated answer's value is a tuple with one entry per repeat (each a value, None for an
unanswered gap, or a nested tuple for a nested repeat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from engine.errors import SourceLocation
from engine.expressions import Expression
from engine.relationships import Relationships

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
class CustomFieldSpec:
    """One `custom_fields` entry: alias -> Clio custom contact field (by name or id)."""

    alias: str
    name: str | None = None
    id: int | None = None
    sensitive: bool = False
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AnswerRule:
    """One `answers` entry: how to answer one interview variable."""

    name: str
    type: AnswerType
    value: Expression
    each: Expression | None = None
    required: bool = False
    location: SourceLocation | None = field(default=None, compare=False)

    @property
    def repeated(self) -> bool:
        return self.each is not None


@dataclass(frozen=True)
class ClientRecordRule:
    """The new ILS client record: its name and notes, as expressions."""

    name: Expression
    notes: Expression


@dataclass(frozen=True)
class CompiledMapping:
    """A mapping checked and compiled: ready to evaluate any number of bundles."""

    title: str
    relationships: Relationships
    custom_fields: tuple[CustomFieldSpec, ...]
    client_record: ClientRecordRule
    answers: tuple[AnswerRule, ...]
    files: tuple[str, ...] = ()  # the mapping file first, then what it extends, as typed

    @property
    def sensitive_aliases(self) -> frozenset[str]:
        return frozenset(spec.alias for spec in self.custom_fields if spec.sensitive)


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
