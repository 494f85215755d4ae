"""The ledger of clients created: `mapctl clients` and `clients forget`."""

from __future__ import annotations

import click

from .base import (
    AppState,
    reporting,
)


@click.group(invoke_without_command=True)
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

    from ..engine.workflow.forgetting import files_state
    from ..engine.workflow.importreport import format_clients, format_forgotten
    from ..engine.workflow.ledger import LEDGER_FILE, Ledger

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
    from ..engine.workflow.forgetting import check_deletable, forget_client, plan_forget
    from ..engine.workflow.importreport import format_forget_done, format_forget_plan

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
