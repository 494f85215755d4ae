"""The staff app: `mapctl app`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .base import (
    AppState,
    mapping_option,
    out_option,
    reporting,
)

# --- the staff app (issue 10) -----------------------------------------------------------------


@click.command("app")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port). Default: the app_port setting, else 0.",
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
    port: int | None,
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
    from ..app.server import AppConfig, Demo, is_loopback
    from ..engine.mapping.compilation import compile_mapping

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
    from ..engine.setup.settings import resolve_setup

    running = Demo(state.env) if demo else None  # the demo's home and Clio: the sandbox
    stop_on_sigterm()  # a service manager's stop, `kill`: the demo's folder is still removed
    try:
        env = running.env if running is not None else state.env
        if running is not None and out_dir is None:  # never the firm's folder for demo clients
            out_dir = running.home / "clients"
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
            clio_note=setup.note_wanted,
        )
        chosen = port if port is not None else (setup.port or 0)  # app_port (issue 19)
        _serve_app(config, host, chosen, no_browser, running)
    finally:
        if running is not None:
            running.close()


def stop_on_sigterm() -> None:
    """SIGTERM (`kill`, a service manager, a log-off) stops the app as Ctrl-C does, so that the
    `finally` blocks run: the server closes and the demo's temporary folder is removed."""
    import signal
    import threading

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stop)


def _serve_app(config: Any, host: str, port: int, no_browser: bool, demo: Any = None) -> None:
    """Print the one line with the address, open it, serve until Ctrl-C."""
    from ..app.server import start_app

    server = start_app(config, host, port)
    try:  # from here a Ctrl-C or SIGTERM stops the app cleanly (even while the line prints)
        click.echo(f"mapctl app: {server.url}")
        sys.stdout.flush()
        if demo is not None:  # "Import to ILS" on the sandbox's matter pages opens this app
            page = demo.add_action(server.port)
            click.echo(f"Clio sandbox: choose \"Import to ILS\" on a matter's page, e.g. {page}",
                       err=True)  # fmt: skip
        if not no_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.run()  # waitress ends it on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    click.echo("mapctl app stopped", err=True)
