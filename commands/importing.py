"""The import workflow: preview and import."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .base import (
    AppState,
    StatusLine,
    _clio_open,
    _mapping_line,
    _on_terminal,
    _roles,
    _workflow_fetch,
    exclude_option,
    mapping_option,
    mapping_used,
    out_option,
    region_option,
    render_date,
    reporting,
    resolve_setup_for,
    role_option,
    status_line,
    table_or_json,
    today_option,
)


@click.command()
@click.argument("matter")
@exclude_option
@role_option
@table_or_json
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
    then the matter's other clients (co-clients, in the mapping's co_client role), then each
    related contact with its label as typed in Clio and the role it gets. Below the table:
    labels that fell to the `otherwise` role (with the nearest synonym) and warnings. On a
    terminal each warning is said once, there; when the table goes to a file or a pipe, what
    Clio's answers warn about is also said on stderr as it happens.

    \b
    Examples:
      mapctl preview 00002-Pritchett
      mapctl preview 00002-Pritchett --exclude 5015 --format json
      mapctl preview 00002-Pritchett --role 5014=Child
    """
    import json

    from ..engine.mapping.compilation import compile_mapping
    from ..engine.workflow.importing import preview as make_preview
    from ..engine.workflow.importreport import format_preview

    setup = resolve_setup_for(mapping=mapping, region=region)
    compiled = compile_mapping(setup.mapping_arg)  # before any network call
    roles = _roles(role, compiled)
    # Each warning once: when the table goes to the screen stderr is on, the warnings Clio's
    # answers raise wait for its Warnings section instead of being said as they happen too.
    held = _HeldWarnings(status_line(state)) if fmt == "table" and _on_screen(state) else None
    with held or contextlib.nullcontext():
        bundle = _workflow_fetch(state, matter, region, warn=held)
        day = render_date(today)
        result = make_preview(bundle, compiled, today=day, exclude=exclude, roles=roles)
    if fmt == "json":  # the contract's shape; which mapping goes to stderr
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        click.echo(_mapping_line(setup, compiled), err=True)
    else:
        click.echo(format_preview(result))
        click.echo(f"\n{_mapping_line(setup, compiled)}")
    if held is not None:
        held.reported(result.warnings)


def _on_screen(state: AppState) -> bool:
    """Whether the report and stderr both go to the terminal (one screen, read together)."""
    return _on_terminal(state, sys.stdout) and _on_terminal(state, sys.stderr)


class _HeldWarnings:
    """Warnings kept for the report instead of said on stderr as they happen. Should the
    report never come (the command fails on the way), they are said on stderr as it fails,
    before its error: none is lost."""

    def __init__(self, status: StatusLine) -> None:
        self.status = status
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)

    def __enter__(self) -> _HeldWarnings:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.say(self.messages)

    def reported(self, shown: Sequence[str]) -> None:
        """The report listed `shown`: a held warning it left out is said here, on stderr; from
        now on every one counts as said (a later failure does not say them again)."""
        self.say([message for message in self.messages if message not in shown])
        self.messages.clear()

    def say(self, messages: Sequence[str]) -> None:
        from ..engine.report import printable

        for message in messages:  # on a cleared status line, as they would have been
            self.status.line(f"warning: {printable(message)}")


@click.command("import")
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
@click.option(
    "--note/--no-note",
    default=None,
    help="Write a note on the Clio matter recording the import (default: the clio_note "
    "setting, true unless set).",
)
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
    note: bool | None,
) -> None:
    """Create a new ILS client from MATTER, with its pre-filled answer file.

    Shows the preview, lets you remove contacts by their number, asks to confirm, then writes
    the client's folder (answer file and client.json) to --out or $MAPCTL_HOME/clients and
    records the client in the ledger. A client already imported is refused (exit 1); nothing
    existing is overwritten. Once the client is recorded, a note on the Clio matter says who
    imported it, when, where the answer file is and what is left to do (--no-note, or
    `clio_note: false` in the settings, skips it); a note Clio refuses is a warning, never a
    failed import: `mapctl clients note CONTACT_ID` writes it later.
    Without a terminal, pass --yes (questions skipped). In the
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
    from ..engine.mapping.compilation import compile_mapping

    interactive = state.is_interactive()
    if not yes and not interactive:
        raise click.UsageError(
            "mapctl import asks for confirmation, and there is no terminal to ask on; "
            "pass --yes to import without questions"
        )
    setup = resolve_setup_for(mapping=mapping, out_dir=out_dir, region=region)
    compiled = compile_mapping(setup.mapping_arg)  # before any network call
    roles = _roles(role, compiled)
    wanted = setup.note_wanted if note is None else note
    # Each warning once, as `preview`: on a terminal, what Clio's answers warn about during the
    # fetch waits for the dialogue's list (or, with --yes, the review) instead of being said
    # as it happens too; said before the error should the import fail first.
    held = _HeldWarnings(status_line(state)) if fmt == "text" and _on_screen(state) else None
    from ..engine.workflow.importing import check_not_imported, import_client
    from ..engine.workflow.importreport import format_import

    with held or contextlib.nullcontext():
        with _asking_who(state, region, wanted) as who:  # the note's who_am_i, during the fetch
            bundle = _workflow_fetch(state, matter, region, warn=held)
        from ..engine.report import printable
        from ..engine.workflow.firmledger import Workstation

        workstation = Workstation.current(state.home, env=state.env)  # a shared folder's ledger
        folder = Path(str(setup.output_folder.value))
        for line in check_not_imported(bundle, state.home, out_dir=folder, who=workstation):
            click.echo(f"mapctl: {printable(line)}", err=True)  # refuse before asking any question
        day = render_date(today)
        chosen = set(exclude)
        if not yes:
            chosen = _workflow_choose(bundle, compiled, day, chosen, roles, held)
        result = import_client(
            bundle,
            compiled,
            home=state.home,
            now=state.now(),
            today=day,
            exclude=chosen,
            out_dir=folder,
            roles=roles,
            who=workstation,
        )
        for line in result.notices:
            click.echo(f"mapctl: {printable(line)}", err=True)
        status = _note_after_import(state, result, region, wanted, who.result())
        if status is not None:
            _share_note(state, folder, status)
        if fmt == "json":
            import json

            shown = {**result.as_json(), "mapping": mapping_used(setup, compiled)}
            if status is not None:
                shown["clio_note"] = status.as_json()
            click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        else:
            click.echo(format_import(result))
            click.echo(f"\n{_mapping_line(setup, compiled)}")
            if status is not None and status.status == "written":
                where = result.entry.matter_display_number or result.entry.matter_id
                click.echo(f"Clio: a note on matter {where} records the import.")
        if held is not None:
            held.reported(result.preview.warnings)  # unless said in the dialogue's list
        if status is not None and status.status == "failed":
            _note_warning(status.message, result.entry.clio_contact_id)


class _Who:
    """The connected Clio user's name, asked in a thread while the matter is fetched (so the
    note costs one round trip after the import, not two); None when not asked or it failed."""

    def __init__(self) -> None:
        self.name: str | None = None

    def result(self) -> str | None:
        return self.name


@contextmanager
def _asking_who(state: AppState, region: str | None, wanted: bool) -> Iterator[_Who]:
    import threading

    from ..engine.errors import MapctlError
    from ..engine.workflow.clionote import user_name

    who = _Who()
    if not wanted:
        yield who
        return
    try:
        client = _clio_open(state, region)  # here: the settings live in click's context
    except MapctlError:
        yield who  # the fetch will say what is wrong
        return

    def ask() -> None:
        try:
            with client:
                who.name = user_name(client.who_am_i())
        except Exception:  # noqa: BLE001 - asked again with the note, which reports failures
            pass

    thread = threading.Thread(target=ask, name="mapctl-who-am-i", daemon=True)
    thread.start()
    try:
        yield who
    finally:
        thread.join()


def _note_after_import(
    state: AppState, result: Any, region: str | None, wanted: bool, user: str | None
) -> Any:
    """The note on the matter (issue 19), after the client is recorded: its status, or None
    when even the ledger could not keep it (a warning; the import stands either way)."""
    from ..engine.errors import MapctlError
    from ..engine.report import printable
    from ..engine.workflow.clionote import note_after_import
    from ..engine.workflow.ledger import Ledger

    try:
        with Ledger.open(state.home) as ledger:
            return note_after_import(
                result,
                ledger,
                lambda: _clio_open(state, region),
                now=state.now(),
                wanted=wanted,
                user=user,
            )
    except MapctlError as error:
        click.echo(f"warning: the import is complete, but its Clio note: "
                   f"{printable(error.message)}", err=True)  # fmt: skip
        return None


def _share_note(state: AppState, folder: Path, status: Any) -> None:
    """The note's status in a shared output folder's ledger too (issue 15), so that `mapctl
    clients` on every workstation shows it; a failure here changes nothing else."""
    import contextlib

    from ..engine.errors import MapctlError
    from ..engine.workflow.records import firm_ledger_for, record_extra

    if firm_ledger_for(state.home, folder) is None:
        return
    with contextlib.suppress(MapctlError):
        record_extra(
            status.clio_contact_id, {"note": status.as_shared()}, home=state.home, out_dir=folder
        )


def _note_warning(message: str, contact_id: int) -> None:
    from ..engine.report import printable

    click.echo(
        f"warning: the import is complete, but Clio did not take the note on the matter: "
        f"{printable(message)}\n  hint: write it later with: mapctl clients note {contact_id}",
        err=True,
    )


def _workflow_choose(
    bundle: dict[str, Any],
    compiled: Any,
    day: Any,
    chosen: set[int],
    roles: dict[int, str],
    held: _HeldWarnings | None = None,
) -> set[int]:
    """The terminal dialogue: show the list, remove (or restore) contacts, confirm. Warnings
    `held` back during the fetch are said with the list (its Warnings section lists them)."""
    from ..engine.report import printable
    from ..engine.workflow.importing import parse_reply
    from ..engine.workflow.importing import preview as make_preview
    from ..engine.workflow.importreport import format_preview

    shown = make_preview(bundle, compiled, today=day, exclude=chosen, roles=roles)
    click.echo(format_preview(shown))
    if held is not None:  # said now: in the list, or (defensive) on stderr below it
        held.reported(shown.warnings)
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
