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

import os
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from ..errors import AnswerFileError
from ..fsutil import read_bounded
from ..model import AnswerType
from .answerfile import answers_from_root, parse_xml

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
