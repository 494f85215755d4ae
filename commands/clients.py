"""The ledger of clients created: `mapctl clients` and `clients forget`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .base import (
    AppState,
    _clio_open,
    out_option,
    reporting,
    resolve_setup_for,
    table_or_json,
)

if TYPE_CHECKING:
    from ..engine.workflow.firmledger import Workstation


def _who(state: AppState) -> Workstation:
    """The user and computer recorded in a shared folder's ledger."""
    from ..engine.workflow.firmledger import Workstation

    return Workstation.current(state.home, env=state.env)


def _folder(out_dir: Path | None) -> Path:
    """The output folder in effect (--out, the settings' output_folder, $MAPCTL_HOME/clients)."""
    return Path(str(resolve_setup_for(out_dir=out_dir).output_folder.value))


def _notices(lines: list[str]) -> None:
    from ..engine.report import printable

    for line in lines:
        click.echo(f"mapctl: {printable(line)}", err=True)


def _note_status(extra: Any) -> str:
    """The Clio note's status from an entry's extra fields ("" when none recorded)."""
    note = extra.get("note") if isinstance(extra, dict) else None
    if isinstance(note, dict):
        return str(note.get("status") or "")
    return str(note) if isinstance(note, str) else ""


@click.group(invoke_without_command=True)
@table_or_json
@click.option("--forgotten", is_flag=True, help="List the clients forgotten so far instead.")
@out_option
@click.pass_context
@reporting
def clients(ctx: click.Context, fmt: str, forgotten: bool, out_dir: Path | None) -> None:
    """List the clients mapctl has created: this MAPCTL_HOME's ledger and, for a shared output
    folder (the settings' output_folder or --out), the whole firm's, kept in that folder.

    Each client once, with who imported it on which computer when the folder is shared.
    Entries whose folder or answer file is gone (moved or deleted outside mapctl) are marked;
    imports not finished (running, or stopped on another computer) are listed under the table.
    `mapctl clients forget CONTACT_ID` lets a client imported by mistake, or deleted in ILS,
    be imported again; `mapctl clients recover` takes back an import a crashed computer left.

    \b
    Examples:
      mapctl clients
      mapctl clients --format json
      mapctl clients forget 5001
    """
    if ctx.invoked_subcommand is not None:
        return
    import json

    from ..engine.workflow.clionote import note_statuses
    from ..engine.workflow.forgetting import files_state
    from ..engine.workflow.importreport import format_clients, format_forgotten
    from ..engine.workflow.records import list_clients, opened

    state = ctx.find_object(AppState) or AppState()
    listing = list_clients(state.home, _folder(out_dir), _who(state), forgotten=forgotten)
    _notices(listing.notices)
    notes: dict[int, Any] = {}  # this home's Clio note statuses (issue 19)
    with opened(state.home, create=False) as ledger:
        if ledger is not None:
            notes = note_statuses(ledger)
    shared = listing.firm is not None and listing.firm.exists()
    if forgotten:
        from ..engine.workflow.firmledger import FirmForgotten

        if fmt == "json":
            rows = [f.as_json() for f in listing.forgotten]
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        gone = [
            f.as_forgotten_entry() if isinstance(f, FirmForgotten) else f for f in listing.forgotten
        ]
        by = [
            f.forgotten_by.label if isinstance(f, FirmForgotten) else "this workstation"
            for f in listing.forgotten
        ]
        click.echo(format_forgotten(gone, by if shared else ()))
        return
    entries = [c.entry for c in listing.clients]
    files = [files_state(e) for e in entries]
    if fmt == "json":
        rows = [
            {
                **c.as_json(),
                "folder_exists": f.folder_exists,
                "answer_file_exists": f.answer_file_exists,
                "clio_note": _clio_note(c, notes),
            }
            for c, f in zip(listing.clients, files, strict=True)
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(
        format_clients(
            entries,
            [f.mark for f in files],
            [c.imported_by.label for c in listing.clients] if shared else (),
            [_note_column(c, notes) for c in listing.clients],
        )
    )
    _failed_notes(listing.clients, notes, out_dir)
    if listing.pending:
        click.echo("\nImports not finished (running now, or stopped before they finished):")
        from ..engine.report import printable

        for client in listing.pending:
            click.echo(
                f"  Clio contact {client.contact_id} ({printable(client.entry.name)}): started "
                f"by {printable(client.imported_by.label)} at {client.claimed_at}"
            )
        click.echo("  An admin can take back one whose computer crashed: mapctl clients recover")


def _recorded_note(listed: Any) -> Any:
    """The note's status the entry's own record keeps (`clionote.recorded_note`)."""
    from ..engine.workflow.clionote import recorded_note

    return recorded_note(listed)


def _note_of(listed: Any, notes: dict[int, Any]) -> tuple[Any, bool]:
    """(the client's Clio note status, whether it is this home's record):
    `clionote.listed_note`, which the app's Clients page uses too."""
    from ..engine.workflow.clionote import listed_note

    return listed_note(listed, notes)


def _note_column(listed: Any, notes: dict[int, Any]) -> str:
    """The table's "Clio note" cell: `_note_of`'s status, from this home's record or the
    entry's own (as the JSON and the app's Clients page), else what the entry's extra fields
    say ("" for none: imported before notes existed)."""
    chosen, _ = _note_of(listed, notes)
    if chosen is not None and chosen.status:
        return str(chosen.status)
    return _note_status(listed.firm.extra if listed.firm else listed.extra)


def _clio_note(listed: Any, notes: dict[int, Any]) -> Any:
    """A client's Clio note status for JSON (`_note_of`; the note's words left out), else
    None."""
    chosen, is_mine = _note_of(listed, notes)
    if chosen is None:
        return None
    if is_mine:
        return chosen.as_json()
    recorded = _recorded_note(listed) or {}
    return {k: v for k, v in recorded.items() if k not in ("subject", "detail")}


def _failed_notes(clients: list[Any], notes: dict[int, Any], out_dir: Path | None) -> None:
    """Below the table: each client whose Clio note failed, and how to write it (issue 19): a
    note another workstation could not write can be written from this one too."""
    from ..engine.report import printable

    for listed in clients:
        status, _ = _note_of(listed, notes)
        if status is None or status.status != "failed":
            continue
        entry = listed.entry
        matter = printable(entry.matter_display_number or str(entry.matter_id))
        if entry.clio_contact_id in notes or listed.firm is None:  # this home's import
            click.echo(
                f"Clio note missing for {printable(entry.name)} (matter {matter}): "
                f"{printable(status.message)}\n  write it now: mapctl clients note "
                f"{entry.clio_contact_id}"
            )
            continue
        out = f" --out {_quoted(out_dir)}" if out_dir is not None else ""
        why = f": {printable(status.message)}" if status.message else ""
        click.echo(
            f"Clio note missing for {printable(entry.name)} (matter {matter}; imported by "
            f"{printable(listed.imported_by.label)}){why}\n  write it now, from this "
            f"workstation too: mapctl clients note {entry.clio_contact_id}{out}"
        )


def _quoted(path: Path) -> str:
    from ..engine.report import printable

    text = printable(str(path))
    return f'"{text}"' if any(c.isspace() for c in text) or not text else text


@clients.command("note")
@click.argument("contact_id", type=int, metavar="CONTACT_ID")
@out_option
@click.pass_obj
@reporting
def clients_note(state: AppState, contact_id: int, out_dir: Path | None) -> None:
    """Write the note on the Clio matter that an import could not write (issue 19).

    The import itself is complete either way; the note says who imported the client, when,
    where the answer file is and what is left to do, in the words composed at the import.
    `mapctl clients` lists the clients whose note is missing. A client of a shared output folder
    (the settings' output_folder or --out) can be noted from any workstation that uses the
    folder, whoever imported it; the outcome is recorded for the whole firm.

    \b
    Examples:
      mapctl clients note 5001
      mapctl clients note 5001 --out P:\\clients

    \b
    Exit codes: 0 written; 1 no such client, its note is already written, or another
    workstation is writing it now; 3 Clio refused or could not be reached (the ledgers keep
    the failure).
    """
    from ..engine.errors import ClioError
    from ..engine.workflow.clionote import retry_note_anywhere

    done = retry_note_anywhere(
        state.home,
        _folder(out_dir),
        contact_id,
        lambda: _clio_open(state, None),
        now=state.now(),
        who=_who(state),
    )
    status = done.status
    for line in done.warnings:
        from ..engine.report import printable

        click.echo(f"warning: {printable(line)}", err=True)
    if status.status != "written":
        raise ClioError(
            f"Clio did not take the note: {status.message}",
            hint="check the Clio app's Notes permission and the connection, then try again",
        )
    click.echo(f"Clio: the note is on the matter now (note {status.note_id}).")


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
@out_option
@click.pass_obj
@reporting
def clients_forget(
    state: AppState, contact_id: int, yes: bool, delete_folder: bool, out_dir: Path | None
) -> None:
    """Remove one client from the ledger, so that its Clio contact can be imported again.

    For a client imported by mistake, or deleted in ILS. Shows what it removes, then asks
    (--yes skips the question). The client's folder stays where it is unless --delete-folder;
    a new import then goes next to it (`<name>-2`). Nothing changes in ILS or Clio. The ledger
    keeps a record of what was forgotten, when and (in a shared output folder) by whom
    (`mapctl clients --forgotten`). A client of a shared output folder is forgotten for the
    whole firm.

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
    folder, who = _folder(out_dir), _who(state)
    plan = plan_forget(state.home, contact_id, out_dir=folder, who=who)
    _notices(list(plan.notices))
    if delete_folder:
        check_deletable(plan)  # refuse before asking
    click.echo(format_forget_plan(plan, delete_folder))
    if not yes and not click.confirm(f"Forget {plan.entry.name or contact_id}?", default=False):
        click.echo("Nothing was forgotten.", err=True)
        raise SystemExit(1)
    forgotten = forget_client(
        state.home,
        contact_id,
        now=state.now(),
        delete_folder=delete_folder,
        out_dir=folder,
        who=who,
    )
    click.echo(format_forget_done(forgotten, folder_was_there=plan.files.folder_exists))
    _forget_note(state, forgotten.client)


def _forget_note(state: AppState, entry: Any) -> None:
    """A short note on the matter: the client may be imported again, and by whom (issue 19).
    Skipped with `clio_note: false`; a failure is a warning (the forgetting stands)."""
    from ..engine.report import printable
    from ..engine.workflow.clionote import WRITTEN, computer_name, forget_note, write_note
    from .base import resolve_setup_for

    if entry.matter_id is None or not resolve_setup_for().note_wanted:
        return
    now, computer = state.now(), computer_name()
    status, ident, message, _, _ = write_note(
        lambda: _clio_open(state, None),
        entry.matter_id,
        lambda user: forget_note(entry, user, computer, now),
    )
    if status == WRITTEN:
        click.echo(f"Clio: a note on the matter says it may be imported again (note {ident}).")
    else:
        click.echo(f"warning: Clio did not take the note on the matter: {printable(message)}",
                   err=True)  # fmt: skip


@clients.command("recover")
@click.argument("contact_id", type=int, metavar="[CONTACT_ID]", required=False)
@click.option(
    "-y", "--yes", is_flag=True, help="Take back without asking (needed without a terminal)."
)
@out_option
@click.pass_obj
@reporting
def clients_recover(
    state: AppState, contact_id: int | None, yes: bool, out_dir: Path | None
) -> None:
    """Finish or take back imports that did not finish (a computer crashed mid-import).

    Without CONTACT_ID: applies the rule every import applies (an import whose folder is in
    place is finished; one stopped on this computer, or pending for 30 minutes, is taken back)
    and lists what is still pending, with who started it and when. With CONTACT_ID (an admin,
    once sure that import is not running: ask its user): takes that one back now, whoever
    started it; one whose folder is in place is finished instead. A finished client is never
    touched (that is `mapctl clients forget`).

    \b
    Examples:
      mapctl clients recover
      mapctl clients recover 5001

    \b
    Exit codes: 0 done (or nothing to do); 1 no such unfinished import, or declined at the
    question; 2 no terminal and no --yes (with CONTACT_ID).
    """
    from ..engine.errors import MapctlError
    from ..engine.report import printable
    from ..engine.workflow.records import Met, firm_ledger_for, meet, opened

    folder, who = _folder(out_dir), _who(state)
    firm = firm_ledger_for(state.home, folder)
    with opened(state.home, create=False) as ledger:
        if ledger is not None:
            ledger.recover()
        if firm is None or not firm.exists():
            click.echo(f"No shared ledger in {folder}: nothing to recover there.")
            if contact_id is not None:
                raise SystemExit(1)
            return
        met = meet(ledger, firm, who) if ledger is not None else Met(firm.recover(who))
    _notices(met.notices())
    if contact_id is not None:
        client = firm.get(contact_id)
        if client is None or client.done:
            raise MapctlError(
                f"Clio contact {contact_id} has no unfinished import in the shared ledger "
                f"{firm.path}",
                hint="`mapctl clients` lists the clients and the imports not finished",
            )
        click.echo(
            f"The import of {printable(client.entry.name)} (Clio contact {contact_id}) was "
            f"started by {printable(client.imported_by.label)} at {client.claimed_at} and its "
            "folder is not in place."
        )
        if not yes and not state.is_interactive():
            raise click.UsageError(
                "mapctl clients recover asks for confirmation, and there is no terminal to ask "
                "on; pass --yes to take the import back without questions"
            )
        if not yes and not click.confirm(
            "Take it back (only if that import is not running)?", default=False
        ):
            click.echo("Nothing was taken back.", err=True)
            raise SystemExit(1)
        done = firm.recover(who, only=contact_id, force=True)
        _notices(Met(done, firm=firm.path).notices())
        if not done.released and not done.finished:
            raise MapctlError(f"the import of Clio contact {contact_id} changed meanwhile")
        click.echo(f"Clio contact {contact_id} can be imported again.")
        return
    pending = firm.list_clients(pending=True)
    if not pending:
        click.echo("No unfinished imports.")
        return
    click.echo("Imports not finished (running now, or stopped before they finished):")
    for client in pending:
        click.echo(
            f"  Clio contact {client.contact_id} ({printable(client.entry.name)}): started by "
            f"{printable(client.imported_by.label)} at {client.claimed_at}"
        )
    click.echo("Take one back once sure it is not running: mapctl clients recover CONTACT_ID")
