"""Hostile mappings and inputs found by the attack tests (issue 9): each one used to exit 4
(RecursionError, MemoryError) or hang; now each is a clear error with the documented exit code.

The YAML-level cases (merge keys, nesting) are also in tests/invalid/ with their whole message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mapctl.engine.fsutil import read_at_most
from mapctl.engine.mapping.expressions import MAX_DEPTH, TooDeep, compile_expression
from mapctl.engine.mapping.functions import FUNCTIONS, MAX_TEXT

from tests.conftest import TESTS, RunCli

BUNDLE = str(TESTS / "cases" / "no-spouse" / "bundle.json")


def _nested(opening: str, inner: str, closing: str, times: int) -> str:
    return opening * times + inner + closing * times


@pytest.mark.parametrize(
    "source",
    [
        "!" * 500 + "client.name",
        _nested("(", "client.name", ")", 1000),
        _nested("lower(", "client.name", ")", 500),
        " | ".join(["client"] * 200),
    ],
)
def test_an_expression_nested_too_deeply_is_refused_not_a_recursion_error(source: str) -> None:
    with pytest.raises(TooDeep) as error:
        compile_expression(source)
    assert str(error.value).startswith("the expression is nested too deeply")


def test_nesting_up_to_the_bound_still_compiles_and_evaluates() -> None:
    inner = MAX_DEPTH - 1
    assert compile_expression(_nested("lower(", "name", ")", inner))({"name": "JAY"}) == "jay"
    assert compile_expression("!" * inner + "name")({"name": "x"}) is (inner % 2 == 0)


def test_render_refuses_a_deep_expression_with_file_line_column(
    run_cli: RunCli, tmp_path: Path
) -> None:
    mapping = tmp_path / "deep.yaml"
    mapping.write_text('version: 1\nanswers:\n  A TE: "' + "!" * 500 + 'client.name"\n')
    result = run_cli("render", "-m", str(mapping), BUNDLE)
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    assert first == (
        f"{mapping}:3:74: error: answer 'A TE': invalid expression: the expression is nested too "
        f"deeply (more than {MAX_DEPTH} levels of brackets, function calls, '!' or '.')"
    )


def _replaces(times: int) -> str:
    expression = "client.first_name"
    for _ in range(times):
        expression = f"replace({expression}, 'a', 'aaaaaaaaaa')"
    return expression


def _formats(times: int) -> str:
    expression = "client.name"
    for _ in range(times):
        expression = f"format('{'{0}' * 10}', {expression})"
    return expression


GROWING = {
    "Replace TE": (_replaces(10), "replace(): the text would be longer than 1,000,000 characters"),
    "Format TE": (_formats(7), "format(): the text would be longer than 1,000,000 characters"),
    "Join TE": (
        "join('', [" + ",".join([_formats(4)] * 20) + "])",
        "join(): the text would be longer than 1,000,000 characters",
    ),
    "String TE": (
        "to_string(client" + " | [@,@,@,@,@,@,@,@,@,@]" * 9 + ")",
        "to_string(): the text would be longer than 1,000,000 characters",
    ),
    "Flatten TE": (
        "[client.name]" + " | [@,@,@,@,@,@,@,@,@,@][]" * 9 + " | [0]",
        "flatten ([]): the list would have more than 1,000,000 elements",
    ),
}


def test_text_that_grows_exponentially_fails_the_answer_clearly_and_fast(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """285 bytes of nested replace() used to die with MemoryError (exit 4); validate says the
    mapping is valid (it is), render names each answer that grows too much (exit 1)."""
    mapping = tmp_path / "grow.yaml"
    lines = [f'  {name}: "{source}"' for name, (source, _) in GROWING.items()]
    mapping.write_text("version: 1\nanswers:\n" + "\n".join(lines) + "\n")
    assert run_cli("validate", str(mapping)).exit_code == 0
    started = time.monotonic()
    result = run_cli("render", "-m", str(mapping), BUNDLE, "--keep-going")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert [line.split(": error: ", 1)[1] for line in errors] == [
        f"answer '{name}' (text): {message}" for name, (_, message) in GROWING.items()
    ]
    assert "Traceback" not in result.output


def test_functions_within_the_bound_are_unchanged() -> None:
    text = "a" * (MAX_TEXT // 10)
    assert FUNCTIONS.call_function("replace", [text, "a", "b" * 10]) == "b" * MAX_TEXT
    assert FUNCTIONS.call_function("join", ["-", ["a", "b"]]) == "a-b"
    assert FUNCTIONS.call_function("to_string", [[1, {"a": None}]]) == '[1,{"a":null}]'


# --- FIFOs: opening one for reading waits for a writer, forever ----------------------------


def _mapctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, so that a hang fails the test instead of the suite."""
    env = {**os.environ, "MAPCTL_HOME": str(cwd / "home")}
    return subprocess.run(
        [sys.executable, "-m", "mapctl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="os.mkfifo is POSIX-only")
def test_a_fifo_as_mapping_bundle_or_extends_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.yaml")
    os.mkfifo(tmp_path / "b.json")
    (tmp_path / "ext.yaml").write_text("version: 1\nextends: f.yaml\nanswers: {}\n")
    pipe = "it is a named pipe (FIFO) that nothing writes to"
    result = _mapctl("validate", "f.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: cannot read mapping 'f.yaml': {pipe}\n1 problem in 1 mapping\n",
    )
    result = _mapctl("validate", "ext.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1,
        f"ext.yaml:2:10: error: cannot read mapping 'f.yaml': {pipe}\n"
        "  2 | extends: f.yaml\n"
        "    |          ^~~~~~\n"
        "1 problem in 1 mapping\n",
    )
    result = _mapctl("render", "b.json", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, f"error: cannot read b.json: {pipe}\n")


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need a privilege on Windows")
def test_extends_naming_a_broken_link_says_so_at_the_extends_entry(tmp_path: Path) -> None:
    """It said "cannot find 'link.yaml' ... did you mean 'link.yaml'?"."""
    from mapctl.engine.mapping.loading import load_text

    (tmp_path / "link.yaml").symlink_to(tmp_path / "nowhere.yaml")
    loaded = load_text("version: 1\nextends: link.yaml\nanswers: {}\n", "m.yaml", tmp_path)
    assert [(str(p.location), p.message) for p in loaded.problems] == [
        ("m.yaml:2:10", "cannot read mapping 'link.yaml': No such file or directory")
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="/dev/fd is POSIX-only")
def test_a_pipe_with_a_writer_is_still_read(tmp_path: Path) -> None:
    """`mapctl validate <(generate-mapping)`: the shell's pipe has a writer; it is read whole."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"version: 1\n")
    os.close(write_end)
    assert read_at_most(f"/dev/fd/{read_end}", 100) == b"version: 1\n"
    os.close(read_end)


def test_explain_shows_clio_text_without_terminal_escapes(run_cli: RunCli, tmp_path: Path) -> None:
    """Names, labels and the matter's description come from Clio: an escape sequence in them
    must not drive the terminal of whoever runs `mapctl explain`."""
    import json

    bundle = json.loads(Path(BUNDLE).read_text())
    bundle["contacts"][0]["name"] = "Frank\x1b]0;pwned\x07 Dunphy"
    bundle["matter"]["description"] = "Estate\x1b[2J plan"
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = run_cli("explain", str(path), "--today", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "  Frank ]0;pwned  Dunphy (contact 5101): Client" in result.stdout.splitlines()


def test_render_warnings_show_clio_names_without_terminal_escapes(
    run_cli: RunCli, tmp_path: Path
) -> None:
    import json

    bundle = json.loads(Path(BUNDLE).read_text())
    bundle["contacts"][0].update(type="Company", name="Frank\x1b]0;pwned\x07 Dunphy")
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = run_cli("render", str(path), "--today", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"{path}: warning: the client Frank ]0;pwned  Dunphy is a Company, not a Person: "
        "personal answers (names, birth date) stay blank\n"
    )


def test_a_failing_answer_whose_value_repeats_itself_is_reported_fast(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """`[@, @, ...]` piped eight times is 10^8 references to one record: small in memory, but
    the error message used to write it all as JSON before cutting it to 80 characters (hang)."""
    expression = "client" + " | [@,@,@,@,@,@,@,@,@,@]" * 8
    mapping = tmp_path / "dag.yaml"
    mapping.write_text(f'version: 1\nanswers:\n  A TE: "{expression}"\n')
    started = time.monotonic()
    result = run_cli("render", "-m", str(mapping), BUNDLE, "--keep-going")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[1] == (
        f"{mapping}:3:10: error: answer 'A TE' (text): a text answer needs a string or a number, "
        "got a list"
    )
    assert lines[4].startswith("  value: [[[[[[[[{") and lines[4].endswith(" ... (len=10)")
