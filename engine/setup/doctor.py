"""Doctor: will imports work? Settings, mapping, interview, Clio (reachable, token, API version),
Clio's contact custom fields against the mapping, the output folder and the ledger -> check
lines; and `--create-fields`: the declared fields Clio lacks, created as declared.

Stage: the set-up workflow (`mapctl doctor`). Reads the settings, the mapping, the interview
file; asks Clio over `engine.clio`; opens the ledger read-only in effect (`list_clients`).
Never prints and never asks: `cli.py` shows the lines and asks before creating anything.
Creating never changes or deletes an existing field: only names Clio does not have are made.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ClioError, MapctlError, MappingError
from ..hotdocs.interview import Interview
from ..mapping.model import CompiledMapping, CustomFieldSpec
from .checks import Check
from .settings import Setup, resolve_setup

Notice = Callable[[str], None]


@dataclass
class Diagnosis:
    """Every check line; whether Clio could not be reached; the fields --create-fields makes."""

    checks: list[Check] = field(default_factory=list)
    unreachable: bool = False
    missing: list[CustomFieldSpec] = field(default_factory=list)
    setup: Setup | None = None

    @property
    def exit_code(self) -> int:
        """0 all pass, 3 Clio unreachable, 1 anything else failed (spec/cli.md)."""
        if self.unreachable:
            return 3
        return 1 if any(c.status == "fail" for c in self.checks) else 0


def diagnose(
    env: Mapping[str, str],
    *,
    mapping: str | None = None,
    region: str | None = None,
    transport: Any = None,
    cwd: Path | None = None,
    notice: Notice | None = None,
) -> Diagnosis:
    """Run every check, in order; a check that cannot run says why (skip) rather than stop."""
    result = Diagnosis()
    setup = _settings(result, env, mapping, region, cwd)
    result.setup = setup
    compiled, interview = _mapping(result, setup)
    clio = _clio(result, setup, env, transport, notice)
    if clio is not None:
        _fields(result, compiled, clio, interview)
    _output_folder(result, setup)
    _privacy(result, setup, env)
    _ledger(result, setup)
    _shared_ledger(result, setup, env)
    _closeloop(result, setup, env, transport, notice)
    return result


def _closeloop(
    result: Diagnosis, setup: Setup, env: Mapping[str, str], transport: Any, notice: Notice | None
) -> None:
    """Notes and the "Import to ILS" custom action (issue 19), when Clio answered."""
    from ..clio.client import open_client
    from .actioncheck import closeloop_checks

    if not any(c.name == "clio token" and c.status == "pass" for c in result.checks):
        return
    try:
        with open_client(setup.home_path, setup.clio_env(env), transport, notice=notice) as client:
            result.checks.extend(closeloop_checks(client, setup))
    except ClioError as error:
        result.checks.append(Check("clio action", "fail", f"Clio: {error.message}", error.hint))


def _settings(
    result: Diagnosis,
    env: Mapping[str, str],
    mapping: str | None,
    region: str | None,
    cwd: Path | None,
) -> Setup:
    try:
        setup = resolve_setup(env, mapping=mapping, region=region, cwd=cwd)
    except MappingError as error:  # SettingsError: one line per problem, then go on without it
        for problem in error.problems:
            where = f"{problem.location}: " if problem.location else ""
            result.checks.append(
                Check("settings", "fail", f"settings: {where}{problem.message}", problem.hint)
            )
        return resolve_setup(env, mapping=mapping, region=region, cwd=cwd, read_file=False)
    except MapctlError as error:
        result.checks.append(Check("settings", "fail", f"settings: {error.message}", error.hint))
        return resolve_setup(env, mapping=mapping, region=region, cwd=cwd, read_file=False)
    file = setup.settings_file
    if file.value is None:
        result.checks.append(
            Check(
                "settings",
                "pass",
                f"settings: no settings file ({file.detail}); using options, environment and "
                "defaults",
            )
        )
    else:
        result.checks.append(
            Check("settings", "pass", f"settings: {file.value} read ({file.describe_origin()})")
        )
    return setup


def _mapping(result: Diagnosis, setup: Setup) -> tuple[CompiledMapping | None, Interview | None]:
    from ..mapping.compilation import compile_loaded
    from ..mapping.loading import load_mapping

    shown = f"{setup.mapping_display} ({setup.mapping.describe_origin()})"
    loaded = load_mapping(setup.mapping_arg)
    compiled = None
    try:
        compiled = compile_loaded(loaded)
    except MappingError as error:
        errors = [p for p in error.problems if p.is_error]
        first = errors[0]
        where = f"{first.location}: " if first.location else ""
        result.checks.append(
            Check(
                "mapping",
                "fail",
                f"mapping {shown}: {len(errors)} problem{'s' if len(errors) != 1 else ''}, "
                f"the first: {where}{first.message}",
                f"run `{_validate_command(setup)}` to see them all",
            )
        )
    else:
        result.checks.append(
            Check(
                "mapping",
                "pass",
                f"mapping {shown}: valid, '{compiled.title}', {len(compiled.answers)} answers",
            )
        )
    return compiled, _interview(result, setup, loaded)


def _quoted(word: str) -> str:
    from ..report import command_line

    return command_line(word)


def _validate_command(setup: Setup) -> str:
    value = setup.mapping.value
    from ..report import command_line

    return command_line("mapctl", "validate", *([value] if value else []))


def _interview(result: Diagnosis, setup: Setup, loaded: Any) -> Interview | None:
    if setup.interview.value is None:
        result.checks.append(
            Check(
                "interview",
                "skip",
                "interview: no interview file set, so answers are not checked against it",
                "set `interview:` in the settings file to the firm's .cmp (or .manifest.xml)",
            )
        )
        return None
    from ..hotdocs.interview import read_interview
    from ..mapping.interviewcheck import check_interview

    path = setup.interview.value
    try:
        interview = read_interview(path)
    except MapctlError as error:
        result.checks.append(Check("interview", "fail", f"interview: {error.message}", error.hint))
        return None
    problems = [p for p in check_interview(interview, loaded) if p.is_error]
    if problems:
        first = problems[0]
        where = f"{first.location}: " if first.location else ""
        result.checks.append(
            Check(
                "interview",
                "fail",
                f"interview {path}: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                f"with the mapping, the first: {where}{first.message}",
                f"run `{_validate_command(setup)} --interview {_quoted(str(path))}` to see them "
                "all",
            )
        )
    else:
        result.checks.append(
            Check(
                "interview",
                "pass",
                f"interview {path}: every answer fits its {len(interview.variables)} variables",
            )
        )
    return interview


def _clio(
    result: Diagnosis, setup: Setup, env: Mapping[str, str], transport: Any, notice: Notice | None
) -> list[dict[str, Any]] | None:
    """Connection, token, API version, then the custom field definitions (None: not read)."""
    from ..clio.client import list_custom_fields, open_client
    from ..clio.session import API_VERSION

    # The host actually used, and where it came from (the option, the environment, the
    # settings, or the connection `mapctl connect` stored), never a default it did not ask.
    url = f"{setup.base_url.value} ({setup.base_url.describe_origin()})"
    try:
        client = open_client(setup.home_path, setup.clio_env(env), transport, notice=notice)
    except ClioError as error:
        result.checks.append(
            Check("clio", "fail", f"Clio ({url}): not asked: {error.message}", error.hint)
        )
        return None
    with client:
        try:
            user = client.who_am_i()
        except ClioError as error:
            _clio_failure(result, error, url, API_VERSION)
            return None
        who = user.get("name") or f"user {user.get('id')}"
        result.checks.append(Check("clio", "pass", f"Clio at {url}: reachable"))
        result.checks.append(Check("clio token", "pass", f"Clio token: valid, connected as {who}"))
        result.checks.append(
            Check("clio version", "pass", f"Clio API version {API_VERSION}: accepted")
        )
        _permissions(result, client)
        try:
            return list_custom_fields(client)
        except ClioError as error:
            result.unreachable = error.status is None or error.status >= 500
            result.checks.append(
                Check(
                    "clio fields",
                    "fail",
                    f"Clio custom fields: cannot be read: {error.message}",
                    error.hint,
                )
            )
            return None


def _permissions(result: Diagnosis, client: Any) -> None:
    """Each `fields` string mapctl uses and each Clio app permission, one cheap GET each
    (issue 17 items 2 and 4): refused fields and unticked permissions are named."""
    from ..clio.client import probe_clio

    for probe in probe_clio(client):
        result.unreachable = result.unreachable or probe.unreachable
        result.checks.append(Check(probe.name, probe.status, probe.message, probe.hint))  # type: ignore[arg-type]


def _clio_failure(result: Diagnosis, error: ClioError, url: str | None, version: str) -> None:
    status = error.status
    if status is None or status >= 500 or status == 429:
        result.unreachable = True
        result.checks.append(Check("clio", "fail", f"Clio at {url}: {error.message}", error.hint))
    elif status == 401 or "mapctl connect" in (error.hint or ""):  # expired, revoked
        result.checks.append(Check("clio", "pass", f"Clio at {url}: reachable"))
        result.checks.append(
            Check("clio token", "fail", f"Clio token: {error.message}", error.hint)
        )
    elif status == 410:
        result.checks.append(Check("clio", "pass", f"Clio at {url}: reachable"))
        result.checks.append(
            Check(
                "clio version",
                "fail",
                f"Clio API version {version}: refused ({error.message})",
                "this mapctl is too old for this Clio: upgrade mapctl",
            )
        )
    else:
        result.checks.append(Check("clio", "fail", f"Clio at {url}: {error.message}", error.hint))


def _fields(
    result: Diagnosis,
    compiled: CompiledMapping | None,
    definitions: list[dict[str, Any]],
    interview: Interview | None,
) -> None:
    from .fieldcheck import check_fields

    if compiled is None:
        result.checks.append(
            Check("fields", "skip", "custom fields: not compared (the mapping is invalid)")
        )
        return
    if not compiled.custom_fields:
        result.checks.append(Check("fields", "pass", "custom fields: the mapping declares none"))
    report = check_fields(compiled, definitions, interview)
    result.checks.extend(report.checks)
    result.missing = report.missing


def _output_folder(result: Diagnosis, setup: Setup) -> None:
    setting = setup.output_folder
    folder = Path(str(setting.value))
    where = f"output folder {folder} ({setting.describe_origin()})"
    if not folder.exists():
        if setting.origin == "default":
            result.checks.append(
                Check("output", "pass", f"{where}: will be made at the first import")
            )
        else:
            result.checks.append(
                Check(
                    "output",
                    "fail",
                    f"{where}: does not exist",
                    "create it, or check that the share is mounted",
                )
            )
        return
    if not folder.is_dir():
        result.checks.append(Check("output", "fail", f"{where}: is not a folder"))
        return
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".mapctl-doctor-"):
            pass
    except OSError as error:
        result.checks.append(
            Check(
                "output",
                "fail",
                f"{where}: not writable ({error.strerror or error})",
                "ask for write access to the folder, or choose another one",
            )
        )
        return
    result.checks.append(Check("output", "pass", f"{where}: exists and is writable"))


def _privacy(
    result: Diagnosis, setup: Setup, env: Mapping[str, str], platform: str | None = None
) -> None:
    """What protects the Clio connection and the clients' answer files, said truthfully: POSIX
    modes on Linux and macOS; on Windows, the folder's permissions (ACL), which mapctl does not
    set. A share's permissions are the firm's to set: doctor says what to check."""
    import sys

    from ..clio.regions import TOKEN_FILE
    from .privacy import inside_profile, is_network_folder

    windows = (platform or sys.platform) == "win32"
    home = setup.home_path
    token = home / TOKEN_FILE
    if windows and not inside_profile(home, env):
        result.checks.append(
            Check(
                "privacy",
                "warn",
                f"Clio connection {token}: outside your Windows profile, so the folder's "
                "permissions, not mapctl, decide who can use it",
                "set MAPCTL_HOME to a folder inside your profile (the default is "
                "%USERPROFILE%\\.mapctl), or check that only you can read this folder",
            )
        )
    elif windows:
        result.checks.append(
            Check("privacy", "pass", f"Clio connection {token}: inside your Windows profile")
        )
    elif token.exists() and token.stat().st_mode & 0o077:
        result.checks.append(
            Check(
                "privacy",
                "warn",
                f"Clio connection {token}: others can read it "
                f"(mode {token.stat().st_mode & 0o777:o})",
                "make it private: chmod 600 on it (mapctl writes it so; something changed it)",
            )
        )
    folder = Path(str(setup.output_folder.value))
    if folder.exists() and is_network_folder(folder, platform):
        result.checks.append(
            Check(
                "privacy",
                "warn",
                f"output folder {folder}: on a network share, so the share's permissions, not "
                "mapctl, decide who can read the clients' answer files (names, birth dates, "
                "identity numbers)",
                "ask whoever manages the share to check that only the staff who import clients "
                "and use ILS can read and write it, and that it is not shared more widely",
            )
        )


def _ledger(result: Diagnosis, setup: Setup) -> None:
    from ..workflow.ledger import LEDGER_FILE, Ledger

    home = setup.home_path
    path = home / LEDGER_FILE
    if not path.exists():
        result.checks.append(
            Check("ledger", "pass", f"ledger {path}: none yet, made at the first import")
        )
        return
    try:
        with Ledger.open(home) as ledger:
            count = len(ledger.list_clients())
    except MapctlError as error:
        result.checks.append(Check("ledger", "fail", f"ledger {path}: {error.message}", error.hint))
        return
    result.checks.append(
        Check("ledger", "pass", f"ledger {path}: opens, {count} client{'s' if count != 1 else ''}")
    )


def _shared_ledger(result: Diagnosis, setup: Setup, env: Mapping[str, str]) -> None:
    """The firm-wide ledger of a shared output folder (issue 15): readable, writable, no import
    stopped half-way; this workstation's clients added to it (migration), said here."""
    from ..workflow.firmledger import Workstation
    from ..workflow.ledger import LEDGER_FILE, Ledger
    from ..workflow.records import Met, firm_ledger_for, meet

    home = setup.home_path
    folder = Path(str(setup.output_folder.value))
    firm = firm_ledger_for(home, folder)
    if firm is None:  # the personal folder: its ledger is the personal one, checked above
        return
    where = f"shared ledger {firm.path}"
    if not folder.is_dir():
        result.checks.append(Check("shared ledger", "skip", f"{where}: not checked (no folder)"))
        return
    who = Workstation.current(home, env=env)
    try:
        if (home / LEDGER_FILE).exists():
            with Ledger.open(home) as ledger:
                met = meet(ledger, firm, who)
                personal = ledger.list_clients()
        else:
            met, personal = (Met(recovery=firm.recover(who)) if firm.exists() else Met()), []
        if not firm.exists():
            result.checks.append(
                Check("shared ledger", "pass", f"{where}: none yet, made at the first import")
            )
            return
        firm.server_now()  # writable: a file is made there and removed
        clients = firm.list_clients()
        conflicts = firm.check_conflicts(personal)
    except MapctlError as error:
        result.checks.append(
            Check("shared ledger", "fail", f"{where}: {error.message}", error.hint)
        )
        return
    for line in met.notices():  # what meeting it did just now (migration, recovery)
        result.checks.append(Check("shared ledger", "info", f"shared ledger: {line}"))
    migrated = sum(1 for c in clients if c.migrated_from)
    also = f" ({migrated} added from workstations' own ledgers)" if migrated else ""
    result.checks.append(
        Check(
            "shared ledger",
            "pass",
            f"{where}: readable and writable, {len(clients)} client"
            f"{'s' if len(clients) != 1 else ''}{also}",
        )
    )
    for client, record, age in met.recovery.pending:
        who_started = f"{client.imported_by.label} at {client.claimed_at}" if client else "?"
        contact = client.contact_id if client else Path(record).stem
        if age < STALE_CLAIM_AFTER:
            result.checks.append(
                Check(
                    "shared ledger",
                    "info",
                    f"{where}: Clio contact {contact} is being imported ({who_started})",
                )
            )
            continue
        result.checks.append(
            Check(
                "shared ledger",
                "fail",
                f"{where}: the import of Clio contact {contact} started by {who_started} has "
                f"not finished for {int(age // 60)} minutes (its computer crashed?); the "
                "contact cannot be imported until it is taken back",
                f"taken back automatically after 30 minutes, or now by an admin once that import "
                f"is surely not running: mapctl clients recover {contact}",
            )
        )
    for entry, client in conflicts:
        result.checks.append(
            Check(
                "shared ledger",
                "warn",
                f"{where}: Clio contact {entry.clio_contact_id} ({entry.name}) has two client "
                f"folders: {Path(entry.answer_file).parent} (this workstation's ledger) and "
                f"{Path(client.entry.answer_file).parent} ({client.describe()})",
                "check which one ILS uses; `mapctl clients forget` lets go of the other",
            )
        )


STALE_CLAIM_AFTER = 60.0  # seconds: an import holds its claim for well under a second


def create_fields(
    setup: Setup,
    env: Mapping[str, str],
    specs: list[CustomFieldSpec],
    *,
    transport: Any = None,
    notice: Notice | None = None,
) -> list[dict[str, Any]]:
    """Create each declared field (its `create`) in Clio -> the new definitions. Fields without a
    `create` are not made (the caller lists them); an existing field is never touched."""
    from ..clio.client import create_custom_field, list_custom_fields, open_client

    made = []
    with open_client(setup.home_path, setup.clio_env(env), transport, notice=notice) as client:
        existing = {
            str(d.get("name", "")).strip().casefold()
            for d in list_custom_fields(client)
            if str(d.get("parent_type", "")).casefold() == "contact" and not d.get("deleted")
        }
        for spec in specs:
            if spec.create is None or spec.name is None:
                continue
            if spec.name.strip().casefold() in existing:  # made meanwhile: leave it alone
                continue
            made.append(
                create_custom_field(client, spec.name, spec.create.type, spec.create.options)
            )
    return made


def creatable(specs: list[CustomFieldSpec]) -> tuple[list[CustomFieldSpec], list[CustomFieldSpec]]:
    """(fields --create-fields can make, fields whose declaration does not say how)."""
    can = [s for s in specs if s.create is not None and s.name is not None]
    return can, [s for s in specs if s not in can]


def describe_creation(spec: CustomFieldSpec) -> str:
    assert spec.create is not None
    options = f": {', '.join(spec.create.options)}" if spec.create.options else ""
    return f"'{spec.name}' ({spec.create.type}{options})"
