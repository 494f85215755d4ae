"""Compilation: a mapping file -> `CompiledMapping`, every expression compiled once.

Stage: loading -> validation -> here. Runs before any network call (a bad mapping fails before
Clio is asked anything). Raises `MappingError` with every problem validation found; otherwise
builds the model with defaults filled in (title, relationships, client_record).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from ..errors import MappingError, SourceLocation
from ..model import AnswerType
from ..textsafe import replace_surrogates
from .expressions import Expression, compile_expression
from .loading import Entry, LoadedMapping, load_mapping, load_text
from .model import (
    AnswerRule,
    ClientRecordRule,
    CompiledMapping,
    CustomFieldSpec,
    FieldCreation,
    ReviewRule,
)
from .validation import expression_sites, relationships_of, validate

DEFAULT_CLIENT_NAME = "client.name"
DEFAULT_CLIENT_NOTES = "format('Imported from Clio matter {} on {}', matter.display_number, today)"


def compile_mapping(path: str | os.PathLike[str] | None = None) -> CompiledMapping:
    """Load, validate and compile a mapping file (None: the bundled default mapping)."""
    return compile_loaded(load_mapping(path))


def compile_mapping_text(
    text: str, filename: str = "mapping.yaml", folder: Path | None = None
) -> CompiledMapping:
    """The same for a mapping given as text (`extends` resolve in `folder`, default cwd)."""
    return compile_loaded(load_text(text, filename, folder))


def compile_loaded(loaded: LoadedMapping) -> CompiledMapping:
    """Validate a loaded mapping; raise `MappingError` with every problem, or compile it."""
    problems = validate(loaded)
    if any(problem.is_error for problem in problems):
        raise MappingError(problems)
    compiled = {
        (id(entry), site.path): compile_expression(
            site.source, site.doc.offset_location(site.path, 0)
        )
        for site, entry in expression_sites(loaded)
    }
    return CompiledMapping(
        title=_title(loaded),
        relationships=relationships_of(loaded),
        custom_fields=tuple(_custom_field(alias, e) for alias, e in loaded.custom_fields.items()),
        client_record=_client_record(loaded, compiled),
        answers=tuple(_answer(name, e, compiled) for name, e in loaded.answers.items()),
        files=tuple(doc.file for doc in loaded.documents),
        review=tuple(
            ReviewRule(name, compiled[(id(e), e.path)], e.doc.location(e.path, key=True))
            for name, e in loaded.review.items()
            if (id(e), e.path) in compiled
        ),
    )


Compiled = dict[tuple[int, tuple[str | int, ...]], Expression]


def _title(loaded: LoadedMapping) -> str:
    if loaded.title is not None:
        return replace_surrogates(str(loaded.title.value))  # YAML's "\ud83d" (issue 9)
    name = os.path.basename(loaded.file)
    return os.path.splitext(name)[0] or name


def _custom_field(alias: str, entry: Entry) -> CustomFieldSpec:
    location = entry.doc.location(entry.path, key=True)
    value = entry.value
    if isinstance(value, str):
        return CustomFieldSpec(alias, name=value, location=location)
    spec = cast(dict[str, Any], value)
    create = spec.get("create")
    return CustomFieldSpec(
        alias,
        name=spec.get("name"),
        id=spec.get("id"),
        sensitive=bool(spec.get("sensitive", False)),
        location=location,
        create=(
            FieldCreation(str(create["type"]), tuple(str(o) for o in create.get("options") or ()))
            if isinstance(create, dict)
            else None
        ),
    )


def _client_record(loaded: LoadedMapping, compiled: Compiled) -> ClientRecordRule:
    def rule(key: str, default: str) -> Expression:
        entry = loaded.client_record.get(key)
        if entry is None:
            return compile_expression(default, None)
        return compiled[(id(entry), entry.path)]

    return ClientRecordRule(
        name=rule("name", DEFAULT_CLIENT_NAME), notes=rule("notes", DEFAULT_CLIENT_NOTES)
    )


def _answer(name: str, entry: Entry, compiled: Compiled) -> AnswerRule:
    location: SourceLocation = entry.doc.location(entry.path, key=True)
    if isinstance(entry.value, str):
        value = compiled[(id(entry), entry.path)]
        return AnswerRule(name, "text", value, location=location)
    spec = cast(dict[str, Any], entry.value)
    each = compiled.get((id(entry), (*entry.path, "each"))) if "each" in spec else None
    return AnswerRule(
        name=name,
        type=cast(AnswerType, spec.get("type", "text")),
        value=compiled[(id(entry), (*entry.path, "value"))],
        each=each,
        required=bool(spec.get("required", False)),
        location=location,
    )
