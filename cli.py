"""mapctl's command line: the entry point. With commands/, the only code that prints or
chooses an exit code.

Every command body runs inside `reporting`, the one catch site that turns the engine's typed
errors into a message on stderr and the error's exit code (see `engine.errors`); any other
exception is a bug: exit 4 with one line asking for a report, the traceback only with --debug
(or MAPCTL_DEBUG=1). Engine modules are imported inside the commands so that `mapctl validate`
starts fast and never loads the HTTP stack.

Contract: ../shared/spec/cli.md (commands, options, JSON shapes, exit codes).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .commands.base import AppState, _output_error, _output_failed, reporting, utf8_output

__all__ = ["AppState", "main", "reporting"]

# Each command lives in its own module under commands/ (one module a group, as pre-commit and
# pip keep them) and is imported only when it runs, so `mapctl validate` loads no HTTP stack.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("offline", "validate_command"),
    "render": ("offline", "render"),
    "explain": ("offline", "explain"),
    "test": ("offline", "test_cases"),
    "functions": ("offline", "functions"),
    "schema": ("offline", "schema"),
    "connect": ("clio", "connect"),
    "disconnect": ("clio", "disconnect"),
    "search": ("clio", "search"),
    "fetch": ("clio", "fetch"),
    "sandbox": ("clio", "sandbox"),
    "preview": ("importing", "preview"),
    "import": ("importing", "import_"),
    "clients": ("clients", "clients"),
    "settings": ("setup", "settings_command"),
    "init": ("setup", "init"),
    "doctor": ("setup", "doctor"),
    "app": ("app", "app_command"),
    "launcher": ("launcher", "launcher"),
}


def load_command(name: str) -> click.Command:
    """The command `name`, from its module under commands/."""
    module, attribute = COMMANDS[name]
    command: click.Command = getattr(
        importlib.import_module(f".commands.{module}", __package__), attribute
    )
    return command


class _Main(click.Group):
    """The `mapctl` group: output that fails outside a command body (`--help > /dev/full`) is
    reported like inside one (see `reporting`); commands are loaded from `COMMANDS` when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        utf8_output()
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


if __name__ == "__main__":  # pragma: no cover
    main()
