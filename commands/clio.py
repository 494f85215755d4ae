"""Clio commands: connect, disconnect, search, fetch, and the local sandbox."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..engine.errors import MapctlError
from .base import (
    AppState,
    StatusLine,
    _clio_open,
    _clio_prompt,
    _on_terminal,
    _terminal_size,
    region_option,
    reporting,
    resolve_setup_for,
    status_line,
    table_or_json,
)


@click.command()
@click.option("--print-url", is_flag=True, help="Print the authorize URL and exit.")
@click.option(
    "--code",
    metavar="CODE",
    help="The code from Clio's approval page (or its URL); `-` reads it from standard input "
    "(a code given here is visible to other users in `ps`).",
)
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
      mapctl connect --code - < code.txt     # the code from standard input
    """
    from ..engine.clio import auth

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
        code = _ask_code(state)
    elif print_url:
        raise click.UsageError("use either --print-url or --code, not both")
    elif code == "-":
        code = _read_code_line()
    creds = auth.credentials_from_env(env, asker)
    from ..engine.clio import bounded

    tokens = auth.connect(
        state.home,
        base_url,
        creds,
        auth.parse_code(code, state.home),
        transport=state.transport,
        deadline=bounded.request_deadline_from_env(state.env),
    )
    from ..engine.errors import ClioError

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
    from ..engine.report import printable

    who = f"{user.get('name')} <{user.get('email')}>" if user.get("email") else user.get("name")
    click.echo(f"Connected to Clio at {tokens.base_url} as {printable(who)}.")
    from ..engine.setup.privacy import protection

    path = auth.TokenStore(state.home).path
    click.echo(f"Tokens saved in {path} ({protection(path, state.env)}).")


_ASK_CODE = "Paste the code from Clio's approval page"
_NO_CODE = (
    "open the address above and approve, then paste the code when asked, or run "
    "`mapctl connect --code -` and give it on standard input"
)


def _ask_code(state: AppState) -> str:
    """The code, typed hidden on a terminal (it is a secret for 10 minutes); read from
    standard input otherwise (a script: `echo CODE | mapctl connect --no-browser`)."""
    if not state.is_interactive():
        click.echo(f"{_ASK_CODE}: ", nl=False, err=True)
        return _read_code_line(shown=True)
    try:
        code: str = click.prompt(_ASK_CODE, hide_input=True, err=True)
    except click.exceptions.Abort:  # Ctrl-C or Ctrl-D
        click.echo(err=True)
        raise MapctlError("no authorization code was given", hint=_NO_CODE) from None
    return code


def _read_code_line(shown: bool = False) -> str:
    """One line of standard input: the code (never echoed); empty: exit 1."""
    line = sys.stdin.readline(8192)
    if shown:
        click.echo(err=True)
    if not line.strip():
        raise MapctlError("no authorization code was given", hint=_NO_CODE)
    return line.strip()


@click.command()
@click.pass_obj
@reporting
def disconnect(state: AppState) -> None:
    """Deauthorize mapctl at Clio and delete the stored tokens (fine when not connected)."""
    from ..engine.clio import auth

    if not auth.TokenStore(state.home).path.exists():
        click.echo("Not connected to Clio: nothing to do.")
        return
    from ..engine.clio import bounded

    deadline = bounded.request_deadline_from_env(state.env)
    warning = auth.disconnect(state.home, transport=state.transport, deadline=deadline)
    if warning:
        click.echo(f"warning: {warning}; the local tokens were deleted anyway", err=True)
    click.echo("Disconnected from Clio: the tokens are deleted.")


@click.command()
@click.argument("query")
@click.option(
    "--sort",
    type=click.Choice(["number", "description", "client", "open_date", "status"]),
    help="Order of the rows (default: Clio's, by id; status: Open, Pending, Closed).",
)
@click.option("--reverse", is_flag=True, help="Reverse the order (last first).")
@table_or_json
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Fetch at most N matters from Clio (default: about 1,000).",
)
@click.option(
    "--all",
    "fetch_all",
    is_flag=True,
    help="Fetch every matching matter, however many (slow for broad searches: Clio allows "
    "about 50 requests a minute; waits for its rate limit up to 5 minutes in all).",
)
@region_option
@click.pass_obj
@reporting
def search(
    state: AppState,
    query: str,
    sort: str | None,
    reverse: bool,
    fmt: str,
    limit: int | None,
    fetch_all: bool,
    region: str | None,
) -> None:
    """Find matters whose number, description or client name match QUERY.

    Every word must match: "Pritchett, Jay" and "Jay Pritchett" find the same matters. At most
    about 1,000 matters are fetched (--limit N, --all); how many match in all goes to stderr,
    with a hint to refine. On a terminal the table fits its width, a long list opens in a
    pager ($PAGER), and the pages Clio sends are counted on stderr while they come; off a
    terminal, a table in Clio's order is written page by page as the pages arrive.

    \b
    Examples:
      mapctl search Pritchett
      mapctl search "Pritchett, Jay"
      mapctl search estate --sort status
      mapctl search estate --sort open_date --reverse --format json
      mapctl search estate --all --format json > estate.json
    """
    import json

    from ..engine.clio.client import ALL_MAX_WAIT, CLIO_ORDERS, SEARCH_LIMIT

    if len(query.strip()) < 2:
        raise click.BadParameter("give at least 2 characters to search for", param_hint="QUERY")
    if limit is not None and fetch_all:
        raise click.UsageError("use either --limit N or --all, not both")
    bound = None if fetch_all else (limit or SEARCH_LIMIT)
    terminal = _on_terminal(state, sys.stdout)
    progress = _SearchProgress(status_line(state))
    # Off a terminal, a table in Clio's order is written as its pages come (the first at once).
    stream = _TableStream() if fmt == "table" and not terminal and sort in CLIO_ORDERS else None
    if stream is not None and sort is not None and sort not in ("number", "client", "open_date"):
        stream = None
    with _clio_open(state, region) as client:
        if fetch_all:  # asked for: Clio's 50 requests a minute may be waited out for longer
            client.session.max_wait = ALL_MAX_WAIT
        try:
            found = client.search_matters(
                query, sort=sort, reverse=reverse, limit=bound, progress=progress, on_page=stream
            )
        finally:
            progress.done()
    rows = found.rows
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif stream is not None:
        stream.finish(rows)
    else:
        from ..engine.clio.table import format_matters

        columns, lines = _terminal_size(state)
        text = format_matters(rows, width=columns if terminal else 100)
        if terminal and text.count("\n") > lines - 2:
            click.echo_via_pager(text)
        else:
            click.echo(text, nl=False)
    if rows or found.truncated:
        click.echo(found.summary(), err=True)


class _TableStream:
    """A search table written page by page: the column widths come from the first page (later
    cells are cut to them), so the first matters show as soon as Clio sends them."""

    def __init__(self) -> None:
        self.widths: list[int] | None = None
        self.written = 0

    def __call__(self, page: Any) -> None:
        from ..engine.clio.table import format_matters

        rows = page.rows
        if not rows:
            return
        text = format_matters(rows, width=100, widths=self.widths, header=self.widths is None)
        if self.widths is None:
            from ..engine.clio.table import column_widths

            self.widths = column_widths(rows, 100)
        click.echo(text, nl=False)
        sys.stdout.flush()
        self.written += len(rows)

    def finish(self, rows: list[object]) -> None:
        if self.written == 0:
            click.echo("No matters found.")


class _SearchProgress:
    """The pages of a search on stderr: the status line rewritten in place on a terminal (where
    a rate-limit countdown may take it over for a while), one line per page otherwise (only
    when there is more than one page)."""

    def __init__(self, status: StatusLine) -> None:
        self.status = status

    def __call__(self, page: int, fetched: int, total: int | None, more: bool) -> None:
        if page == 1 and not more:
            return  # one page: nothing to wait for
        of = f" of {total}" if total is not None else ""
        text = f"searching Clio: page {page}, {fetched}{of} matters"
        if self.status.terminal:
            self.status.set(self, text)
        else:
            self.status.line(text)

    def done(self) -> None:
        self.status.set(self, "")


@click.command()
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
        from ..engine.mapping.compilation import compile_mapping

        compiled = compile_mapping(mapping)  # before any network call
        for spec in compiled.custom_fields:
            if spec.sensitive:
                sensitive.append(spec.name if spec.name is not None else str(spec.id))
    if output is not None and not force and os.path.lexists(output):  # before asking Clio
        from ..engine.errors import ImportRefused

        raise ImportRefused(
            f"{output} already exists; mapctl never overwrites it",
            hint="pass --force to replace it, or choose another output path",
        )
    with _clio_open(state, region) as client:
        bundle = client.fetch_bundle(matter)
    if redact:
        from ..engine.render.redact import home_key, redact_bundle

        bundle = redact_bundle(bundle, sensitive, key=home_key(state.home))
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    from ..engine.fsutil import write_atomic

    write_atomic(output, text.encode("utf-8"), overwrite=force)
    from ..engine.report import printable

    number = printable(bundle["matter"].get("display_number"))
    count = len(bundle["contacts"])
    click.echo(
        f"Saved {number} ({count} contacts{', redacted' if redact else ''}) to {output}", err=True
    )


@click.command()
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
@click.option(
    "--forbid",
    "forbidden",
    multiple=True,
    type=click.Choice(["matters", "contacts", "custom_fields", "notes", "custom_actions"]),
    help="Answer 403 for this resource, as Clio does when the app's permission is not ticked "
    "(custom_fields also strips custom field values to their ids); repeatable.",
)
@click.option(
    "--refuse-field",
    "refused",
    multiple=True,
    metavar="ROUTE:FIELD",
    help="Refuse a field Clio's document lists, as live Clio does, e.g. "
    "'contacts:prefix' or 'contacts/{id}:web_sites{default_web_site}'; repeatable.",
)
@click.option(
    "--odd-rate-limits",
    is_flag=True,
    help="Answer rate limits as Clio sometimes does: a 200 with base64 text.",
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
    forbidden: tuple[str, ...],
    refused: tuple[str, ...],
    odd_rate_limits: bool,
    quiet: bool,
) -> None:
    """Run a local Clio (API v4 subset and OAuth) seeded with a demo firm; Ctrl-C stops it.

    App Key `sandbox-app`, App Secret `sandbox-secret`; its authorize page approves at once.

    \b
    Example:
      mapctl sandbox --port 8765 --latency 100
    """
    from ..engine.sandbox.server import Sandbox, load_data_file

    if not 0 <= failure_rate <= 1:
        raise click.BadParameter("must be between 0 and 1", param_hint="--failure-rate")
    records = load_data_file(data) if data is not None else None
    log = None if quiet else (lambda line: click.echo(line, err=True))
    refuse: dict[str, list[str]] = {}
    for item in refused:
        route, sep, name = item.partition(":")
        if not sep or not route.strip() or not name.strip():
            raise click.BadParameter(
                f"{item!r}: give ROUTE:FIELD, e.g. contacts:prefix", param_hint="--refuse-field"
            )
        refuse.setdefault(route.strip().removesuffix(".json"), []).append(name.strip())
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
        forbidden=forbidden,
        refuse_fields=refuse,
        odd_rate_limits=odd_rate_limits,
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
