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
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.errors import EXIT_INTERNAL, MapctlError, MappingError

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
        except MappingError as error:
            from engine.report import format_problems

            click.echo(format_problems(error.problems), err=True)
            raise SystemExit(error.exit_code) from None
        except MapctlError as error:
            from engine.report import format_error

            click.echo(format_error(error), err=True)
            raise SystemExit(error.exit_code) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise SystemExit(130) from None
        except Exception as error:  # noqa: BLE001 - the one place bugs are caught
            if state.debug or state.env.get("MAPCTL_DEBUG") == "1":
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


# --- offline: validate (issue 2) --------------------------------------------------------------


# --- offline: render, explain, test, functions (issue 3) --------------------------------------


# --- Clio: connect, disconnect, search, fetch, sandbox (issue 4) ------------------------------


# --- workflow: preview, import, clients (issue 5) ---------------------------------------------


_REGIONS = ["us", "ca", "eu", "au"]
_EXCLUDE_HELP = "Leave this related contact out (repeatable); ids are in `mapctl preview`."


def _workflow_today(state: AppState, today: datetime | None) -> Any:
    """The render date: --today, else today's date where the user is."""
    return today.date() if today else state.now().astimezone().date()


def _workflow_fetch(state: AppState, matter: str, region: str | None) -> dict[str, Any]:
    from engine.clio.client import open_client

    client = open_client(state.home, state.env, transport=state.transport, region=region)
    return client.fetch_bundle(matter)


@main.command()
@click.argument("matter")
@click.option("--exclude", multiple=True, type=int, metavar="CONTACT_ID", help=_EXCLUDE_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
@click.option(
    "-m",
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Mapping file (default: the bundled ILS Client Interview mapping).",
)
@click.option("--region", type=click.Choice(_REGIONS), help="Clio region (sets the host).")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The date the import would use (default: today).",
)
@click.pass_obj
@reporting
def preview(
    state: AppState,
    matter: str,
    exclude: tuple[int, ...],
    fmt: str,
    mapping: Path | None,
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
      mapctl preview 00002-Pritchett --exclude 5030 --format json
    """
    import json

    from engine.compilation import compile_mapping

    from engine.importing import preview as make_preview
    from engine.importreport import format_preview

    compiled = compile_mapping(mapping)  # before any network call
    bundle = _workflow_fetch(state, matter, region)
    result = make_preview(bundle, compiled, today=_workflow_today(state, today), exclude=exclude)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_preview(result))


@main.command("import")
@click.argument("matter")
@click.option("--exclude", multiple=True, type=int, metavar="CONTACT_ID", help=_EXCLUDE_HELP)
@click.option(
    "-m",
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Mapping file (default: the bundled ILS Client Interview mapping).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the new client's folder (default: $MAPCTL_HOME/clients).",
)
@click.option(
    "-y", "--yes", is_flag=True, help="Import without questions (needed when not on a terminal)."
)
@click.option("--region", type=click.Choice(_REGIONS), help="Clio region (sets the host).")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The date written in the notes and the context (default: today).",
)
@click.pass_obj
@reporting
def import_(
    state: AppState,
    matter: str,
    exclude: tuple[int, ...],
    mapping: Path | None,
    out_dir: Path | None,
    yes: bool,
    region: str | None,
    today: datetime | None,
) -> None:
    """Create a new ILS client from MATTER, with its pre-filled answer file.

    Shows the preview, lets you remove contacts by their number, asks to confirm, then writes
    the client's folder (answer file and client.json) to --out or $MAPCTL_HOME/clients and
    records the client in the ledger. A client already imported is refused (exit 1); nothing
    existing is overwritten. Without a terminal, pass --yes (questions skipped).

    \b
    Examples:
      mapctl import 00002-Pritchett
      mapctl import 00002-Pritchett --yes --exclude 5030 --out ./clients
    """
    from engine.compilation import compile_mapping

    from engine.importing import check_not_imported, import_client
    from engine.importreport import format_import

    interactive = state.is_interactive()
    if not yes and not interactive:
        raise click.UsageError(
            "mapctl import asks for confirmation, and there is no terminal to ask on; "
            "pass --yes to import without questions"
        )
    compiled = compile_mapping(mapping)  # before any network call
    bundle = _workflow_fetch(state, matter, region)
    check_not_imported(bundle, state.home)  # refuse before asking any question
    day = _workflow_today(state, today)
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
    click.echo(format_import(result))


def _workflow_choose(bundle: dict[str, Any], compiled: Any, day: Any, chosen: set[int]) -> set[int]:
    """The terminal dialogue: show the list, remove contacts by number, confirm."""
    from engine.importing import parse_removal
    from engine.importing import preview as make_preview
    from engine.importreport import format_preview

    while True:
        shown = make_preview(bundle, compiled, today=day, exclude=chosen)
        click.echo(format_preview(shown))
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
        chosen |= removed
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

    from engine.importreport import format_clients
    from engine.ledger import LEDGER_FILE, Ledger

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
