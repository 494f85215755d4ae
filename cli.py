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


if __name__ == "__main__":  # pragma: no cover
    main()
