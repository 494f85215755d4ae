"""The import workflow: preview and import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .base import (
    AppState,
    _mapping_line,
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
    today_option,
)


@click.command()
@click.argument("matter")
@exclude_option
@role_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for scripts.",
)
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
    then each related contact with its label as typed in Clio and the role it gets. Below the
    table: labels that fell to the `otherwise` role (with the nearest synonym) and warnings.

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
    bundle = _workflow_fetch(state, matter, region)
    day = render_date(today)
    result = make_preview(bundle, compiled, today=day, exclude=exclude, roles=roles)
    if fmt == "json":  # the contract's shape; which mapping goes to stderr
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        click.echo(_mapping_line(setup, compiled), err=True)
    else:
        click.echo(format_preview(result))
        click.echo(f"\n{_mapping_line(setup, compiled)}")


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
) -> None:
    """Create a new ILS client from MATTER, with its pre-filled answer file.

    Shows the preview, lets you remove contacts by their number, asks to confirm, then writes
    the client's folder (answer file and client.json) to --out or $MAPCTL_HOME/clients and
    records the client in the ledger. A client already imported is refused (exit 1); nothing
    existing is overwritten. Without a terminal, pass --yes (questions skipped). In the
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
    from ..engine.workflow.importing import check_not_imported, import_client
    from ..engine.workflow.importreport import format_import

    interactive = state.is_interactive()
    if not yes and not interactive:
        raise click.UsageError(
            "mapctl import asks for confirmation, and there is no terminal to ask on; "
            "pass --yes to import without questions"
        )
    setup = resolve_setup_for(mapping=mapping, out_dir=out_dir, region=region)
    compiled = compile_mapping(setup.mapping_arg)  # before any network call
    roles = _roles(role, compiled)
    bundle = _workflow_fetch(state, matter, region)
    check_not_imported(bundle, state.home)  # refuse before asking any question
    day = render_date(today)
    chosen = set(exclude)
    if not yes:
        chosen = _workflow_choose(bundle, compiled, day, chosen, roles)
    result = import_client(
        bundle,
        compiled,
        home=state.home,
        now=state.now(),
        today=day,
        exclude=chosen,
        out_dir=Path(str(setup.output_folder.value)),
        roles=roles,
    )
    if fmt == "json":
        import json

        shown = {**result.as_json(), "mapping": mapping_used(setup, compiled)}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        click.echo(format_import(result))
        click.echo(f"\n{_mapping_line(setup, compiled)}")


def _workflow_choose(
    bundle: dict[str, Any], compiled: Any, day: Any, chosen: set[int], roles: dict[int, str]
) -> set[int]:
    """The terminal dialogue: show the list, remove (or restore) contacts, confirm."""
    from ..engine.report import printable
    from ..engine.workflow.importing import parse_reply
    from ..engine.workflow.importing import preview as make_preview
    from ..engine.workflow.importreport import format_preview

    shown = make_preview(bundle, compiled, today=day, exclude=chosen, roles=roles)
    click.echo(format_preview(shown))
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
