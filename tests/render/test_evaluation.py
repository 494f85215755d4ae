"""Evaluation: type rules, blanks, repeats, errors with locations, keep_going."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from mapctl.engine.errors import EvaluationError
from mapctl.engine.mapping.model import AnswerRule
from mapctl.engine.render.evaluation import evaluate
from mapctl.engine.report import format_problems

from tests.render.helpers import contact, context_for, make_bundle, mapping, rule

FAMILY = make_bundle(
    contact(
        5001,
        "Jay Pritchett",
        date_of_birth="1950-05-17",
        prior=2,
        score=2.5,
        active=False,
        tags=["a", "b"],
        zero=0,
        flag="Yes",
        when="2020-02-03T10:00:00Z",
        bad_day="17/05/1950",
        money="1250.50",
        plain="twelve",
    ),
    [
        ("Wife", contact(2, "Gloria Pritchett", date_of_birth="1971-05-13")),
        ("Son", contact(3, "Mitchell Pritchett", date_of_birth="1973-06-03")),
        ("Daughter", contact(4, "Claire Dunphy", date_of_birth=None)),
        ("Stepson", contact(5, "Manny Delgado", date_of_birth="")),
        ("Grandson", contact(6, "Luke Dunphy", date_of_birth="1998-11-28")),
    ],
)


def values(*rules: AnswerRule, keep_going: bool = False) -> dict[str, Any]:
    ev = evaluate(mapping(*rules), context_for(FAMILY), keep_going=keep_going)
    return {a.name: a.value for a in ev.answer_set.answers}


def test_each_type_converts_as_documented():
    got = values(
        rule("t", "client.first_name"),
        rule("t_num", "client.prior"),
        rule("t_float", "client.score"),
        rule("t_whole_float", "`3.0`"),
        rule("t_bool", "client.active"),
        rule("n", "client.prior", "number"),
        rule("n_str", "client.money", "number"),
        rule("n_len", "length(children)", "number"),
        rule("n_zero", "client.zero", "number"),
        rule("d", "client.date_of_birth", "date"),
        rule("d_time", "client.when", "date"),
        rule("tf", "client.active", "true_false"),
        rule("tf_yes", "client.flag", "true_false"),
        rule("tf_expr", "spouse != `null`", "true_false"),
        rule("mc", "client.first_name", "multiple_choice"),
        rule("mc_list", "client.tags", "multiple_choice"),
    )
    assert got == {
        "t": "Jay",
        "t_num": "2",
        "t_float": "2.5",
        "t_whole_float": "3",
        "t_bool": "false",
        "n": 2,
        "n_str": 1250.5,
        "n_len": 3,
        "n_zero": 0,
        "d": datetime.date(1950, 5, 17),
        "d_time": datetime.date(2020, 2, 3),
        "tf": False,
        "tf_yes": True,
        "tf_expr": True,
        "mc": ("Jay",),
        "mc_list": ("a", "b"),
    }


def test_blank_is_unanswered_but_false_and_zero_are_answers():
    got = values(
        rule("null", "client.nothing"),
        rule("empty", "''"),
        rule("list", "`[]`", "multiple_choice"),
        rule("false", "`false`", "true_false"),
        rule("zero", "`0`", "number"),
        rule("blanks", "[client.nothing, '']", "multiple_choice"),
        rule("some", "[client.nothing, client.first_name, '']", "multiple_choice"),
    )
    assert got == {
        "null": None,
        "empty": None,
        "list": None,
        "false": False,
        "zero": 0,
        "blanks": None,
        "some": ("Jay",),
    }
    with pytest.raises(EvaluationError, match="a multiple_choice list may hold only strings"):
        values(rule("numbers", "[client.first_name, `1`]", "multiple_choice"))


def test_each_gives_one_entry_per_element_with_blank_gaps_aligned():
    got = values(
        rule("name", "name", each="children"),
        rule("dob", "date_of_birth", "date", each="children"),
        rule("none", "name", each="client.nothing"),
    )
    assert got["name"] == ("Mitchell Pritchett", "Claire Dunphy", "Manny Delgado")
    assert got["dob"] == (datetime.date(1973, 6, 3), None, None)
    assert got["none"] == ()


ERRORS = [
    rule("Kids", "length(client.nothing)", "number", line=12),
    rule("Born", "client.bad_day", "date", line=13),
    rule("Tags", "client.tags", line=14),
    rule("Count", "client.plain", "number", line=15),
    rule("Flag", "client.prior", "true_false", line=16),
    rule("Each", "name", each="client.first_name", line=17),
    rule("Dobs", "name", "date", each="related", line=18),
    rule("Fine", "client.first_name", line=19),
]


def test_runtime_errors_name_the_answer_location_expression_and_value():
    with pytest.raises(EvaluationError) as error:
        values(*ERRORS)
    assert (
        format_problems(error.value.problems)
        == """\
m.yaml:12:5: error: answer 'Kids' (number): length() expects string or array or object, got null
  at answers -> 'Kids'
  expression: length(client.nothing)
  value: null
m.yaml:13:5: error: answer 'Born' (date): "17/05/1950" is not a date (expected YYYY-MM-DD or an ISO date-time)
  at answers -> 'Born'
  expression: client.bad_day
  value: "17/05/1950"
m.yaml:14:5: error: answer 'Tags' (text): a text answer needs a string or a number, got a list
  at answers -> 'Tags'
  expression: client.tags
  value: ["a", "b"]
m.yaml:15:5: error: answer 'Count' (number): "twelve" is not a number (write it like 1250.50)
  at answers -> 'Count'
  expression: client.plain
  value: "twelve"
m.yaml:16:5: error: answer 'Flag' (true_false): a true_false answer needs true or false, got 2
  at answers -> 'Flag'
  expression: client.prior
  value: 2
m.yaml:17:5: error: answer 'Each' (text): `each` must give a list, got a string
  at answers -> 'Each' -> each
  expression: client.first_name
  value: "Jay"
m.yaml:18:5: error: answer 'Dobs' (date): "Gloria Pritchett" is not a date (expected YYYY-MM-DD or an ISO date-time)
  at answers -> 'Dobs'
  in entry 1 of each: related (name='Gloria Pritchett')
  expression: name
  value: "Gloria Pritchett\""""
    )


def test_keep_going_leaves_failing_answers_out_and_lists_them():
    ev = evaluate(mapping(*ERRORS), context_for(FAMILY), keep_going=True)
    assert [a.name for a in ev.answer_set.answers] == ["Fine"]
    assert [p.path[1] for p in ev.errors] == [
        "Kids",
        "Born",
        "Tags",
        "Count",
        "Flag",
        "Each",
        "Dobs",
    ]


def test_long_values_are_truncated_in_messages():
    with pytest.raises(EvaluationError) as error:
        values(rule("All", "related"))
    assert error.value.problems[0].context[-1].endswith(" ... (len=5)")
    assert len(error.value.problems[0].context[-1]) < 110


def test_client_record_and_provenance():
    ev = evaluate(
        mapping(
            rule("dob", "date_of_birth", "date", each="children"), rule("ssn", "client.custom.ssn")
        ),
        context_for(FAMILY),
    )
    assert (ev.client_record.name, ev.client_record.notes) == (
        "Jay Pritchett",
        "Imported from Clio matter 00002-Pritchett on 2026-03-01",
    )
    assert ev.client_record_errors == []
    prov = ev.provenance["dob"]
    assert (prov.expression, prov.each, prov.raw) == (
        "date_of_birth",
        "children",
        ["1973-06-03", None, ""],
    )
    assert prov.paths == (("children",), ("children", "[]", "date_of_birth"))
    assert ev.provenance["ssn"].paths == (("client", "custom", "ssn"),)


def test_a_nameless_client_does_not_stop_rendering_but_the_client_record_reports_it():
    bundle = make_bundle(contact(5001, "", first_name=None, last_name=None), [])
    ev = evaluate(mapping(rule("x", "client.id", "number")), context_for(bundle))
    assert ev.answer_set.answers[0].value == 5001
    assert ev.client_record.name is None
    assert [p.message for p in ev.client_record_errors] == ["client_record.name gave no name"]


def test_evaluation_is_deterministic():
    rules = [rule("name", "name", each="related"), rule("n", "length(related)", "number")]
    first = evaluate(mapping(*rules), context_for(FAMILY)).answer_set
    assert all(evaluate(mapping(*rules), context_for(FAMILY)).answer_set == first for _ in range(3))


def test_property_any_unicode_in_any_text_field_renders_and_reads_back() -> None:
    import json
    import random

    from mapctl.engine.hotdocs.answerfile import read_answer_file, remove_forbidden, render_xml

    rnd = random.Random(3)
    fields = ("name", "first_name", "last_name", "title", "prefix")
    rules = [rule(f"Client {f}", f"client.{f}") for f in fields] + [
        rule("Kids", "name", each="children")
    ]
    for _ in range(150):
        texts = {
            f: "".join(
                chr(
                    rnd.choice(
                        [
                            rnd.randint(0, 0x7F),
                            rnd.randint(0x80, 0xFFFF),
                            rnd.randint(0x10000, 0x10FFFF),
                        ]
                    )
                )
                for _ in range(rnd.randint(1, 12))
            )
            for f in fields
        }
        client = {**contact(5001, "x"), **texts}
        kid = contact(2, texts["title"])
        bundle = json.loads(json.dumps(make_bundle(client, [("Son", kid)])))
        ev = evaluate(mapping(*rules), context_for(bundle))
        back = {a.name: a.value for a in read_answer_file(render_xml(ev.answer_set)).answers}
        for f in fields:
            expected = remove_forbidden(texts[f])
            assert back.get(f"Client {f}") == (expected or None), (f, texts[f])
        assert back.get("Kids", ()) == (
            (remove_forbidden(texts["title"]),) if remove_forbidden(texts["title"]) else ()
        )


def test_function_type_errors_use_json_type_names():
    with pytest.raises(EvaluationError) as error:
        values(rule("Joined", "join(', ', [client.nothing])"))
    assert error.value.problems[0].message == (
        "answer 'Joined' (text): join() expects array-string, got null"
    )


def test_values_are_cleaned_as_the_answer_file_holds_them():
    """Text and selections are what the answer file holds (issue 9): XML-forbidden characters
    removed, a lone surrogate as U+FFFD; blank once cleaned is unanswered. HotDocs SDK,
    AnswerCollection.ReadValue: an empty TextValue is Unanswered (`string.IsNullOrEmpty(s)`)."""
    got = values(
        rule("Blank TE", '`"\\ufffe\\u0007"`'),
        rule("Half TE", '`"X\\ud83d"`'),
        rule("Kept TE", '`"a\\u0000b"`'),
        rule("Pick MC", '`["\\u0007", "Yes"]`', "multiple_choice"),
        rule("None MC", '`"\\u0001"`', "multiple_choice"),
        rule("Rows TE", "@", each='`["a", "\\u0007", "b"]`'),
    )
    assert got == {
        "Blank TE": None,
        "Half TE": "X\ufffd",
        "Kept TE": "ab",
        "Pick MC": ("Yes",),
        "None MC": None,
        "Rows TE": ("a", None, "b"),
    }


def test_clio_text_blank_once_cleaned_is_unanswered_in_a_repeat_too():
    bundle = make_bundle(
        contact(1, "Ann Lee", middle_name="\ufffe\u0007"),
        [("Son", contact(2, "Bo Lee", middle_name="\u0007")), ("Son", contact(3, "Cy Lee"))],
    )
    ev = evaluate(
        mapping(
            rule("Middle TE", "client.middle_name"),
            rule("Child Middle TE", "middle_name", each="children"),
        ),
        context_for(bundle),
    )
    assert [a.value for a in ev.answer_set.answers] == [None, (None, None)]


def test_a_number_beyond_a_double_is_an_error_naming_the_answer():
    """HotDocs keeps numbers as doubles (NumberValue; AnswerCollection.ReadValue reads a
    NumValue with XmlConvert.ToDouble, which throws past ±1.7976931348623157e308 and the whole
    file is refused): such an answer is refused, named."""
    huge = "9" * 400
    with pytest.raises(EvaluationError) as error:
        values(rule("Estate NU", f"'{huge}'", "number"), rule("Ok NU", "'1e5'", "number"))
    message = format_problems(error.value.problems)
    assert message.splitlines()[0] == (
        "m.yaml:10:5: error: answer 'Estate NU' (number): a number of 400 characters does not "
        "fit HotDocs' numbers (doubles, at most ±1.7976931348623157e308): HotDocs refuses the "
        "whole answer file"
    )
    assert values(rule("Max NU", "'1' && `1.7976931348623157e308`", "number")) == {
        "Max NU": 1.7976931348623157e308
    }


def test_text_longer_than_hotdocs_takes_is_a_warning_naming_the_answer():
    bundle = make_bundle(contact(1, "Ann Lee", middle_name="n" * 15_001), [])
    context = context_for(bundle)
    evaluate(mapping(rule("Notes TE", "client.middle_name")), context)
    evaluate(mapping(rule("Notes TE", "client.middle_name")), context)  # told once
    assert context.warnings == [
        "answer 'Notes TE' is 15,001 characters long; HotDocs takes at most 15,000 characters "
        "in a text answer, so the interview may cut it"
    ]
