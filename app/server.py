"""Building and serving the app: the Flask application, the waitress server, the demo.

`start_app` binds the socket first (port 0: a free one), so the per-launch guard knows the
app's own address before the first request. Nothing here prints: `mapctl app` in cli.py prints
the one line with the address and handles Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from ..engine.errors import MapctlError
from ..engine.mapping.model import CompiledMapping
from ..engine.setup.settings import DEFAULT_ILS_STEPS
from .jobs import CONNECT_SECONDS, DEADLINE, WHO_AM_I_SECONDS
from .security import Guard
from .text import finalize
from .workspace import Workspace

HERE = Path(__file__).resolve().parent
WILDCARDS = {"0.0.0.0", "::", ""}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppConfig:
    """What the screens need: where mapctl keeps its files, the compiled mapping, Clio."""

    home: Path
    env: Mapping[str, str]
    mapping: CompiledMapping
    mapping_name: str  # as given (-m) or "bundled", for the Done screen
    out_dir: Path
    transport: Any = None  # an httpx transport for tests; None: the network
    now: Callable[[], datetime] = _utc_now
    region: str | None = None
    sleep: Callable[[float], None] = time.sleep  # Clio's backoff and rate-limit waits
    workspace: Workspace = field(default_factory=Workspace)
    clio_note: bool = True  # Add Client's "Write a note on the matter in Clio", preset (issue 19)
    ils_steps: tuple[str, ...] = DEFAULT_ILS_STEPS  # the settings' `ils_steps`, for Done
    demo: bool = False  # `mapctl app --demo`: a DEMO banner and a hint of what to search
    deadline: float = DEADLINE  # seconds a piece of Clio work may take (rate-limit waits aside)
    connect_deadline: float = CONNECT_SECONDS  # Finish Connecting: the code's exchange and check
    who_am_i_deadline: float = WHO_AM_I_SECONDS  # the Connection page's "who is connected"


def create_app(config: AppConfig, guard: Guard) -> Flask:
    """The Flask application for one launch (its guard holds the launch's token)."""
    from . import views

    app = Flask("mapctl.app", root_path=str(HERE), static_folder="static")
    app.config.update(MAX_CONTENT_LENGTH=256 * 1024, TEMPLATES_AUTO_RELOAD=False)
    app.extensions["mapctl"] = config
    app.jinja_env.finalize = finalize  # Clio's bidi controls neutralised on every page
    guard.install(app)
    views.register(app)
    from . import clio_action

    clio_action.register(app, guard)  # issue 19: "Import to ILS" from Clio, notes, links
    from . import note_retry

    note_retry.register(app)  # "Write the note again" on Done and Clients
    return app


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _names(host: str) -> tuple[str, set[str]]:
    """(the host to put in the printed address, every host the app answers to)."""
    names = {"127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
    if host in WILDCARDS:
        names = {socket.gethostname(), socket.getfqdn(), "127.0.0.1", "localhost"}
        return socket.gethostname(), names
    if host == "::1":
        names.add("localhost")
    return host, names


class AppServer:
    """A bound waitress server: `url` (with the token), `run()` until Ctrl-C, `close()`."""

    def __init__(self, config: AppConfig, host: str, port: int) -> None:
        bind = "127.0.0.1" if host == "localhost" else host
        family = socket.AF_INET6 if ":" in bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((bind, port))
        except OSError as error:
            sock.close()
            raise MapctlError(
                f"mapctl app cannot listen on {host}:{port}: {error.strerror or error}",
                hint="choose another --port (0 picks a free one)",
            ) from None
        bound = sock.getsockname()[1]
        self.port: int = bound
        shown, names = _names(host)
        self.guard = Guard.for_address(names, bound)
        self.app = create_app(config, self.guard)
        self.base_url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound}"
        self.url = self.guard.entry_url(self.base_url)
        from waitress.server import create_server

        # Any: stopping reaches into the serving loop's socket map (waitress has no stop()).
        self._server: Any = create_server(
            self.app, sockets=[sock], threads=8, ident="mapctl", clear_untrusted_proxy_headers=True
        )

    def run(self) -> None:
        """Serve until Ctrl-C or `stop()` (waitress ends its loop on either)."""
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        """From another thread: close every socket inside the serving loop, which then ends."""

        def close_all() -> None:
            for dispatcher in list(self._server._map.values()):
                dispatcher.close()

        try:
            self._server.trigger.pull_trigger(close_all)
        except OSError:  # the loop ended and closed its trigger already: nothing left to stop
            pass

    def close(self) -> None:
        for dispatcher in list(self._server._map.values()):
            dispatcher.close()
        self.app.extensions["mapctl"].workspace.close()  # the pool and the HTTP connections


def start_app(config: AppConfig, host: str = "127.0.0.1", port: int = 0) -> AppServer:
    return AppServer(config, host, port)


class Demo:
    """`mapctl app --demo`: the embedded sandbox on loopback and a home already connected to it.

    The demo's home is always a temporary folder of its own, removed by `close`: it never
    touches an existing connection, ledger or client folder (MAPCTL_HOME's, or a second demo's
    that is already running), so a demo that fails to start changes nothing."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from ..engine.sandbox.server import Sandbox, connect_home

        self.home = Path(tempfile.mkdtemp(prefix="mapctl-demo-"))
        try:
            self.sandbox = Sandbox(host="127.0.0.1", port=0, rate_limit=1000).start()
        except BaseException:
            shutil.rmtree(self.home, ignore_errors=True)
            raise
        try:
            self.env = {
                **env,
                "MAPCTL_HOME": str(self.home),
                **connect_home(self.sandbox, self.home),
            }
        except BaseException:
            self.close()
            raise

    def add_action(self, port: int) -> str:
        """Put "Import to ILS" on the sandbox's matters, opening the app on `port` (as
        `mapctl doctor --create-action` does on Clio) -> the example matter's page."""
        from ..engine.clio.client import open_client
        from ..engine.clio.closeloop import create_custom_action, target_url

        with open_client(self.home, self.env) as client:
            create_custom_action(client, target_url(port))
        return self.sandbox.matter_url(9002)

    def close(self) -> None:
        self.sandbox.stop()
        shutil.rmtree(self.home, ignore_errors=True)


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={url}">
<title>Opening mapctl</title></head>
<body><p>Opening mapctl… If nothing happens, <a href="{url}">open mapctl</a>.</p></body></html>
"""


def open_in_browser(url: str, home: Path, opener: Callable[[str], object] | None = None) -> Path:
    """Open the app without its secret on any command line (issue 18, item 16): the address
    goes into a file only this user can read (0600, in MAPCTL_HOME), and the browser is given
    that file's `file://` address, which forwards to the app (as Jupyter does). Every local
    user can read a process's command line (`ps`); nobody else can read the file. Returns the
    file, for `forget_redirect_file` when the app stops."""
    import html
    import os
    import webbrowser

    from ..engine.fsutil import O_BINARY

    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[-1]
    path = home / f"app-open-{port}.html"
    path.unlink(missing_ok=True)  # never write through a file (or link) someone left there
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(REDIRECT_PAGE.format(url=html.escape(url, quote=True)))
    (opener or webbrowser.open)(path.resolve().as_uri())
    return path


def forget_redirect_file(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
