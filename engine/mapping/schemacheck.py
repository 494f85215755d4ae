"""Schema check: one mapping document against `schemas/mapping.schema.json` -> problems.

Stage: part of validation. Pure. jsonschema's own messages ("42 is not valid under any of the
given schemas") are turned into what an admin can act on, at the key or value they are about,
with did-you-mean on unknown keys and types. anyOf/oneOf errors are resolved to the branch that
fits the value's shape (jsonschema's best_match when no branch does).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from ..errors import Problem
from ..textsafe import quoted
from .source import Document, Path

_TYPE_WORDS = {
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}

_EXPRESSION_KEYS = ("value", "each", "name", "notes")


def schema_problems(doc: Document, schema: dict[str, Any]) -> list[Problem]:
    """Every schema problem of one document."""
    validator = Draft202012Validator(schema)
    problems: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        problems.extend(_translate(doc, error))
    return problems


def _translate(doc: Document, error: ValidationError) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    if kind in ("anyOf", "oneOf"):
        yield from _alternatives(doc, error, path)
    elif kind == "additionalProperties":
        yield from _unknown_keys(doc, error, path)
    elif kind == "required":
        yield _required(doc, error, path)
    elif "propertyNames" in error.schema_path:
        yield _property_name(doc, str(error.instance), path)
    elif kind == "if":
        return
    else:
        yield _simple(doc, error, path)


def subject(path: Path) -> str:
    """How a message names the place: "answer 'Client First Name': type"."""
    if not path:
        return "the mapping"
    head, rest = path[0], path[1:]
    named = {
        "answers": "answer",
        "custom_fields": "custom field",
        "relationships": "relationship role",
    }
    if head in named and rest:
        base, rest = f"{named[str(head)]} '{rest[0]}'", rest[1:]
    else:
        base = str(head)
    for part in rest:
        base += f"[{part}]" if isinstance(part, int) else f": {part}"
    return base


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _expects(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return [str(kind)] if kind else []


def _is_expression(path: Path) -> bool:
    if not path:
        return False
    if path[0] == "answers" and len(path) == 2:
        return True
    return path[0] in ("answers", "client_record") and path[-1] in _EXPRESSION_KEYS


def _literal_hint(value: Any) -> str | None:
    if isinstance(value, bool):
        word = str(value).lower()
        return f'an expression is text; for the literal {word} write "`{word}`"'
    if isinstance(value, int | float):
        return f'an expression is text; for the literal number {value} write "`{value}`"'
    if value is None:
        return "write an expression, e.g. client.first_name"
    return "write the expression as text, e.g. client.first_name"


def _at(doc: Document, path: Path, message: str, code: str, **extra: Any) -> Problem:
    key = bool(extra.pop("key", False))
    location = doc.location(path, key=key)
    return doc.problem(location, message, code, **extra)


def _simple(doc: Document, error: ValidationError, path: Path) -> Problem:
    kind, value, where = error.validator, error.instance, subject(path)
    if path == ("version",) and kind in ("const", "type"):
        return _at(
            doc,
            path,
            f"unsupported mapping format version {_show(value)} (this mapctl reads version 1)",
            "bad-version",
            hint="write `version: 1`",
        )
    if kind == "type":
        expected = _expects(error.schema)  # type: ignore[arg-type]
        if _is_expression(path) and "string" in expected:
            return _at(
                doc,
                path,
                f"{where} must be an expression (text), got {_describe(value)}",
                "wrong-type",
                hint=_literal_hint(value),
            )
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        if not path:
            return _at(
                doc,
                path,
                f"a mapping file must be YAML key: value lines, got {_describe(value)}",
                "wrong-type",
                hint="start with `version: 1`, then `answers:`",
            )
        hint = None
        if "boolean" in expected and str(value).lower() in ("yes", "no", "on", "off", "y", "n"):
            hint = "write true or false (yes/no/on/off are text in a mapping)"
        elif "object" in expected and isinstance(value, list):
            hint = "write the entries as `key: value` lines, without '- ' in front"
        elif path[:1] == ("relationships",) and len(path) == 2 and isinstance(value, str):
            hint = f"write the labels as a list: {path[1]}: {label_list(value)}"
        return _at(
            doc, path, f"{where} must be {words}, got {_describe(value)}", "wrong-type", hint=hint
        )
    if kind == "enum":
        options = [str(o) for o in error.validator_value]  # type: ignore[union-attr]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(options)}"
        what = "type" if path[-1:] == ("type",) else "value"
        return _at(
            doc,
            path,
            f"{subject(path[:-1])}: unknown {what} '{value}'",
            "unknown-type",
            hint=hint,
            length=len(str(value)),
        )
    if kind == "minLength":
        return _at(doc, path, f"{where} is empty", "empty-value")
    if kind == "minItems":
        return _at(doc, path, f"{where} is an empty list", "empty-value")
    if kind == "minimum":
        return _at(doc, path, f"{where} must be a positive number, got {value}", "bad-value")
    return _at(doc, path, f"{where}: {error.message}", "schema")


def label_list(text: str) -> str:
    """`husband, wife` -> `[husband, wife]`, quoting labels YAML would not read as plain text."""
    labels = [part.strip() for part in text.split(",") if part.strip()] or [text]
    return "[" + ", ".join(_flow_item(label) for label in labels) + "]"


def _flow_item(label: str) -> str:
    plain = label[:1].isalpha() and not any(c in label for c in ":#[]{},'\"")
    return label if plain else "'" + label.replace("'", "''") + "'"


def _show(value: Any) -> str:
    return (
        f"'{value}'"
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def _unknown_keys(doc: Document, error: ValidationError, path: Path) -> Iterator[Problem]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    allowed = sorted(error.schema.get("properties", {}))  # type: ignore[union-attr]
    where = "" if not path else f" in {subject(path)}"
    for key in instance:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        if not path and not close:
            hint = _dedented_hint(doc, instance, key) or hint
        yield _at(
            doc,
            (*path, key),
            f"unknown key '{key}'{where}",
            "unknown-key",
            hint=hint,
            key=True,
            length=len(key),
        )


def _dedented_hint(doc: Document, top: dict[str, Any], key: str) -> str | None:
    """For an unknown top-level key right after a section whose entries are free names
    (`marital: ...` under `custom_fields`, dedented by mistake): say how to indent it."""
    keys = list(top)
    before = keys[keys.index(key) - 1] if keys.index(key) > 0 else None
    section = top.get(before) if before is not None else None
    if before not in ("custom_fields", "answers", "relationships", "client_record"):
        return None
    if not isinstance(section, dict) or not section:
        return None
    last = doc.location((str(before), list(section)[-1]), key=True)
    return (
        f"'{key}' is not indented, so it is read as a section of its own; to put it under "
        f"{before}, indent it like the entries above it (column {last.column}, as on line "
        f"{last.line})"
    )


_REQUIRED_HINTS = {
    "version": "start the file with `version: 1`",
    "answers": "list the interview's answers under `answers:` (or start from another mapping "
    "with `extends:`)",
    "value": "the long form needs `value:`, the expression that gives the answer",
}


def _required(doc: Document, error: ValidationError, path: Path) -> Problem:
    missing = str(error.message).split("'")[1] if "'" in error.message else "?"
    where = "" if not path else f" in {subject(path)}"
    location = doc.location(path, key=bool(path))
    return doc.problem(
        location,
        f"missing required key '{missing}'{where}",
        "missing-key",
        hint=_REQUIRED_HINTS.get(missing),
    )


def _property_name(doc: Document, name: str, path: Path) -> Problem:
    location = doc.location((*path, name), key=True)
    if path == ("custom_fields",):
        fixed = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_")
        fixed = fixed if fixed and not fixed[0].isdigit() else f"f_{fixed}"
        return doc.problem(
            location,
            f"custom field alias '{name}' is not a simple name (letters, digits and _, not "
            "starting with a digit)",
            "bad-alias",
            hint=f"expressions write it as custom.<alias>: try '{fixed}'",
            length=len(name),
        )
    if path == ("answers",) and not name.strip():
        return doc.problem(
            location,
            "an answer name is empty",
            "bad-name",
            hint="the key is the interview variable's exact name, e.g. Client First Name TE",
        )
    if path == ("answers",):
        return doc.problem(
            location,
            f"answer name {quoted(name)} starts or ends with a space",
            "bad-name",
            hint="HotDocs names match exactly: remove the spaces",
        )
    return doc.problem(
        location, f"'{name}' is not allowed as a name in {subject(path)}", "bad-name"
    )


def _alternatives(doc: Document, error: ValidationError, path: Path) -> Iterator[Problem]:
    value = error.instance
    if path[:1] == ("custom_fields",) and isinstance(value, dict) and error.validator == "oneOf":
        yield _custom_field_choice(doc, path, value)
        return
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    fitting = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.path for e in errs)
    ]
    if fitting:
        for sub in fitting[0]:
            yield from _translate(doc, sub)
        return
    yield _mismatch(doc, error, path, value)


def _custom_field_choice(doc: Document, path: Path, value: dict[str, Any]) -> Problem:
    if "name" in value and "id" in value:
        return _at(
            doc,
            (*path, "id"),
            f"{subject(path)}: give either name or id, not both",
            "bad-custom-field",
            key=True,
            hint="the name as shown in Clio, or the field's id",
        )
    return _at(
        doc,
        path,
        f"{subject(path)}: needs the field's name (as shown in Clio) or its id",
        "bad-custom-field",
        hint="e.g. {name: Marital Status} or {id: 71003}",
    )


def _mismatch(doc: Document, error: ValidationError, path: Path, value: Any) -> Problem:
    where = subject(path)
    if path[:1] == ("answers",) and len(path) == 2:
        return _at(
            doc,
            path,
            f"{where} must be an expression (text) or a mapping with value, "
            f"type, each, required; got {_describe(value)}",
            "wrong-type",
            hint=_literal_hint(value),
        )
    if path[:1] == ("custom_fields",):
        return _at(
            doc,
            path,
            f"{where} must be the field's name or {{name: ...}} / {{id: ...}}, "
            f"got {_describe(value)}",
            "wrong-type",
        )
    if path == ("extends",):
        return _at(
            doc,
            path,
            f"extends must be a file name or a list of file names, got {_describe(value)}",
            "wrong-type",
        )
    best = best_match([error])
    return _at(doc, path, f"{where}: {best.message if best else error.message}", "schema")
