"""The user documentation in docs/ is executed (the house style: docs examples run), issue 8.

- docs/mapping-format.md: every ```yaml example that is a complete mapping (it has `version`)
  validates without a problem or a warning and renders the blended-family bundle; every other
  ```yaml block is at least YAML; every function and context name is documented.
- docs/*.md: every `mapctl ...` command line (in code blocks and inline code) names a real command
  and real options of it, or one that other work is adding today (BEING_ADDED, from the spec);
  every command and option of the CLI is documented in docs/commands.md.
- A block after `<!-- output of: mapctl ... -->` is that command's real output: JSON with the
  same keys, other text exactly.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from mapctl import cli
from mapctl.cli import AppState, load_command, main

from tests.conftest import ROOT, TESTS, with_slashes

DOCS = ROOT / "docs"
FORMAT = DOCS / "mapping-format.md"
COMMANDS = DOCS / "commands.md"
BUNDLE = TESTS / "cases" / "blended-family" / "bundle.json"

# What the command-line contract adds today in other branches; documented from the spec in
# commands.md. Once merged, the options of these commands are checked like any other.
BEING_ADDED_COMMANDS: set[str] = set()
BEING_ADDED_SUBCOMMANDS: set[tuple[str, str]] = set()
BEING_ADDED_OPTIONS: set[tuple[str, str]] = set()

# ...and what another branch removes (the sandbox becomes always strict): documented until then.
BEING_REMOVED_OPTIONS: set[tuple[str, str]] = set()

MARK = "*Being added: documented from the spec; the command exists once that work is merged.*"

BAD = "version: 1\nanswers:\n  A TE: uper(client.name)\n"  # what the docs' error examples show

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

# every command, each loaded from its module under commands/ (cli.py loads them when used)
ALL_COMMANDS: dict[str, click.Command] = {name: load_command(name) for name in cli.COMMANDS}


def blocks(path: Path, lang: str | None = None) -> list[tuple[int, str, str]]:
    """(line, language, text) of every fenced block."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if lang is None or match.group(1) == lang:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2)))
    return found


def mapping_examples() -> list[tuple[int, str]]:
    return [
        (line, body)
        for line, _, body in blocks(FORMAT, "yaml")
        if isinstance(data := yaml.safe_load(body), dict) and "version" in data
    ]


# --- the mapping format -------------------------------------------------------------------------


def test_the_format_reference_has_complete_examples():
    assert len(mapping_examples()) >= 8
    for line, _, body in blocks(FORMAT, "yaml"):  # fragments are YAML all the same
        assert yaml.safe_load(body) is not None, f"mapping-format.md:{line}"


@pytest.mark.parametrize(
    "body", [b for _, b in mapping_examples()], ids=[f"line-{n}" for n, _ in mapping_examples()]
)
def test_every_complete_mapping_example_validates_and_renders(body, run_cli, tmp_path):
    mapping = tmp_path / "example.yaml"
    mapping.write_text(body, encoding="utf-8")
    checked = run_cli("validate", str(mapping))
    assert (checked.exit_code, checked.stderr) == (0, "1 mapping valid\n"), checked.output
    rendered = run_cli(
        "render", str(BUNDLE), "-m", str(mapping), "--today", "2026-03-01", "--format", "json"
    )
    assert rendered.exit_code == 0, rendered.output
    assert json.loads(rendered.stdout)["answers"]


def test_every_function_and_context_name_is_documented():
    from mapctl.engine.mapping.exprsyntax import CONTEXT_NAMES
    from mapctl.engine.mapping.functionlist import function_list

    text = FORMAT.read_text(encoding="utf-8")
    missing = [f["name"] for f in function_list() if not re.search(rf"`{f['name']}\b", text)]
    missing += [name for name in CONTEXT_NAMES if f"| `{name}` |" not in text]
    assert missing == []


# --- command lines in the docs --------------------------------------------------------------------


# A command: `mapctl ...` at the start of a shell line, a list item or a YAML value (`run:`,
# `entry:`), after environment assignments (`MAPCTL_SETTINGS=x mapctl settings`) or a `$ `.
COMMAND = re.compile(r"^\s*(?:\$\s+)?(?:-\s+)?(?:[\w-]+:\s+)?(?:[A-Z_]+=\S*\s+)*mapctl\s+(.*)$")


def command_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text after `mapctl `) for each command in code blocks or inline code;
    `mapctl` inside a sentence or a program's output is not a command."""
    found = []
    in_block = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        code = re.sub(r"(^|\s)#.*", "", line)  # a comment in a code block is prose
        spans = code.split("&&") if in_block else re.findall(r"``? ?([^`]+?) ?``?", line)
        for span in spans:
            match = COMMAND.match(span)
            if match:
                found.append((number, match.group(1).strip()))
    return found


def parse_line(words: str) -> tuple[list[str], list[str]]:
    """The command path (`["clients", "forget"]`) and every option token of one command line."""
    path: list[str] = []
    options: list[str] = []
    depth = 0
    for token in words.split():
        if depth == 0 and token in {"|", "&", "&&", ";", ">", "2>"}:
            break
        depth += token.count("[") - token.count("]")
        bare = token.strip("[](),`'\"")
        if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", bare):
            options.append(bare.split("=")[0])
        elif not options and re.fullmatch(r"[a-z][a-z-]*", token) and len(path) < 2:
            path.append(token)
        elif not options and path:
            path.append("")  # an argument: the command path has ended
    return [p for p in path if p], options


def resolve(path: list[str]) -> tuple[click.Command | None, str]:
    """(the click command, or None when it is being added; its name path)."""
    if not path:
        return main, ""
    command = ALL_COMMANDS.get(path[0])
    if command is None:
        assert path[0] in BEING_ADDED_COMMANDS, f"no command `mapctl {path[0]}`"
        return None, path[0]
    if len(path) > 1 and isinstance(command, click.Group):
        sub = command.commands.get(path[1])
        if sub is not None:
            return sub, " ".join(path[:2])
    if len(path) > 1 and (path[0], path[1]) in BEING_ADDED_SUBCOMMANDS:
        return None, " ".join(path[:2])
    return command, path[0]


def option_names(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


def check_options(command: click.Command | None, name: str, options: list[str]) -> list[str]:
    if command is None:
        return []
    known = option_names(command) | (option_names(main) if not name else set())
    return [
        f"`mapctl {name}` has no option {option}"
        for option in options
        if option not in known and (name, option) not in BEING_ADDED_OPTIONS | BEING_REMOVED_OPTIONS
    ]


@pytest.mark.parametrize("doc", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_command_line_in_the_docs_is_real(doc):
    lines = command_lines(DOCS / doc)
    problems = []
    for number, words in lines:
        path, options = parse_line(words)
        global_options = []
        if not path:  # `mapctl --debug render ...`: global options, then maybe the command
            global_options = options
        try:
            command, name = resolve(path)
        except AssertionError as error:
            problems.append(f"{doc}:{number}: {error}")
            continue
        if name and not global_options:
            problems += [f"{doc}:{number}: {p}" for p in check_options(command, name, options)]
        else:
            problems += [f"{doc}:{number}: {p}" for p in check_options(main, "", options[:1])]
    assert problems == []
    if doc in ("commands.md", "ci.md"):
        assert len(lines) >= 10


def sections() -> dict[str, tuple[str, str]]:
    """`mapctl X` heading -> (heading line, section text) in commands.md."""
    text = COMMANDS.read_text(encoding="utf-8")
    parts = re.split(r"^(###? .*)$", text, flags=re.MULTILINE)
    found = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        match = re.match(r"###? `mapctl ([a-z ]+)`", heading)
        if match:
            found[match.group(1)] = (heading, body)
    return found


def test_every_command_and_option_is_in_the_command_reference():
    documented = sections()
    problems = []
    for name, command in sorted(main.commands.items()):  # type: ignore[attr-defined]
        if name not in documented:
            problems.append(f"no section for `mapctl {name}`")
            continue
        heading, body = documented[name]
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option not in body:
                    problems.append(f"`mapctl {name}`: {option} is not documented")
    for name in BEING_ADDED_COMMANDS - set(ALL_COMMANDS):
        assert name in documented and documented[name][1].lstrip().startswith(MARK), name
    stale = [n for n in ALL_COMMANDS if documented.get(n, ("", ""))[1].lstrip().startswith(MARK)]
    assert stale == [], (
        f"merged, so no longer being added: {stale}; drop the line {MARK!r} from their sections "
        "in docs/commands.md (and their '(being added)' rows), and the names from BEING_ADDED_* "
        "in tests/test_docs.py"
    )
    for option in option_names(main) - {"-h"}:
        assert f"`{option}`" in COMMANDS.read_text(encoding="utf-8"), option
    assert problems == []


def test_option_tables_name_real_options():
    """Rows `| `--option ...` | meaning |` under a command's heading are that command's options."""
    text = COMMANDS.read_text(encoding="utf-8")
    current: tuple[click.Command | None, str] = (main, "")
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        heading = re.match(r"###? `mapctl ([a-z ]+)`", line)
        if heading:
            current = resolve(heading.group(1).split())
        if line.startswith("| `-"):
            cell = line.split(" | ")[0]
            options = [span.split()[0] for span in re.findall(r"`(-[^`]+)`", cell)]
            problems += [f"commands.md:{number}: {p}" for p in check_options(*current, options)]
    assert problems == []


def test_the_check_catches_made_up_commands_and_options():
    """A test of the checks above."""
    assert parse_line("render a.json -o x.anx --format json | jq .") == (
        ["render"],
        ["-o", "--format"],
    )
    assert parse_line("render BUNDLE... [-o FILE | --out-dir DIR]") == (
        ["render"],
        ["-o", "--out-dir"],
    )
    assert parse_line("clients forget 5001 --yes")[0] == ["clients", "forget"]
    assert check_options(ALL_COMMANDS["render"], "render", ["--jobs", "--nope"]) == [
        "`mapctl render` has no option --nope"
    ]
    with pytest.raises(AssertionError):
        resolve(["renderr"])
    this = sys.modules[__name__]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(this, "BEING_ADDED_COMMANDS", {"frobnicate"})
        assert resolve(["frobnicate"]) == (None, "frobnicate")


def test_command_lines_are_found_in_code_not_in_sentences(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "Run `mapctl test -m firm.yaml` or `mapctl`.\n"
        "```sh\n"
        "$ mapctl validate   # mapctl render is not here\n"
        "MAPCTL_SETTINGS=s.yaml mapctl settings && mapctl search Pritchett\n"
        "Next, in ILS (mapctl does not change ILS itself):\n"
        "```\n"
        "```yaml\n"
        "      - run: mapctl test mapping-tests/\n"
        "```\n",
        encoding="utf-8",
    )
    assert command_lines(doc) == [
        (1, "test -m firm.yaml"),
        (3, "validate"),
        (4, "settings"),
        (4, "search Pritchett"),
        (8, "test mapping-tests/"),
    ]


# --- outputs shown in the docs --------------------------------------------------------------------

# Shown outputs: JSON shows a subset of the keys (an output may gain keys: that is compatible);
# every key shown must be in the real output. Other text is compared exactly.
OUTPUT = re.compile(r"<!-- output of: mapctl (.*?) -->\n```(\w*)\n(.*?)^```$", re.M | re.S)


def outputs() -> list[Any]:
    found = []
    for path in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for match in OUTPUT.finditer(text):
            where = f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}"
            found.append(pytest.param(path.name, *match.groups(), id=where))
    return found


def key_sets(value: Any, path: str = "", into: list[tuple[str, set[str]]] | None = None) -> list[tuple[str, set[str]]]:  # fmt: skip
    """(path, keys) of every object in a JSON value; list elements share their list's path."""
    into = [] if into is None else into
    if isinstance(value, dict):
        into.append((path, set(value)))
        for key, item in value.items():
            key_sets(item, f"{path}.{key}", into)
    elif isinstance(value, list):
        for item in value:
            key_sets(item, f"{path}[]", into)
    return into


def clio_state(home: Path) -> AppState:
    """Connected to a Clio in memory (the Clio tests' App over httpx.MockTransport)."""
    import time

    import httpx
    from mapctl.engine.clio.auth import Tokens, TokenStore

    from tests.clio.conftest import ACCESS, BASE, REFRESH, SECRET, App

    TokenStore(home).save(Tokens(ACCESS, REFRESH, time.time() + 3600, BASE, "app-key", SECRET))
    env = {"MAPCTL_HOME": str(home), "CLIO_BASE_URL": BASE}
    return AppState(env=env, transport=httpx.MockTransport(App()), interactive=False)


CLIO_COMMANDS = {"search", "preview", "import", "clients"}
IMPORT = ("import", "00002-Pritchett", "--yes", "--out", "clients", "--today", "2026-03-01")


def test_there_are_outputs_to_check():
    assert len(outputs()) >= 6


@pytest.mark.parametrize("doc,command,lang,shown", outputs())
def test_a_shown_output_is_the_real_output(doc, command, lang, shown, run_cli, tmp_path, monkeypatch):  # fmt: skip
    args = re.findall(r'"[^"]*"|\S+', command)
    workdir = tmp_path / "work"  # the mapping files the docs' validate examples show
    (workdir / "mappings").mkdir(parents=True)
    if args[0] == "validate":  # elsewhere ./mappings/firm.yaml would be the firm's mapping
        (workdir / "mappings" / "firm.yaml").write_text(BAD, encoding="utf-8")
        (workdir / "bad.yaml").write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(workdir)
    args = [a.strip('"') for a in args]
    args = [str(ROOT / a) if (ROOT / a).is_file() and "/" in a else a for a in args]
    state = clio_state(tmp_path / "home") if args[0] in CLIO_COMMANDS else None
    if args[0] == "clients":  # a client to list
        assert run_cli(*IMPORT, state=state).exit_code == 0
    result = run_cli(*args, state=state)
    assert result.exit_code in (0, 1), result.output
    if lang == "json":
        real: dict[str, set[str]] = {}
        for path, keys in key_sets(json.loads(result.stdout)):
            real.setdefault(path, set()).update(keys)
        for path, keys in key_sets(json.loads(shown)):
            assert keys <= real.get(path, set()), (doc, command, path, keys - real.get(path, set()))
    else:
        assert shown == (result.stdout or result.stderr), (doc, command)


# --- docs/ci.md: the workflow and the pre-commit config, run in a firm's repository ---------------


def ci_documents() -> list[Any]:
    return [yaml.safe_load(body) for _, _, body in blocks(DOCS / "ci.md", "yaml")]


def firm_repository(root: Path) -> Path:
    """A firm's mapping repository laid out as docs/ci.md shows it."""
    import shutil

    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "firm.yaml").write_text(
        "version: 1\nextends: ils-client-interview.yaml\n", encoding="utf-8"
    )
    shutil.copytree(ROOT / "mapping-tests", root / "mapping-tests")
    return root


def run_shell(command: str, cwd: Path) -> Any:
    import os
    import shlex
    import shutil
    import subprocess
    import sys
    import sysconfig

    env = {
        # where this environment's scripts are (bin/, or Scripts\ on Windows)
        "PATH": os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
        "MAPCTL_HOME": str(cwd / ".mapctl-home"),
        "HOME": str(cwd),
        **{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ},  # Windows needs it
    }
    argv = ["bash", "-c", command]
    if sys.platform == "win32":  # no bash; the lines are plain commands. CreateProcess looks
        argv = shlex.split(command)  # on this process's PATH, not env's: resolve it here
        argv[0] = shutil.which(argv[0], path=env["PATH"]) or argv[0]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_the_ci_workflow_validates_and_tests_a_firm_repository(tmp_path):
    (workflow,) = [d for d in ci_documents() if isinstance(d, dict) and "jobs" in d]
    runs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    checks = [run for run in runs if run.startswith("mapctl ")]
    assert [run.split()[:2] for run in checks] == [["mapctl", "validate"], ["mapctl", "test"]]
    assert "--format github" in checks[0]
    repo = firm_repository(tmp_path / "firm")
    for run in checks:
        done = run_shell(run, repo)
        assert done.returncode == 0, (run, done.stdout, done.stderr)
    (repo / "mappings" / "firm.yaml").write_text(BAD, encoding="utf-8")
    failed = run_shell(checks[0], repo)
    assert failed.returncode == 1
    assert with_slashes(failed.stdout).startswith(
        "::error file=mappings/firm.yaml,line=3,col=9,endLine=3,endColumn=12,"
    )


def test_the_pre_commit_config_uses_the_hooks_this_repository_ships(tmp_path):
    import shlex

    from tests.mapping.test_hooks import MANIFEST, OPTIONAL, REQUIRED

    (config,) = [d for d in ci_documents() if isinstance(d, dict) and "repos" in d]
    shipped = {hook["id"] for hook in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))}
    remote, local = config["repos"]
    assert {hook["id"] for hook in remote["hooks"]} <= shipped
    assert local["repo"] == "local"
    repo = firm_repository(tmp_path / "firm")
    for hook in local["hooks"]:
        assert REQUIRED <= set(hook) <= REQUIRED | OPTIONAL, hook
        assert hook["pass_filenames"] is False
        done = run_shell(shlex.join(shlex.split(hook["entry"])), repo)
        assert done.returncode == 0, (hook, done.stdout, done.stderr)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_docs_resolve():
    broken = []
    for path in sorted(DOCS.glob("*.md")):
        for target, anchor in re.findall(
            r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", path.read_text(encoding="utf-8")
        ):
            if target.startswith(("http://", "https://")):
                continue
            linked = (path.parent / target).resolve() if target else path
            if not linked.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor:
                headings = re.findall(
                    r"^#+ (.*)$", linked.read_text(encoding="utf-8"), re.MULTILINE
                )
                if anchor not in {slug(h) for h in headings}:
                    broken.append(f"{path.name}: {target}#{anchor}")
    assert broken == []
    assert slug("`mapctl init` (being added)") == "mapctl-init-being-added"
    assert slug("`extends`: start from another mapping") == "extends-start-from-another-mapping"


def admin_cases() -> list[Any]:
    """Every ```yaml block in README and the docs that is an admin test's expected.yaml
    (`answers`, no `version`): they are written for the made-up blended family
    (mapping-tests/pritchett-blended-family/, the same bundle as tests/cases/blended-family/) and
    the bundled mapping, and say so; a redacted bundle's fakes could not pass as shown."""
    found = []
    for path in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for line, _, body in blocks(path, "yaml"):
            data = yaml.safe_load(body)
            if isinstance(data, dict) and "answers" in data and "version" not in data:
                found.append(pytest.param(body, id=f"{path.name}:{line}"))
    return found


@pytest.mark.parametrize("expected", admin_cases())
def test_every_admin_test_example_passes(expected, run_cli, tmp_path):
    case = tmp_path / "mapping-tests" / "blended-family"
    case.mkdir(parents=True)
    (case / "bundle.json").write_bytes(BUNDLE.read_bytes())
    (case / "expected.yaml").write_text(expected, encoding="utf-8")
    result = run_cli("test", str(case))
    assert result.exit_code == 0, result.output
    assert len(admin_cases()) >= 3  # README's too
