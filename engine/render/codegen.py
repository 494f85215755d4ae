"""Compiled rendering: one mapping -> one generated Python function that writes its answer file.

Stage: a fast path beside context -> evaluation -> answerfile (`rendering.render_bundle` tries it
first). Pure: no I/O. Generated once per `CompiledMapping` (kept for the process; forked batch
workers inherit it), as fastjsonschema does for JSON Schema: the function does only what that
mapping needs, in straight-line code with local variables:
- each answer's plain field path (`client.first_name`, `spouse.custom.gender`, an `each`
  entry's `name`) is inlined as dict lookups; any other expression calls its compiled closure
  (`Expression.evaluate`, the same one the interpreter calls);
- each answer is typed and written to answer-file XML in one step, the text escaped once (a
  string with nothing to clean or escape is written as it is);
- answers sharing an `each` source share one evaluation of it, as in the interpreter.

Generated code rather than closures: the per-answer work is a few dict lookups and string joins,
so the cost of calling a closure per step (and per entry of a repeat) is most of the time; one
flat function with constants in globals has none of it, and its source can be read (`source`).

The context is built only as far as needed (`_fast_data`): no per-contact views, no sensitive
values (only errors show them), no did-you-mean; the keys the function reads come from the
bundle directly. A mapping whose expressions read a context key this module does not specialise
(see `FAST_KEYS`), or the whole context (`@`, `keys(@)`), gets the generic `build_context`
instead; so does a bundle with a key this module does not know (`KNOWN_BUNDLE_KEYS`).

Exactness: the compiled path gives up (returns None, and the caller runs the interpreter) on
anything that is not the plain case: any warning the context or the answers would carry, any
value that is not of its answer's plain type, any failing expression, an exception of any kind.
So errors, warnings, masking and `explain`'s provenance are the interpreter's, unchanged;
tests/render/test_compiled.py checks both paths give identical bytes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..hotdocs.answerfile import _TEXT_SPECIAL as TEXT_SPECIAL
from ..hotdocs.answerfile import (
    DECLARATION,
    TEXT_LIMIT,
    escape_attribute,
    escape_text,
    format_number,
    hotdocs_name,
    remove_forbidden,
)
from ..hotdocs.answerfile import (
    _open_answer as answer_element,
)
from ..mapping.expressions import build_evaluator
from ..mapping.functions import FUNCTIONS
from ..mapping.model import AnswerRule, CompiledMapping
from ..model import VALUE_ELEMENTS
from .context import SEED_ROLE_LISTS, build_context, contact_name
from .context import _classify as classify
from .custom_values import CustomFieldIndex
from .evaluation import _text as as_text
from .evaluation import to_choices, to_date, to_number, to_true_false
from .reviewing import review_lines

# The context keys `_fast_data` builds. A mapping that reads any other key (one added to
# `build_context` later) gets the generic context: to specialise a new key,
# add it here and build it in `_fast_data`.
FAST_KEYS = frozenset(
    {"matter", "client", "spouse", "spouses", "children", "grandchildren", "parties",
     "co_clients", "related", "by_role", "today"}
)  # fmt: skip
# The bundle keys `_fast_data` knows: a bundle with any other key gets the generic context.
# `co_clients` and `fetch_warnings` only when empty (a single-client matter, a fetch that got
# everything); otherwise the generic context builds them.
KNOWN_BUNDLE_KEYS = frozenset({"bundle_version", "matter", "contacts", "relationships",
                               "custom_fields", "co_clients", "fetch_warnings"})  # fmt: skip
_EXACT_INT = 2**53  # beyond it a double holds a whole number only rounded (a warning)


class _GiveUp(Exception):
    """Not the plain case: the interpreter renders this bundle."""


@dataclass(frozen=True)
class Plan:
    """One mapping's generated renderer."""

    function: Callable[[dict[str, Any]], bytes]
    source: str  # the generated Python, for reading and debugging
    generic_context: bool  # the mapping reads context keys `_fast_data` does not build


def render_compiled(
    bundle: dict[str, Any], mapping: CompiledMapping, today: datetime.date
) -> bytes | None:
    """The answer file for a checked bundle, or None when the interpreter must render it."""
    plan = plan_for(mapping)
    if plan is None:
        return None
    try:
        data = None
        if not plan.generic_context and KNOWN_BUNDLE_KEYS.issuperset(bundle):
            data = _fast_data(bundle, mapping, today)
        if data is None:
            context = build_context(bundle, mapping, today=today)
            if context.warnings:
                return None
            data = context.data
        if mapping.review and review_lines(mapping, data):  # lines to review: warnings
            return None
        return plan.function(data)
    except Exception:  # noqa: BLE001 - whatever it is, the interpreter says it properly
        return None


_PLANS: dict[int, tuple[CompiledMapping, Plan | None]] = {}


def plan_for(mapping: CompiledMapping) -> Plan | None:
    """The mapping's generated renderer (made on first use), or None when it has none."""
    entry = _PLANS.get(id(mapping))
    if entry is None or entry[0] is not mapping:
        if len(_PLANS) > 64:
            _PLANS.clear()
        entry = _PLANS[id(mapping)] = (mapping, _make_plan(mapping))
    return entry[1]


# --- the context, as far as the mapping reads it ------------------------------------------------


def _fast_data(
    bundle: dict[str, Any], mapping: CompiledMapping, today: datetime.date
) -> dict[str, Any]:
    """`build_context(...).data` for a bundle that gives no warning (raises _GiveUp otherwise).
    Every warning `build_context` can give is checked for here, in the same order of work."""
    if bundle.get("co_clients") or bundle.get("fetch_warnings"):
        raise _GiveUp  # the generic context builds co-clients and says what Clio left out
    by_id = {c["id"]: c for c in bundle["contacts"]}
    client_id = bundle["matter"]["client"]["id"]
    warnings: list[str] = []
    fields = (
        CustomFieldIndex(mapping.custom_fields, bundle.get("custom_fields", []), warnings)
        if mapping.custom_fields
        else None
    )
    client_record = by_id[client_id]
    if client_record.get("type") == "Company":
        raise _GiveUp
    client = _contact(client_record, "", "Client", fields, warnings)
    rules = mapping.relationships
    by_role: dict[str, list[dict[str, Any]]] = {role: [] for role in rules.role_names}
    related: list[dict[str, Any]] = []
    seen = {client_id}
    for rel in bundle.get("relationships", ()):
        contact_id = rel["contact"]["id"]
        if contact_id in seen:  # the client itself, or a contact related twice: warnings
            raise _GiveUp
        seen.add(contact_id)
        label = rel.get("description") or ""
        if not label.strip():
            label = ""
        role = classify(rules, label).role
        contact = _contact(by_id[contact_id], label, role, fields, warnings)
        related.append(contact)
        by_role[role].append(contact)
    for record in (client_record, *(by_id[i] for i in seen if i != client_id)):
        if record.get("redacted") is True or not contact_name(record):
            raise _GiveUp
    if warnings:
        raise _GiveUp
    data: dict[str, Any] = {"matter": bundle["matter"], "client": client}
    for key, role in SEED_ROLE_LISTS:
        data[key] = by_role.get(role, [])
    spouses = data["spouses"]
    if len(spouses) > 1:
        raise _GiveUp
    data["spouse"] = spouses[0] if spouses else None
    data["parties"] = by_role[rules.otherwise]
    data["related"] = related
    data["co_clients"] = []
    data["by_role"] = by_role
    data["today"] = today.isoformat()
    return data


def _contact(
    record: dict[str, Any],
    label: str,
    role: str,
    fields: CustomFieldIndex | None,
    warnings: list[str],
) -> dict[str, Any]:
    contact = dict(record)
    contact["relationship"] = label
    contact["role"] = role
    contact["custom"] = fields.values_for(record, warnings) if fields is not None else {}
    return contact


# --- typing and writing, for what is not the plain case ------------------------------------------

_plain = TEXT_SPECIAL.search  # None: nothing in the text to clean or escape


def _text_xml(raw: Any) -> str | None:
    """A text answer's element content; None when it is blank once cleaned."""
    text = raw if raw.__class__ is str else as_text(raw)
    if len(text) > TEXT_LIMIT:  # a warning: the interpreter tells it
        raise _GiveUp
    text = remove_forbidden(text)
    return escape_text(text) if text else None


def _date_xml(raw: Any) -> str:
    value = to_date(raw)
    return f"{value.day}/{value.month}/{value.year:04d}"


def _number_xml(raw: Any) -> str:
    if raw.__class__ is int and -_EXACT_INT <= raw <= _EXACT_INT:
        return str(raw)
    value = to_number(raw)
    if isinstance(value, int) and abs(value) > _EXACT_INT:  # rounded by HotDocs: a warning
        raise _GiveUp
    return format_number(value)


def _true_false_xml(raw: Any) -> str:
    return "true" if to_true_false(raw) else "false"


def _choices_xml(raw: Any, indent: str) -> str | None:
    """A multiple_choice answer's MCValue element; None when no selection is left."""
    chosen = to_choices(raw)
    if chosen is None:
        return None
    if any(len(choice) > TEXT_LIMIT for choice in chosen):
        raise _GiveUp
    lines = [f"{indent}<MCValue>\n"]
    lines.extend(f"{indent}\t<SelValue>{escape_text(choice)}</SelValue>\n" for choice in chosen)
    lines.append(f"{indent}</MCValue>\n")
    return "".join(lines)


# --- code generation -----------------------------------------------------------------------------


def root_reads(node: dict[str, Any]) -> set[str] | None:
    """The context keys an expression reads at the top (`spouse.name` -> {"spouse"}), or None
    when it reads the context as a whole (`@`, `*`, `keys(@)`) or in a way not known here."""
    kind = node.get("type")
    if kind == "field":
        return {node["value"]}
    if kind in ("literal", "index", "slice", "expref"):  # an expref runs on other values
        return set()
    children = node.get("children", [])
    if kind in _SAME_NODE:
        targets = children
    elif kind in _FIRST_ON_NODE:
        targets = children[:1]  # the rest run on what the first gives
    else:  # current, identity, anything new
        return None
    found: set[str] = set()
    for child in targets:
        reads = root_reads(child)
        if reads is None:
            return None
        found |= reads
    return found


_SAME_NODE = frozenset({"or_expression", "and_expression", "not_expression", "comparator",
                        "multi_select_list", "multi_select_dict", "key_val_pair",
                        "function_expression"})  # fmt: skip
_FIRST_ON_NODE = frozenset({"subexpression", "index_expression", "pipe", "projection",
                            "value_projection", "filter_projection", "flatten"})  # fmt: skip


class _Writer:
    """Generated source lines and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self._ids: dict[tuple[type, Any], str] = {}

    def const(self, value: Any, prefix: str = "k") -> str:
        key = (type(value), value if isinstance(value, str | int) else id(value))
        name = self._ids.get(key)
        if name is None:
            name = self._ids[key] = f"_{prefix}{len(self._ids)}"
            self.names[name] = value
        return name

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _make_plan(mapping: CompiledMapping) -> Plan | None:
    if not all(hotdocs_name(rule.name) for rule in mapping.answers):
        return None  # the interpreter refuses the file, naming the answer
    generic = False
    for rule in mapping.answers:
        reads = root_reads((rule.each or rule.value).ast)  # an each's value runs on entries
        if reads is None or not FAST_KEYS.issuperset(reads):
            generic = True
    source, names = generate(mapping)
    namespace: dict[str, Any] = dict(names)
    exec(compile(source, f"<mapctl compiled mapping {mapping.title!r}>", "exec"), namespace)  # noqa: S102 - our own generated code; every mapping value is a constant in `names`
    return Plan(namespace["render"], source, generic)


def generate(mapping: CompiledMapping) -> tuple[str, dict[str, Any]]:
    """The Python source of the mapping's renderer and the constants it names."""
    w = _Writer()
    w.names.update(
        _GiveUp=_GiveUp, _plain=_plain, _text_xml=_text_xml, _date_xml=_date_xml,
        _number_xml=_number_xml, _true_false_xml=_true_false_xml, _choices_xml=_choices_xml,
        _TEXT_LIMIT=TEXT_LIMIT, _dict=dict, _list=list, _str=str,
        **dict(_FUNCTIONS.values()),
    )  # fmt: skip
    head = DECLARATION + f'<AnswerSet title="{escape_attribute(mapping.title)}" version="1.1">\n'
    w.add(0, "def render(data):")
    w.add(1, f"out = [{w.const(head)}]")
    w.add(1, "app = out.append")
    known: dict[str, str] = {}  # a part of an expression over the context -> its local variable
    for rule in mapping.answers:
        _answer_code(w, rule, known)
    w.add(1, "app('</AnswerSet>\\n')")
    w.add(1, "return ''.join(out).encode('utf-8')")
    return "\n".join(w.lines) + "\n", w.names


def _fast_length(value: Any) -> int:
    if value.__class__ not in (str, list, dict):  # JMESPath's type error: the interpreter's
        raise _GiveUp
    return len(value)


def _fast_primary(items: Any) -> Any:
    if items is not None and items.__class__ is not list:
        raise _GiveUp
    return FUNCTIONS._func_primary(items)  # the function itself, past its signature check


# Functions called directly (their argument types checked here, as JMESPath's signature would;
# on a mismatch the interpreter reports the error): name -> (variable, the function).
_FUNCTIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "length": ("_length", _fast_length),
    "primary": ("_primary", _fast_primary),
}


def _part_code(
    w: _Writer, node: dict[str, Any], base: str, depth: int, known: dict[str, str] | None
) -> str:
    """A local variable holding `node` evaluated over `base`. Over the context (`known` given)
    each part is computed once, at the top of the function, and reused by later answers:
    expressions are pure, so `primary(client.addresses)` is the same for street and city."""
    key = repr(node) if known is not None else None
    if key is not None and known is not None and key in known:
        return known[key]
    kind = node.get("type")
    children = node.get("children", [])
    if kind == "field":
        name = w.const(node["value"])
        code = f"{base}.get({name})" if base == "data" else (
            f"{base}.get({name}) if {base}.__class__ is _dict else None"
        )  # fmt: skip
    elif kind in ("subexpression", "index_expression", "pipe") and children:
        current = _part_code(w, children[0], base, depth, known)
        for count in range(2, len(children) + 1):  # each child runs on what the one before gave
            prefix = repr((kind, children[:count])) if known is not None else None
            if prefix is not None and known is not None and prefix in known:
                current = known[prefix]  # `client.custom` of `client.custom.gender`, computed
                continue
            current = _part_code(w, children[count - 1], current, depth, None)
            if prefix is not None and known is not None:
                known[prefix] = current
        code = current
    elif kind == "function_expression" and node["value"] in _FUNCTIONS and len(children) == 1:
        argument = _part_code(w, children[0], base, depth, known)
        code = f"{_FUNCTIONS[node['value']][0]}({argument})"
    elif (
        kind == "comparator"
        and node["value"] in ("eq", "ne")
        and len(children) == 2
        and children[1].get("type") == "literal"
        and children[1].get("value") is None
    ):  # `x != null`: JMESPath's equality with null is identity with None
        left = _part_code(w, children[0], base, depth, known)
        code = f"({left} is {'not ' if node['value'] == 'ne' else ''}None)"
    elif kind == "literal" and isinstance(node["value"], str | int | float | bool | type(None)):
        code = w.const(node["value"]) if node["value"] is not None else "None"
    else:  # anything else: the same closure the interpreter runs, for this part
        code = f"{w.const(build_evaluator(node), 'e')}({base})"
    if code.isidentifier():
        variable = code
    else:
        variable = f"p{len(w.lines)}"
        w.add(depth, f"{variable} = {code}")
    if key is not None and known is not None:
        known[key] = variable
    return variable


def _answer_code(w: _Writer, rule: AnswerRule, known: dict[str, str]) -> None:
    open_answer = answer_element(rule.name)
    close_answer = "\t</Answer>\n"
    element = VALUE_ELEMENTS[rule.type]
    w.add(1, f"# {rule.name!r} ({rule.type})".replace("\n", " "))
    if rule.each is None:
        value = _part_code(w, rule.value.ast, "data", 1, known)
        w.add(1, f"v = {value}")
        _typed_code(w, rule.type, element, "\t\t", open_answer, close_answer, "app", 1, None)
        return
    checked = f"{rule.each.source!r} checked"
    items = _part_code(w, rule.each.ast, "data", 1, known)
    if checked not in known:
        known[checked] = items
        w.add(1, f"if {items} is not None and {items}.__class__ is not _list:")
        w.add(2, "raise _GiveUp")
    w.add(1, f"if {items}:")
    w.add(2, f"parts = [{w.const(open_answer + chr(9) + chr(9) + '<RptValue>' + chr(10))}]")
    w.add(2, "put = parts.append")
    w.add(2, f"for item in {items}:")
    value = _part_code(w, rule.value.ast, "item", 3, None)
    w.add(3, f"v = {value}")
    unanswered = f'\t\t\t<{element} unans="true"/>\n'
    _typed_code(w, rule.type, element, "\t\t\t", "", "", "put", 3, unanswered)
    w.add(2, f"put({w.const(chr(9) + chr(9) + '</RptValue>' + chr(10) + close_answer)})")
    w.add(2, "app(''.join(parts))")


def _typed_code(
    w: _Writer,
    kind: str,
    element: str,
    indent: str,
    before: str,
    after: str,
    put: str,
    depth: int,
    unanswered: str | None,
) -> None:
    """Write `v` (the expression's raw result) as `kind`; `unanswered`: the repeat's gap entry
    (None for a single answer, left out when blank)."""
    blank = 'v is None or v == "" or v == []'
    gap = f"{put}({w.const(unanswered)})" if unanswered is not None else "pass"
    d = depth
    if kind in ("text", "multiple_choice"):
        if kind == "text":
            start = before + f"{indent}<TextValue>"
            end = "</TextValue>\n" + after
        else:
            start = before + f"{indent}<MCValue>\n{indent}\t<SelValue>"
            end = f"</SelValue>\n{indent}</MCValue>\n" + after
        fast = "v.__class__ is _str and v and len(v) <= _TEXT_LIMIT and _plain(v) is None"
        w.add(d, f"if {fast}:")
        w.add(d + 1, f"{put}({w.const(start)} + v + {w.const(end)})")
        w.add(d, f"elif {blank}:")
        w.add(d + 1, gap)
        w.add(d, "else:")
        if kind == "text":
            w.add(d + 1, "t = _text_xml(v)")
            w.add(d + 1, "if t is not None:")
            w.add(d + 2, f"{put}({w.const(start)} + t + {w.const(end)})")
        else:
            w.add(d + 1, f"t = _choices_xml(v, {w.const(indent)})")
            w.add(d + 1, "if t is not None:")
            w.add(d + 2, f"{put}({w.const(before)} + t + {w.const(after)})")
        if unanswered is not None:
            w.add(d + 1, "else:")
            w.add(d + 2, gap)
        return
    convert = {"date": "_date_xml", "number": "_number_xml", "true_false": "_true_false_xml"}[kind]
    start = before + f"{indent}<{element}>"
    end = f"</{element}>\n" + after
    w.add(d, f"if {blank}:")
    w.add(d + 1, gap)
    w.add(d, "else:")
    w.add(d + 1, f"{put}({w.const(start)} + {convert}(v) + {w.const(end)})")


def sources(mapping: CompiledMapping) -> Sequence[str]:
    """The generated source, one line per item (for debugging: `print(*sources(m), sep="\\n")`)."""
    plan = plan_for(mapping)
    return plan.source.splitlines() if plan else []
