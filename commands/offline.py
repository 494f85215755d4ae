"""Offline commands: validate, render, explain, test, functions, schema (no Clio)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..engine.errors import EvaluationError, MapctlError
from .base import (
    AppState,
    _mapping_line,
    _read_input,
    exclude_option,
    mapping_option,
    render_date,
    reporting,
    resolve_setup_for,
    today_option,
)

# --- offline: validate (issue 2) --------------------------------------------------------------


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True), metavar="[PATH]...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: gcc-style lines with context on stderr; json: a list on stdout; github: "
    "workflow annotations on stdout.",
)
@click.option(
    "--interview",
    type=click.Path(exists=True, dir_okay=False),
    help="Also check every answer against this interview's variables: a HotDocs component "
    "file (.cmp), a template manifest (.manifest.xml) or an answer file (.anx).",
)
@click.pass_context
@reporting
def validate_command(ctx: click.Context, paths: tuple[str, ...], fmt: str, interview: str | None
                     ) -> None:  # fmt: skip
    """Check mapping files and report every problem.

    PATH is a mapping file or a folder of them (*.yaml, *.yml, searched recursively). Without
    PATH: ./mappings/ when it exists, else the bundled default mapping. Exit 0 when every
    mapping is valid, 1 when there are problems.

    \b
    Examples:
      mapctl validate mappings/firm.yaml
      mapctl validate --format github mappings/
      mapctl validate mappings/firm.yaml --interview "Client Interview.cmp"
    """
    from ..engine.mapping.validation import mapping_files, validate_files
    from ..engine.report import format_problems

    files = mapping_files(paths)
    if not paths:
        from ..engine.mapping.validation import default_selection

        click.echo(default_selection(files), err=True)
    checked = None
    if interview is not None:
        from ..engine.hotdocs.interview import read_interview

        checked = read_interview(interview)
    problems = validate_files(files, checked)
    count = f"{len(files)} mapping{'s' if len(files) != 1 else ''}"
    against = f" against {interview}" if interview else ""
    if fmt == "json":
        click.echo(format_problems(problems, "json"))
    elif fmt == "github" and problems:
        click.echo(format_problems(problems, "github"))
    elif fmt == "text" and problems:
        click.echo(format_problems(problems, "text"), err=True)
    errors = sum(problem.is_error for problem in problems)
    warnings = len(problems) - errors
    noted = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
    if errors:
        noun = "problem" if errors == 1 else "problems"
        click.echo(f"{errors} {noun} in {count}{against}{noted}", err=True)
        ctx.exit(1)
    click.echo(f"{count} valid{against}{noted}", err=True)


# --- offline: render, explain, test, functions (issue 3) --------------------------------------


class _BundlePath(click.Path):
    """`click.Path(path_type=Path)` for BUNDLE...: the same checks and messages, at a fraction of
    the cost for thousands of bundles (a glob): the value stays a str, and the folders among
    the values are remembered (`_folders`), so that nothing is stat'ed twice."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _plain(value):
            value = os.fspath(Path(value))  # as click.Path(path_type=Path) gives it
        if isinstance(value, str):
            try:
                mode = os.stat(value).st_mode
            except OSError:
                return value  # not there: said when it is read
            if os.access(value, os.R_OK):
                if stat.S_ISDIR(mode):
                    _folders(ctx).add(value)
                return value
        text = os.fsdecode(super().convert(value, param, ctx))  # says what is wrong, as click
        if os.path.isdir(text):
            _folders(ctx).add(text)
        return text


def _plain(value: str) -> bool:
    """`str(Path(value)) == value`, seen without making a Path: a POSIX path with no empty, `.`
    or trailing part (most of a glob's thousands); anything else (and every Windows path) goes
    through Path, which makes `in/` `in` and, on Windows, `in/c.json` `in\\c.json`."""
    return (
        os.sep == "/"
        and value not in ("", ".")
        and "//" not in value
        and "/./" not in value
        and not value.startswith("./")
        and not value.endswith(("/", "/."))
    )


def _folders(ctx: click.Context | None) -> set[str]:
    """The folders among this command's BUNDLE values (a fresh set for each invocation)."""
    if ctx is None:
        return set()
    found: set[str] = ctx.meta.setdefault("mapctl.render.folders", set())
    return found


@click.command()
@click.argument("bundles", nargs=-1, required=True, type=_BundlePath())
@mapping_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the answer file here (one bundle; default: stdout).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write DIR/<bundle stem>.anx for each bundle.",
)
@today_option("The render date (`today` in expressions; default: today).")
@exclude_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["anx", "json"]),
    default="anx",
    show_default=True,
    help="A HotDocs answer file, or the answers as JSON.",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Write the answers that work, leave failing ones out (still exits 1).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace existing answer files; a bundle that now fails removes its old one.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Render a batch in N worker processes (default: the number of CPUs; 1: in this "
    "process). The output is the same whatever N.",
)
@reporting
def render(
    bundles: tuple[str, ...],
    mapping: str | None,
    output: Path | None,
    out_dir: Path | None,
    today: datetime | None,
    exclude: tuple[int, ...],
    fmt: str,
    keep_going: bool,
    force: bool,
    jobs: int | None,
) -> None:
    """Render matter bundle(s) into HotDocs answer file(s), offline.

    BUNDLE is a bundle file (from `mapctl fetch`) or a folder: every *.json in it, by name.
    Existing answer files are kept unless --force.

    \b
    Examples:
      mapctl render pritchett.json -o pritchett.anx
      mapctl render pritchett.json --today 2026-03-01 --format json
      mapctl render bundles/ --out-dir answers/
      mapctl render bundles/*.json --out-dir answers/ --jobs 1 --force
    """
    from ..engine.mapping.compilation import compile_mapping
    from ..engine.render.batch import BatchOptions, Bundles

    if output is not None and out_dir is not None:
        raise click.UsageError("use -o FILE for one bundle or --out-dir DIR, not both")
    if out_dir is None:
        if len(bundles) > 1:
            raise click.UsageError("several bundles need --out-dir DIR (one answer file each)")
        if os.path.isdir(bundles[0]):
            raise click.UsageError("a folder of bundles needs --out-dir DIR (one answer file each)")
        if output is not None and output.resolve() == Path(bundles[0]).resolve():
            raise click.UsageError(f"the answers would overwrite the bundle {bundles[0]}")
    folders = _folders(click.get_current_context())
    batch = Bundles(bundles, folders=folders) if out_dir is not None else None
    if batch is not None and out_dir is not None:
        clash = batch.first_clash()
        if clash is not None:
            raise click.UsageError(
                f"two bundles are named {clash!r}: their answer files would collide"
            )
        overwritten = batch.overwritten_bundle(out_dir, fmt)  # type: ignore[arg-type]
        if overwritten is not None:
            raise click.UsageError(f"the answers would overwrite the bundle {overwritten}")
    if output is not None and not force and os.path.lexists(output):  # before any work
        from ..engine.errors import ImportRefused
        from ..engine.render.batch import OVERWRITE_HINT

        raise ImportRefused(f"{output} already exists; mapctl never overwrites it",
                            hint=OVERWRITE_HINT)  # fmt: skip
    setup = resolve_setup_for(mapping=mapping)
    # Once, before reading any bundle; a mapping that passed validation before is not
    # validated again (engine/mapping/compilation.py: its record in $MAPCTL_HOME/cache).
    compiled = compile_mapping(setup.mapping_arg, cache=setup.home_path / "cache")
    if setup.mapping.origin in ("settings", "found"):  # chosen for the user: say which
        click.echo(_mapping_line(setup, compiled), err=True)
    options = BatchOptions(render_date(today), exclude, keep_going, fmt, force)  # type: ignore[arg-type]
    if batch is None or out_dir is None:
        failed = _render_one(Path(bundles[0]), compiled, output, options)
        raise SystemExit(1 if failed else 0)
    _render_many(batch, compiled, out_dir, options, jobs, setup.mapping_arg)


def _render_one(bundle: Path, compiled: Any, target: Path | None, options: Any) -> bool:
    """-o FILE or stdout: one bundle; the file is written with its own fsync."""
    from ..engine.fsutil import remove_file, write_atomic
    from ..engine.render.batch import left_out_text, removed_text, warning_lines
    from ..engine.render.rendering import render_bundle
    from ..engine.report import format_problems

    try:
        rendered = render_bundle(
            _read_input(bundle),
            str(bundle),
            compiled,
            today=options.today,
            exclude=options.exclude,
            keep_going=options.keep_going,
            fmt=options.fmt,
        )
    except MapctlError as error:  # reported by `reporting`, after the warnings
        if isinstance(error, EvaluationError):
            click.echo("".join(warning_lines(str(bundle), error.warnings)), err=True, nl=False)
        if target is not None and options.force and remove_file(target):
            click.echo(removed_text(str(bundle), str(target)), err=True, nl=False)
        raise
    click.echo("".join(warning_lines(str(bundle), rendered.warnings)), err=True, nl=False)
    if rendered.errors:
        click.echo(left_out_text(str(bundle), len(rendered.errors)), err=True, nl=False)
        click.echo(format_problems(rendered.errors), err=True)
    if target is None:
        click.echo(rendered.output, nl=False)
    else:
        write_atomic(target, rendered.output, overwrite=options.force)
    return bool(rendered.errors)


def _render_many(
    bundles: Any, compiled: Any, out_dir: Path, options: Any, jobs: int | None, mapping: str | None
) -> None:
    """--out-dir: every bundle, in order, in worker processes; the folder flushed once."""

    from ..engine.render.batch import default_jobs, finish, render_batch

    state = click.get_current_context().find_object(AppState) or AppState()
    failures = partial = 0
    show_bar = state.interactive if state.interactive is not None else sys.stderr.isatty()
    bar: Any = (
        click.progressbar(length=len(bundles), label="Rendering", file=sys.stderr)
        if show_bar
        else contextlib.nullcontext()
    )
    outcomes = render_batch(
        bundles, out_dir, compiled, options, jobs=jobs or default_jobs(), mapping_name=mapping
    )
    with bar as progress:
        for outcome in outcomes:
            if outcome.report:
                click.echo(outcome.report, err=True, nl=False)
            failures += outcome.failed
            partial += outcome.partial
            if progress is not None:
                progress.update(1)
    finish(out_dir)  # durable before the summary says so
    done = len(bundles) - failures
    click.echo(
        f"rendered {done} of {len(bundles)} bundles into {out_dir}"
        + (f"; {failures} failed" if failures else "")
        + (f"; {partial} with answers left out" if partial else ""),
        err=True,
    )
    if failures or partial:
        raise SystemExit(1)


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.argument("names", nargs=-1, metavar="[NAME]...")
@mapping_option
@today_option("The render date (`today` in expressions; default: today).")
@exclude_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reporting
def explain(
    bundle: Path,
    names: tuple[str, ...],
    mapping: str | None,
    today: datetime | None,
    exclude: tuple[int, ...],
    fmt: str,
) -> None:
    """Show where each answer comes from: expression, value, Clio fields, roles.

    \b
    Sensitive custom fields are masked. Examples:
      mapctl explain pritchett.json
      mapctl explain pritchett.json "Child Birth Date DA" --format json
    """
    import json

    from ..engine.mapping.compilation import compile_mapping
    from ..engine.render.context import build_context, load_bundle
    from ..engine.render.evaluation import evaluate
    from ..engine.render.explaining import explain as explain_answers
    from ..engine.render.explaining import explain_json, explain_text, select_rules

    compiled = compile_mapping(resolve_setup_for(mapping=mapping).mapping_arg)
    select_rules(compiled, names)  # an unknown NAME fails before any work
    data = load_bundle(_read_input(bundle), str(bundle))
    context = build_context(data, compiled, today=render_date(today), exclude=exclude)
    evaluation = evaluate(compiled, context, keep_going=True)
    items = explain_answers(compiled, context, evaluation, names)
    if fmt == "json":
        report = explain_json(compiled, context, evaluation, items)
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(explain_text(compiled, context, evaluation, items), nl=False)
    chosen = set(names)
    failed = [
        p for p in evaluation.errors if not chosen or (len(p.path) > 1 and p.path[1] in chosen)
    ]
    if failed:  # explained, and still an answer that does not evaluate: as render, exit 1
        count = len(failed)
        click.echo(
            f"{count} answer{'s' if count != 1 else ''} failed to evaluate (shown above)", err=True
        )
        raise SystemExit(1)


@click.command("test")
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-m",
    "--mapping",
    metavar="MAPPING",
    help="Mapping for cases without their own mapping.yaml (default: bundled ILS).",
)
@reporting
def test_cases(cases: tuple[Path, ...], mapping: str | None) -> None:
    """Check that bundles give the answers they must (admin fixture tests).

    \b
    CASES are case folders, or folders of them (default: ./mapping-tests/). A case holds
    bundle.json and expected.anx (the whole answer file) or expected.yaml:
      today: 2026-03-01          # optional render date (default 2026-01-01)
      answers:                   # only the answers that matter
        Client First Name TE: Jay
        Client Birth Date DA: 1950-05-17
        Child Full Name TE: [Claire Dunphy, Mitchell Pritchett]
        Spouse Full Name TE: null   # unanswered
    A mapping.yaml in the case folder is used for that case. Exit 1 when any case fails.
    """
    from ..engine.mapping.compilation import compile_mapping
    from ..engine.render.casetests import find_cases, run_case

    found = find_cases(list(cases))
    cache: dict[str, Any] = {}
    setup = resolve_setup_for(mapping=mapping)
    default = setup.mapping_arg  # -m, settings, ./mappings/firm.yaml

    def load(path: Path | None) -> Any:
        key = str(path) if path is not None else f"-m:{default}"
        if key not in cache:  # a mapping that passed validation before is not validated again
            target = str(path) if path is not None else default
            cache[key] = compile_mapping(target, cache=setup.home_path / "cache")
        return cache[key]

    failed = 0
    for case in found:
        result = run_case(case, load)
        if result.passed:
            click.echo(f"PASS {case}")
            continue
        failed += 1
        click.echo(f"FAIL {case}")
        if result.error:
            click.echo("\n".join(f"  {line}" for line in result.error.splitlines()))
        for miss in result.mismatches:
            click.echo(f"  {miss.name}:")
            click.echo(f"    expected: {miss.expected}\n    actual:   {miss.actual}")
    click.echo(f"{len(found) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reporting
def functions(fmt: str) -> None:
    """List the functions expressions can call, with signatures and examples."""
    import json

    from ..engine.mapping.functionlist import function_list, functions_text

    if fmt == "json":
        click.echo(json.dumps(function_list(), ensure_ascii=False, indent=2))
    else:
        click.echo(functions_text(), nl=False)


@click.command()
@click.option(
    "--path",
    "show_path",
    is_flag=True,
    help="Print where the installed schema file is instead of its content.",
)
@reporting
def schema(show_path: bool) -> None:
    """Print the mapping JSON Schema, for editors (yaml-language-server, VS Code's YAML).

    \b
    A mapping outside the repository points its first line at the installed copy:
      # yaml-language-server: $schema=<the path `mapctl schema --path` prints>
    Examples:
      mapctl schema --path
      mapctl schema > mapping.schema.json
    """
    from ..engine.resources import mapping_schema

    path = mapping_schema()
    if show_path:
        click.echo(str(path))
        return
    click.echo(path.read_text(encoding="utf-8"), nl=False)
