"""Validation: a loaded mapping -> every problem in it, each at its FILE:LINE:COL.

Stage: after loading, before compilation. `validate` is pure (it reads no file but the bundled
schema); `mapping_files`/`validate_files` are what `mapctl validate` runs over files. Never
prints, never stops at the first problem. Three passes:
1. what loading found (YAML syntax, duplicate keys, missing or cyclic `extends`);
2. the JSON Schema (`schemas/mapping.schema.json`) on each document, its errors turned into
   messages an admin can act on (did-you-mean on unknown keys and types);
3. semantic checks on the merged mapping: expressions (engine.exprchecks), relationship labels
   under two roles, answer names that differ only in case or spacing, answer names with
   control characters (or nothing else), and names the answer file would make equal.

Rule for duplicate answer names: within one file the same key twice is a YAML duplicate-key
error. Across `extends`, the exact same name is an override (the later file's rule replaces the
earlier one). Two names that differ only in case or spacing ("Client first name" and "Client
First Name") are an error wherever they are: HotDocs names are case-sensitive, so they are two
different variables, which is almost always a typo or an override that missed.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from ..errors import MapctlError, Problem, SourceLocation
from ..textsafe import quoted
from .exprchecks import Names, Scope, Site, check_expression
from .fieldtypes import creation_problems
from .interviewcheck import check_interview
from .loading import BUNDLED_PREFIX, Entry, LoadedMapping, load_mapping, location_of
from .relationships import (
    SEED_CO_CLIENT,
    SEED_OTHERWISE,
    SEED_RELATIONSHIPS,
    Relationships,
    normalise_label,
)
from .source import Document

# An `each` whose elements are contacts: a contact list, optionally filtered.
CONTACT_LIST = re.compile(
    r"\s*(spouses|children|grandchildren|parties|co_clients|related|by_role\.(\w+|\"[^\"]+\"))"
    r"\s*(\[\?.*\])?\s*",
    re.DOTALL,
)

if TYPE_CHECKING:
    from ..hotdocs.interview import Interview


def hotdocs_name(name: str) -> str:
    """The answer name HotDocs reads back (`hotdocs.answerfile.hotdocs_name`). A printable name
    has nothing the writer drops, so the answer-file module (XML) is loaded only for the rare
    name that needs it: `mapctl validate` starts fast."""
    if name.isprintable():
        return name.strip()
    from ..hotdocs.answerfile import hotdocs_name as read_back

    return read_back(name)


def validate(loaded: LoadedMapping) -> list[Problem]:
    """Every problem of a loaded mapping, sorted by file, line and column (duplicates dropped)."""
    from .schemacheck import schema_problems  # jsonschema: imported only when validating

    problems = list(loaded.problems)
    for doc in loaded.documents:
        if doc.data is not None:
            problems.extend(schema_problems(doc, _schema()))
    problems.extend(_relationship_problems(loaded))
    problems.extend(_answer_name_problems(loaded))
    problems.extend(_removal_problems(loaded))
    problems.extend(creation_problems(loaded))
    names = declared_names(loaded)
    for site, _ in expression_sites(loaded):
        problems.extend(check_expression(site, names)[1])
    return unique_sorted(problems)


def unique_sorted(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    result = []
    for problem in sorted(problems, key=Problem.sort_key):
        key = (problem.location, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


@cache
def _schema() -> dict[str, Any]:
    from ..resources import mapping_schema

    schema: dict[str, Any] = json.loads(mapping_schema().read_text(encoding="utf-8"))
    return schema


def relationships_of(loaded: LoadedMapping) -> Relationships:
    """The merged roles; the seed's when no document names a role of its own."""
    roles = {
        role: tuple(s for s in entry.value if isinstance(s, str))
        for role, entry in loaded.relationships.items()
        if isinstance(entry.value, list)
    }
    otherwise = _role_name(loaded.otherwise, SEED_OTHERWISE)
    co_client = _role_name(loaded.co_client, SEED_CO_CLIENT)
    seeded = roles if loaded.relationships else dict(SEED_RELATIONSHIPS)
    return Relationships(seeded, otherwise, co_client)


def _role_name(entry: Entry | None, default: str) -> str:
    """`otherwise:` or `co_client:` (a bad value is the schema's to report)."""
    value = entry.value if entry is not None else default
    return value if isinstance(value, str) and value else default


def declared_names(loaded: LoadedMapping) -> Names:
    aliases, roles = _misspelled_sections(loaded)
    return Names((*loaded.custom_fields, *aliases), (*relationships_of(loaded).role_names, *roles))


def _misspelled_sections(loaded: LoadedMapping) -> tuple[list[str], list[str]]:
    """Aliases and roles under a misspelled section (`custom_feilds:`). The schema reports the
    section once, with a did-you-mean; expressions that read them are checked as if it were
    spelled right, rather than each giving one more "undeclared alias" error (issue 11)."""
    sections = list(_schema().get("properties", {}))
    aliases: list[str] = []
    roles: list[str] = []
    for doc in loaded.documents:
        if not isinstance(doc.data, dict):
            continue
        for key, value in doc.data.items():
            if key in sections or not isinstance(value, dict):
                continue
            import difflib  # only to suggest a name: not loaded at every start

            close = difflib.get_close_matches(key, sections, n=1, cutoff=0.6)
            if close == ["custom_fields"]:
                aliases.extend(str(alias) for alias in value)
            elif close == ["relationships"]:
                roles.extend(str(role) for role in value if role not in ("otherwise", "co_client"))
    return aliases, roles


def expression_sites(loaded: LoadedMapping) -> list[tuple[Site, Entry]]:
    """Every expression of the merged mapping (answers, then client_record) where it is written."""
    sites: list[tuple[Site, Entry]] = []
    for name, entry in loaded.answers.items():
        label = f"answer '{name}'"
        value = entry.value
        if isinstance(value, str):
            if value:
                sites.append((Site(entry.doc, entry.path, value, label), entry))
            continue
        if not isinstance(value, dict):
            continue
        each = value.get("each")
        required = value.get("required") is True
        if isinstance(each, str) and each:
            path = (*entry.path, "each")
            site = Site(entry.doc, path, each, f"{label}: each", gives_list=True, required=required)
            sites.append((site, entry))
        if isinstance(value.get("value"), str) and value["value"]:
            scope: Scope = "element" if "each" in value else "root"
            path = (*entry.path, "value")
            contacts = isinstance(each, str) and CONTACT_LIST.fullmatch(each) is not None
            site = Site(entry.doc, path, value["value"], label, scope, False, contacts, required)
            sites.append((site, entry))
    for key, entry in loaded.client_record.items():
        if key in ("name", "notes") and isinstance(entry.value, str) and entry.value:
            sites.append((Site(entry.doc, entry.path, entry.value, f"client_record {key}"), entry))
    for key, entry in loaded.review.items():
        if isinstance(entry.value, str) and entry.value:
            sites.append((Site(entry.doc, entry.path, entry.value, f"review '{key}'"), entry))
    return sites


def _relationship_problems(loaded: LoadedMapping) -> list[Problem]:
    problems = []
    relationships = relationships_of(loaded)
    for synonym, role, earlier, earlier_role in relationships.conflicts():
        problems.append(_label_conflict(loaded, (synonym, role), (earlier, earlier_role)))
    for role, entry in loaded.relationships.items():
        for index, synonym in enumerate(entry.value if isinstance(entry.value, list) else []):
            if isinstance(synonym, str) and synonym and not normalise_label(synonym):
                problems.append(
                    entry.doc.problem(
                        location_of(entry, index),
                        f"relationship label '{synonym}' under {role} is blank once spaces and "
                        "hyphens are ignored",
                        "blank-label",
                        hint=f"blank labels always get the otherwise role "
                        f"({relationships.otherwise}); remove it",
                    )
                )
    return problems


def _label_conflict(
    loaded: LoadedMapping, later: tuple[str, str], earlier: tuple[str, str]
) -> Problem:
    """One label under two roles, reported at the place in the file being checked (rather than
    in a mapping it extends, which the admin may not edit), naming the other place by line (and
    file, when it is another one) and showing both lines (issue 11)."""
    places = [
        (label, role, _label_location(loaded, label, role)) for label, role in (later, earlier)
    ]
    order = {id(doc): n for n, doc in enumerate(loaded.documents)}  # the checked file first
    here, there = sorted(places, key=lambda place: order.get(id(place[2][0]), 0))
    (synonym, role, (doc, location)), (other, other_role, (other_doc, elsewhere)) = here, there
    same_file = elsewhere.file == location.file
    where = f"line {elsewhere.line}" if same_file else f"{elsewhere.file}:{elsewhere.line}"
    spelled = "" if other == synonym else f", as '{other}'"
    problem = doc.problem(
        location,
        f"relationship label '{synonym}' is listed under two roles: {role} (line "
        f"{location.line}) and {other_role} ({where}{spelled})",
        "label-conflict",
        hint="labels are compared ignoring case, spaces and hyphens; keep it under one role"
        + (
            ""
            if same_file
            else f" (to take it out of {other_role}, list {other_role} here without it)"
        ),
        length=len(synonym),
    )
    also = other_doc.excerpt(elsewhere, len(other))
    problem.context.extend(also if same_file else [f"{elsewhere}:", *also])
    return problem


def _label_location(
    loaded: LoadedMapping, label: str, role: str
) -> tuple[Document, SourceLocation]:
    entry = loaded.relationships[role]
    values = entry.value if isinstance(entry.value, list) else []
    index = next((i for i, s in enumerate(values) if s == label and isinstance(s, str)), 0)
    return entry.doc, location_of(entry, index)


def fold_name(name: str) -> str:
    """How two answer names are compared for near-duplicates: case and spacing ignored."""
    return " ".join(name.casefold().split())


def _answer_name_problems(loaded: LoadedMapping) -> list[Problem]:
    problems = []
    first: dict[str, tuple[str, Entry]] = {}
    for name, entry in loaded.answers.items():
        if not name.strip():
            continue  # the schema check reports an empty name
        problems.extend(_name_character_problems(name, entry))
        key = fold_name(hotdocs_name(name))
        if not key:
            continue
        if key not in first:
            first[key] = (name, entry)
            continue
        other, other_entry = first[key]
        location = location_of(entry, key=True)
        where = other_entry.doc.location(other_entry.path, key=True)
        same_file = where.file == location.file
        at = f"line {where.line}" if same_file else f"{where.file}:{where.line}"
        if fold_name(name) == fold_name(other):
            message = (
                f"answer '{name}' differs from answer '{other}' ({at}) only in case or spacing"
            )
            hint = (
                f"HotDocs names are case-sensitive, so these are two variables; to replace "
                f"'{other}', use exactly that name"
            )
        else:  # they differ by characters the answer file cannot hold (issue 9)
            message = (
                f"answer {quoted(name)} reads back from the answer file as "
                f"{quoted(hotdocs_name(name))}, the same variable as answer {quoted(other)} "
                f"({at}): HotDocs keeps only the later of the two"
            )
            hint = "remove the control characters from the name"
        problems.append(
            entry.doc.problem(location, message, "duplicate-answer", hint=hint, length=len(name))
        )
    return problems


def _name_character_problems(name: str, entry: Entry) -> list[Problem]:
    """Characters an answer name cannot hold: control characters (Unicode category Cc, tab and
    newlines too: no HotDocs variable has them), lone surrogates and U+FFFE/U+FFFF (the answer
    file drops them: XML 1.0 forbids them). A name with nothing else is empty for HotDocs.

    HotDocs SDK, AnswerCollection.OverlayXml: `answerName = TextValue.XMLUnescape(reader.Value)
    .Trim()`; `if (String.IsNullOrEmpty(answerName)) throw new XmlException("Answer name is
    missing.")`: an empty name makes HotDocs refuse the whole answer file."""
    bad = sorted({c for c in name if _bad_name_character(c)})
    if not bad:
        return []
    location = location_of(entry, key=True)
    codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
    if not hotdocs_name(name).strip():
        return [
            entry.doc.problem(
                location,
                f"answer name {quoted(name)} is empty once control characters are removed: "
                'HotDocs refuses the whole answer file ("Answer name is missing")',
                "bad-name",
                hint="the key is the interview variable's exact name, e.g. Client First Name TE",
                length=len(name),
            )
        ]
    if all(unicodedata.category(c) == "Cc" for c in bad):
        what = "a control character" if len(bad) == 1 else "control characters"
    else:
        what = "characters a HotDocs name cannot hold"
    return [
        entry.doc.problem(
            location,
            f"answer name {quoted(name)} contains {what} ({codes})",
            "bad-name",
            hint="HotDocs variable names have none: write the variable's exact name "
            f"({quoted(_without_bad(name))}?)",
            length=len(name),
        )
    ]


def _bad_name_character(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"


def _without_bad(name: str) -> str:
    kept = (c if not _bad_name_character(c) else " " if c.isspace() else "" for c in name)
    return " ".join("".join(kept).split())


def mapping_files(paths: Sequence[str]) -> list[str | None]:
    """The mapping files to check for `mapctl validate PATH...`: files as given, every
    *.yaml/*.yml under a folder (sorted); no PATH: ./mappings/ when it exists, else the bundled
    default (None)."""
    if not paths:
        if os.path.isdir("mappings"):
            paths = ["mappings"]
        else:
            return [None]
    found: list[str | None] = []
    for path in paths:
        if not os.path.isdir(path):
            found.append(path)
            continue
        inside = sorted(
            os.path.normpath(os.path.join(path, str(p.relative_to(path))))
            for p in FsPath(path).rglob("*")
            if p.suffix in (".yaml", ".yml") and p.is_file() and not _hidden(p, path)
        )
        if not inside:
            raise MapctlError(f"no mapping files (*.yaml, *.yml) in {path}")
        found.extend(inside)
    return found


def default_selection(files: Sequence[str | None]) -> str:
    """What `mapctl validate` without PATH checks, in words (issue 11: say which file)."""
    from ..resources import DEFAULT_MAPPING

    if files == [None]:
        return (
            f"checking the bundled default mapping {BUNDLED_PREFIX}{DEFAULT_MAPPING} (no PATH "
            "given, and no ./mappings/ folder here)"
        )
    shown = ", ".join(str(f) for f in files[:5]) + (", ..." if len(files) > 5 else "")
    count = f"{len(files)} mapping{'s' if len(files) != 1 else ''}"
    return f"checking the {count} in ./mappings/ (no PATH given): {shown}"


def _hidden(path: FsPath, root: str) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def validate_files(
    files: Sequence[str | None], interview: Interview | None = None
) -> list[Problem]:
    """Every problem in the given mapping files (None: the bundled default), and, with an
    interview, every answer that does not fit it."""
    problems: list[Problem] = []
    for file in files:
        loaded = load_mapping(file)
        problems.extend(validate(loaded))
        if interview is not None:
            problems.extend(check_interview(interview, loaded))
    return unique_sorted(problems)


def _removal_problems(loaded: LoadedMapping) -> list[Problem]:
    """`Name: null` where no extended mapping has `Name`: a typo, or an empty answer."""
    problems = []
    inherited = [
        str(name)
        for doc in loaded.documents
        if isinstance(doc.data, dict) and isinstance(doc.data.get("answers"), dict)
        for name, value in doc.data["answers"].items()
        if value is not None
    ]
    for entry in loaded.nothing_to_remove:
        name = str(entry.path[-1])
        import difflib  # only to suggest a name: not loaded at every start

        close = difflib.get_close_matches(name, inherited, n=1, cutoff=0.85)
        hint = f"did you mean '{close[0]}'?" if close else "give it an expression"
        problems.append(
            entry.doc.problem(
                entry.doc.location(entry.path),
                f"answer '{name}' is empty: `null` only removes an answer inherited through "
                "extends, and none has this name",
                "empty-answer",
                hint=hint,
            )
        )
    return problems
