"""mapctl's command line: the only module that prints or chooses an exit code.

Every command body runs inside `reporting`, the one catch site that turns the engine's typed
errors into a message on stderr and the error's exit code (see `engine.errors`); any other
exception is a bug: exit 4 with one line asking for a report, the traceback only with --debug
(or MAPCTL_DEBUG=1). Engine modules are imported inside the commands so that `mapctl validate`
starts fast and never loads the HTTP stack.

Contract: ../shared/spec/cli.md (commands, options, JSON shapes, exit codes).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

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
        except Exception as error:  # noqa: BLE001 - the one place bugs are caught
            if state.debug or state.env.get("MAPCTL_DEBUG") == "1":
                import traceback  # only here: importing it costs every command's start-up

                traceback.print_exc()
            click.echo(
                f"internal error ({type(error).__name__}): this is a bug in mapctl; please report "
                "it with the command you ran (run again with --debug for the details)",
                err=True,
            )
            raise SystemExit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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

REGIONS = ["us", "ca", "eu", "au"]

mapping_option = click.option(
    "-m",
    "--mapping",
    metavar="MAPPING",
    help="Mapping file, or a bundled mapping's name (default: the bundled ILS mapping).",
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
    type=click.Choice(REGIONS),
    help="Clio region: picks Clio's host (default: CLIO_BASE_URL, else app.clio.com).",
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
    for warning in warnings:
        click.echo(f"{source}: warning: {warning}", err=True)


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
    compiled = compile_mapping(mapping)  # once, before reading any bundle
    options = BatchOptions(render_date(today), exclude, keep_going, fmt, force)  # type: ignore[arg-type]
    if batch is None or out_dir is None:
        failed = _render_one(bundles[0], compiled, output, options)
        raise SystemExit(1 if failed else 0)
    _render_many(batch, compiled, out_dir, options, jobs, mapping)


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

    compiled = compile_mapping(mapping)
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

    def load(path: Path | None) -> Any:
        key = str(path) if path is not None else f"-m:{mapping}"
        if key not in cache:
            cache[key] = compile_mapping(str(path) if path is not None else mapping)
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


# --- Clio: connect, disconnect, search, fetch, sandbox (issue 4) ------------------------------


def _clio_prompt(text: str, hidden: bool) -> str:
    value: str = click.prompt(text, hide_input=hidden, err=True)
    return value


def _clio_notice(message: str) -> None:
    click.echo(message, err=True)


def _clio_open(state: AppState, region: str | None) -> Any:
    from .engine.clio.client import open_client

    return open_client(
        state.home, state.env, transport=state.transport, region=region, notice=_clio_notice
    )


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

    base_url = auth.base_url_for(state.env, region)
    asker = _clio_prompt if state.is_interactive() else None  # scripts get a clear error
    if code is None:
        creds = auth.credentials_from_env(state.env, asker, need_secret=False)
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
    creds = auth.credentials_from_env(state.env, asker)
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
    who = f"{user.get('name')} <{user.get('email')}>" if user.get("email") else user.get("name")
    click.echo(f"Connected to Clio at {tokens.base_url} as {who}.")
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
    type=click.Choice(["number", "description", "client", "open_date"]),
    help="Order of the rows (default: Clio's, by id).",
)
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
def search(state: AppState, query: str, sort: str | None, fmt: str, region: str | None) -> None:
    """Find matters whose number, description or client name contains QUERY (every page).

    \b
    Examples:
      mapctl search Pritchett
      mapctl search estate --sort open_date --format json
    """
    import json

    if len(query.strip()) < 2:
        raise click.BadParameter("give at least 2 characters to search for", param_hint="QUERY")
    with _clio_open(state, region) as client:
        rows = client.search(query, sort=sort)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from .engine.clio.table import format_matters

    click.echo(format_matters(rows), nl=False)
    if rows:
        click.echo(f"{len(rows)} matter{'s' if len(rows) != 1 else ''} found.", err=True)


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
    number = bundle["matter"].get("display_number")
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
    "--strict-fields",
    is_flag=True,
    help="Refuse `contact` inside a matter's relationships{...}, as Clio's OpenAPI document "
    "types it (mapctl then falls back to /relationships.json).",
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
    strict_fields: bool,
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
        strict_fields=strict_fields,
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
    from .engine.render.context import check_bundle

    with _clio_open(state, region) as client:
        bundle: dict[str, Any] = client.fetch_bundle(matter)
    return check_bundle(bundle, source=f"Clio matter {matter}")


@main.command()
@click.argument("matter")
@exclude_option
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
    """
    import json

    from .engine.mapping.compilation import compile_mapping
    from .engine.workflow.importing import preview as make_preview
    from .engine.workflow.importreport import format_preview

    compiled = compile_mapping(mapping)  # before any network call
    bundle = _workflow_fetch(state, matter, region)
    result = make_preview(bundle, compiled, today=render_date(today), exclude=exclude)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_preview(result))


@main.command("import")
@click.argument("matter")
@exclude_option
@mapping_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the new client's folder (default: $MAPCTL_HOME/clients).",
)
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
    dialogue, remove contacts by their number in the list: "14", "3, 14" or "11-13".

    \b
    Examples:
      mapctl import 00002-Pritchett
      mapctl import 00002-Pritchett --yes --exclude 5015 --out ./clients

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
    compiled = compile_mapping(mapping)  # before any network call
    bundle = _workflow_fetch(state, matter, region)
    check_not_imported(bundle, state.home)  # refuse before asking any question
    day = render_date(today)
    chosen = set(exclude)
    if not yes:
        chosen = _workflow_choose(bundle, compiled, day, chosen)
    result = import_client(
        bundle,
        compiled,
        home=state.home,
        now=state.now(),
        today=day,
        exclude=chosen,
        out_dir=out_dir,
    )
    if fmt == "json":
        import json

        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_import(result))


def _workflow_choose(bundle: dict[str, Any], compiled: Any, day: Any, chosen: set[int]) -> set[int]:
    """The terminal dialogue: show the list, remove contacts by number, confirm."""
    from .engine.workflow.importing import parse_removal
    from .engine.workflow.importing import preview as make_preview
    from .engine.workflow.importreport import format_preview

    shown = make_preview(bundle, compiled, today=day, exclude=chosen)
    click.echo(format_preview(shown))
    while True:
        click.echo()
        reply = click.prompt(
            "Remove contacts (numbers, comma-separated; Enter for none)",
            default="",
            show_default=False,
        )
        if not reply.strip():
            break
        removed, problem = parse_removal(shown, reply)
        if problem:
            click.echo(f"error: {problem}", err=True)
            continue
        chosen |= removed
        shown = make_preview(bundle, compiled, today=day, exclude=chosen)
        click.echo(format_preview(shown))  # the updated list; numbers stay the same
    related = len(shown.contacts) - 1
    question = f"Import {shown.client.name or 'the client'} as a new client with {related} " + (
        "related contact?" if related == 1 else "related contacts?"
    )
    if not click.confirm(question, default=True):
        click.echo("Import cancelled; nothing was written.", err=True)
        raise SystemExit(1)
    return chosen


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
@click.pass_obj
@reporting
def clients(state: AppState, fmt: str) -> None:
    """List the clients mapctl has created (the ledger in $MAPCTL_HOME/clients.db)."""
    import json

    from .engine.workflow.importreport import format_clients
    from .engine.workflow.ledger import LEDGER_FILE, Ledger

    entries = []
    if (state.home / LEDGER_FILE).exists():  # listing never creates the ledger
        with Ledger.open(state.home) as ledger:
            entries = ledger.list_clients()
    if fmt == "json":
        click.echo(json.dumps([e.as_json() for e in entries], indent=2, ensure_ascii=False))
    else:
        click.echo(format_clients(entries))


if __name__ == "__main__":  # pragma: no cover
    main()
