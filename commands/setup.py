"""Firm set-up: settings, init, doctor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .base import (
    AppState,
    _clio_notice,
    mapping_option,
    region_option,
    reporting,
    resolve_setup_for,
)

# --- set-up: settings, init, doctor (issue 11) -------------------------------------------------


@click.command("settings")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
@reporting
def settings_command(state: AppState, fmt: str) -> None:
    """Show each effective setting and where it came from.

    \b
    Precedence: the command-line option, then the environment, then the settings file
    ($MAPCTL_HOME/settings.yaml, or the file MAPCTL_SETTINGS names), then the default.
    Settings: mapping, output_folder, clio_region or clio_base_url, app_key, interview.
    Examples:
      mapctl settings
      MAPCTL_SETTINGS=/firm/share/settings.yaml mapctl settings --format json
    """
    import json

    from ..engine.setup.settings import format_settings

    setup = resolve_setup_for()
    if fmt == "json":
        shown = {s.key: s.as_json() for s in setup.settings()}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        click.echo(format_settings(setup))


@click.command()
@click.argument("folder", required=False, default=".", metavar="[DIR]",
                type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
@click.option("--settings", "with_settings", is_flag=True, help="Also write DIR/settings.yaml.")
@reporting
def init(folder: Path, with_settings: bool) -> None:
    """Set a firm up in DIR (default: here); never overwrites a file.

    \b
    Writes:
      mappings/firm.yaml         the firm's mapping, extending the bundled one
      mapping-tests/example-*/   an admin test case for `mapctl test`
      .pre-commit-config.yaml    runs `mapctl validate` and `mapctl test` before each commit
      settings.yaml              with --settings: point MAPCTL_SETTINGS at it
    Then: edit mappings/firm.yaml, `mapctl validate`, `mapctl test`, `mapctl doctor`.
    """
    from ..engine.setup.firm import scaffold_firm

    done = scaffold_firm(folder, settings=with_settings)
    for item in done:
        if item.written:
            click.echo(f"wrote   {item.path}")
        else:
            click.echo(f"skipped {item.path} (it exists; mapctl never overwrites it)")
    written = sum(item.written for item in done)
    click.echo(f"{written} file{'s' if written != 1 else ''} written, {len(done) - written} "
               "skipped", err=True)  # fmt: skip
    if with_settings:
        click.echo(f"Next: {settings_step(folder / 'settings.yaml')}", err=True)
        click.echo(f"Then: edit {folder / 'mappings' / 'firm.yaml'}, run `mapctl validate`, "
                   "`mapctl test` and `mapctl doctor` there.", err=True)  # fmt: skip
    else:
        click.echo(f"Next: edit {folder / 'mappings' / 'firm.yaml'}, then run `mapctl validate`, "
                   "`mapctl test` and `mapctl doctor` there.", err=True)  # fmt: skip


def settings_step(path: Path, platform: str | None = None) -> str:
    """How to point MAPCTL_SETTINGS at the settings file `init` wrote, for this platform's
    shell: mapctl reads $MAPCTL_HOME/settings.yaml unless MAPCTL_SETTINGS names another."""
    from ..engine.report import command_line

    target = str(path.resolve())
    if (platform or sys.platform) == "win32":
        return (
            "point MAPCTL_SETTINGS at it on each workstation (then open a new window): "
            + command_line("setx", "MAPCTL_SETTINGS", target, platform="win32")
        )
    return "point MAPCTL_SETTINGS at it (add this to the shell's profile on each workstation): " + (
        "export MAPCTL_SETTINGS=" + command_line(target, platform="linux")
    )


@click.command()
@mapping_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--create-fields",
    is_flag=True,
    help="Create the declared contact custom fields Clio lacks (as their `create:` says); "
    "never changes an existing field.",
)
@click.option(
    "--create-action",
    is_flag=True,
    help='Create the Clio custom action "Import to ILS" on matters, opening the staff app on '
    "app_port; once (running it again changes nothing).",
)
@click.option(
    "-y", "--yes", is_flag=True, help="With --create-fields/--create-action: create without asking."
)
@region_option
@click.pass_obj
@reporting
def doctor(
    state: AppState,
    mapping: str | None,
    fmt: str,
    create_fields: bool,
    create_action: bool,
    yes: bool,
    region: str | None,
) -> None:
    """Will imports work? Check the set-up and say what to fix, line by line.

    \b
    Checks: the settings file; the mapping; the interview (when one is set); Clio: reachable,
    the token, the API version; Clio's contact custom fields against the mapping (exists, not
    deleted, a type that suits every answer reading it, picklist options against the
    interview's); the output folder; the ledger; the Clio app's Notes and Custom Actions
    permissions, and whether the custom action "Import to ILS" exists and opens app_port.
    Exit codes: 0 all pass, 1 something to fix, 2 --create-fields or --create-action without
    a terminal and without --yes, 3 Clio cannot be reached.
    Examples:
      mapctl doctor
      mapctl doctor --create-fields
      mapctl doctor --create-action --yes
      mapctl doctor --format json
    """
    from ..engine.setup.checks import checks_json, format_checks
    from ..engine.setup.doctor import diagnose

    if create_fields and not yes and not state.is_interactive():
        raise click.UsageError(
            "--create-fields asks before creating fields in Clio, and there is no terminal to "
            "ask on; pass --yes to create them without asking"
        )
    if create_action and not yes and not state.is_interactive():
        raise click.UsageError(
            "--create-action asks before creating the action in Clio, and there is no terminal "
            "to ask on; pass --yes to create it without asking"
        )
    result = diagnose(
        state.env, mapping=mapping, region=region, transport=state.transport, notice=_clio_notice
    )
    if create_fields and result.setup is not None and not result.unreachable:
        if _doctor_create(state, result, yes):
            result = diagnose(state.env, mapping=mapping, region=region,
                              transport=state.transport, notice=_clio_notice)  # fmt: skip
    if create_action and result.setup is not None and not result.unreachable:
        if _doctor_action(state, result.setup, yes):
            result = diagnose(state.env, mapping=mapping, region=region,
                              transport=state.transport, notice=_clio_notice)  # fmt: skip
    if fmt == "json":
        click.echo(checks_json(result.checks, result.exit_code))
    else:
        click.echo(format_checks(result.checks))
    raise SystemExit(result.exit_code)


def _doctor_action(state: AppState, setup: Any, yes: bool) -> bool:
    """Create "Import to ILS" (or point it at app_port) after a confirmation; True if changed."""
    from ..engine.clio.closeloop import ACTION_LABEL, target_url
    from ..engine.setup.actioncheck import create_action

    if setup.port is not None and not yes:
        question = (f"Create the Clio custom action '{ACTION_LABEL}' on matters, opening "
                    f"{target_url(setup.port)}?")  # fmt: skip
        if not click.confirm(question, default=True, err=True):
            click.echo("Nothing was created.", err=True)
            return False
    done, action = create_action(setup, state.env, transport=state.transport,
                                 notice=_clio_notice)  # fmt: skip
    where = action.get("target_url")
    if done == "unchanged":
        click.echo(f"Clio custom action '{ACTION_LABEL}' already opens {where}: nothing changed.",
                   err=True)  # fmt: skip
        return False
    click.echo(f"{done} Clio custom action '{ACTION_LABEL}' (id {action.get('id')}): on matters, "
               f"opens {where}", err=True)  # fmt: skip
    return True


def _doctor_create(state: AppState, result: Any, yes: bool) -> bool:
    """Create the missing declared fields after a confirmation; True when any was made."""
    from ..engine.setup.doctor import creatable, create_fields, describe_creation

    can, cannot = creatable(result.missing)
    for spec in cannot:
        click.echo(f"cannot create '{spec.name or spec.id}' ({spec.alias}): the mapping does not "
                   "say how; add create: {type: ...} to its declaration", err=True)  # fmt: skip
    if not can:
        click.echo("No custom fields to create.", err=True)
        return False
    where = result.setup.base_url.value
    click.echo(f"Clio at {where} lacks {len(can)} declared contact custom field"
               f"{'s' if len(can) != 1 else ''}:", err=True)  # fmt: skip
    for spec in can:
        click.echo(f"  {describe_creation(spec)}", err=True)
    if not yes and not click.confirm("Create them in Clio?", default=False, err=True):
        click.echo("Nothing was created.", err=True)
        return False
    made = create_fields(
        result.setup, state.env, can, transport=state.transport, notice=_clio_notice
    )
    for record in made:
        click.echo(f"created custom field '{record.get('name')}' ({record.get('field_type')}, "
                   f"id {record.get('id')})", err=True)  # fmt: skip
    return bool(made)
