"""`mapctl validate --interview FILE`: answers checked against real HotDocs files
(tests/fixtures/hotdocs/, copied from the team's HotDocs reference folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import Result
from mapctl.engine.errors import AnswerFileError
from mapctl.engine.hotdocs.interview import parse_interview, read_interview

from tests.conftest import TESTS, RunCli

HOTDOCS = TESTS / "fixtures" / "hotdocs"
CMP = HOTDOCS / "justfix-tenants2__Master.cmp"
MANIFEST = HOTDOCS / "hotdocs-open-sdk__Demo_Employment_Agreement.docx.manifest.xml"
ANX = HOTDOCS / "a2jviewer__partial.anx"


def test_component_file_variables_types_options_and_repeats():
    interview = read_interview(str(CMP))
    assert interview.kind == "component file"
    kinds = [v.type for v in interview.variables.values() if v.type]
    assert (kinds.count("text"), kinds.count("number"), kinds.count("date")) == (42, 4, 4)
    assert (kinds.count("true_false"), kinds.count("multiple_choice")) == (9, 18)
    pay = interview.variables["Pay period MC"]
    assert pay.options == ("week", "2 weeks", "half-month", "month", "other")
    assert not pay.multiple
    assert sum(v.multiple for v in interview.variables.values()) == 2
    child = interview.variables["Tenant child name TE"]
    assert (child.repeated, child.dialog) == (True, "Tenant Child")
    assert interview.variables["Which room MC"].repeated is True
    assert interview.variables["Tenant income NU"].repeated is False
    assert interview.variables["Action type CO"].type is None


def test_manifest_names_and_types_without_repeat_information():
    interview = read_interview(str(MANIFEST))
    assert interview.kind == "template manifest"
    gender = interview.variables["Employee Gender"]
    assert (gender.type, gender.repeated) == ("multiple_choice", None)
    assert interview.variables["White Space"].type is None
    assert interview.variables["Number of Seminar Days"].type == "number"


def test_answer_file_names_types_and_repeats():
    interview = read_interview(str(ANX))
    assert interview.kind == "answer file"
    assert interview.variables["Child Name"].repeated is True
    assert interview.variables["Child Birthday"].type == "date"
    assert interview.variables["Client first name TE"].repeated is False


def test_kind_is_recognised_by_content_not_extension(tmp_path):
    disguised = tmp_path / "interview.xml"
    disguised.write_bytes(CMP.read_bytes())
    assert read_interview(str(disguised)).kind == "component file"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body/></html>", "page.xml: not a HotDocs component file (.cmp), template manifest "
         "(.manifest.xml) or answer file (.anx): its root element is <html>"),
        (b"not xml at all", "page.xml: not well-formed XML: syntax error: line 1, column 0"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
         "page.xml: the file declares XML entities; mapctl refuses them (entity expansion)"),
    ],
)  # fmt: skip
def test_files_that_are_not_interviews(data, message):
    with pytest.raises(AnswerFileError) as caught:
        parse_interview(data, "page.xml")
    assert caught.value.message == message


CMP_MAPPING = """\
version: 1
answers:
  Tenant child name TE: {each: children, value: name}
  Tenant child dob: {each: children, type: date, value: date_of_birth}
  Tenant child DOB: client.date_of_birth
  Pay period MC: {type: multiple_choice, value: "'weekly'"}
  Court location MC: {type: multiple_choice, value: "['Bronx', 'Kings']"}
  Tenant income NU: client.name
  Access person TE: {each: children, value: name}
  Action type CO: client.name
  Harassment allegations MS: {type: multiple_choice, value: "['NO_HEAT', 'X']"}
"""


def _run(run_cli: RunCli, tmp_path, monkeypatch, mapping: str, interview: Path) -> Result:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mapping.yaml").write_text(mapping)
    shutil.copy(interview, tmp_path / interview.name)
    return run_cli("validate", "mapping.yaml", "--interview", interview.name)


def test_mapping_checked_against_a_component_file(run_cli, tmp_path, monkeypatch, snapshot_txt):
    result = _run(run_cli, tmp_path, monkeypatch, CMP_MAPPING, CMP)
    assert result.exit_code == 1, result.output
    assert result.stderr == snapshot_txt


def test_default_mapping_against_an_answer_file(run_cli, tmp_path, monkeypatch, snapshot_txt):
    """Near names differ only in case: did-you-mean says HotDocs names are case-sensitive."""
    mapping = """\
version: 1
answers:
  Client First Name TE: client.first_name
  Child Name: {each: children, value: name}
  Child Birthday: {type: date, value: client.date_of_birth}
  Like chocolate TF: {type: true_false, value: "`true`"}
"""
    result = _run(run_cli, tmp_path, monkeypatch, mapping, ANX)
    assert result.exit_code == 1, result.output
    assert result.stderr == snapshot_txt


def test_a_fitting_mapping_passes(run_cli, tmp_path, monkeypatch):
    mapping = """\
version: 1
answers:
  Employee Name: client.name
  Employee Gender: {type: multiple_choice, value: client.custom.gender}
  Start Date: {type: date, value: matter.open_date}
  Number of Seminar Days: {type: number, value: "`3`"}
custom_fields:
  gender: Gender
"""
    result = _run(run_cli, tmp_path, monkeypatch, mapping, MANIFEST)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "1 mapping valid against hotdocs-open-sdk__Demo_Employment_Agreement.docx.manifest.xml\n"
    )


def test_interview_that_is_not_hotdocs_exits_1(run_cli, tmp_path, monkeypatch):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mapping.yaml").write_text(CMP_MAPPING)
    result = run_cli("validate", "mapping.yaml", "--interview", "notes.txt")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: notes.txt: not well-formed XML: syntax error: line 1, column 0\n"
    )


def test_nested_and_self_including_dialogs():
    cmp = b"""<?xml version="1.0" encoding="UTF-8"?>
<hd:componentLibrary xmlns:hd="http://www.hotdocs.com/schemas/component_library/2009" version="11">
  <hd:components>
    <hd:text name="Client Name TE"/>
    <hd:text name="Child Name TE"/>
    <hd:date name="Grandchild DOB DA"/>
    <hd:text name="Loose TE"/>
    <hd:dialog name="Client"><hd:contents><hd:item name="Client Name TE"/>
      <hd:item name="Children"/><hd:item name="Client"/></hd:contents></hd:dialog>
    <hd:dialog name="Children"><hd:style><hd:series/></hd:style>
      <hd:contents><hd:item name="Child Name TE"/><hd:item name="Grandchildren"/></hd:contents>
    </hd:dialog>
    <hd:dialog name="Grandchildren">
      <hd:contents><hd:item name="Grandchild DOB DA"/></hd:contents></hd:dialog>
  </hd:components>
</hd:componentLibrary>"""
    variables = parse_interview(cmp, "mini.cmp").variables
    assert {name: (v.repeated, v.dialog) for name, v in variables.items()} == {
        "Client Name TE": (False, None),
        "Child Name TE": (True, "Children"),
        "Grandchild DOB DA": (True, "Children"),
        "Loose TE": (None, None),
    }


def test_an_answer_file_only_proves_the_names_it_holds(run_cli, tmp_path, monkeypatch):
    """Paper cut 4 (issue 15): with an answer file saved from a client entered by hand, every
    variable that client left unanswered was an error, with an unrelated did-you-mean ("Client
    Prefix TE" -> "Client Phone TE"). Unknown names are now warnings that say why; a near name
    is suggested only for a typo."""
    (tmp_path / "saved").mkdir()
    anx = tmp_path / "saved" / "hand-entered.anx"
    anx.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<AnswerSet title="Hand" version="1.1">'
        '<Answer name="Client Phone TE"><TextValue>555-0100</TextValue></Answer>'
        '<Answer name="Client First Name TE"><TextValue>Ana</TextValue></Answer>'
        "</AnswerSet>\n",
        encoding="utf-8",
    )
    mapping = """\
version: 1
answers:
  Client Prefix TE: client.prefix
  Client Frist Name TE: client.first_name
  Client Phone TE: client.name
"""
    result = _run(run_cli, tmp_path, monkeypatch, mapping, anx)
    assert result.exit_code == 0, result.output  # warnings only: the mapping may be right
    lines = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert lines == [
        "mapping.yaml:3:3: warning: answer 'Client Prefix TE' is not in hand-entered.anx, an "
        "answer file (that client may just not have answered it)",
        "mapping.yaml:4:3: warning: answer 'Client Frist Name TE' is not in hand-entered.anx, "
        "an answer file (that client may just not have answered it)",
    ]
    assert "Client Phone TE'?" not in result.stderr  # no unrelated suggestion
    assert "did you mean 'Client First Name TE'? Otherwise an answer file lists only" in (
        result.stderr
    )
    assert "error" not in result.stderr.replace("0 errors", "")
