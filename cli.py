"""mapctl's command line: the only module that prints or chooses an exit code.

Every command body runs inside `reporting`, the one catch site that turns the engine's typed
errors into a message on stderr and the error's exit code (see `engine.errors`); any other
exception is a bug: exit 4 with one line asking for a report, the traceback only with --debug
(or MAPCTL_DEBUG=1). Engine modules are imported inside the commands so that `mapctl validate`
starts fast and never loads the HTTP stack.

Contract: ../shared/spec/cli.md (commands, options, JSON shapes, exit codes).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from .engine.clio.regions import REGIONS
from .engine.errors import EXIT_INTERNAL, EvaluationError, MapctlError, MappingError

F = TypeVar("F", bound=Callable[..., Any])


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppState:
    """What commands need from the outside world; tests pass their own through `obj=`."""

    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    transport: Any = None  # an httpx transport for tests; None: real network
    now: Callable[[], datetime] = _utc_now
    debug: bool = False
    interactive: bool | None = None  # None: ask the terminal

    @property
    def home(self) -> Path:
        """$MAPCTL_HOME, default ~/.mapctl (created on first write, not here)."""
        value = self.env.get("MAPCTL_HOME")
        return Path(value).expanduser() if value else Path.home() / ".mapctl"

    def is_interactive(self) -> bool:
        if self.interactive is not None:
            return self.interactive
        return sys.stdin.isatty() and sys.stdout.isatty()


def reporting(func: F) -> F:
    """Run a command body; report the project's errors and bugs with the documented exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().find_object(AppState) or AppState()
        try:
            return func(*args, **kwargs)
        except click.exceptions.ClickException:
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (MappingError, EvaluationError) as error:  # every problem, gcc-style
            from .engine.report import format_problems

            click.echo(format_problems(error.problems), err=True)
            raise SystemExit(error.exit_code) from None
        except MapctlError as error:
            from .engine.report import format_error

            click.echo(format_error(error), err=True)
            raise SystemExit(error.exit_code) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise SystemExit(130) from None
        except OSError as error:
            if _output_error(error):
                _output_failed(error)
            _internal_error(state, error)
        except Exception as error:  # noqa: BLE001 - the one place bugs are caught
            _internal_error(state, error)

    return wrapper  # type: ignore[return-value]


def _internal_error(state: AppState, error: BaseException) -> NoReturn:
    if state.debug or state.env.get("MAPCTL_DEBUG") == "1":
        import traceback  # only here: importing it costs every command's start-up

        traceback.print_exception(error)
    click.echo(
        f"internal error ({type(error).__name__}): this is a bug in mapctl; please report "
        "it with the command you ran (run again with --debug for the details)",
        err=True,
    )
    raise SystemExit(EXIT_INTERNAL) from None


def _output_error(error: OSError) -> bool:
    """Whether `error` was raised writing output (click's `echo`: a full disk, a closed pipe),
    rather than by something the command did."""
    import click.utils

    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code is click.utils.echo.__code__:
            return True
        trace = trace.tb_next
    return False


def _output_failed(error: OSError) -> NoReturn:
    """Standard output failed (`mapctl functions > /dev/full`): one line on stderr, exit 1 (a
    closed pipe, `| head -1`, ends quietly). Standard output is pointed at the null device, so
    that the flushes still to come (click's, Python's at exit) neither fail again nor print
    "Exception ignored"."""
    import errno

    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()  # the stuck buffer goes to the null device
    if error.errno != errno.EPIPE:
        reason = error.strerror or str(error)
        with contextlib.suppress(OSError, ValueError):  # stderr may be full too: exit 1 anyway
            click.echo(f"error: cannot write the output: {reason}", err=True)
    raise SystemExit(1)


class _Main(click.Group):
    """The `mapctl` group: output that fails outside a command body (`--help > /dev/full`) is
    reported like inside one (see `reporting`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except OSError as error:
            if not _output_error(error):
                raise
            _output_failed(error)


@click.group(
    cls=_Main,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.version_option(package_name="mapctl", prog_name="mapctl")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn a Clio matter into a new ILS client with a pre-filled HotDocs answer file.

    \b
    Typical use:
      mapctl connect                 # once: authorize mapctl in Clio
      mapctl search Pritchett        # find the matter
      mapctl preview 00002-Pritchett # who comes across, in which role
      mapctl import 00002-Pritchett  # create the client and its answer file
    """
    state = ctx.ensure_object(AppState)
    state.debug = state.debug or debug


# --- options and helpers shared by several commands -------------------------------------------


mapping_option = click.option(
    "-m",
    "--mapping",
    metavar="MAPPING",
    help="Mapping file, or a bundled mapping's name (default: the settings' mapping, else "
    "./mappings/firm.yaml, else the bundled ILS mapping).",
)
exclude_option = click.option(
    "--exclude",
    type=int,
    multiple=True,
    metavar="CONTACT_ID",
    help="Leave this related contact out (repeatable); ids are in `mapctl preview`.",
)
region_option = click.option(
    "--region",
    type=click.Choice(list(REGIONS)),
    help="Clio region: picks Clio's host (default: CLIO_BASE_URL, else the settings', else "
    "app.clio.com).",
)


def today_option(help: str) -> Callable[[F], F]:
    """--today YYYY-MM-DD: the render date, for reproducible output."""
    return click.option(
        "--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help=help
    )


def render_date(today: datetime | None) -> Any:
    """--today, else today's date where the user is (not UTC's: a US evening is still today)."""
    state = click.get_current_context().find_object(AppState) or AppState()
    return today.date() if today else state.now().astimezone().date()


# --- settings: the one resolution of mapping, output folder, Clio address, App Key (issue 11) ---


def resolve_setup_for(
    *,
    mapping: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    region: str | None = None,
    interview: str | None = None,
) -> Any:
    """The effective settings for this command (`engine.setup.settings.Setup`): each option
    given here wins over the environment, the settings file and the defaults. Every command
    (and the staff app) asks this, so they all use the same mapping, folder and Clio."""
    from .engine.setup.settings import resolve_setup

    state = click.get_current_context().find_object(AppState) or AppState()
    return resolve_setup(
        state.env, mapping=mapping, output_folder=out_dir, region=region, interview=interview
    )


def mapping_used(setup: Any, compiled: Any) -> dict[str, Any]:
    """Which mapping a command used, for JSON output: its path, title and where it came from."""
    return {
        "path": setup.mapping_display,
        "title": compiled.title,
        "origin": setup.mapping.origin,
        "source": setup.mapping_source(),
    }


def _mapping_line(setup: Any, compiled: Any) -> str:
    return f"Mapping used: {compiled.title}, {setup.mapping_display} ({setup.mapping_source()})"


# --- offline: validate (issue 2) --------------------------------------------------------------


@main.command("validate")
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
    from .engine.mapping.validation import mapping_files, validate_files
    from .engine.report import format_problems

    files = mapping_files(paths)
    if not paths:
        from .engine.mapping.validation import default_selection

        click.echo(default_selection(files), err=True)
    checked = None
    if interview is not None:
        from .engine.hotdocs.interview import read_interview

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


def _read_input(path: Path) -> bytes:
    from .engine.fsutil import read_bounded

    return read_bounded(path, "a matter bundle")


def _warn(source: str, warnings: list[str]) -> None:
    from .engine.report import printable

    for warning in warnings:  # they name Clio's contacts
        click.echo(f"{source}: warning: {printable(warning)}", err=True)


@main.command()
@click.argument("bundles", nargs=-1, required=True, type=click.Path(path_type=Path))
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
    bundles: tuple[Path, ...],
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
    from .engine.mapping.compilation import compile_mapping
    from .engine.render.batch import BatchOptions, Bundles

    if output is not None and out_dir is not None:
        raise click.UsageError("use -o FILE for one bundle or --out-dir DIR, not both")
    if out_dir is None:
        if len(bundles) > 1:
            raise click.UsageError("several bundles need --out-dir DIR (one answer file each)")
        if bundles[0].is_dir():
            raise click.UsageError("a folder of bundles needs --out-dir DIR (one answer file each)")
        if output is not None and output.resolve() == bundles[0].resolve():
            raise click.UsageError(f"the answers would overwrite the bundle {bundles[0]}")
    batch = Bundles(bundles) if out_dir is not None else None
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
        from .engine.errors import ImportRefused
        from .engine.render.batch import OVERWRITE_HINT

        raise ImportRefused(f"{output} already exists; mapctl never overwrites it",
                            hint=OVERWRITE_HINT)  # fmt: skip
    setup = resolve_setup_for(mapping=mapping)
    compiled = compile_mapping(setup.mapping_arg)  # once, before reading any bundle
    if setup.mapping.origin in ("settings", "found"):  # chosen for the user: say which
        click.echo(_mapping_line(setup, compiled), err=True)
    options = BatchOptions(render_date(today), exclude, keep_going, fmt, force)  # type: ignore[arg-type]
    if batch is None or out_dir is None:
        failed = _render_one(bundles[0], compiled, output, options)
        raise SystemExit(1 if failed else 0)
    _render_many(batch, compiled, out_dir, options, jobs, setup.mapping_arg)


def _render_one(bundle: Path, compiled: Any, target: Path | None, options: Any) -> bool:
    """-o FILE or stdout: one bundle; the file is written with its own fsync."""
    from .engine.fsutil import remove_file, write_atomic
    from .engine.render.batch import left_out_text, removed_text, warning_lines
    from .engine.render.rendering import render_bundle
    from .engine.report import format_problems

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
    import contextlib

    from .engine.render.batch import default_jobs, finish, render_batch

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


@main.command()
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

    from .engine.mapping.compilation import compile_mapping
    from .engine.render.context import build_context, load_bundle
    from .engine.render.evaluation import evaluate
    from .engine.render.explaining import explain as explain_answers
    from .engine.render.explaining import explain_json, explain_text, select_rules

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


@main.command("test")
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
    from .engine.mapping.compilation import compile_mapping
    from .engine.render.casetests import find_cases, run_case

    found = find_cases(list(cases))
    cache: dict[str, Any] = {}
    default = resolve_setup_for(mapping=mapping).mapping_arg  # -m, settings, ./mappings/firm.yaml

    def load(path: Path | None) -> Any:
        key = str(path) if path is not None else f"-m:{default}"
        if key not in cache:
            cache[key] = compile_mapping(str(path) if path is not None else default)
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


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reporting
def functions(fmt: str) -> None:
    """List the functions expressions can call, with signatures and examples."""
    import json

    from .engine.mapping.functionlist import function_list, functions_text

    if fmt == "json":
        click.echo(json.dumps(function_list(), ensure_ascii=False, indent=2))
    else:
        click.echo(functions_text(), nl=False)


@main.command()
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
    from .engine.resources import mapping_schema

    path = mapping_schema()
    if show_path:
        click.echo(str(path))
        return
    click.echo(path.read_text(encoding="utf-8"), nl=False)


# --- Clio: connect, disconnect, search, fetch, sandbox (issue 4) ------------------------------


def _clio_prompt(text: str, hidden: bool) -> str:
    value: str = click.prompt(text, hide_input=hidden, err=True)
    return value


def _clio_notice(message: str) -> None:
    click.echo(message, err=True)


def _clio_open(state: AppState, region: str | None) -> Any:
    from .engine.clio.client import open_client

    env = resolve_setup_for(region=region).clio_env(state.env)  # Clio's address, the App Key
    return open_client(state.home, env, transport=state.transport, notice=_clio_notice)


@main.command()
@click.option("--print-url", is_flag=True, help="Print the authorize URL and exit.")
@click.option("--code", metavar="CODE", help="The code from Clio's approval page (or its URL).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the URL.")
@region_option
@click.pass_obj
@reporting
def connect(
    state: AppState, print_url: bool, code: str | None, no_browser: bool, region: str | None
) -> None:
    """Authorize mapctl in Clio (OAuth 2.0) and store the tokens in $MAPCTL_HOME.

    The App Key and Secret come from CLIO_CLIENT_ID / CLIO_CLIENT_SECRET, or are asked for
    (the secret hidden). Clio shows the code on its approval page; paste the code, or the
    page's whole address.

    \b
    Examples:
      mapctl connect                       # opens the browser, then asks for the code
      mapctl connect --print-url           # print the address to open elsewhere
      mapctl connect --code 'Success code=...'
    """
    from .engine.clio import auth

    env = resolve_setup_for(region=region).clio_env(state.env)  # settings: address, App Key
    base_url = auth.base_url_for(env)
    asker = _clio_prompt if state.is_interactive() else None  # scripts get a clear error
    if code is None:
        creds = auth.credentials_from_env(env, asker, need_secret=False)
        url = auth.authorize_url(base_url, creds.client_id, auth.new_state(state.home, base_url))
        if print_url:
            click.echo(url)
            return
        click.echo(f"Authorize mapctl in Clio at:\n  {url}", err=True)
        if not no_browser:
            import webbrowser

            webbrowser.open(url)
        try:
            code = click.prompt("Paste the code from Clio's approval page", err=True)
        except click.exceptions.Abort:  # end of input (a script) or Ctrl-C
            click.echo(err=True)
            raise MapctlError(
                "no authorization code was given",
                hint="open the address above, approve, then run `mapctl connect --code CODE`",
            ) from None
    elif print_url:
        raise click.UsageError("use either --print-url or --code, not both")
    creds = auth.credentials_from_env(env, asker)
    tokens = auth.connect(
        state.home, base_url, creds, auth.parse_code(code, state.home), transport=state.transport
    )
    from .engine.errors import ClioError

    try:
        with _clio_open(state, region) as client:
            user = client.who_am_i()
    except ClioError as error:  # the tokens are stored: say so, not just "HTTP 500"
        raise ClioError(
            f"mapctl is connected (tokens saved in {auth.TokenStore(state.home).path}), but "
            f"checking the connection failed: {error.message}",
            hint=error.hint,
            status=error.status,
            url=error.url,
        ) from None
    from .engine.report import printable

    who = f"{user.get('name')} <{user.get('email')}>" if user.get("email") else user.get("name")
    click.echo(f"Connected to Clio at {tokens.base_url} as {printable(who)}.")
    click.echo(f"Tokens saved in {auth.TokenStore(state.home).path} (readable only by you).")


@main.command()
@click.pass_obj
@reporting
def disconnect(state: AppState) -> None:
    """Deauthorize mapctl at Clio and delete the stored tokens (fine when not connected)."""
    from .engine.clio import auth

    if not auth.TokenStore(state.home).path.exists():
        click.echo("Not connected to Clio: nothing to do.")
        return
    warning = auth.disconnect(state.home, transport=state.transport)
    if warning:
        click.echo(f"warning: {warning}; the local tokens were deleted anyway", err=True)
    click.echo("Disconnected from Clio: the tokens are deleted.")


@main.command()
@click.argument("query")
@click.option(
    "--sort",
    type=click.Choice(["number", "description", "client", "open_date", "status"]),
    help="Order of the rows (default: Clio's, by id; status: Open, Pending, Closed).",
)
@click.option("--reverse", is_flag=True, help="Reverse the order (last first).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
@region_option
@click.pass_obj
@reporting
def search(
    state: AppState, query: str, sort: str | None, reverse: bool, fmt: str, region: str | None
) -> None:
    """Find matters whose number, description or client name contains QUERY (every page).

    On a terminal the table fits its width, a long list opens in a pager ($PAGER), and the pages
    Clio sends are counted on stderr while they come.

    \b
    Examples:
      mapctl search Pritchett
      mapctl search estate --sort status
      mapctl search estate --sort open_date --reverse --format json
    """
    import json

    if len(query.strip()) < 2:
        raise click.BadParameter("give at least 2 characters to search for", param_hint="QUERY")
    progress = _SearchProgress(_on_terminal(state, sys.stderr))
    with _clio_open(state, region) as client:
        try:
            rows = client.search(query, sort=sort, reverse=reverse, progress=progress)
        finally:
            progress.done()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from .engine.clio.table import format_matters

    terminal = _on_terminal(state, sys.stdout)
    columns, lines = _terminal_size(state)
    text = format_matters(rows, width=columns if terminal else 100)
    if terminal and text.count("\n") > lines - 2:
        click.echo_via_pager(text)
    else:
        click.echo(text, nl=False)
    if rows:
        click.echo(f"{len(rows)} matter{'s' if len(rows) != 1 else ''} found.", err=True)


def _on_terminal(state: AppState, stream: Any) -> bool:
    """Whether `stream` is a terminal (tests say so through AppState.interactive)."""
    if state.interactive is not None:
        return state.interactive
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _terminal_size(state: AppState) -> tuple[int, int]:
    """(columns, lines): $COLUMNS/$LINES, else the terminal's, else 100 x 24."""
    import shutil

    size = shutil.get_terminal_size((100, 24))
    sizes = []
    for name, fallback in (("COLUMNS", size.columns), ("LINES", size.lines)):
        value = state.env.get(name, "")
        sizes.append(int(value) if value.isdigit() and int(value) > 0 else fallback)
    return sizes[0], sizes[1]


class _SearchProgress:
    """The pages of a search on stderr: one line rewritten in place on a terminal, one line per
    page otherwise (only when there is more than one page)."""

    def __init__(self, terminal: bool) -> None:
        self.terminal = terminal
        self.shown = 0

    def __call__(self, page: int, fetched: int, total: int | None, more: bool) -> None:
        if page == 1 and not more:
            return  # one page: nothing to wait for
        of = f" of {total}" if total is not None else ""
        text = f"searching Clio: page {page}, {fetched}{of} matters"
        if self.terminal:
            click.echo("\r" + text.ljust(self.shown), nl=False, err=True)
            self.shown = len(text)
        else:
            click.echo(text, err=True)

    def done(self) -> None:
        if self.terminal and self.shown:
            click.echo("\r" + " " * self.shown + "\r", nl=False, err=True)
            self.shown = 0


@main.command()
@click.argument("matter")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the bundle here (default: standard output). Never overwrites a file.",
)
@click.option("--force", is_flag=True, help="Overwrite the -o file if it exists.")
@click.option(
    "--redact",
    is_flag=True,
    help="Replace personal data with realistic fakes (keyed by $MAPCTL_HOME/redact.key, so "
    "they cannot be worked back to the originals).",
)
@click.option(
    "-m",
    "--mapping",
    metavar="MAPPING",
    help="With --redact: also redact the custom fields this mapping marks sensitive (a file, or "
    "a bundled mapping's name).",
)
@region_option
@click.pass_obj
@reporting
def fetch(
    state: AppState,
    matter: str,
    output: Path | None,
    force: bool,
    redact: bool,
    mapping: str | None,
    region: str | None,
) -> None:
    """Save MATTER's bundle (raw Clio records) as JSON, for render, test and fixtures.

    MATTER is the Clio matter's id or display number.

    \b
    Examples:
      mapctl fetch 00002-Pritchett -o pritchett.json
      mapctl fetch 9002 --redact -o tests/cases/family/bundle.json
    """
    import json

    sensitive: list[str | int] = []
    if mapping is not None:
        from .engine.mapping.compilation import compile_mapping

        compiled = compile_mapping(mapping)  # before any network call
        for spec in compiled.custom_fields:
            if spec.sensitive:
                sensitive.append(spec.name if spec.name is not None else str(spec.id))
    if output is not None and not force and os.path.lexists(output):  # before asking Clio
        from .engine.errors import ImportRefused

        raise ImportRefused(
            f"{output} already exists; mapctl never overwrites it",
            hint="pass --force to replace it, or choose another output path",
        )
    with _clio_open(state, region) as client:
        bundle = client.fetch_bundle(matter)
    if redact:
        from .engine.render.redact import home_key, redact_bundle

        bundle = redact_bundle(bundle, sensitive, key=home_key(state.home))
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    from .engine.fsutil import write_atomic

    write_atomic(output, text.encode("utf-8"), overwrite=force)
    from .engine.report import printable

    number = printable(bundle["matter"].get("display_number"))
    count = len(bundle["contacts"])
    click.echo(
        f"Saved {number} ({count} contacts{', redacted' if redact else ''}) to {output}", err=True
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='Serve these records instead of the demo firm: {"matters", "contacts", ...}, '
    "or one matter's bundle saved by `mapctl fetch`.",
)
@click.option(
    "--latency",
    default=0,
    type=click.IntRange(min=0),
    metavar="MS",
    help="Delay every request by MS ms.",
)
@click.option(
    "--failure-rate",
    default=0.0,
    metavar="P",
    help="Fail this share of API requests with HTTP 500 (0..1).",
)
@click.option(
    "--rate-limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="API requests allowed per token per minute (then 429).",
)
@click.option(
    "--token-lifetime",
    default=2_592_000,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Lifetime of access tokens (expires_in).",
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    metavar="URI",
    help="A redirect URI registered for the app (repeatable); default: its own approval page.",
)
@click.option("--quiet", is_flag=True, help="Do not log each request on stderr.")
@click.pass_obj
@reporting
def sandbox(
    state: AppState,
    host: str,
    port: int,
    data: Path | None,
    latency: int,
    failure_rate: float,
    rate_limit: int,
    token_lifetime: int,
    redirect_uris: tuple[str, ...],
    quiet: bool,
) -> None:
    """Run a local Clio (API v4 subset and OAuth) seeded with a demo firm; Ctrl-C stops it.

    App Key `sandbox-app`, App Secret `sandbox-secret`; its authorize page approves at once.

    \b
    Example:
      mapctl sandbox --port 8765 --latency 100
    """
    from .engine.sandbox.server import Sandbox, load_data_file

    if not 0 <= failure_rate <= 1:
        raise click.BadParameter("must be between 0 and 1", param_hint="--failure-rate")
    records = load_data_file(data) if data is not None else None
    log = None if quiet else (lambda line: click.echo(line, err=True))
    server = Sandbox(
        records,
        host=host,
        port=port,
        latency=latency / 1000,
        failure_rate=failure_rate,
        rate_limit=rate_limit,
        token_lifetime=token_lifetime,
        redirect_uris=list(redirect_uris) or None,
        log=log,
    )
    click.echo(f"Clio sandbox listening on {server.base_url} (Ctrl-C to stop)")
    click.echo("Point mapctl at it:")
    click.echo(
        f"  export CLIO_BASE_URL={server.base_url} CLIO_CLIENT_ID=sandbox-app "
        "CLIO_CLIENT_SECRET=sandbox-secret"
    )
    click.echo("  mapctl connect --no-browser && mapctl search Pritchett", nl=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("sandbox stopped", err=True)
    finally:
        server.close()


# --- workflow: preview, import, clients (issue 5) ---------------------------------------------


def _workflow_fetch(state: AppState, matter: str, region: str | None) -> dict[str, Any]:
    """The matter's bundle, checked like a bundle file (a matter without a client, a contact
    Clio did not send...: one BundleError, exit 1, rather than a crash further on)."""
    from .engine.workflow.importing import fetch_checked_bundle

    with _clio_open(state, region) as client:
        return fetch_checked_bundle(client, matter)


def _roles(values: tuple[str, ...], compiled: Any) -> dict[int, str]:
    """--role values -> {contact id: role}; a malformed value or unknown role is a usage error."""
    from .engine.workflow.importing import parse_role_options

    try:
        return parse_role_options(values, compiled)
    except MapctlError as error:
        hint = f" ({error.hint})" if error.hint else ""
        raise click.BadParameter(error.message + hint, param_hint="--role") from None


role_option = click.option(
    "--role",
    "role",
    multiple=True,
    metavar="CONTACT_ID=ROLE",
    help="Set a related contact's role for this import (repeatable), e.g. 5014=Child.",
)


def _folder_given(value: str | None) -> Path | None:
    """--out "" would silently mean the current folder: refused."""
    if value is not None and not value.strip():
        raise click.BadParameter(
            "is empty; give a folder (or leave --out out for the default folder)"
        )
    return Path(value) if value is not None else None


out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    callback=lambda ctx, param, value: _folder_given(value),
    help="Folder for new clients' folders (default: the settings' output_folder, else "
    "$MAPCTL_HOME/clients).",
)


@main.command()
@click.argument("matter")
@exclude_option
@role_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
@mapping_option
@region_option
@today_option("The date the import would use (default: today).")
@click.pass_obj
@reporting
def preview(
    state: AppState,
    matter: str,
    exclude: tuple[int, ...],
    role: tuple[str, ...],
    fmt: str,
    mapping: str | None,
    region: str | None,
    today: datetime | None,
) -> None:
    """Show who an import of MATTER would bring across, and in which role.

    MATTER is the Clio matter's id or display number. The client comes first (role Client),
    then each related contact with its label as typed in Clio and the role it gets. Below the
    table: labels that fell to the `otherwise` role (with the nearest synonym) and warnings.

    \b
    Examples:
      mapctl preview 00002-Pritchett
      mapctl preview 00002-Pritchett --exclude 5015 --format json
      mapctl preview 00002-Pritchett --role 5014=Child
    """
    import json

    from .engine.mapping.compilation import compile_mapping
    from .engine.workflow.importing import preview as make_preview
    from .engine.workflow.importreport import format_preview

    setup = resolve_setup_for(mapping=mapping, region=region)
    compiled = compile_mapping(setup.mapping_arg)  # before any network call
    roles = _roles(role, compiled)
    bundle = _workflow_fetch(state, matter, region)
    day = render_date(today)
    result = make_preview(bundle, compiled, today=day, exclude=exclude, roles=roles)
    if fmt == "json":  # the contract's shape; which mapping goes to stderr
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        click.echo(_mapping_line(setup, compiled), err=True)
    else:
        click.echo(format_preview(result))
        click.echo(f"\n{_mapping_line(setup, compiled)}")


@main.command("import")
@click.argument("matter")
@exclude_option
@role_option
@mapping_option
@out_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to report the new client: text for people, JSON for scripts.",
)
@click.option(
    "-y", "--yes", is_flag=True, help="Import without questions (needed when not on a terminal)."
)
@region_option
@today_option("The date written in the notes and the context (default: today).")
@click.pass_obj
@reporting
def import_(
    state: AppState,
    matter: str,
    exclude: tuple[int, ...],
    role: tuple[str, ...],
    mapping: str | None,
    out_dir: Path | None,
    fmt: str,
    yes: bool,
    region: str | None,
    today: datetime | None,
) -> None:
    """Create a new ILS client from MATTER, with its pre-filled answer file.

    Shows the preview, lets you remove contacts by their number, asks to confirm, then writes
    the client's folder (answer file and client.json) to --out or $MAPCTL_HOME/clients and
    records the client in the ledger. A client already imported is refused (exit 1); nothing
    existing is overwritten. Without a terminal, pass --yes (questions skipped). In the
    dialogue, remove contacts by their number in the list or their Clio id: "14", "3, 14",
    "11-13" or "5015"; "restore 14" puts a removed contact back.

    \b
    Examples:
      mapctl import 00002-Pritchett
      mapctl import 00002-Pritchett --yes --exclude 5015 --out ./clients
      mapctl import 00002-Pritchett --role 5014=Child

    \b
    Exit codes: 0 imported; 1 refused (client already imported, folder exists), invalid
    mapping, answers that fail, or cancelled at the question; 2 no terminal and no --yes;
    3 Clio unreachable or refused.
    """
    from .engine.mapping.compilation import compile_mapping
    from .engine.workflow.importing import check_not_imported, import_client
    from .engine.workflow.importreport import format_import

    interactive = state.is_interactive()
    if not yes and not interactive:
        raise click.UsageError(
            "mapctl import asks for confirmation, and there is no terminal to ask on; "
            "pass --yes to import without questions"
        )
    setup = resolve_setup_for(mapping=mapping, out_dir=out_dir, region=region)
    compiled = compile_mapping(setup.mapping_arg)  # before any network call
    roles = _roles(role, compiled)
    bundle = _workflow_fetch(state, matter, region)
    check_not_imported(bundle, state.home)  # refuse before asking any question
    day = render_date(today)
    chosen = set(exclude)
    if not yes:
        chosen = _workflow_choose(bundle, compiled, day, chosen, roles)
    result = import_client(
        bundle,
        compiled,
        home=state.home,
        now=state.now(),
        today=day,
        exclude=chosen,
        out_dir=Path(str(setup.output_folder.value)),
        roles=roles,
    )
    if fmt == "json":
        import json

        shown = {**result.as_json(), "mapping": mapping_used(setup, compiled)}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        click.echo(format_import(result))
        click.echo(f"\n{_mapping_line(setup, compiled)}")


def _workflow_choose(
    bundle: dict[str, Any], compiled: Any, day: Any, chosen: set[int], roles: dict[int, str]
) -> set[int]:
    """The terminal dialogue: show the list, remove (or restore) contacts, confirm."""
    from .engine.report import printable
    from .engine.workflow.importing import parse_reply
    from .engine.workflow.importing import preview as make_preview
    from .engine.workflow.importreport import format_preview

    shown = make_preview(bundle, compiled, today=day, exclude=chosen, roles=roles)
    click.echo(format_preview(shown))
    while True:
        click.echo()
        reply = click.prompt(
            "Remove contacts (numbers or Clio ids, comma-separated; 'restore N' puts one back; "
            "Enter for none)",
            default="",
            show_default=False,
        )
        if not reply.strip():
            break
        removed, restored, problem = parse_reply(shown, reply)
        if problem:
            click.echo(f"error: {printable(problem)}", err=True)
            continue
        chosen = (chosen | removed) - restored
        shown = make_preview(bundle, compiled, today=day, exclude=chosen, roles=roles)
        click.echo(format_preview(shown))  # the updated list; numbers stay the same
    related = len(shown.contacts) - 1
    who = printable(shown.client.name or "the client")
    question = f"Import {who} as a new client with {related} " + (
        "related contact?" if related == 1 else "related contacts?"
    )
    if not click.confirm(question, default=True):
        click.echo("Import cancelled; nothing was written.", err=True)
        raise SystemExit(1)
    return chosen


@main.group(invoke_without_command=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
@click.option("--forgotten", is_flag=True, help="List the clients forgotten so far instead.")
@click.pass_context
@reporting
def clients(ctx: click.Context, fmt: str, forgotten: bool) -> None:
    """List the clients mapctl has created (the ledger in $MAPCTL_HOME/clients.db).

    Entries whose folder or answer file is gone (moved or deleted outside mapctl) are marked.
    `mapctl clients forget CONTACT_ID` lets a client imported by mistake, or deleted in ILS,
    be imported again.

    \b
    Examples:
      mapctl clients
      mapctl clients --format json
      mapctl clients forget 5001
    """
    if ctx.invoked_subcommand is not None:
        return
    import json

    from .engine.workflow.forgetting import files_state
    from .engine.workflow.importreport import format_clients, format_forgotten
    from .engine.workflow.ledger import LEDGER_FILE, Ledger

    state = ctx.find_object(AppState) or AppState()
    entries, gone = [], []
    if (state.home / LEDGER_FILE).exists():  # listing never creates the ledger
        with Ledger.open(state.home) as ledger:
            ledger.recover()  # an import killed half-way: finished or taken back first
            entries = ledger.list_clients()
            gone = ledger.list_forgotten() if forgotten else []
    if forgotten:
        if fmt == "json":
            click.echo(json.dumps([f.as_json() for f in gone], indent=2, ensure_ascii=False))
        else:
            click.echo(format_forgotten(gone))
        return
    files = [files_state(e) for e in entries]
    if fmt == "json":
        rows = [
            {
                **e.as_json(),
                "folder_exists": f.folder_exists,
                "answer_file_exists": f.answer_file_exists,
            }
            for e, f in zip(entries, files, strict=True)
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        click.echo(format_clients(entries, [f.mark for f in files]))


@clients.command("forget")
@click.argument("contact_id", type=int, metavar="CONTACT_ID")
@click.option(
    "-y", "--yes", is_flag=True, help="Forget without asking (needed without a terminal)."
)
@click.option(
    "--delete-folder",
    is_flag=True,
    help="Also delete the client's folder (its answer file and client.json); default: keep it.",
)
@click.pass_obj
@reporting
def clients_forget(state: AppState, contact_id: int, yes: bool, delete_folder: bool) -> None:
    """Remove one client from the ledger, so that its Clio contact can be imported again.

    For a client imported by mistake, or deleted in ILS. Shows what it removes, then asks
    (--yes skips the question). The client's folder stays where it is unless --delete-folder;
    a new import then goes next to it (`<name>-2`). Nothing changes in ILS or Clio. The ledger
    keeps a record of what was forgotten and when (`mapctl clients --forgotten`).

    \b
    Examples:
      mapctl clients forget 5001
      mapctl clients forget 5001 --yes --delete-folder

    \b
    Exit codes: 0 forgotten; 1 no such client, or declined at the question; 2 no terminal
    and no --yes.
    """
    from .engine.workflow.forgetting import check_deletable, forget_client, plan_forget
    from .engine.workflow.importreport import format_forget_done, format_forget_plan

    if not yes and not state.is_interactive():
        raise click.UsageError(
            "mapctl clients forget asks for confirmation, and there is no terminal to ask on; "
            "pass --yes to forget without questions"
        )
    plan = plan_forget(state.home, contact_id)
    if delete_folder:
        check_deletable(plan)  # refuse before asking
    click.echo(format_forget_plan(plan, delete_folder))
    if not yes and not click.confirm(f"Forget {plan.entry.name or contact_id}?", default=False):
        click.echo("Nothing was forgotten.", err=True)
        raise SystemExit(1)
    forgotten = forget_client(state.home, contact_id, now=state.now(), delete_folder=delete_folder)
    click.echo(format_forget_done(forgotten, folder_was_there=plan.files.folder_exists))


# --- set-up: settings, init, doctor (issue 11) -------------------------------------------------


@main.command("settings")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
@reporting
def settings_command(state: AppState, fmt: str) -> None:
    """Show each effective setting and where it came from.

    \b
    Precedence: the command-line option, then the environment, then the settings file
    ($MAPCTL_HOME/settings.yaml, or the file MAPCTL_SETTINGS names), then the default.
    Settings: mapping, output_folder, clio_region or clio_base_url, app_key, interview.
    Examples:
      mapctl settings
      MAPCTL_SETTINGS=/firm/share/settings.yaml mapctl settings --format json
    """
    import json

    from .engine.setup.settings import format_settings

    setup = resolve_setup_for()
    if fmt == "json":
        shown = {s.key: s.as_json() for s in setup.settings()}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        click.echo(format_settings(setup))


@main.command()
@click.argument("folder", required=False, default=".", metavar="[DIR]",
                type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
@click.option("--settings", "with_settings", is_flag=True, help="Also write DIR/settings.yaml.")
@reporting
def init(folder: Path, with_settings: bool) -> None:
    """Set a firm up in DIR (default: here); never overwrites a file.

    \b
    Writes:
      mappings/firm.yaml         the firm's mapping, extending the bundled one
      mapping-tests/example-*/   an admin test case for `mapctl test`
      .pre-commit-config.yaml    runs `mapctl validate` and `mapctl test` before each commit
      settings.yaml              with --settings: point MAPCTL_SETTINGS at it
    Then: edit mappings/firm.yaml, `mapctl validate`, `mapctl test`, `mapctl doctor`.
    """
    from .engine.setup.firm import scaffold_firm

    done = scaffold_firm(folder, settings=with_settings)
    for item in done:
        if item.written:
            click.echo(f"wrote   {item.path}")
        else:
            click.echo(f"skipped {item.path} (it exists; mapctl never overwrites it)")
    written = sum(item.written for item in done)
    click.echo(f"{written} file{'s' if written != 1 else ''} written, {len(done) - written} "
               "skipped", err=True)  # fmt: skip
    click.echo(f"Next: edit {folder / 'mappings' / 'firm.yaml'}, then run `mapctl validate`, "
               "`mapctl test` and `mapctl doctor` there.", err=True)  # fmt: skip


@main.command()
@mapping_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--create-fields",
    is_flag=True,
    help="Create the declared contact custom fields Clio lacks (as their `create:` says); "
    "never changes an existing field.",
)
@click.option("-y", "--yes", is_flag=True, help="With --create-fields: create without asking.")
@region_option
@click.pass_obj
@reporting
def doctor(
    state: AppState,
    mapping: str | None,
    fmt: str,
    create_fields: bool,
    yes: bool,
    region: str | None,
) -> None:
    """Will imports work? Check the set-up and say what to fix, line by line.

    \b
    Checks: the settings file; the mapping; the interview (when one is set); Clio: reachable,
    the token, the API version; Clio's contact custom fields against the mapping (exists, not
    deleted, a type that suits every answer reading it, picklist options against the
    interview's); the output folder; the ledger.
    Exit codes: 0 all pass, 1 something to fix, 2 --create-fields without a terminal and
    without --yes, 3 Clio cannot be reached.
    Examples:
      mapctl doctor
      mapctl doctor --create-fields
      mapctl doctor --format json
    """
    from .engine.setup.checks import checks_json, format_checks
    from .engine.setup.doctor import diagnose

    if create_fields and not yes and not state.is_interactive():
        raise click.UsageError(
            "--create-fields asks before creating fields in Clio, and there is no terminal to "
            "ask on; pass --yes to create them without asking"
        )
    result = diagnose(
        state.env, mapping=mapping, region=region, transport=state.transport, notice=_clio_notice
    )
    if create_fields and result.setup is not None and not result.unreachable:
        if _doctor_create(state, result, yes):
            result = diagnose(state.env, mapping=mapping, region=region,
                              transport=state.transport, notice=_clio_notice)  # fmt: skip
    if fmt == "json":
        click.echo(checks_json(result.checks, result.exit_code))
    else:
        click.echo(format_checks(result.checks))
    raise SystemExit(result.exit_code)


def _doctor_create(state: AppState, result: Any, yes: bool) -> bool:
    """Create the missing declared fields after a confirmation; True when any was made."""
    from .engine.setup.doctor import creatable, create_fields, describe_creation

    can, cannot = creatable(result.missing)
    for spec in cannot:
        click.echo(f"cannot create '{spec.name or spec.id}' ({spec.alias}): the mapping does not "
                   "say how; add create: {type: ...} to its declaration", err=True)  # fmt: skip
    if not can:
        click.echo("No custom fields to create.", err=True)
        return False
    where = result.setup.base_url.value
    click.echo(f"Clio at {where} lacks {len(can)} declared contact custom field"
               f"{'s' if len(can) != 1 else ''}:", err=True)  # fmt: skip
    for spec in can:
        click.echo(f"  {describe_creation(spec)}", err=True)
    if not yes and not click.confirm("Create them in Clio?", default=False, err=True):
        click.echo("Nothing was created.", err=True)
        return False
    made = create_fields(
        result.setup, state.env, can, transport=state.transport, notice=_clio_notice
    )
    for record in made:
        click.echo(f"created custom field '{record.get('name')}' ({record.get('field_type')}, "
                   f"id {record.get('id')})", err=True)  # fmt: skip
    return bool(made)


# --- the staff app (issue 10) -----------------------------------------------------------------


@main.command("app")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port).",
)
@click.option("--no-browser", is_flag=True, help="Do not open the app in a browser.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other than loopback (other machines can then reach the app).",
)
@mapping_option
@out_option
@click.option("--demo", is_flag=True, help="Try it on the embedded sandbox, already connected.")
@click.pass_obj
@reporting
def app_command(
    state: AppState,
    host: str,
    port: int,
    no_browser: bool,
    allow_remote: bool,
    mapping: str | None,
    out_dir: Path | None,
    demo: bool,
) -> None:
    """The import workflow as local web pages for staff: search, preview, import.

    Prints one line, `mapctl app: URL` (the address carries this launch's token), opens it in
    the browser unless --no-browser, and serves until Ctrl-C.

    \b
    Examples:
      mapctl app
      mapctl app --demo --no-browser
      mapctl app -m mappings/firm.yaml --out //server/ils/clients
    """
    from .app.server import AppConfig, Demo, is_loopback
    from .engine.mapping.compilation import compile_mapping

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--host {host} would let other machines reach the app; pass --allow-remote too"
        )
    if not is_loopback(host):
        click.echo(
            f"warning: mapctl app listens on {host}: anyone who can reach it and has the "
            "address printed below can import clients",
            err=True,
        )
    from .engine.setup.settings import resolve_setup

    running = Demo(state.env) if demo else None  # the demo's home and Clio: the sandbox
    try:
        env = running.env if running is not None else state.env
        setup = resolve_setup(env, mapping=mapping, output_folder=out_dir)  # as `mapctl import`
        compiled = compile_mapping(setup.mapping_arg)  # a broken mapping stops here
        config = AppConfig(
            home=setup.home_path,
            env=env if running is not None else setup.clio_env(env),
            mapping=compiled,
            mapping_name=f"{setup.mapping_display}, {setup.mapping_source()}",
            out_dir=Path(str(setup.output_folder.value)),
            transport=state.transport,
            now=state.now,
        )
        _serve_app(config, host, port, no_browser)
    finally:
        if running is not None:
            running.close()


def _serve_app(config: Any, host: str, port: int, no_browser: bool) -> None:
    """Print the one line with the address, open it, serve until Ctrl-C."""
    from .app.server import start_app

    server = start_app(config, host, port)
    click.echo(f"mapctl app: {server.url}")
    sys.stdout.flush()
    if not no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.run()  # waitress ends it on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    click.echo("mapctl app stopped", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
