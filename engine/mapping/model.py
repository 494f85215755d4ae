"""The compiled mapping: what `compilation.compile_mapping` makes of a validated mapping file
(every expression already compiled) and what evaluation consumes. Frozen dataclasses, no
behaviour, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SourceLocation
from ..model import AnswerType
from .expressions import Expression
from .relationships import Relationships


@dataclass(frozen=True)
class FieldCreation:
    """A declaration's `create`: how `mapctl doctor --create-fields` makes the field in Clio."""

    type: str  # a Clio custom field type: text_line, picklist, date, checkbox...
    options: tuple[str, ...] = ()  # picklist options, in order


@dataclass(frozen=True)
class CustomFieldSpec:
    """One `custom_fields` entry: alias -> Clio custom contact field (by name or id)."""

    alias: str
    name: str | None = None
    id: int | None = None
    sensitive: bool = False
    location: SourceLocation | None = field(default=None, compare=False)
    create: FieldCreation | None = None


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
class ReviewRule:
    """One `review` entry: a line for the import review, when its expression gives text."""

    name: str
    text: Expression
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CompiledMapping:
    """A mapping checked and compiled: ready to evaluate any number of bundles."""

    title: str
    relationships: Relationships
    custom_fields: tuple[CustomFieldSpec, ...]
    client_record: ClientRecordRule
    answers: tuple[AnswerRule, ...]
    files: tuple[str, ...] = ()  # the mapping file first, then what it extends, as typed
    review: tuple[ReviewRule, ...] = ()  # lines for the review (preview, import, explain)

    @property
    def sensitive_aliases(self) -> frozenset[str]:
        return frozenset(spec.alias for spec in self.custom_fields if spec.sensitive)
