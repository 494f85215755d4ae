"""Report: errors and results rendered for people and tools (text, json, github).

Stage: presentation only. Takes `Problem`s and returns strings; never prints, never exits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .errors import MapctlError, Problem
from .textsafe import replace_surrogates


def printable(value: object) -> str:
    """One line of printable text: a newline, a tab or a terminal escape sequence in text from
    Clio (a name, a matter number) must neither break a line or a table nor drive the terminal.
    Every line that shows Clio text goes through this one helper. A lone surrogate becomes
    U+FFFD, as in every other output (`textsafe.replace_surrogates`)."""
    return "".join(
        c if c.isprintable() else "\ufffd" if "\ud800" <= c <= "\udfff" else " " for c in str(value)
    )


def command_line(*words: str, platform: str | None = None) -> str:
    """A command for people to type, quoted for their shell: POSIX shells' single quotes, or on
    Windows the double quotes that cmd.exe and PowerShell both read (cmd has no single quotes)."""
    import sys

    if (platform or sys.platform) == "win32":
        import subprocess

        return subprocess.list2cmdline(list(words))
    import shlex

    return shlex.join(words)


def format_problem(problem: Problem) -> str:
    """gcc-style first line (FILE:LINE:COL: error: MESSAGE), then the context lines."""
    where = f"{problem.location}: " if problem.location else ""
    lines = [f"{where}{problem.severity}: {problem.message}"]
    lines.extend(f"  {line}" for line in problem.context)
    if problem.expression is not None and not problem.context:
        lines.append(f"    {problem.expression}")
        if problem.expression_column is not None:
            lines.append("    " + " " * problem.expression_column + "^")
    if problem.hint:
        lines.append(f"  hint: {problem.hint}")
    return "\n".join(lines)


def format_problems(problems: Iterable[Problem], fmt: str = "text") -> str:
    """Every problem, in the requested format: text, json or github (workflow annotations)."""
    items = list(problems)
    if fmt == "json":
        text = json.dumps([problem_json(p) for p in items], indent=2, ensure_ascii=False)
    elif fmt == "github":
        text = "\n".join(_github(p) for p in items)
    else:
        text = "\n".join(format_problem(p) for p in items)
    return replace_surrogates(text)  # a mapping's "\ud83d" must not stop the report (issue 9)


def problem_json(problem: Problem) -> dict[str, object]:
    loc = problem.location
    return {
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "message": problem.message,
        "code": problem.code,
        "severity": problem.severity,
        "hint": problem.hint,
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(problem: Problem) -> str:
    """One workflow command; the span (endLine, endColumn: inclusive, one line) when known, so
    the annotation underlines what the text format's caret does."""
    loc = problem.location
    span = (
        f",endLine={loc.line},endColumn={problem.end_column}"
        if loc and problem.end_column is not None
        else ""
    )
    props = (
        f" file={_escape_property(loc.file)},line={loc.line},col={loc.column}{span},"
        f"title={_escape_property(problem.code)}"
        if loc
        else ""
    )
    message = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    return f"::{problem.severity}{props}::{_escape_data(message)}"


def format_error(error: MapctlError) -> str:
    """One clear line (plus a hint line) for any other error."""
    text = f"error: {printable(error.message)}"
    if error.hint:
        text += f"\n  hint: {printable(error.hint)}"
    return replace_surrogates(text)
