"""Answer files: the writer's rules, the reader on every real sample, round trips."""

from __future__ import annotations

import datetime
import math
import random
from pathlib import Path

import pytest
from mapctl.engine.errors import AnswerFileError
from mapctl.engine.hotdocs.answerfile import (
    answer_warnings,
    answers_to_json,
    clean_text,
    hotdocs_name,
    normalise,
    number_problem,
    read_answer_file,
    remove_forbidden,
    render_xml,
)
from mapctl.engine.model import Answer, AnswerSet

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "hotdocs-samples"
D = datetime.date

EXAMPLE = AnswerSet(
    "Smith, John & <Co>",
    (
        Answer("Client Name TE", "text", "Cara O'Neil & <Sons>"),
        Answer("Blank TE", "text", None),
        Answer("Count NU", "number", 0),
        Answer("Value NU", "number", 1250000.5),
        Answer("Whole NU", "number", 3.0),
        Answer("Born DA", "date", D(1990, 1, 2)),
        Answer("Married TF", "true_false", False),
        Answer("Citizenship MC", "multiple_choice", ("US Citizen", "Other")),
        Answer("Child DOB DA", "date", (D(1990, 1, 2), None, D(1995, 11, 15)), repeated=True),
        Answer("Child MC", "multiple_choice", (("Child",), None), repeated=True),
        Answer("No Kids TE", "text", (), repeated=True),
        Answer("Grandchild TE", "text", (("Dan", None), (), ("Finn",)), repeated=True),
    ),
)


def test_writer_follows_the_hotdocs_rules_byte_for_byte():
    assert (
        render_xml(EXAMPLE).decode("utf-8")
        == """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<AnswerSet title="Smith, John &amp; &lt;Co&gt;" version="1.1">
\t<Answer name="Client Name TE">
\t\t<TextValue>Cara O'Neil &amp; &lt;Sons&gt;</TextValue>
\t</Answer>
\t<Answer name="Count NU">
\t\t<NumValue>0</NumValue>
\t</Answer>
\t<Answer name="Value NU">
\t\t<NumValue>1250000.5</NumValue>
\t</Answer>
\t<Answer name="Whole NU">
\t\t<NumValue>3</NumValue>
\t</Answer>
\t<Answer name="Born DA">
\t\t<DateValue>2/1/1990</DateValue>
\t</Answer>
\t<Answer name="Married TF">
\t\t<TFValue>false</TFValue>
\t</Answer>
\t<Answer name="Citizenship MC">
\t\t<MCValue>
\t\t\t<SelValue>US Citizen</SelValue>
\t\t\t<SelValue>Other</SelValue>
\t\t</MCValue>
\t</Answer>
\t<Answer name="Child DOB DA">
\t\t<RptValue>
\t\t\t<DateValue>2/1/1990</DateValue>
\t\t\t<DateValue unans="true"/>
\t\t\t<DateValue>15/11/1995</DateValue>
\t\t</RptValue>
\t</Answer>
\t<Answer name="Child MC">
\t\t<RptValue>
\t\t\t<MCValue>
\t\t\t\t<SelValue>Child</SelValue>
\t\t\t</MCValue>
\t\t\t<MCValue unans="true"/>
\t\t</RptValue>
\t</Answer>
\t<Answer name="Grandchild TE">
\t\t<RptValue>
\t\t\t<RptValue>
\t\t\t\t<TextValue>Dan</TextValue>
\t\t\t\t<TextValue unans="true"/>
\t\t\t</RptValue>
\t\t\t<RptValue/>
\t\t\t<RptValue>
\t\t\t\t<TextValue>Finn</TextValue>
\t\t\t</RptValue>
\t\t</RptValue>
\t</Answer>
</AnswerSet>
"""
    )


def test_round_trip_gives_the_same_answers():
    back = read_answer_file(render_xml(EXAMPLE))
    assert back.title == EXAMPLE.title
    assert normalise(back) == normalise(EXAMPLE)
    child = back.get("Child MC")
    assert child is not None and child.value == (("Child",),)  # trailing unanswered entry trimmed


def test_forbidden_characters_are_removed_and_whitespace_survives():
    """A lone surrogate becomes U+FFFD, as in every other output (issue 9)."""
    text = "a\x00b\x01c\x0bd\x0ce\x1ff\ufffeg\uffffh\ud800i\tj\nk\r\nl  "
    xml = render_xml(AnswerSet("t\tx", (Answer("N\n1", "text", text),)))
    assert b"\x00" not in xml and b"&#13;" in xml
    back = read_answer_file(xml)
    assert back.answers[0] == Answer("N\n1", "text", "abcdefgh\ufffdi\tj\nk\r\nl  ")
    assert back.title == "t\tx"


def test_dates_and_numbers_are_formatted_invariantly():
    xml = render_xml(
        AnswerSet(
            "",
            (
                Answer("D", "date", D(33, 3, 4)),
                Answer("N", "number", 1e20),
                Answer("M", "number", -0.000001),
            ),
        )
    )
    assert b"<DateValue>4/3/0033</DateValue>" in xml
    assert b"<NumValue>100000000000000000000</NumValue>" in xml
    assert b"<NumValue>-0.000001</NumValue>" in xml


def test_same_answers_same_bytes():
    assert render_xml(EXAMPLE) == render_xml(EXAMPLE)


def test_json_output():
    assert (
        answers_to_json(
            AnswerSet(
                "T",
                (
                    Answer("D", "date", (D(2020, 1, 2), None), repeated=True),
                    Answer("M", "multiple_choice", ("A",)),
                ),
            )
        )
        == """\
{
  "title": "T",
  "answers": [
    {
      "name": "D",
      "type": "date",
      "repeated": true,
      "value": [
        "2020-01-02",
        null
      ]
    },
    {
      "name": "M",
      "type": "multiple_choice",
      "repeated": false,
      "value": [
        "A"
      ]
    }
  ]
}
"""
    )


ANSWER_FILES = {
    "a2jviewer__answers-with-nested-values.anx": 9,
    "a2jviewer__blank_answerset_with_DTD.xml": 0,
    "a2jviewer__partial.anx": 15,
    "anx2json__hotdocs_example.anx": 297,
    "anx2json__simple_hotdocs_example.anx": 12,
    "hotdocs-open-sdk__Freddy.xml": 14,
    "hotdocs-open-sdk__Frederick_utf16.xml": 12,
    "hotdocs-open-sdk__transAns.anx": 1,
}


@pytest.mark.parametrize("name", sorted(ANSWER_FILES))
def test_every_real_sample_reads_and_round_trips(name):
    answers = read_answer_file((SAMPLES / name).read_bytes(), name)
    assert len(answers.answers) == ANSWER_FILES[name]
    assert normalise(read_answer_file(render_xml(answers))) == normalise(answers)


def test_every_sample_file_is_covered():
    on_disk = {p.name for p in SAMPLES.iterdir() if p.name != "README.md"}
    assert on_disk == set(ANSWER_FILES) | {
        "justfix-tenants2__Master.cmp",
        "hotdocs-open-sdk__Demo_Employment_Agreement.docx.manifest.xml",
    }


def test_sample_values_are_read_with_their_types():
    freddy = read_answer_file((SAMPLES / "hotdocs-open-sdk__Freddy.xml").read_bytes())
    utf16 = read_answer_file((SAMPLES / "hotdocs-open-sdk__Frederick_utf16.xml").read_bytes())
    assert {a.type for a in freddy.answers} == {
        "text",
        "number",
        "date",
        "true_false",
        "multiple_choice",
    }
    assert utf16.get("City") == Answer("City", "text", "Lincoln")
    simple = read_answer_file((SAMPLES / "anx2json__simple_hotdocs_example.anx").read_bytes())
    assert [a for a in simple.answers if a.type == "date"][0].value == D(2023, 6, 14)
    nested = read_answer_file((SAMPLES / "a2jviewer__answers-with-nested-values.anx").read_bytes())
    gender = nested.get("User Gender")
    assert gender is not None
    assert gender.repeated and gender.value[10] == ("Male",) and gender.value[0] is None
    big = read_answer_file((SAMPLES / "anx2json__hotdocs_example.anx").read_bytes())
    depth = max(_depth(a.value) for a in big.answers if a.repeated)
    assert depth == 4


def _depth(value: object) -> int:
    if isinstance(value, tuple) and value and any(isinstance(v, tuple) for v in value):
        return 1 + max(_depth(v) for v in value if isinstance(v, tuple))
    return 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "justfix-tenants2__Master.cmp",
            "not a HotDocs answer file: a HotDocs component file (.cmp), not an answer file",
        ),
        (
            "hotdocs-open-sdk__Demo_Employment_Agreement.docx.manifest.xml",
            "not a HotDocs answer file: a HotDocs template manifest (.manifest.xml), not an answer file",
        ),
    ],
)
def test_component_files_and_manifests_are_refused(name, message):
    with pytest.raises(AnswerFileError) as error:
        read_answer_file((SAMPLES / name).read_bytes(), name)
    assert error.value.message == f"{name}: {message}"


def test_every_unanswered_form_and_tolerance():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE AnswerSet [<!ELEMENT AnswerSet (Answer*)>]>
<AnswerSet title="x">
  <Answer name="A"><TextValue/></Answer>
  <Answer name="B"><TextValue></TextValue></Answer>
  <Answer name="C"><TextValue unans="true">ignored</TextValue></Answer>
  <Answer name="D"><DateValue UNANS="TRUE"></DateValue></Answer>
  <Answer name="E"><MCValue><SelValue unans="true">x</SelValue><SelValue/></MCValue></Answer>
  <Answer name="E2"><MCValue><SelValue/><SelValue/><SelValue>b</SelValue></MCValue></Answer>
  <Answer name="E3"><MCValue></MCValue></Answer>
  <Answer name="F"><TFValue>False</TFValue></Answer>
  <Answer name="G"><DateValue>31-10-2015</DateValue></Answer>
  <Answer name="H"><DateValue>1.2.2003</DateValue></Answer>
  <Answer name="I"><NumValue>20500.0000000</NumValue></Answer>
  <Answer name="J"><RptValue><RptValue><TextValue>a</TextValue></RptValue><RptValue/><RptValue></RptValue></RptValue></Answer>
  <Answer name="K"><RptValue><TextValue>a</TextValue><TextValue unans="true"/><TextValue/></RptValue></Answer>
  <Answer name="I"><NumValue>7</NumValue></Answer>
  <Answer name="Back\\5cslash"><TextValue>y</TextValue></Answer>
</AnswerSet>"""
    got = {a.name: a.value for a in read_answer_file(xml).answers}
    assert got == {
        "A": None,
        "B": None,
        "C": None,
        "D": None,
        # HotDocs SDK, AnswerCollection.ReadValue (MCValue): an empty SelValue is kept while
        # nothing is yet ("allow at most a single empty SelValue"): an answered, empty choice;
        # no SelValue kept is unanswered ("as good as unanswered").
        "E": ("",),
        "E2": ("", "b"),
        "E3": None,
        "F": False,
        "G": D(2015, 10, 31),
        "H": D(2003, 2, 1),
        "I": 7,
        "J": (("a",),),
        "K": ("a",),
        "Back\\slash": "y",
    }


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (
            b"<AnswerSet><Answer name='x'><TextValue>a</Answer></AnswerSet>",
            "f.anx: not well-formed XML: mismatched tag: line 1, column 42",
        ),
        (b"", "f.anx: not well-formed XML: no element found: line 1, column 0"),
        (
            b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><AnswerSet>&b;</AnswerSet>",
            "f.anx: the file declares XML entities; mapctl refuses them (entity expansion)",
        ),
        (
            b"<Answers/>",
            "f.anx: not a HotDocs answer file: its root element is <Answers>, not <AnswerSet>",
        ),
        (
            b"<AnswerSet><Answer name='n'><NumValue>12,5</NumValue></Answer></AnswerSet>",
            "f.anx: answer 'n': NumValue '12,5' is not a number",
        ),
        (
            b"<AnswerSet><Answer name='n'><NumValue>1e99999999</NumValue></Answer></AnswerSet>",
            "f.anx: answer 'n': NumValue '1e99999999' overflows a double: HotDocs refuses the "
            "whole file",
        ),
        (
            b"<AnswerSet><Answer name=' '><TextValue>a</TextValue></Answer></AnswerSet>",
            'f.anx: an Answer has no name; HotDocs refuses the whole file ("Answer name is '
            'missing")',
        ),
        (
            b"<AnswerSet><Answer name='n'><NumValue>0x10</NumValue></Answer></AnswerSet>",
            "f.anx: answer 'n': NumValue '0x10' is not a number",
        ),
        (
            b"<AnswerSet><Answer name='r'>"
            + b"<RptValue>" * 5000
            + b"<TextValue>a</TextValue>"
            + b"</RptValue>" * 5000
            + b"</Answer></AnswerSet>",
            "f.anx: repeats nested too deeply",
        ),
        (
            b"<AnswerSet><Answer name='d'><DateValue>2020-01-02</DateValue></Answer></AnswerSet>",
            "f.anx: answer 'd': DateValue '2020-01-02' is not a d/M/yyyy date",
        ),
        (
            b"<AnswerSet><Answer name='t'><TFValue>yes</TFValue></Answer></AnswerSet>",
            "f.anx: answer 't': TFValue 'yes' is not true or false",
        ),
    ],
)
def test_bad_files_are_refused_clearly(xml, message):
    with pytest.raises(AnswerFileError) as error:
        read_answer_file(xml, "f.anx")
    assert error.value.message == message


def _random_text(rnd: random.Random) -> str:
    pools = [(0, 0x7F), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF)]
    out = []
    for _ in range(rnd.randint(0, 40)):
        low, high = rnd.choice(pools)
        out.append(chr(rnd.randint(low, high)))
    return "".join(out)


def test_property_any_unicode_text_gives_a_well_formed_file_that_reads_back():
    rnd = random.Random(20261125)
    for _ in range(300):
        texts = [_random_text(rnd) for _ in range(4)]
        answers = AnswerSet(
            texts[0],
            (
                Answer("T " + texts[1], "text", texts[2]),
                Answer("R", "text", (texts[3], None, texts[2]), repeated=True),
                Answer("M", "multiple_choice", (texts[1] or "x",)),
            ),
        )
        back = read_answer_file(render_xml(answers))
        assert back.title == remove_forbidden(texts[0])
        assert normalise(back) == normalise(
            AnswerSet(
                "",
                tuple(
                    Answer(remove_forbidden(a.name).strip(), a.type, a.value, a.repeated)
                    for a in answers.answers
                ),
            )
        ), texts


# --- HotDocs' own reader's rules (issue 9) ---------------------------------------------------
# Each case cites the rule in the HotDocs Open SDK (blainell/hotdocs-open-sdk, HotDocs.Sdk/).


def test_an_answer_name_empty_once_cleaned_is_refused_not_written():
    """AnswerCollection.OverlayXml: `answerName = TextValue.XMLUnescape(reader.Value).Trim()`;
    `if (String.IsNullOrEmpty(answerName)) throw new XmlException("Answer name is missing.")`:
    HotDocs would refuse the whole file, so mapctl refuses to write it."""
    assert hotdocs_name("\x07") == "" and hotdocs_name(" \ufffe ") == ""
    with pytest.raises(AnswerFileError) as error:
        render_xml(AnswerSet("", (Answer("A", "text", "a"), Answer("\x07", "text", "b"))))
    assert error.value.message == (
        "answer name '\\u0007' is empty once control characters are removed: HotDocs refuses "
        'the whole answer file ("Answer name is missing")'
    )


def test_names_equal_once_cleaned_are_one_answer_for_hotdocs():
    """AnswerCollection.OverlayXml trims the name; answers are kept per name and type
    (GetAnswerBucket), so the later of two equal names replaces the earlier: `validate`
    refuses such mappings (tests/invalid/answer-name-with-control-characters)."""
    assert hotdocs_name("Client City TE\x07") == hotdocs_name("Client City TE")
    assert hotdocs_name("Client City TE\ud83d") == "Client City TE\ufffd"
    xml = render_xml(
        AnswerSet(
            "", (Answer("Client City TE", "text", "a"), Answer("Client City TE\x07", "text", "b"))
        )
    )
    assert [a.value for a in read_answer_file(xml).answers] == ["b"]  # as HotDocs reads it


def test_a_choice_blank_once_cleaned_is_not_written():
    """AnswerCollection.ReadValue (MCValue) keeps an empty first SelValue ("allow at most a
    single empty SelValue"): HotDocs would read `<SelValue></SelValue>` as an answered, empty
    choice, so a selection blank once cleaned is dropped, and no selection left is blank:
    left out when single, `unans` in a repeat."""
    xml = render_xml(
        AnswerSet(
            "",
            (
                Answer("M", "multiple_choice", ("\x07",)),
                Answer("N", "multiple_choice", ("\ufffe", "Yes")),
                Answer("R", "multiple_choice", (("\x01",), ("No",)), repeated=True),
            ),
        )
    )
    assert b"<SelValue></SelValue>" not in xml and b'name="M"' not in xml
    assert b'<MCValue unans="true"/>' in xml
    got = {a.name: a.value for a in read_answer_file(xml).answers}
    assert got == {"N": ("Yes",), "R": (None, ("No",))}
    # what HotDocs reads from a file that does hold one
    empty = (
        b"<AnswerSet><Answer name='M'><MCValue><SelValue></SelValue></MCValue></Answer></AnswerSet>"
    )
    assert read_answer_file(empty).answers == (Answer("M", "multiple_choice", ("",)),)


def test_text_blank_once_cleaned_is_unanswered_not_an_empty_text_value():
    """AnswerCollection.ReadValue (TextValue): `if (unans || string.IsNullOrEmpty(s))` gives
    Unanswered, so "\\ufffe\\x07" (nothing left once cleaned) is left out, or `unans` in a
    repeat; never `<TextValue></TextValue>`."""
    assert clean_text("\ufffe\x07") == ""
    xml = render_xml(
        AnswerSet(
            "",
            (
                Answer("T", "text", "\ufffe\x07"),
                Answer("R", "text", ("a", "\x07", "b"), repeated=True),
            ),
        )
    )
    assert b"<TextValue></TextValue>" not in xml and b'name="T"' not in xml
    assert b'<TextValue unans="true"/>' in xml
    assert normalise(read_answer_file(xml)) == {("R", "text"): ("a", None, "b")}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e31", 1e31),
        ("12345678901234567890123456789012", 1.2345678901234567e31),
        ("1.7976931348623157E+308", 1.7976931348623157e308),
        (" -5 ", -5),
        ("+.5", 0.5),
        ("2.", 2),
        ("20500.0000000", 20500),
        ("9007199254740993", 9007199254740992),  # read as the double HotDocs holds
        ("INF", math.inf),
        ("-INF", -math.inf),
    ],
)
def test_the_reader_takes_every_number_hotdocs_reads(text, value):
    """AnswerCollection.ReadValue (NumValue): `new NumberValue(XmlConvert.ToDouble(s))`: any
    invariant decimal within a double's range (mapctl refused 1e31 and more), INF and -INF."""
    xml = f"<AnswerSet><Answer name='n'><NumValue>{text}</NumValue></Answer></AnswerSet>"
    assert read_answer_file(xml.encode()).answers[0].value == value


def test_the_reader_takes_nan_as_hotdocs_does():
    """Double.Parse with the invariant culture reads its NaN symbol."""
    xml = b"<AnswerSet><Answer name='n'><NumValue>NaN</NumValue></Answer></AnswerSet>"
    assert math.isnan(read_answer_file(xml).answers[0].value)


def test_a_number_beyond_a_double_is_refused_naming_the_answer():
    """NumberValue is a double: past ±1.7976931348623157e308, XmlConvert.ToDouble throws
    (OverflowException) out of AnswerCollection.OverlayXml: the whole file is refused."""
    assert number_problem(1.7976931348623157e308) is None
    with pytest.raises(AnswerFileError) as error:
        render_xml(AnswerSet("", (Answer("Estate NU", "number", 10**400),)))
    assert error.value.message == (
        "answer 'Estate NU': a number of 401 characters does not fit HotDocs' numbers "
        "(doubles, at most ±1.7976931348623157e308): HotDocs refuses the whole answer file"
    )
    assert number_problem(-(10**309)) is not None


def test_text_over_hotdocs_limit_and_inexact_numbers_are_warnings():
    """HotDocs takes at most 15,000 characters in a text answer (NOTES §1.4, from HotDocs'
    "Variable properties" help); NumberValue holds a double, so a whole number past 2**53 may
    read back rounded."""
    answers = AnswerSet(
        "",
        (
            Answer("Notes TE", "text", "x" * 15_000),
            Answer("Long TE", "text", ("a", "y" * 15_001), repeated=True),
            Answer("Big NU", "number", 2**53 + 1),
            Answer("Fine NU", "number", 2**60),
        ),
    )
    assert answer_warnings(answers) == [
        "answer 'Long TE' is 15,001 characters long; HotDocs takes at most 15,000 characters "
        "in a text answer, so the interview may cut it",
        "answer 'Big NU': 9007199254740993 has more digits than a HotDocs number (a double) "
        "holds; HotDocs reads it as 9007199254740992",
    ]
