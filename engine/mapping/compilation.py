"""Compilation: a mapping file -> `CompiledMapping`, every expression compiled once.

Stage: loading -> validation -> here. Runs before any network call (a bad mapping fails before
Clio is asked anything). Raises `MappingError` with every problem validation found; otherwise
builds the model with defaults filled in (title, relationships, client_record).

Start-up (issue 20): validation imports jsonschema and checks every rule, a large part of a
short `mapctl render`. With a `cache` folder (the CLI passes `$MAPCTL_HOME/cache`), a mapping
whose exact text (every file it extends included) passed validation before, with this same
mapctl, is not validated again: `validated/<sha256>` records it. The key is the SHA-256 of the
files' names and contents plus the size and mtime of every file of mapctl's mapping code and
schema, so an edited mapping or an upgraded mapctl is validated afresh. Only a pass is recorded
(a mapping with errors is validated, and refused, every time); the records are private (0600
files in a 0700 folder), written whole or not at all, and a record that cannot be read or
written only means validating.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, cast

from ..errors import MapctlError, MappingError, SourceLocation
from ..fsutil import make_folders, write_atomic
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


def compile_mapping(
    path: str | os.PathLike[str] | None = None, *, cache: Path | None = None
) -> CompiledMapping:
    """Load, validate and compile a mapping file (None: the bundled default mapping). `cache`:
    a folder remembering mappings that passed validation (see the module docstring)."""
    loaded = load_mapping(path)
    if cache is None:
        return compile_loaded(loaded)
    record = _record_path(cache, loaded)
    if record is not None and _recorded(record):
        return _compiled(loaded)
    compiled = compile_loaded(loaded)
    if record is not None:
        _record(record)
    return compiled


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
    return _compiled(loaded)


def _compiled(loaded: LoadedMapping) -> CompiledMapping:
    """The model of a mapping that passed validation."""
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


# --- the record of mappings that passed validation ---------------------------------------------

_ENGINE = Path(__file__).resolve().parent.parent  # mapctl's engine: validation's rules


@functools.cache
def _code_stamp() -> bytes:
    """The size and mtime of every file validation's outcome may depend on (the engine's modules
    and the mapping schema): a changed or upgraded mapctl invalidates every record."""
    import hashlib

    from ..resources import mapping_schema

    stamp = hashlib.sha256()
    files = [mapping_schema()]
    for folder, _, names in sorted(os.walk(_ENGINE)):
        files.extend(Path(folder, name) for name in sorted(names) if name.endswith(".py"))
    for file in files:
        info = file.stat()
        stamp.update(f"{file}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return stamp.digest()


def _record_path(cache: Path, loaded: LoadedMapping) -> Path | None:
    import hashlib

    if loaded.problems or not loaded.documents:  # unreadable: validation says why
        return None
    try:
        key = hashlib.sha256(_code_stamp())
    except OSError:
        return None
    for doc in loaded.documents:
        key.update(b"\0file\0" + os.fsencode(doc.file) + b"\0text\0")
        key.update(doc.text.encode("utf-8", "surrogatepass"))
    return cache / "validated" / key.hexdigest()


def _recorded(record: Path) -> bool:
    try:
        return record.read_bytes() == record.name.encode("ascii")
    except OSError:
        return False


def _record(record: Path) -> None:
    try:
        make_folders(record.parent)
        write_atomic(record, record.name.encode("ascii"))
    except (OSError, MapctlError):
        pass  # not recorded: the next run validates again


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
