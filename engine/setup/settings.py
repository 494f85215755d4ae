"""Settings: the firm's settings file (YAML) -> checked values with their positions, and the
effective value of each setting with where it came from (`resolve_setup`).

Stage: read before any command that needs a mapping, an output folder or Clio. Reads the one
settings file (and checks that a mapping it names exists); never prints. A bad file raises
`SettingsError` with every problem at FILE:LINE:COL (the mapping loader's YAML-with-positions
machinery, `mapping.source`), did-you-mean on keys.

Where the file is: the file `MAPCTL_SETTINGS` names, else `$MAPCTL_HOME/settings.yaml` (none
there: no settings). Precedence for every setting: the command-line option, then the
environment, then the settings file, then the default (spec/cli.md, "Configuration"). Relative
paths in the file are relative to the file, so a firm can keep it on a share.

The App Secret never goes in the file (whoever reads the share would have it): a key that looks
like a secret is refused, and its line is not echoed back.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clio.regions import DEFAULT_BASE_URL, REGIONS, TOKEN_FILE
from ..errors import MapctlError, MappingError, Problem, SourceLocation
from ..mapping.source import MAX_BYTES, Document, decode, parse
from ..resources import DEFAULT_MAPPING, bundled_mapping_names

SETTINGS_FILE = "settings.yaml"
FIRM_MAPPING = Path("mappings") / "firm.yaml"  # what `mapctl init` writes; found in the cwd
CLIENTS_FOLDER = "clients"

# key -> what it holds (for messages and `mapctl settings`)
KEYS: dict[str, str] = {
    "mapping": "the firm's mapping file (or a bundled mapping's name)",
    "output_folder": "the folder new clients are written to (the firm's ILS client share)",
    "clio_region": "Clio's region: us, ca, eu or au",
    "clio_base_url": "Clio's address (instead of clio_region), e.g. https://eu.app.clio.com",
    "app_key": "the Clio app's App Key (CLIO_CLIENT_ID); never the App Secret",
    "interview": "the firm's interview file (.cmp, .manifest.xml or .anx), for checks",
    "clio_note": "true or false: write a note on the Clio matter after each import",
    "app_port": 'the port `mapctl app` listens on (Clio\'s "Import to ILS" action opens it)',
}
BOOLEAN_KEYS = ("clio_note",)  # issue 19
PORT_KEYS = ("app_port",)
DEFAULT_APP_PORT = 8770  # the example in messages; unset, `mapctl app` picks a free port
PATH_KEYS = ("mapping", "output_folder", "interview")
# What people write for a key, and the key it is.
SYNONYMS = {
    "client_id": "app_key",
    "clio_client_id": "app_key",
    "app_id": "app_key",
    "region": "clio_region",
    "base_url": "clio_base_url",
    "clio_url": "clio_base_url",
    "url": "clio_base_url",
    "output": "output_folder",
    "out": "output_folder",
    "out_dir": "output_folder",
    "clients_folder": "output_folder",
    "mapping_file": "mapping",
    "interview_file": "interview",
    "note": "clio_note",
    "clio_notes": "clio_note",
    "port": "app_port",
}
_SECRET = re.compile(r"secret|password|passwd|token", re.IGNORECASE)
_BASE_URL = re.compile(r"^https?://[^/\s]+$")


class SettingsError(MappingError):
    """The settings file is invalid: every problem, each at its FILE:LINE:COL (exit 1)."""


@dataclass(frozen=True)
class SettingsFile:
    """One settings file, checked: `values[key]` and where each value is written."""

    path: Path
    values: dict[str, str] = field(default_factory=dict)
    locations: dict[str, SourceLocation] = field(default_factory=dict)


def load_settings(path: Path) -> SettingsFile:
    """Read and check a settings file; `SettingsError` with every problem when it is bad."""
    shown = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise MapctlError(
            f"cannot read the settings file {shown}: {error.strerror or error}",
            hint="check MAPCTL_SETTINGS / MAPCTL_HOME, or the file's permissions",
        ) from None
    text, problem = decode(data, shown)
    if text is None:
        raise SettingsError([problem] if problem else [])
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return SettingsFile(path)  # an empty (or all-comments) file: no settings
    doc = parse(text, shown)
    problems = [p for p in doc.problems if p.code != "empty-file"]  # `---` alone: no settings
    values: dict[str, str] = {}
    locations: dict[str, SourceLocation] = {}
    if doc.data is not None and not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                doc.location(()),
                "a settings file must be YAML `key: value` lines",
                "wrong-type",
                hint="e.g. `mapping: mappings/firm.yaml`",
            )
        )
    elif isinstance(doc.data, dict):
        for key, value in doc.data.items():
            problem = _check(doc, str(key), value)
            if problem is not None:
                problems.append(problem)
            elif value is not None:
                values[key] = str(value).lower() if isinstance(value, bool) else str(value).strip()
                locations[key] = doc.location((key,))
        problems.extend(_clash(doc, values))
    if problems:
        raise SettingsError(problems)
    base = path.parent
    for key in PATH_KEYS:
        if key in values and not (key == "mapping" and _bundled_name(values[key], base)):
            values[key] = str(_absolute(values[key], base))
    return SettingsFile(path, values, locations)


def _check(doc: Document, key: str, value: Any) -> Problem | None:
    at = doc.location((key,), key=True)
    if _SECRET.search(key):
        # No source excerpt: the line may hold the secret itself.
        return Problem(
            f"'{key}': the settings file must not hold the App Secret or a token (everyone who "
            "can read the file would have it)",
            "secret-in-settings",
            at,
            hint="remove this line; set CLIO_CLIENT_SECRET, or let `mapctl connect` ask for it "
            "(it is kept in $MAPCTL_HOME/clio-token.json: private to you, by its mode on Linux "
            "and macOS and by your profile's permissions on Windows)",
        )
    if key not in KEYS:
        close = SYNONYMS.get(key.casefold()) or next(
            iter(difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.6)), None
        )
        hint = f"did you mean '{close}'?" if close else f"the keys are: {', '.join(KEYS)}"
        return doc.problem(
            at, f"unknown setting '{key}'", "unknown-key", hint=hint, length=len(key)
        )
    if value is None:
        return None  # `key:` with nothing: not set
    where = doc.location((key,))
    if key == "app_key" and isinstance(value, int) and not isinstance(value, bool):
        return None
    if key in BOOLEAN_KEYS or key in PORT_KEYS:
        return _check_typed(doc, key, value)
    if not isinstance(value, str) or not value.strip():
        what = "empty text" if isinstance(value, str) else _kind(value)
        return doc.problem(
            where,
            f"'{key}' must be text, got {what}",
            "wrong-type",
            hint=f"{key} is {KEYS[key]}"
            + ("; remove the line to leave it unset" if isinstance(value, str) else ""),
        )
    text = value.strip()
    if key == "clio_region" and text.casefold() not in REGIONS:
        near = difflib.get_close_matches(text.casefold(), list(REGIONS), n=1, cutoff=0.5)
        return doc.problem(
            where,
            f"unknown Clio region '{text}' (the regions are: {', '.join(REGIONS)})",
            "bad-value",
            hint=f"did you mean '{near[0]}'?" if near else "or give clio_base_url instead",
            length=len(text),
        )
    if key == "clio_base_url" and not _BASE_URL.match(_host_url(text)):
        return doc.problem(
            where,
            f"clio_base_url '{text}' is not a host address",
            "bad-value",
            hint="write e.g. https://eu.app.clio.com (or the sandbox's http://127.0.0.1:8765)",
            length=len(text),
        )
    return None


def _check_typed(doc: Document, key: str, value: Any) -> Problem | None:
    """`clio_note: true|false` (YAML's booleans) and `app_port: 1..65535` (issue 19)."""
    where = doc.location((key,))
    shown = f"'{value}'" if isinstance(value, str) else _kind(value)
    if key in BOOLEAN_KEYS:
        if isinstance(value, bool):
            return None
        return doc.problem(
            where,
            f"'{key}' must be true or false, got {shown}",
            "wrong-type",
            hint=f"{key} is {KEYS[key]}",
        )
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return None
    return doc.problem(
        where,
        f"'{key}' must be a port number from 1 to 65535, got {shown}",
        "wrong-type",
        hint=f"{key} is {KEYS[key]}, e.g. {key}: {DEFAULT_APP_PORT}",
    )


def _clash(doc: Document, values: dict[str, str]) -> list[Problem]:
    if "clio_region" in values and "clio_base_url" in values:
        first = doc.location(("clio_region",), key=True)
        return [
            doc.problem(
                doc.location(("clio_base_url",), key=True),
                f"give clio_region or clio_base_url, not both (clio_region is on line "
                f"{first.line})",
                "clash",
                hint="clio_region picks Clio's address for you; clio_base_url is for other hosts",
                length=len("clio_base_url"),
            )
        ]
    return []


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "a mapping"


def _host_url(text: str) -> str:
    return text.strip().rstrip("/").removesuffix("/api/v4")


def _absolute(text: str, base: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def _bundled_name(text: str, base: Path) -> bool:
    """`mapping: ils-client-interview.yaml` names the bundled mapping unless such a file sits
    next to the settings file (the rule `-m` and `extends` follow)."""
    return (
        os.sep not in text
        and "/" not in text
        and text in bundled_mapping_names()
        and not (base / text).is_file()
    )


# --- effective settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One effective setting: its value (None: unset) and where it came from."""

    key: str
    value: str | None
    origin: str  # "option --mapping", "environment CLIO_BASE_URL", "settings", "found", "default"
    location: SourceLocation | None = None  # in the settings file, when it came from there
    detail: str | None = None  # e.g. the default's rule

    def describe_origin(self) -> str:
        """Where it came from, for people: `settings /firm/settings.yaml:3:10`."""
        if self.location is not None:
            return f"{self.origin} {self.location}"
        if self.origin == "found":
            return f"found {self.detail}"
        return self.origin + (f": {self.detail}" if self.detail else "")

    def as_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "value": self.value,
            "origin": self.origin,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
        }


@dataclass(frozen=True)
class Setup:
    """Every effective setting a command needs. Build it with `resolve_setup`."""

    home: Setting
    settings_file: Setting
    mapping: Setting  # value None: the bundled default mapping
    output_folder: Setting
    base_url: Setting
    app_key: Setting
    interview: Setting
    # Issue 19; defaults here so that a Setup built elsewhere needs neither.
    clio_note: Setting = Setting("clio_note", "true", "default")
    app_port: Setting = Setting("app_port", None, "default")

    @property
    def note_wanted(self) -> bool:
        """Whether an import writes a note on the Clio matter (`clio_note`, default true)."""
        return self.clio_note.value != "false"

    @property
    def port(self) -> int | None:
        """The port `mapctl app` listens on and "Import to ILS" points at (`app_port`); None:
        not set (`mapctl app` picks a free port, and the action cannot be created)."""
        return int(self.app_port.value) if self.app_port.value else None

    @property
    def mapping_arg(self) -> str | None:
        """What `compile_mapping` takes: a path or a bundled name; None for the default."""
        return self.mapping.value

    @property
    def home_path(self) -> Path:
        return Path(str(self.home.value))

    @property
    def mapping_display(self) -> str:
        return self.mapping.value or f"<bundled>/{DEFAULT_MAPPING}"

    def mapping_source(self) -> str:
        """How the mapping was chosen, in words: "the bundled default", "set in FILE:LINE:COL"."""
        m = self.mapping
        if m.origin == "default":
            return "the bundled default"
        if m.origin == "found":
            return f"found as {m.detail}"
        if m.location is not None:
            return f"set in {m.location}"
        return "given with --mapping"

    def settings(self) -> list[Setting]:
        return [
            self.settings_file,
            self.home,
            self.mapping,
            self.output_folder,
            self.base_url,
            self.app_key,
            self.interview,
            self.clio_note,
            self.app_port,
        ]

    def clio_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` with the Clio address (--region, else the settings') and the settings' App Key
        filled in where the environment does not set them: what `engine.clio` reads."""
        merged = dict(env)
        if self.base_url.origin in ("settings", "option --region") and self.base_url.value:
            merged["CLIO_BASE_URL"] = self.base_url.value
        if self.app_key.origin == "settings" and self.app_key.value:
            merged["CLIO_CLIENT_ID"] = self.app_key.value
        return merged


def home_folder(env: Mapping[str, str]) -> Path:
    """$MAPCTL_HOME, default ~/.mapctl; a file in the way is a MapctlError (exit 1)."""
    from ..fsutil import home_folder as checked_home

    return checked_home(env)


def resolve_setup(
    env: Mapping[str, str],
    *,
    mapping: str | None = None,
    output_folder: str | os.PathLike[str] | None = None,
    region: str | None = None,
    interview: str | None = None,
    cwd: Path | None = None,
    read_file: bool = True,
) -> Setup:
    """The effective mapping, output folder, Clio address, App Key and interview file, each with
    its origin: the command-line option (the keyword arguments), then the environment, then the
    settings file, then the default. The one place every command (and the staff app) asks.

    Raises `SettingsError` for a bad settings file, or a mapping it names that does not exist.
    `read_file=False` ignores the settings file (doctor goes on after reporting a bad one).
    """
    here = cwd or Path.cwd()
    home = home_folder(env)
    home_setting = Setting(
        "home",
        str(home),
        "environment MAPCTL_HOME" if env.get("MAPCTL_HOME") else "default",
        detail=None if env.get("MAPCTL_HOME") else "~/.mapctl",
    )
    file_setting, loaded = _settings_file(env, home) if read_file else (_unread(), None)
    values = loaded.values if loaded else {}

    def from_file(key: str) -> Setting | None:
        if loaded is None or key not in values:
            return None
        return Setting(key, values[key], "settings", loaded.locations.get(key))

    return Setup(
        home=home_setting,
        settings_file=file_setting,
        mapping=_mapping(mapping, from_file("mapping"), here),
        output_folder=_output(output_folder, from_file("output_folder"), home, here),
        base_url=_base_url(env, region, from_file("clio_region"), from_file("clio_base_url"), home),
        app_key=_first(
            _env_setting(env, "CLIO_CLIENT_ID", "app_key"),
            from_file("app_key"),
            Setting("app_key", None, "default", detail="asked by `mapctl connect`"),
        ),
        interview=_first(
            Setting("interview", str(_absolute(interview, here)), "option --interview")
            if interview
            else None,
            from_file("interview"),
            Setting("interview", None, "default", detail="none"),
        ),
        clio_note=_first(
            from_file("clio_note"), Setting("clio_note", "true", "default", detail="true")
        ),
        app_port=_first(
            from_file("app_port"),
            Setting("app_port", None, "default", detail="none: `mapctl app` picks a free port"),
        ),
    )


def _first(*settings: Setting | None) -> Setting:
    return next(s for s in settings if s is not None)


def _env_setting(env: Mapping[str, str], name: str, key: str) -> Setting | None:
    value = env.get(name, "").strip()
    return Setting(key, value, f"environment {name}") if value else None


def _settings_file(env: Mapping[str, str], home: Path) -> tuple[Setting, SettingsFile | None]:
    named = env.get("MAPCTL_SETTINGS", "").strip()
    if named:
        path = _absolute(named, Path.cwd())
        if not path.is_file():
            raise MapctlError(
                f"MAPCTL_SETTINGS names {named}, which is not a file",
                hint="point it at the firm's settings.yaml (`mapctl init --settings` writes one), "
                "or unset it",
            )
        return Setting("settings_file", str(path), "environment MAPCTL_SETTINGS"), load_settings(
            path
        )
    path = home / SETTINGS_FILE
    if path.is_file():
        return Setting("settings_file", str(path), "default", detail="$MAPCTL_HOME"), load_settings(
            path
        )
    return Setting("settings_file", None, "default", detail=f"none at {path}"), None


def _unread() -> Setting:
    return Setting("settings_file", None, "default", detail="not read: it has problems")


def _mapping(option: str | None, setting: Setting | None, here: Path) -> Setting:
    if option:
        return Setting("mapping", option, "option --mapping")
    if setting is not None and setting.value is not None:
        if setting.value not in bundled_mapping_names() and not Path(setting.value).is_file():
            raise SettingsError([_missing_mapping(setting)])
        return setting
    found = here / FIRM_MAPPING
    if found.is_file():
        return Setting("mapping", str(found), "found", detail=f"./{FIRM_MAPPING.as_posix()}")
    return Setting("mapping", None, "default", detail=f"the bundled {DEFAULT_MAPPING}")


def _missing_mapping(setting: Setting) -> Problem:
    value = str(setting.value)
    folder = Path(value).parent
    names = sorted(p.name for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    close = difflib.get_close_matches(Path(value).name, names, n=1, cutoff=0.6)
    hint = (
        f"did you mean '{folder / close[0]}'?"
        if close
        else "paths in the settings file are relative to the file; "
        "`mapctl init` writes mappings/firm.yaml"
    )
    return Problem(
        f"the mapping {value} does not exist", "missing-file", setting.location, hint=hint
    )


def _output(
    option: str | os.PathLike[str] | None, setting: Setting | None, home: Path, here: Path
) -> Setting:
    if option:
        return Setting("output_folder", str(_absolute(str(option), here)), "option --out")
    if setting is not None:
        return setting
    return Setting(
        "output_folder", str(home / CLIENTS_FOLDER), "default", detail="$MAPCTL_HOME/clients"
    )


def _base_url(
    env: Mapping[str, str],
    region: str | None,
    by_region: Setting | None,
    by_url: Setting | None,
    home: Path,
) -> Setting:
    if region:
        if region.casefold() not in REGIONS:
            raise MapctlError(f"unknown Clio region {region!r}; use one of: {', '.join(REGIONS)}")
        return Setting("clio_base_url", REGIONS[region.casefold()], "option --region")
    from_env = _env_setting(env, "CLIO_BASE_URL", "clio_base_url")
    if from_env is not None:
        return from_env
    if by_region is not None and by_region.value:
        url = REGIONS[by_region.value.casefold()]
        return Setting("clio_base_url", url, "settings", by_region.location)
    if by_url is not None and by_url.value:
        return Setting("clio_base_url", _host_url(by_url.value), "settings", by_url.location)
    connected = connected_base_url(home)
    if connected is not None:  # nothing chose a host: the one `mapctl connect` stored is used
        return Setting(
            "clio_base_url", connected, "connection", detail="where `mapctl connect` connected"
        )
    return Setting("clio_base_url", DEFAULT_BASE_URL, "default")


def connected_base_url(home: Path) -> str | None:
    """The Clio host of the connection stored in `home` (`mapctl connect`), read without the
    tokens; None when there is none (or it cannot be read: doctor and the commands say so)."""
    import json

    try:
        data = json.loads((home / TOKEN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("base_url") if isinstance(data, dict) else None
    return value if isinstance(value, str) and _BASE_URL.match(value) else None


def format_settings(setup: Setup) -> str:
    """`mapctl settings`: key, value, origin; like `git config --show-origin`, one per line."""
    rows = [
        (s.key, s.value if s.value is not None else "(not set)", s.describe_origin())
        for s in setup.settings()
    ]
    if setup.mapping.value is None:
        rows[2] = ("mapping", setup.mapping_display, setup.mapping.describe_origin())
    width = max(len(key) for key, _, _ in rows)
    value_width = min(60, max(len(value) for _, value, _ in rows))
    return "\n".join(
        f"{key:<{width}}  {value:<{value_width}}  {origin}" for key, value, origin in rows
    )
