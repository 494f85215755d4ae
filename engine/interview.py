"""Interview: an interview's real variables, read from HotDocs files, and a mapping checked
against them (`mapctl validate --interview FILE`).

Stage: beside validation; reads the one file it is given, never prints. The kind of file is
recognised by its root element, not its extension:
- a component file (.cmp, `componentLibrary` in .../component_library/2009): every variable with
  its type, multiple-choice options (and whether several may be selected), and the dialogs, so
  a variable asked in a repeated dialog (spreadsheet or series style) is known to repeat;
- a template manifest (.manifest.xml, `templateManifest` in .../template_manifest/2012): names
  and types only;
- an answer file (.anx, `AnswerSet`): names, types, and whether each answer repeats.

HotDocs matches answers to variables by exact, case-sensitive name and by type.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from engine.answerfile import answers_from_root, parse_xml
from engine.errors import AnswerFileError, Problem
from engine.fsutil import read_bounded
from engine.loading import Entry, LoadedMapping
from engine.model import AnswerType

CMP_NAMESPACE = "http://www.hotdocs.com/schemas/component_library/2009"
MANIFEST_NAMESPACE = "http://www.hotdocs.com/schemas/template_manifest/2012"

# HotDocs' words for the variable types -> the mapping's answer types.
TYPE_WORDS: dict[str, AnswerType] = {
    "text": "text",
    "number": "number",
    "date": "date",
    "trueFalse": "true_false",
    "multipleChoice": "multiple_choice",
}


@dataclass(frozen=True)
class Variable:
    """One interview variable. `type` None: not something an answer file sets (a computation,
    a dialog element). `repeated` None: the file does not say."""

    name: str
    type: AnswerType | None
    kind: str  # the file's own word for it: "multipleChoice", "computation"...
    options: tuple[str, ...] | None = None
    multiple: bool = False
    repeated: bool | None = None
    dialog: str | None = None  # the repeated dialog that asks it


@dataclass
class Interview:
    """The variables of one interview, and where they were read from."""

    file: str
    kind: str  # "component file", "template manifest", "answer file"
    variables: dict[str, Variable] = field(default_factory=dict)

    def check(self, loaded: LoadedMapping) -> list[Problem]:
        """Every answer of the mapping that does not fit this interview."""
        problems: list[Problem] = []
        top = loaded.top
        for name, entry in loaded.answers.items():
            found = list(self._check_answer(name, entry))
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

    def _check_answer(self, name: str, entry: Entry) -> Iterator[Problem]:
        variable = self.variables.get(name)
        if variable is None:
            yield self._unknown(name, entry)
            return
        if variable.type is None:
            yield _problem(
                entry,
                (),
                f"'{name}' is a {variable.kind} in {self.file}, not a "
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
                f"answer '{name}' is {answer_type}, but {self.file} defines it as {variable.type}",
                "interview-type",
                key=not where,
                hint=f"type: {variable.type}",
            )
        yield from self._check_repeat(name, entry, spec, variable)
        yield from self._check_options(name, entry, spec, variable)

    def _unknown(self, name: str, entry: Entry) -> Problem:
        names = list(self.variables)
        folded = [n for n in names if n.casefold() == name.casefold()]
        close = folded or difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        if close:
            hint = f"did you mean '{close[0]}'?"
            if folded:
                hint += " (HotDocs names are case-sensitive)"
        else:
            hint = "use the variable's exact name as the interview spells it"
            if self.kind == "answer file":
                hint += " (an answer file lists only the variables that were answered)"
        return _problem(
            entry,
            (),
            f"answer '{name}' is not a variable of {self.file}",
            "interview-unknown",
            key=True,
            hint=hint,
        )

    def _check_repeat(
        self, name: str, entry: Entry, spec: dict[str, Any], variable: Variable
    ) -> Iterator[Problem]:
        repeats = "each" in spec
        if variable.repeated is True and not repeats:
            if variable.dialog:
                where = f"{self.file} asks '{name}' in the repeated dialog '{variable.dialog}'"
            else:
                where = f"{self.file} has '{name}' as a repeated answer"
            yield _problem(
                entry,
                (),
                f"{where}, but the answer does not repeat",
                "interview-repeat",
                key=True,
                hint="give it `each:`, e.g. {each: children, value: name}",
            )
        elif variable.repeated is False and repeats:
            if self.kind == "answer file":
                where = f"{self.file} has it as a single answer"
            else:
                where = f"{self.file} asks it once, not in a repeated dialog"
            yield _problem(
                entry,
                ("each",),
                f"answer '{name}' repeats (each:), but {where}",
                "interview-repeat",
                key=True,
                hint="remove `each:`",
            )

    def _check_options(
        self, name: str, entry: Entry, spec: dict[str, Any], variable: Variable
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
                f"'{choice}' is not an option of '{name}' in {self.file}",
                "interview-option",
                hint=hint,
            )
        if len(chosen) > 1 and not variable.multiple:
            yield _problem(
                entry,
                path,
                f"'{name}' allows one selection in {self.file}, the answer gives {len(chosen)}",
                "interview-option",
            )


def _literal_choices(source: Any) -> list[str] | None:
    """The options a literal multiple-choice expression selects; None when it is not a literal."""
    if not isinstance(source, str):
        return None
    import jmespath
    from jmespath import exceptions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            ast = jmespath.compile(source).parsed
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


def read_interview(path: str) -> Interview:
    """The variables of the interview in `path` (.cmp, .manifest.xml or .anx, by content)."""
    data = read_bounded(path, "an interview file")
    return parse_interview(data, os.path.basename(path))


def parse_interview(data: bytes, name: str) -> Interview:
    """Recognise the file by its root element and read its variables."""
    root = parse_xml(data, name)
    tag = _local(root.tag)
    if tag == "componentLibrary":
        return _from_component_file(root, name)
    if tag == "templateManifest":
        return _from_manifest(root, name)
    if tag.lower() == "answerset":
        answers = answers_from_root(root, name)
        variables = {
            a.name: Variable(a.name, a.type, a.type, repeated=a.repeated) for a in answers.answers
        }
        return Interview(name, "answer file", variables)
    raise AnswerFileError(
        f"{name}: not a HotDocs component file (.cmp), template manifest (.manifest.xml) or "
        f"answer file (.anx): its root element is <{tag}>"
    )


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _from_manifest(root: ElementTree.Element, name: str) -> Interview:
    interview = Interview(name, "template manifest")
    for element in root.iter():
        if _local(element.tag) == "variable" and element.get("name"):
            kind = element.get("type", "")
            var_name = str(element.get("name"))
            interview.variables[var_name] = Variable(var_name, TYPE_WORDS.get(kind), kind)
    return interview


def _from_component_file(root: ElementTree.Element, name: str) -> Interview:
    interview = Interview(name, "component file")
    components = next((e for e in root if _local(e.tag) == "components"), root)
    dialogs: dict[str, ElementTree.Element] = {}
    for element in components:
        kind = _local(element.tag)
        var_name = element.get("name")
        if not var_name:
            continue
        if kind == "dialog":
            dialogs[var_name] = element
        elif kind in TYPE_WORDS:
            options = None
            if kind == "multipleChoice":
                options = tuple(
                    str(o.get("name"))
                    for o in element.iter()
                    if _local(o.tag) == "option" and o.get("name") is not None
                )
            multiple = any(_local(e.tag) == "multipleSelection" for e in element)
            interview.variables[var_name] = Variable(
                var_name, TYPE_WORDS[kind], kind, options, multiple
            )
        elif kind == "computation":
            interview.variables[var_name] = Variable(var_name, None, "computation")
    _mark_repeats(interview, dialogs)
    return interview


def _is_repeated_style(dialog: ElementTree.Element) -> bool:
    for style in dialog:
        if _local(style.tag) == "style":
            return any(
                word in _local(child.tag).lower()
                for child in style
                for word in ("spreadsheet", "series", "repeat")
            )
    return False


def _items(dialog: ElementTree.Element) -> list[str]:
    return [
        str(item.get("name"))
        for item in dialog.iter()
        if _local(item.tag) == "item" and item.get("name")
    ]


def _mark_repeats(interview: Interview, dialogs: dict[str, ElementTree.Element]) -> None:
    """Variables asked in a repeated dialog (or a dialog inside one) repeat; variables asked only
    in dialogs that do not repeat do not; the rest the file does not say."""
    repeated_in: dict[str, str] = {}
    asked_once: set[str] = set()

    def visit(dialog: str, repeated_by: str | None, seen: frozenset[str]) -> None:
        element = dialogs[dialog]
        if _is_repeated_style(element):
            repeated_by = repeated_by or dialog
        for item in _items(element):
            if item in dialogs and item not in seen:
                visit(item, repeated_by, seen | {item})
            elif repeated_by:
                repeated_in.setdefault(item, repeated_by)
            else:
                asked_once.add(item)

    for dialog in dialogs:
        visit(dialog, None, frozenset({dialog}))
    for var_name, variable in list(interview.variables.items()):
        if var_name in repeated_in:
            interview.variables[var_name] = _with(variable, True, repeated_in[var_name])
        elif var_name in asked_once:
            interview.variables[var_name] = _with(variable, False, None)


def _with(variable: Variable, repeated: bool, dialog: str | None) -> Variable:
    return Variable(
        variable.name,
        variable.type,
        variable.kind,
        variable.options,
        variable.multiple,
        repeated,
        dialog,
    )
