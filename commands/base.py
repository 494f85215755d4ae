"""What every command shares: the AppState, the one catch site (`reporting`) that turns the
engine's typed errors into a message and an exit code, common options and helpers.
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

from ..engine.clio.regions import REGIONS
from ..engine.errors import EXIT_INTERNAL, EvaluationError, MapctlError, MappingError

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
        """$MAPCTL_HOME, default ~/.mapctl (created on first write, not here); a file in the
        way is a MapctlError (exit 1)."""
        from ..engine.fsutil import home_folder

        return home_folder(self.env)

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
            try:
                return func(*args, **kwargs)
            finally:
                _end_status_line()  # before any last words: a countdown must not prefix them
        except click.exceptions.ClickException:
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (MappingError, EvaluationError) as error:  # every problem, gcc-style
            from ..engine.report import format_problems

            click.echo(format_problems(error.problems), err=True)
            raise SystemExit(error.exit_code) from None
        except MapctlError as error:
            from ..engine.report import format_error

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


def _pipe_closed(error: OSError) -> bool:
    """The reader went away (`| head -1`, `| Select-Object -First 1`): POSIX says EPIPE, while
    Windows reports EINVAL for a write to a closed pipe (CPython's subprocess.py notes it too)."""
    import errno

    if isinstance(error, BrokenPipeError) or error.errno == errno.EPIPE:
        return True
    return sys.platform == "win32" and error.errno == errno.EINVAL


def utf8_output() -> None:
    """Output is UTF-8 whatever the stream. Python writes a redirected or piped stream in the
    locale's encoding, which on Windows is the ANSI code page (cp1252): a Clio name outside it
    (王秀英, Łukasz, an emoji) would fail to print, and JSON would not be UTF-8. A Windows
    console is already written as Unicode (and reports utf-8), so it is left as it is."""
    import codecs

    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        reconfigure = getattr(stream, "reconfigure", None)
        if not encoding or reconfigure is None:
            continue
        with contextlib.suppress(LookupError, ValueError, OSError):
            if codecs.lookup(encoding).name != "utf-8":
                reconfigure(encoding="utf-8")


def _output_failed(error: OSError) -> NoReturn:
    """Standard output failed (`mapctl functions > /dev/full`): one line on stderr, exit 1 (a
    closed pipe, `| head -1`, ends quietly). Standard output is pointed at the null device, so
    that the flushes still to come (click's, Python's at exit) neither fail again nor print
    "Exception ignored"."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()  # the stuck buffer goes to the null device
    if not _pipe_closed(error):
        reason = error.strerror or str(error)
        with contextlib.suppress(OSError, ValueError):  # stderr may be full too: exit 1 anyway
            click.echo(f"error: cannot write the output: {reason}", err=True)
    raise SystemExit(1)


# --- options and helpers shared by several commands -------------------------------------------


table_or_json = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
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
    from ..engine.setup.settings import resolve_setup

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


def _read_input(path: Path) -> bytes:
    from ..engine.fsutil import read_bounded

    return read_bounded(path, "a matter bundle")


def _warn(source: str, warnings: list[str]) -> None:
    from ..engine.report import printable

    for warning in warnings:  # they name Clio's contacts
        click.echo(f"{source}: warning: {printable(warning)}", err=True)


def _clio_prompt(text: str, hidden: bool) -> str:
    value: str = click.prompt(text, hide_input=hidden, err=True)
    return value


def _clio_notice(message: str) -> None:
    click.echo(message, err=True)


def _clio_warning(message: str) -> None:
    """What the Clio client went on without (refused fields, stub records...), as it happens."""
    from ..engine.report import printable

    click.echo(f"warning: {printable(message)}", err=True)


class StatusLine:
    """The one line on stderr that says what a command is waiting for (the pages of a search,
    a rate-limit countdown), rewritten in place with carriage returns, on a terminal only.

    It has one owner so that its writers never garble each other: each writer sets its own
    text; the latest writer's text is shown, and when it gives the line back ("") the text
    under it comes back (a countdown replaces the search's progress, which resumes after it).
    A shorter text is padded over a longer one, a text is cut to the terminal's width (a
    wrapped line cannot be rewritten), and lines said meanwhile (warnings) are written on a
    cleared line, with the status drawn again below them. Off a terminal, `set` writes nothing:
    its writers say their lines once with `line`."""

    def __init__(self, terminal: bool, columns: int = 100) -> None:
        import threading

        self.terminal = terminal
        self.width = max(columns - 1, 10)  # the last column wraps on some terminals
        self.texts: dict[object, str] = {}  # writer -> its text, in the order they came
        self.shown = 0  # how many characters the terminal's line holds now
        self._lock = threading.Lock()  # Clio's requests run in threads (fetch, who-am-I)

    def set(self, writer: object, text: str) -> None:
        """Show `writer`'s `text` (above any earlier writer's); "" gives the line back."""
        if not self.terminal:
            return
        with self._lock:
            if text:
                self.texts[writer] = text  # a writer keeps its place when it updates
            else:
                self.texts.pop(writer, None)
            self._draw()

    def line(self, text: str) -> None:
        """A line that stays (a warning, a notice): written on a cleared status line."""
        with self._lock:
            self._erase()
            click.echo(text, err=True)
            if self.terminal:
                self._draw()

    def clear(self) -> None:
        """Erase the line and forget every text (the command is ending)."""
        with self._lock:
            self.texts.clear()
            self._erase()

    def _current(self) -> str:
        text = next(reversed(self.texts.values()), "")
        return text if len(text) <= self.width else text[: self.width - 3] + "..."

    def _draw(self) -> None:
        text = self._current()
        if not text:
            self._erase()
            return
        click.echo("\r" + text.ljust(self.shown), nl=False, err=True)  # over all of the old
        self.shown = len(text)

    def _erase(self) -> None:
        if self.terminal and self.shown:
            click.echo("\r" + " " * self.shown + "\r", nl=False, err=True)
            self.shown = 0


_STATUS_LINE = "mapctl.status_line"


def status_line(state: AppState) -> StatusLine:
    """This command's status line on stderr (one per command, kept in click's context)."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.find_root().meta if ctx is not None else {}
    found = meta.get(_STATUS_LINE)
    if found is None:
        found = meta[_STATUS_LINE] = StatusLine(
            _on_terminal(state, sys.stderr), _stderr_columns(state)
        )
    return found  # type: ignore[no-any-return]


def _stderr_columns(state: AppState) -> int:
    """$COLUMNS, else the width of the terminal stderr writes to, else 100."""
    value = state.env.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):  # not a terminal, or no descriptor (tests)
        columns = 0
    return columns if columns > 0 else 100  # a pseudo terminal may say 0: unknown


def _end_status_line() -> None:
    """Erase the status line before the command's last words (an error, "interrupted")."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_root().meta.get(_STATUS_LINE) if ctx is not None else None
    if found is not None:
        with contextlib.suppress(OSError, ValueError):  # stderr gone: nothing to erase
            found.clear()


class _WaitCountdown:
    """Clio's rate-limit waits on stderr: "waiting N s for Clio's rate limit", counted down
    in place on a terminal (on the status line, over the search's progress), one line
    otherwise (`engine.clio.session.Wait`)."""

    def __init__(self, status: StatusLine) -> None:
        self.status = status

    def __call__(self, wait: Any) -> None:
        if wait.seconds < 1:
            return
        if not self.status.terminal:
            if wait.left == wait.seconds:
                self.status.line(wait.message)
            return
        self.status.set(self, wait.message if wait.left > 0 else "")


def _clio_open(
    state: AppState, region: str | None, *, warn: Callable[[str], None] | None = None
) -> Any:
    """A ClioClient for this command; `warn` hears the warnings Clio's answers raise (default:
    said on stderr as they happen, on a cleared status line)."""
    from ..engine.clio.client import open_client
    from ..engine.report import printable

    env = resolve_setup_for(region=region).clio_env(state.env)  # Clio's address, the App Key
    status = status_line(state)
    return open_client(
        state.home,
        env,
        transport=state.transport,
        notice=status.line,
        on_wait=_WaitCountdown(status),
        warn=warn or (lambda message: status.line(f"warning: {printable(message)}")),
    )


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


def _workflow_fetch(
    state: AppState,
    matter: str,
    region: str | None,
    *,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The matter's bundle, checked like a bundle file (a matter without a client, a contact
    Clio did not send...: one BundleError, exit 1, rather than a crash further on). `warn`: as
    for `_clio_open` (the bundle's `fetch_warnings` hold them too)."""
    from ..engine.workflow.importing import fetch_checked_bundle

    with _clio_open(state, region, warn=warn) as client:
        return fetch_checked_bundle(client, matter)


def _roles(values: tuple[str, ...], compiled: Any) -> dict[int, str]:
    """--role values -> {contact id: role}; a malformed value or unknown role is a usage error."""
    from ..engine.workflow.importing import parse_role_options

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
    help="Set a co-client's or related contact's role for this import (repeatable), "
    "e.g. 5014=Child.",
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
