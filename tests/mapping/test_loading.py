"""Loading: YAML with positions, YAML 1.2 scalars, limits, and `extends` merging."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mapctl.engine.errors import SourceLocation
from mapctl.engine.mapping.loading import load_mapping, load_text
from mapctl.engine.mapping.source import MAX_BYTES, decode, parse


def test_keys_and_values_have_their_positions():
    doc = parse("version: 1\nanswers:\n  A TE: client.name\n  B TE: {value: x}\n", "m.yaml")
    assert doc.problems == []
    assert doc.location(("answers", "A TE"), key=True) == SourceLocation("m.yaml", 3, 3)
    assert doc.location(("answers", "A TE")) == SourceLocation("m.yaml", 3, 9)
    assert doc.location(("answers", "B TE", "value")) == SourceLocation("m.yaml", 4, 17)
    # a path that is not in the file: the nearest parent key
    assert doc.location(("answers", "B TE", "type")) == SourceLocation("m.yaml", 4, 3)
    assert doc.location(("nothing",)) == SourceLocation("m.yaml", 1, 1)


@pytest.mark.parametrize(
    ("yaml_value", "offset", "column", "line"),
    [
        ("client.nmae", 7, 11, 1),  # plain
        ("'it''s a b'", 4, 10, 1),  # single-quoted with an escaped quote: value "it's a b"
        ('"he\\x41llo"', 3, 11, 1),  # double-quoted with an escape: value "heAllo"
        ("|\n  foo\n  bar", 5, 4, 3),  # literal block: value "foo\nbar"
        (">-\n  one\n  two three", 6, 5, 3),  # folded block: value "one two three"
    ],
)
def test_offsets_inside_a_value_map_to_the_file(yaml_value, offset, column, line):
    doc = parse(f"v: {yaml_value}\n", "m.yaml")
    assert doc.problems == []
    assert doc.offset_location(("v",), offset) == SourceLocation("m.yaml", line, column)


def test_plain_scalars_follow_yaml_1_2():
    doc = parse(
        "a: no\nb: on\nc: 2024-01-01\nd: true\ne: ~\nf: 0x10\ng: 1.5\nh: '1'\ni: !!str 12\n"
        "j: 007\nk: 1:30\n",
        "m.yaml",
    )
    assert doc.data == {
        "a": "no", "b": "on", "c": "2024-01-01", "d": True, "e": None, "f": 16, "g": 1.5,
        "h": "1", "i": "12", "j": 7, "k": "1:30",
    }  # fmt: skip


def test_merge_keys_are_supported_and_explicit_keys_win():
    doc = parse("base: &b {type: date, value: x}\nv:\n  <<: *b\n  value: y\n", "m.yaml")
    assert doc.data["v"] == {"type": "date", "value": "y"}


def _messages(text: str) -> list[str]:
    return [f"{p.location}: {p.message}" for p in parse(text, "m.yaml").problems]


def test_duplicate_keys_are_errors_at_the_second_key():
    assert _messages("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n") == [
        "m.yaml:4:3: duplicate key 'c' (first on line 3)",
        "m.yaml:5:1: duplicate key 'a' (first on line 1)",
    ]


def test_no_object_is_ever_constructed():
    assert _messages("a: !!python/object/apply:os.system ['echo hi']\n") == [
        "m.yaml:1:4: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not supported "
        "in a mapping"
    ]


def test_self_referencing_alias_fails_cleanly():
    assert _messages("a: &a [*a]\n") == [
        "m.yaml:1:4: the YAML expands to more than 64 levels of nesting (aliases that repeat or "
        "refer to themselves?)"
    ]


def test_deep_nesting_fails_cleanly():
    assert len(_messages("a: " + "[" * 5000 + "]" * 5000 + "\n")) == 1


def test_complex_keys_are_refused():
    assert _messages("? [a, b]\n: 1\n") == [
        "m.yaml:1:3: a key must be plain text, not a list or a mapping"
    ]


def test_huge_files_and_bad_encodings_are_refused_before_parsing():
    text, problem = decode(b"a: 1\n" * (MAX_BYTES // 5 + 1), "big.yaml")
    assert text is None and problem is not None
    assert problem.message.startswith("the file is too large for a mapping")
    text, problem = decode("\ufeffversion: 1\n".encode(), "bom.yaml")
    assert text == "version: 1\n" and problem is None
    text, problem = decode(b"a: 1\nb: \xff\n", "bad.yaml")
    assert problem is not None and str(problem.location) == "bad.yaml:2:4"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_extends_merges_base_first_and_overrides_by_key(tmp_path):
    write(tmp_path, "base.yaml", """\
version: 1
title: Base
relationships:
  Spouse: [wife]
  Child: [son]
custom_fields:
  g: Gender
answers:
  A TE: client.name
  B TE: client.first_name
""")  # fmt: skip
    top = write(tmp_path, "top.yaml", """\
version: 1
extends: base.yaml
relationships:
  Spouse: [husband]
custom_fields:
  g: {id: 71001}
answers:
  B TE: upper(client.first_name)
  C TE: client.last_name
""")  # fmt: skip
    loaded = load_mapping(top)
    assert loaded.problems == []
    assert [d.file for d in loaded.documents] == [str(top), str(tmp_path / "base.yaml")]
    assert loaded.title is not None and loaded.title.value == "Base"
    assert {k: e.value for k, e in loaded.answers.items()} == {
        "A TE": "client.name", "B TE": "upper(client.first_name)", "C TE": "client.last_name",
    }  # fmt: skip
    assert loaded.answers["B TE"].doc.file == str(top)
    assert {k: e.value for k, e in loaded.relationships.items()} == {
        "Spouse": ["husband"], "Child": ["son"],
    }  # fmt: skip
    assert loaded.custom_fields["g"].value == {"id": 71001}


def test_extends_a_list_later_ones_win_and_bundled_names_resolve(tmp_path):
    write(tmp_path, "one.yaml", "version: 1\nanswers:\n  A TE: client.name\n")
    write(tmp_path, "two.yaml", "version: 1\nanswers:\n  A TE: spouse.name\n")
    top = write(tmp_path, "top.yaml", "version: 1\nextends: [one.yaml, two.yaml]\n")
    loaded = load_mapping(top)
    assert loaded.answers["A TE"].value == "spouse.name"
    bundled = load_text("version: 1\nextends: ils-client-interview.yaml\n", "x.yaml", tmp_path)
    assert bundled.problems == []
    assert bundled.documents[1].file == "<bundled>/ils-client-interview.yaml"
    assert "Client First Name TE" in bundled.answers


def test_a_file_extending_itself_is_a_cycle(tmp_path):
    top = write(tmp_path, "self.yaml", "version: 1\nextends: self.yaml\n")
    assert [f"{p.location}: {p.message}" for p in load_mapping(top).problems] == [
        f"{top}:2:10: extends cycle: {top} -> {top}"
    ]


def test_an_unreadable_top_file_is_a_problem_not_a_crash(tmp_path):
    loaded = load_mapping(tmp_path / "missing.yaml")
    assert [p.message for p in loaded.problems] == [
        f"cannot read mapping '{tmp_path / 'missing.yaml'}': No such file or directory"
    ]


def test_null_removes_an_inherited_answer(tmp_path):
    write(tmp_path, "base.yaml", "version: 1\nanswers:\n  A TE: client.name\n  B TE: x\n")
    top = write(tmp_path, "top.yaml", "version: 1\nextends: base.yaml\nanswers:\n  A TE: null\n")
    loaded = load_mapping(top)
    assert list(loaded.answers) == ["B TE"]
    assert [e.path for e in loaded.removed] == [("answers", "A TE")]
    assert loaded.nothing_to_remove == []


def test_windows_line_endings_keep_positions_and_excerpts():
    doc = parse("version: 1\r\nanswers:\r\n  A TE: client.name\r\n", "m.yaml")
    location = doc.offset_location(("answers", "A TE"), 7)
    assert location == SourceLocation("m.yaml", 3, 16)
    assert doc.excerpt(location, 4) == ["3 |   A TE: client.name", "  |                ^~~~"]


def test_long_lines_are_shown_as_a_window_around_the_spot():
    text = "a: [" + ", ".join(f"item{i}" for i in range(100)) + "]\n"
    doc = parse(text, "m.yaml")
    column = text.index("item50") + 1
    line, caret = doc.excerpt(SourceLocation("m.yaml", 1, column), 6)
    assert line.startswith("1 | ...") and line.endswith("...")
    assert len(line) < 140
    assert line[caret.index("^") : caret.index("^") + 6] == "item50"


@pytest.mark.skipif(sys.platform == "win32", reason="/dev/zero is POSIX (Windows' NUL is empty)")
def test_a_device_that_never_ends_is_read_only_up_to_the_limit():
    loaded = load_mapping("/dev/zero")
    assert [p.message for p in loaded.problems] == [
        "the file is too large for a mapping (more than 1,000,000 bytes)"
    ]


def test_an_extends_name_too_long_for_the_file_system_is_not_found(tmp_path):
    loaded = load_text(f"version: 1\nextends: {'a' * 500}\nanswers: {{}}\n", "m.yaml", tmp_path)
    assert [p.code for p in loaded.problems] == ["extends-missing"]


def test_an_integer_longer_than_python_converts_is_a_plain_problem():
    doc = parse("version: " + "1" * 5000 + "\nanswers: {}\n", "m.yaml")
    assert doc.problems == [] and doc.data["version"] == float("inf")


def test_a_missing_extends_never_suggests_the_file_itself(tmp_path):
    """Paper cut 7 (issue 15): ext.yaml extending a missing 'exr.yaml' was told "did you mean
    'ext.yaml'?", itself. A real neighbour is still suggested."""
    mapping = tmp_path / "ext.yaml"
    mapping.write_text("version: 1\nextends: exr.yaml\nanswers: {}\n")
    (problem,) = load_mapping(str(mapping)).problems
    assert problem.code == "extends-missing"
    assert "ext.yaml" not in (problem.hint or "")
    (tmp_path / "base.yaml").write_text("version: 1\nanswers: {}\n")
    mapping.write_text("version: 1\nextends: bsae.yaml\nanswers: {}\n")
    (problem,) = load_mapping(str(mapping)).problems
    assert problem.hint == "did you mean 'base.yaml'?"
