"""Settings: the file's checks (every problem at FILE:LINE:COL, did-you-mean, no App Secret),
precedence (option, environment, file, default), and the commands that use them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.engine.sandbox.server import Sandbox
from mapctl.engine.setup.settings import (
    DEFAULT_ILS_STEPS,
    SettingsError,
    load_settings,
    resolve_setup,
)

from tests.clio.conftest import connect_via_cli
from tests.conftest import with_slashes


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_settings_file(run_cli: Any, mapctl_home: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = run_cli("settings", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert {k: (v["value"], v["origin"]) for k, v in shown.items()} == {
        "settings_file": (None, "default"),
        "home": (str(mapctl_home), "environment MAPCTL_HOME"),
        "mapping": (None, "default"),
        "output_folder": (str(mapctl_home / "clients"), "default"),
        "clio_base_url": ("https://app.clio.com", "default"),
        "app_key": (None, "default"),
        "interview": (None, "default"),
        "clio_note": ("true", "default"),
        "app_port": (None, "default"),
        "ils_steps": ("\n".join(DEFAULT_ILS_STEPS), "default"),
    }


def test_the_ils_steps_are_a_setting(run_cli: Any, tmp_path: Path) -> None:
    """Issue 18, item 6: the steps the app shows after an import, as the firm has ILS set up."""
    settings = write(
        tmp_path / "settings.yaml",
        "ils_steps:\n  - Open ILS's Clients tab\n  - Press New, paste the name and notes\n",
    )
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("ils_steps")]
    assert "Open ILS's Clients tab | Press New, paste the name and notes" in line
    setup = resolve_setup({"MAPCTL_SETTINGS": str(settings)})
    assert setup.steps_in_ils == ["Open ILS's Clients tab", "Press New, paste the name and notes"]
    assert (
        resolve_setup({}, read_file=False).steps_in_ils[0].startswith("In ILS, open SmartContent")
    )
    write(settings, "ils_steps:\n  - 3\n")
    with pytest.raises(SettingsError) as refused:
        load_settings(settings)
    assert "'ils_steps' must be a list of steps, each a line of text" in str(refused.value.problems)


FIRM_SETTINGS = """\
# the firm's settings
mapping: mappings/firm.yaml
output_folder: ../share/clients
clio_region: eu
app_key: firm-app-key
interview: Client Interview.cmp
"""


def test_the_settings_file_relative_to_itself(run_cli: Any, mapctl_home: Path,
                                              tmp_path: Path) -> None:  # fmt: skip
    firm = tmp_path / "firm"
    write(firm / "mappings" / "firm.yaml", "version: 1\nextends: ils-client-interview.yaml\n")
    settings = write(firm / "settings.yaml", FIRM_SETTINGS)
    result = run_cli("settings", "--format", "json", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    values = {k: (v["value"], v["origin"], v["line"], v["column"]) for k, v in shown.items()}
    assert values["settings_file"] == (str(settings), "environment MAPCTL_SETTINGS", None, None)
    assert values["mapping"] == (str(firm / "mappings" / "firm.yaml"), "settings", 2, 10)
    assert values["output_folder"] == (str(tmp_path / "share" / "clients"), "settings", 3, 16)
    assert values["clio_base_url"] == ("https://eu.app.clio.com", "settings", 4, 14)
    assert values["app_key"] == ("firm-app-key", "settings", 5, 10)
    assert values["interview"] == (str(firm / "Client Interview.cmp"), "settings", 6, 12)
    assert shown["mapping"]["file"] == str(settings)
    text = run_cli("settings", env={"MAPCTL_SETTINGS": str(settings)}).stdout
    assert f"settings {settings}:4:14" in text  # like git config --show-origin
    assert "https://eu.app.clio.com" in text


def test_precedence_option_environment_file_default(mapctl_home: Path, tmp_path: Path) -> None:
    firm = tmp_path / "firm"
    write(firm / "mappings" / "firm.yaml", "version: 1\nextends: ils-client-interview.yaml\n")
    write(
        mapctl_home / "settings.yaml", FIRM_SETTINGS.replace("mappings/", str(firm) + "/mappings/")
    )
    env = {"MAPCTL_HOME": str(mapctl_home)}
    from_file = resolve_setup(env, cwd=tmp_path)
    assert (from_file.base_url.value, from_file.base_url.origin) == (
        "https://eu.app.clio.com", "settings",
    )  # fmt: skip
    assert from_file.app_key.origin == "settings"
    assert from_file.settings_file.value == str(mapctl_home / "settings.yaml")
    env_wins = resolve_setup(
        {**env, "CLIO_BASE_URL": "http://127.0.0.1:9", "CLIO_CLIENT_ID": "env-key"}, cwd=tmp_path
    )
    assert (env_wins.base_url.value, env_wins.base_url.origin) == (
        "http://127.0.0.1:9", "environment CLIO_BASE_URL",
    )  # fmt: skip
    assert (env_wins.app_key.value, env_wins.app_key.origin) == (
        "env-key", "environment CLIO_CLIENT_ID",
    )  # fmt: skip
    assert env_wins.clio_env({"CLIO_BASE_URL": "http://127.0.0.1:9"})["CLIO_BASE_URL"] == (
        "http://127.0.0.1:9"
    )
    other = write(tmp_path / "other.yaml", "version: 1\nanswers: {A TE: client.name}\n")
    option_wins = resolve_setup(
        {**env, "CLIO_BASE_URL": "http://127.0.0.1:9"},
        mapping=str(other),
        output_folder=tmp_path / "out",
        region="au",
        cwd=tmp_path,
    )
    assert (option_wins.mapping.value, option_wins.mapping.origin) == (
        str(other), "option --mapping",
    )  # fmt: skip
    assert option_wins.output_folder.value == str(tmp_path / "out")
    assert option_wins.output_folder.origin == "option --out"
    assert option_wins.base_url.value == "https://au.app.clio.com"
    assert option_wins.clio_env(env)["CLIO_BASE_URL"] == "https://au.app.clio.com"
    assert from_file.clio_env(env) == {
        **env, "CLIO_BASE_URL": "https://eu.app.clio.com", "CLIO_CLIENT_ID": "firm-app-key",
    }  # fmt: skip


def test_the_firm_mapping_is_found_in_the_current_folder(tmp_path: Path, mapctl_home: Path) -> None:
    env = {"MAPCTL_HOME": str(mapctl_home)}
    assert resolve_setup(env, cwd=tmp_path).mapping.value is None  # the bundled default
    firm = write(tmp_path / "mappings" / "firm.yaml", "version: 1\nanswers: {A TE: client.name}\n")
    found = resolve_setup(env, cwd=tmp_path)
    assert (found.mapping.value, found.mapping.origin) == (str(firm), "found")
    assert found.mapping_source() == "found as ./mappings/firm.yaml"


def test_a_bundled_mapping_by_name(tmp_path: Path, mapctl_home: Path) -> None:
    write(mapctl_home / "settings.yaml", "mapping: example-firm-override.yaml\n")
    setup = resolve_setup({"MAPCTL_HOME": str(mapctl_home)}, cwd=tmp_path)
    assert setup.mapping.value == "example-firm-override.yaml"


BAD_SETTINGS = """\
mappng: mappings/firm.yaml
client_id: firm-app-key
app_secret: s3cr3t-do-not-show
clio_region: europe
clio_base_url: https://eu.app.clio.com
output_folder: [a, b]
interview:
"""


def test_every_problem_at_once(run_cli: Any, tmp_path: Path, snapshot_txt: Any,
                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "settings.yaml", BAD_SETTINGS)
    result = run_cli("settings", env={"MAPCTL_SETTINGS": "settings.yaml"})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "s3cr3t" not in result.output  # the secret's line is never echoed
    assert with_slashes(result.stderr.replace(str(tmp_path), "$DIR")) == snapshot_txt


def test_a_yaml_syntax_error(tmp_path: Path) -> None:
    settings = write(tmp_path / "settings.yaml", "mapping: a.yaml\n  output_folder: x\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(settings)
    (problem,) = caught.value.problems
    # The mapping loader's plain-words indentation message (an admin's day, issue 11).
    assert (problem.location.line, problem.location.column) == (2, 3)  # type: ignore[union-attr]
    assert problem.message == (
        "invalid YAML indentation: 'output_folder' (line 2) is indented more than 'mapping' on "
        "line 1 (column 1), so YAML reads it as more of the value of 'mapping'"
    )
    assert problem.hint == "start 'output_folder' in column 1, like 'mapping'"


def test_not_a_mapping_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path / "list.yaml", "- mapping: a.yaml\n"))
    assert caught.value.problems[0].message == "a settings file must be YAML `key: value` lines"
    assert load_settings(write(tmp_path / "empty.yaml", "# nothing yet\n\n")).values == {}


def test_a_missing_mapping_is_reported_where_the_settings_name_it(
    run_cli: Any, tmp_path: Path
) -> None:
    write(tmp_path / "mappings" / "firm.yaml", "version: 1\nanswers: {A TE: client.name}\n")
    settings = write(tmp_path / "settings.yaml", "# firm\nmapping: mappings/frim.yaml\n")
    result = run_cli("preview", "00002-Pritchett", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"{settings}:2:10: error: the mapping {tmp_path / 'mappings' / 'frim.yaml'} does not exist\n"
        f"  hint: did you mean '{tmp_path / 'mappings' / 'firm.yaml'}'?\n"
    )


def test_mapctl_settings_naming_a_missing_file(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("settings", env={"MAPCTL_SETTINGS": str(tmp_path / "nope.yaml")})
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: MAPCTL_SETTINGS names {tmp_path / 'nope.yaml'}, which")


def test_connect_uses_the_settings_address_and_app_key(run_cli: Any, tmp_path: Path) -> None:
    with Sandbox() as sandbox:
        settings = write(
            tmp_path / "settings.yaml",
            f"clio_base_url: {sandbox.base_url}/\napp_key: sandbox-app\n",
        )
        result = run_cli("connect", "--print-url", env={"MAPCTL_SETTINGS": str(settings)})
        assert result.exit_code == 0, result.output
        url = httpx.URL(result.stdout.strip())
        assert str(url).startswith(f"{sandbox.base_url}/oauth/authorize?")
        assert url.params["client_id"] == "sandbox-app"


def test_import_and_preview_use_the_settings_mapping_and_say_so(
    run_cli: Any, tmp_path: Path, mapctl_home: Path
) -> None:
    firm = tmp_path / "firm"
    mapping = write(
        firm / "mappings" / "firm.yaml",
        "version: 1\nextends: ils-client-interview.yaml\ntitle: Smith & Jones Interview\n",
    )
    settings = write(
        firm / "settings.yaml", "mapping: mappings/firm.yaml\noutput_folder: share/clients\n"
    )
    with Sandbox() as sandbox:
        env = {**connect_via_cli(run_cli, sandbox), "MAPCTL_SETTINGS": str(settings)}
        shown = run_cli("preview", "00002-Pritchett", env=env)
        assert shown.exit_code == 0, shown.output
        assert shown.stdout.splitlines()[-1] == (
            f"Mapping used: Smith & Jones Interview, {mapping} (set in {settings}:1:10)"
        )
        as_json = run_cli("preview", "00002-Pritchett", "--format", "json", env=env)
        assert list(json.loads(as_json.stdout)) == ["matter", "contacts", "unmatched_labels"]
        assert f"Mapping used: Smith & Jones Interview, {mapping}" in as_json.stderr
        done = run_cli("import", "00002-Pritchett", "--yes", "--format", "json", env=env)
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["mapping"] == {
        "path": str(mapping),
        "title": "Smith & Jones Interview",
        "origin": "settings",
        "source": f"set in {settings}:1:10",
    }
    folder = Path(data["folder"])
    assert folder.parent == firm / "share" / "clients"  # the settings' output folder
    info = json.loads((folder / "client.json").read_text(encoding="utf-8"))
    assert (info["mapping_title"], info["mapping_file"]) == (
        "Smith & Jones Interview",
        str(mapping),
    )


def test_render_says_which_mapping_it_found(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import TESTS

    bundle = TESTS / "cases" / "no-spouse" / "bundle.json"
    monkeypatch.chdir(tmp_path)
    silent = run_cli("render", str(bundle), "-o", str(tmp_path / "a.anx"))
    assert silent.exit_code == 0 and silent.stderr == "", silent.output  # the bundled default
    write(tmp_path / "mappings" / "firm.yaml",
          "version: 1\nextends: ils-client-interview.yaml\ntitle: Firm Interview\n")  # fmt: skip
    found = run_cli("render", str(bundle), "-o", str(tmp_path / "b.anx"))
    assert found.exit_code == 0, found.output
    assert with_slashes(found.stderr) == with_slashes(
        f"Mapping used: Firm Interview, {tmp_path / 'mappings' / 'firm.yaml'} (found as "
        "./mappings/firm.yaml)\n"
    )
    assert 'title="Firm Interview"' in (tmp_path / "b.anx").read_text(encoding="utf-8")


def test_region_and_base_url_clash_and_a_numeric_app_key(tmp_path: Path) -> None:
    settings = write(
        tmp_path / "settings.yaml",
        "clio_region: eu\nclio_base_url: https://eu.app.clio.com\napp_key: 12345\n",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(settings)
    (problem,) = caught.value.problems
    assert str(problem.location) == f"{settings}:2:1"
    assert problem.message == (
        "give clio_region or clio_base_url, not both (clio_region is on line 1)"
    )
    fine = load_settings(
        write(tmp_path / "ok.yaml", "app_key: 12345\nclio_base_url: http://h:1/api/v4\n")
    )
    assert fine.values == {"app_key": "12345", "clio_base_url": "http://h:1/api/v4"}
    setup = resolve_setup({"MAPCTL_SETTINGS": str(tmp_path / "ok.yaml")}, cwd=tmp_path)
    assert setup.base_url.value == "http://h:1"
