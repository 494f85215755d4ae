"""Interview check: a mapping checked against an interview's real variables
(`mapctl validate --interview FILE`). The interview is read by `engine.hotdocs.interview`.

Stage: part of validation. Pure: no I/O. HotDocs matches answers to variables by exact,
case-sensitive name and by type.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import Problem
from .loading import Entry, LoadedMapping

if TYPE_CHECKING:  # reading interviews (XML) is loaded only when one is checked
    from ..hotdocs.interview import Interview, Variable


def check_interview(interview: Interview, loaded: LoadedMapping) -> list[Problem]:
    """Every answer of the mapping that does not fit this interview."""
    problems: list[Problem] = []
    top = loaded.top
    for name, entry in loaded.answers.items():
        found = list(_check_answer(interview, name, entry))
        if top is not None and entry.doc is not top:
            # The answer comes from an extended mapping: say how to fix it from the top file.
            note = (
                f"inherited from {entry.doc.file}: in {top.file}, override '{name}' by name "
                f"or write `{name}: null` to drop it"
            )
            for problem in found:
                problem.hint = f"{problem.hint}; {note}" if problem.hint else note
        problems.extend(found)
    return problems


def _check_answer(interview: Interview, name: str, entry: Entry) -> Iterator[Problem]:
    variable = interview.variables.get(name)
    if variable is None:
        yield _unknown(interview, name, entry)
        return
    if variable.type is None:
        yield _problem(
            entry,
            (),
            f"'{name}' is a {variable.kind} in {interview.file}, not a "
            "variable an answer file can set",
            "interview-not-variable",
            key=True,
        )
        return
    spec = entry.value if isinstance(entry.value, dict) else {}
    answer_type = str(spec.get("type", "text"))
    if answer_type != variable.type:
        where = ("type",) if "type" in spec else ()
        yield _problem(
            entry,
            where,
            f"answer '{name}' is {answer_type}, but {interview.file} defines it as {variable.type}",
            "interview-type",
            key=not where,
            hint=f"type: {variable.type}",
        )
    yield from _check_repeat(interview, name, entry, spec, variable)
    yield from _check_options(interview, name, entry, spec, variable)


# How alike an unknown name and a real one must be for "did you mean": a typo ("Client Frist
# Name TE", 0.95), not merely names of the same shape ("Client Prefix TE" and "Client Phone
# TE" are 0.77 alike and mean different things).
SUGGEST_CUTOFF = 0.88


def _unknown(interview: Interview, name: str, entry: Entry) -> Problem:
    names = list(interview.variables)
    folded = [n for n in names if n.casefold() == name.casefold()]
    close = folded or difflib.get_close_matches(name, names, n=1, cutoff=SUGGEST_CUTOFF)
    suggestion = f"did you mean '{close[0]}'?" if close else None
    if folded:
        suggestion = f"{suggestion} (HotDocs names are case-sensitive)"
    if interview.kind == "answer file" and not folded:
        # An answer file holds only what one client was asked and answered: a name missing
        # from it may still be a variable of the interview. It proves the names it holds (so
        # one that differs only in case is still an error: HotDocs would not match it).
        check = (
            "an answer file lists only the answers one client was given; check against the "
            "interview's component file (.cmp) or template manifest to be sure"
        )
        problem = _problem(
            entry,
            (),
            f"answer '{name}' is not in {interview.file}, an answer file (that client may just "
            "not have answered it)",
            "interview-unknown",
            key=True,
            hint=f"{suggestion} Otherwise {check}" if suggestion else check,
        )
        problem.severity = "warning"
        return problem
    return _problem(
        entry,
        (),
        f"answer '{name}' is not a variable of {interview.file}",
        "interview-unknown",
        key=True,
        hint=suggestion or "use the variable's exact name as the interview spells it",
    )


def _check_repeat(
    interview: Interview, name: str, entry: Entry, spec: dict[str, Any], variable: Variable
) -> Iterator[Problem]:
    repeats = "each" in spec
    if variable.repeated is True and not repeats:
        if variable.dialog:
            where = f"{interview.file} asks '{name}' in the repeated dialog '{variable.dialog}'"
        else:
            where = f"{interview.file} has '{name}' as a repeated answer"
        yield _problem(
            entry,
            (),
            f"{where}, but the answer does not repeat",
            "interview-repeat",
            key=True,
            hint="give it `each:`, e.g. {each: children, value: name}",
        )
    elif variable.repeated is False and repeats:
        if interview.kind == "answer file":
            where = f"{interview.file} has it as a single answer"
        else:
            where = f"{interview.file} asks it once, not in a repeated dialog"
        yield _problem(
            entry,
            ("each",),
            f"answer '{name}' repeats (each:), but {where}",
            "interview-repeat",
            key=True,
            hint="remove `each:`",
        )


def _check_options(
    interview: Interview, name: str, entry: Entry, spec: dict[str, Any], variable: Variable
) -> Iterator[Problem]:
    if variable.options is None or variable.type != "multiple_choice":
        return
    source = spec.get("value") if spec else entry.value
    chosen = _literal_choices(source)
    if chosen is None:
        return
    path = ("value",) if spec else ()
    for choice in chosen:
        if choice in variable.options:
            continue
        close = difflib.get_close_matches(choice, list(variable.options), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"the options are: {', '.join(variable.options)}"
        )
        yield _problem(
            entry,
            path,
            f"'{choice}' is not an option of '{name}' in {interview.file}",
            "interview-option",
            hint=hint,
        )
    if len(chosen) > 1 and not variable.multiple:
        yield _problem(
            entry,
            path,
            f"'{name}' allows one selection in {interview.file}, the answer gives {len(chosen)}",
            "interview-option",
        )


def _literal_choices(source: Any) -> list[str] | None:
    """The options a literal multiple-choice expression selects; None when it is not a literal."""
    if not isinstance(source, str):
        return None
    from jmespath import exceptions

    from .expressions import parse_bounded

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            ast = parse_bounded(source)
        except exceptions.JMESPathError:
            return None
    if ast.get("type") == "multi_select_list":  # ['Bronx', 'Kings']
        items = ast.get("children", [])
        if not all(item.get("type") == "literal" for item in items):
            return None
        value: Any = [item.get("value") for item in items]
    elif ast.get("type") == "literal":
        value = ast.get("value")
    else:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _problem(
    entry: Entry,
    rest: tuple[str, ...],
    message: str,
    code: str,
    *,
    key: bool = False,
    hint: str | None = None,
) -> Problem:
    doc = entry.doc
    path = (*entry.path, *rest)
    location = doc.location(path, key=key)
    length = len(str(path[-1])) if key else 1
    return doc.problem(location, message, code, hint=hint, length=length)
