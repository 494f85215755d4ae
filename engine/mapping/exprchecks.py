"""Expression checks: one JMESPath expression of a mapping -> the problems in it, at the column
inside the file.

Stage: part of validation. Pure (no I/O). `jmespath.compile` accepts what `search` later
rejects, so beyond parsing this walks the AST and the tokens: unknown functions and wrong
argument counts, `custom.<alias>` for aliases the mapping does not declare, `by_role.<role>` for
roles it does not have, and names the evaluation context does not have (`clinet.first_name`).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterator
from typing import Any

from jmespath import exceptions

from ..errors import Problem
from .cliofields import COMMON_NAMES, CONTACT_FIELDS, MATTER_FIELDS, ONE_CONTACT
from .expressions import parse_bounded
from .exprsyntax import (
    CONTEXT_NAMES,
    Names,
    Scope,
    Site,
    at,
    legacy_literal_problem,
    missing_comma,
    parse_problem,
    tokens_of,
)
from .functions import FUNCTION_NAMES, FUNCTIONS

__all__ = ["CONTEXT_NAMES", "Names", "Scope", "Site", "check_expression", "root_names"]


def check_expression(site: Site, names: Names) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse and check one expression: its AST (None when it does not parse) and its problems."""
    with warnings.catch_warnings():
        # jmespath accepts `text` (not JSON) in backticks with a PendingDeprecationWarning;
        # mapctl refuses it: it is a typo more often than not (`nul`).
        warnings.simplefilter("error", PendingDeprecationWarning)
        try:
            ast = parse_bounded(site.source)
        except exceptions.JMESPathError as error:
            return None, [parse_problem(site, error)]
        except PendingDeprecationWarning:
            return None, [legacy_literal_problem(site)]
    tokens = tokens_of(site.source)
    missing = missing_comma(site, tokens)
    if missing is not None:
        return None, [missing]
    problems = [
        *_function_problems(site, ast, tokens),
        *_reference_problems(site, names, tokens),
    ]
    if site.scope == "root":
        problems.extend(_root_name_problems(site, ast, tokens))
    else:
        problems.extend(_element_scope_problems(site, ast, tokens))
    problems.extend(_clio_field_problems(site, ast, tokens))
    if site.gives_list and ast.get("type") == "literal" and not isinstance(ast.get("value"), list):
        problems.append(
            at(
                site,
                0,
                f"{site.label} must give a list, but is a fixed value",
                "each-literal",
                hint="write the list to repeat over, e.g. each: children",
                length=len(site.source),
            )
        )
    return ast, problems


def _function_problems(
    site: Site, ast: dict[str, Any], tokens: list[dict[str, Any]]
) -> Iterator[Problem]:
    starts = [
        tok
        for tok, nxt in zip(tokens, tokens[1:], strict=False)
        if tok["type"] == "unquoted_identifier" and nxt["type"] == "lparen"
    ]
    calls = list(_function_nodes(ast))
    for i, node in enumerate(calls):
        name = node["value"]
        token = starts[i] if i < len(starts) and starts[i]["value"] == name else None
        offset, length = (token["start"], len(name)) if token else (0, 1)
        if name not in FUNCTION_NAMES:
            import difflib  # only to suggest a name: not loaded at every start

            close = difflib.get_close_matches(name, sorted(FUNCTION_NAMES), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "`mapctl functions` lists them all"
            yield at(
                site,
                offset,
                f"{site.label}: unknown function '{name}()'",
                "unknown-function",
                hint=hint,
                length=length,
            )
            continue
        arity = _arity_message(name, len(node["children"]))
        if arity:
            yield at(site, offset, f"{site.label}: {arity}", "function-arity", length=length)


def _function_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            yield node
        for child in node.get("children", ()):
            yield from _function_nodes(child)


def _arity_message(name: str, given: int) -> str | None:
    signature = FUNCTIONS.FUNCTION_TABLE[name]["signature"]  # type: ignore[attr-defined]
    needed = len(signature)
    variadic = bool(signature and signature[-1].get("variadic"))
    if given == needed or (variadic and given >= needed):
        return None
    plural = "" if needed == 1 else "s"
    amount = f"at least {needed}" if variadic else str(needed)
    return f"{name}() takes {amount} argument{plural}, got {given}"


def _reference_problems(
    site: Site, names: Names, tokens: list[dict[str, Any]]
) -> Iterator[Problem]:
    """`custom.<alias>` and `by_role.<role>` naming something the mapping does not declare."""
    for a, dot, b in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if a["type"] != "unquoted_identifier" or dot["type"] != "dot":
            continue
        if b["type"] not in ("unquoted_identifier", "quoted_identifier"):
            continue
        name = str(b["value"])
        if a["value"] == "custom" and name not in names.aliases:
            yield _undeclared(
                site,
                b,
                name,
                "custom field alias",
                names.aliases,
                "declare it under custom_fields:",
            )
        elif a["value"] == "by_role" and name not in names.roles:
            yield _undeclared(site, b, name, "role", names.roles, "the roles are")


def _undeclared(
    site: Site,
    token: dict[str, Any],
    name: str,
    what: str,
    known: Collection[str],
    advice: str,
) -> Problem:
    import difflib  # only to suggest a name: not loaded at every start

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean '{close[0]}'?"
    elif what == "role":
        hint = f"{advice}: {', '.join(known)}"
    else:
        declared = ", ".join(sorted(known)) or "none"
        hint = f"{advice} {name}: <Clio field name> (declared: {declared})"
    code = "unknown-alias" if what != "role" else "unknown-role"
    return at(
        site,
        token["start"],
        f"{site.label}: undeclared {what} '{name}'",
        code,
        hint=hint,
        length=len(name),
    )


def _root_name_problems(
    site: Site, ast: dict[str, Any], tokens: list[dict[str, Any]]
) -> Iterator[Problem]:
    reported: set[str] = set()
    for name in root_names(ast):
        if name in CONTEXT_NAMES or name in reported:
            continue
        reported.add(name)
        token = next((t for t in tokens if t["value"] == name and "identifier" in t["type"]), None)
        import difflib  # only to suggest a name: not loaded at every start

        close = difflib.get_close_matches(name, CONTEXT_NAMES, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else None
        yield at(
            site,
            token["start"] if token else 0,
            f"{site.label}: unknown name '{name}' (expressions start from "
            f"{', '.join(CONTEXT_NAMES[:-1])} or {CONTEXT_NAMES[-1]})",
            "unknown-name",
            hint=hint,
            length=len(name),
        )


def _element_scope_problems(
    site: Site, ast: dict[str, Any], tokens: list[dict[str, Any]]
) -> Iterator[Problem]:
    """With `each`, `value` sees one element (a contact): `client.name` there is always null.

    An error when the elements are known to be contacts (`each: children`); a warning when
    `each` gives something else, whose elements might have such a field (a matter's `client`)."""
    severity = "error" if site.elements_are_contacts else "warning"
    for name in dict.fromkeys(root_names(ast)):
        if name not in CONTEXT_NAMES:
            continue
        token = next((t for t in tokens if t["value"] == name and "identifier" in t["type"]), None)
        yield at(
            site,
            token["start"] if token else 0,
            f"{site.label}: '{name}' is not available inside `each`: value is evaluated on one "
            "element at a time"
            if site.elements_are_contacts
            else f"{site.label}: '{name}' inside `each` is read from the element, not the "
            "context: value is evaluated on one element at a time",
            "each-scope",
            hint="use the element's own fields (name, date_of_birth, relationship, custom.<alias>)"
            ", or drop `each` to answer once",
            length=len(name),
            severity=severity,
        )


def _clio_field_problems(
    site: Site, ast: dict[str, Any], tokens: list[dict[str, Any]]
) -> Iterator[Problem]:
    """Fields Clio records do not have: `client.frist_name`, `matter.numbr`, or (inside an
    `each` over contacts) `frist_name`. Such an expression would always give null.

    A warning, not an error: Clio adds fields between minor versions and bundles may carry
    fields the published schema lacks, so a mapping that reads one must still render. But in a
    `required: true` answer it is an error (issue 11): the answer would be left unanswered at
    every import, which reads like missing Clio data rather than a typo in the mapping."""
    for record, field, token in _record_fields(site, ast, tokens):
        known = MATTER_FIELDS if record == "matter" else CONTACT_FIELDS
        if field in known:
            continue
        import difflib  # only to suggest a name: not loaded at every start

        close = difflib.get_close_matches(field, sorted(known), n=1, cutoff=0.6)
        if record != "matter" and field.lower() in COMMON_NAMES:
            close = [COMMON_NAMES[field.lower()]]
        what = "matters" if record == "matter" else "contacts"
        blank = (
            "the answer is required, so every import would leave it unanswered"
            if site.required
            else "it will always be blank"
        )
        yield at(
            site,
            token["start"],
            f"{site.label}: Clio {what} have no field '{field}' ({blank})",
            "unknown-field",
            hint=f"did you mean '{close[0]}'?"
            if close
            else "see Clio's API v4 Contact and Matter records; custom fields are custom.<alias>",
            length=len(field),
            severity="error" if site.required else "warning",
        )


def _record_fields(
    site: Site, ast: dict[str, Any], tokens: list[dict[str, Any]]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(record kind, field name, token) for each field read straight off a known record."""
    padded = [{"type": "start", "value": None}, *tokens]
    if site.scope == "root":
        for before, root, dot, field in zip(padded, tokens, tokens[1:], tokens[2:], strict=False):
            if before["type"] == "dot" or root["type"] != "unquoted_identifier":
                continue
            if dot["type"] != "dot" or field["type"] != "unquoted_identifier":
                continue
            if root["value"] in (*ONE_CONTACT, "matter"):
                kind = "matter" if root["value"] == "matter" else "contact"
                yield kind, str(field["value"]), field
    elif site.elements_are_contacts:
        for name in dict.fromkeys(root_names(ast)):
            if name in CONTEXT_NAMES:  # reported as an each-scope problem
                continue
            token = next(
                (
                    t
                    for before, t in zip(padded, tokens, strict=False)
                    if t["value"] == name
                    and t["type"] == "unquoted_identifier"
                    and before["type"] != "dot"
                ),
                None,
            )
            if token is not None:
                yield "contact", name, token


def root_names(node: dict[str, Any], at_root: bool = True) -> list[str]:
    """Names looked up in the top of the context (`client` in `client.name`), in source order."""
    kind = node.get("type")
    children = node.get("children", [])
    if kind == "field":
        return [node["value"]] if at_root else []
    if kind == "expref":
        return []
    if kind in (
        "subexpression",
        "index_expression",
        "projection",
        "value_projection",
        "pipe",
        "filter_projection",
    ):
        found = root_names(children[0], at_root) if children else []
        for child in children[1:]:
            found += root_names(child, False)
        return found
    found = []
    for child in children:
        if isinstance(child, dict):
            found += root_names(child, at_root)
    return found
