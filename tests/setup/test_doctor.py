"""`mapctl doctor` end to end over HTTP against the sandbox, seeded with a firm whose Clio custom
fields differ from the mapping (a missing field, a near-miss name, a wrong type, picklist options
that differ from the interview's), and `--create-fields`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from mapctl.cli import AppState
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.sandbox.server import Sandbox

from tests.conftest import with_slashes
from tests.setup.conftest import interview_file

TYPE_TAGS = {
    "text": "text",
    "number": "number",
    "date": "date",
    "true_false": "trueFalse",
    "multiple_choice": "multipleChoice",
}


def firm_interview(folder: Path, options: dict[str, list[str]]) -> Path:
    """An interview with every answer of the bundled mapping (right types); `options` gives the
    multiple-choice variables' options."""
    compiled = compile_mapping(None)
    lines = []
    for rule in compiled.answers:
        tag = TYPE_TAGS[rule.type]
        if rule.type == "multiple_choice":
            opts = "".join(f'<option name="{o}"/>' for o in options.get(rule.name, ["X"]))
            lines.append(f'    <{tag} name="{rule.name}"><options>{opts}</options></{tag}>')
        else:
            lines.append(f'    <{tag} name="{rule.name}"/>')
    path = interview_file(folder, {}, [])
    text = path.read_text(encoding="utf-8").replace("\n\n", "\n" + "\n".join(lines) + "\n")
    path.write_text(text, encoding="utf-8")
    return path


MARITAL = ["Single", "Married", "Divorced", "Widowed", "Domestic Partnership"]
CITIZENSHIP = ["US Citizen", "Permanent Resident", "Other", "Non-citizen"]


@pytest.fixture
def firm(tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A firm folder set up by `mapctl init --settings`, with the interview named in its settings,
    as the current folder."""
    folder = tmp_path / "firm"
    assert run_cli("init", str(folder), "--settings").exit_code == 0
    interview = firm_interview(
        folder,
        {
            "Client Marital Status MC": MARITAL,
            "Client Citizenship MC": CITIZENSHIP,
            "Spouse Citizenship MC": CITIZENSHIP,
        },
    )
    settings = folder / "settings.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + f"interview: {interview.name}\n", encoding="utf-8"
    )
    monkeypatch.chdir(folder)
    return folder


def clean(text: str, sandbox: Sandbox, firm: Path, home: Path) -> str:
    return with_slashes(
        text.replace(sandbox.base_url, "$CLIO")
        .replace(str(home), "$MAPCTL_HOME")
        .replace(str(firm), "$FIRM")
        .replace(str(Path(__file__).resolve().parents[2]), "$MAPCTL")
    )


def env_with(connected: dict[str, str], firm: Path) -> dict[str, str]:
    return {**connected, "MAPCTL_SETTINGS": str(firm / "settings.yaml")}


def test_doctor_names_each_problem(
    run_cli: Any,
    connected: dict[str, str],
    firm: Path,
    firm_sandbox: Sandbox,
    mapctl_home: Path,
    snapshot_txt: Any,
) -> None:
    env = env_with(connected, firm)
    if sys.platform == "win32":  # the home inside the profile, as %USERPROFILE%\.mapctl is
        env["USERPROFILE"] = str(mapctl_home.parent)  # (doctor warns otherwise)
    result = run_cli("doctor", env=env)
    assert result.exit_code == 1, result.output
    text = clean(result.stdout, firm_sandbox, firm, mapctl_home)
    if sys.platform == "win32":  # one check more there: what protects the tokens
        said = "[ok  ] Clio connection $MAPCTL_HOME/clio-token.json: inside your Windows profile\n"
        assert said in text
        text = text.replace(said, "").replace(" (20 passed, ", " (19 passed, ")
    assert text == snapshot_txt
    out = result.stdout
    assert "did you mean 'Martial Status'?" in out  # the near-miss name
    assert "no contact custom field named 'Date of Death'" in out  # the missing field
    assert "'Gender' (text_line, id 71001) is the wrong type" in out  # the wrong type
    assert "Clio has options the interview does not offer: Dual Citizen" in out
    assert "the interview offers options Clio's field lacks: Non-citizen" in out


def test_doctor_json(run_cli: Any, connected: dict[str, str], firm: Path) -> None:
    result = run_cli("doctor", "--format", "json", env=env_with(connected, firm))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["exit_code"] == 1
    failed = {c["name"] for c in report["checks"] if c["status"] == "fail"}
    assert failed == {
        "field gender",
        "field marital_status",
        "field date_of_death",
        "options citizenship",
    }
    assert all({"name", "status", "message", "hint"} == set(c) for c in report["checks"])


def test_create_fields_makes_the_missing_ones_then_they_pass(
    run_cli: Any, connected: dict[str, str], firm: Path, firm_sandbox: Sandbox
) -> None:
    env = env_with(connected, firm)
    before = {f["id"]: dict(f) for f in firm_sandbox.store.custom_fields.values()}
    result = run_cli("doctor", "--create-fields", "--yes", env=env)
    assert "created custom field 'Marital Status' (picklist" in result.stderr
    assert "created custom field 'Date of Death' (date" in result.stderr
    made = [f for f in firm_sandbox.store.custom_fields.values() if f["id"] not in before]
    assert sorted((f["name"], f["field_type"], f["parent_type"]) for f in made) == [
        ("Date of Death", "date", "Contact"),
        ("Marital Status", "picklist", "Contact"),
    ]
    marital = next(f for f in made if f["name"] == "Marital Status")
    assert [o["option"] for o in marital["picklist_options"]] == MARITAL
    # Existing fields are never changed (Gender stays a text field; Martial Status stays).
    for ident, field in before.items():
        assert firm_sandbox.store.custom_fields[ident] == field
    posts = [t for m, t in firm_sandbox.requests if m == "POST" and "/api/v4/" in t]
    assert len(posts) == 2
    # The report after creating, and a fresh doctor: the created fields pass.
    for output in (result.stdout, run_cli("doctor", env=env).stdout):
        lines = output.splitlines()
        assert any(line.startswith("[ok  ] custom field marital_status") for line in lines), output
        assert any(line.startswith("[ok  ] custom field date_of_death") for line in lines), output
        assert any(line.startswith("[FAIL] custom field gender") for line in lines), output
    assert result.exit_code == 1  # Gender's type is still wrong: doctor never changes it
    again = run_cli("doctor", "--create-fields", "--yes", env=env)
    assert "No custom fields to create." in again.stderr
    assert len([t for m, t in firm_sandbox.requests if m == "POST" and "/api/v4/" in t]) == 2


def test_create_fields_asks_first(
    run_cli: Any, connected: dict[str, str], firm: Path, firm_sandbox: Sandbox, mapctl_home: Path
) -> None:
    env = env_with(connected, firm)
    count = len(firm_sandbox.store.custom_fields)
    refused = run_cli("doctor", "--create-fields", env=env)
    assert refused.exit_code == 2, refused.output
    assert "pass --yes" in refused.stderr
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    declined = run_cli("doctor", "--create-fields", input="n\n", state=state)
    assert "Create them in Clio? [y/N]" in declined.stderr
    assert "Nothing was created." in declined.stderr
    assert len(firm_sandbox.store.custom_fields) == count
    state = AppState(env={"MAPCTL_HOME": str(mapctl_home), **env}, interactive=True)
    accepted = run_cli("doctor", "--create-fields", input="y\n", state=state)
    assert len(firm_sandbox.store.custom_fields) == count + 2, accepted.output


def test_doctor_passes_on_the_demo_firm(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.clio.conftest import connect_via_cli

    monkeypatch.chdir(tmp_path)
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        result = run_cli("doctor", env=env)
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("imports will work")


def test_doctor_when_clio_is_unreachable(
    run_cli: Any, connected: dict[str, str], firm: Path, firm_sandbox: Sandbox
) -> None:
    firm_sandbox.stop()
    result = run_cli("doctor", env=env_with(connected, firm))
    assert result.exit_code == 3, result.output
    assert "[FAIL] Clio at" in result.stdout
    assert "could not reach Clio" in result.stdout
    # The checks that need no Clio still ran.
    assert "[ok  ] mapping" in result.stdout and "ledger" in result.stdout


def test_doctor_when_not_connected(run_cli: Any, firm: Path, firm_sandbox: Sandbox) -> None:
    env = {"CLIO_BASE_URL": firm_sandbox.base_url, "MAPCTL_SETTINGS": str(firm / "settings.yaml")}
    result = run_cli("doctor", env=env)
    assert result.exit_code == 1, result.output
    assert (
        f"[FAIL] Clio ({firm_sandbox.base_url} (environment CLIO_BASE_URL)): not asked: not "
        "connected to Clio" in result.stdout
    )
    assert "hint: run `mapctl connect` first" in result.stdout


def test_doctor_with_a_revoked_token(
    run_cli: Any, connected: dict[str, str], firm: Path, firm_sandbox: Sandbox
) -> None:
    firm_sandbox.revoke_refresh_tokens()
    firm_sandbox.expire_tokens()
    result = run_cli("doctor", env=env_with(connected, firm))
    assert result.exit_code == 1, result.output
    assert "[ok  ] Clio at" in result.stdout
    assert "[FAIL] Clio token:" in result.stdout


def test_doctor_reports_a_bad_settings_file_and_goes_on(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "settings.yaml"
    settings.write_text("mapping: nowhere.yaml\nouput_folder: out\n", encoding="utf-8")
    result = run_cli("doctor", env={"MAPCTL_SETTINGS": str(settings)})
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (f"[FAIL] settings: {settings}:2:1: unknown setting 'ouput_folder'"), (
        result.stdout
    )
    assert lines[1] == "       hint: did you mean 'output_folder'?"
    assert any(line.startswith("[ok  ] mapping <bundled>/") for line in lines)


def test_doctor_output_folder_must_exist_when_set(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "settings.yaml"
    settings.write_text("output_folder: share/clients\n", encoding="utf-8")
    env = {"MAPCTL_SETTINGS": str(settings)}
    missing = run_cli("doctor", env=env)
    assert f"[FAIL] output folder {tmp_path / 'share' / 'clients'}" in missing.stdout
    (tmp_path / "share" / "clients").mkdir(parents=True)
    present = run_cli("doctor", env=env)
    assert (
        f"[ok  ] output folder {tmp_path / 'share' / 'clients'} (settings {settings}:1:16): exists and "
        "is writable" in present.stdout
    ), present.stdout


def test_doctor_with_an_invalid_mapping(
    run_cli: Any, connected: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("version: 1\nanswers: {A TE: 'upper('}\n", "utf-8")
    result = run_cli("doctor", "-m", "bad.yaml", env=connected)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith(
        "[FAIL] mapping bad.yaml (option --mapping): 1 problem, the first: bad.yaml:2:"
    ), result.stdout
    assert lines[2] == "       hint: run `mapctl validate bad.yaml` to see them all"
    assert "[skip] custom fields: not compared (the mapping is invalid)" in lines


def test_doctor_and_settings_name_the_host_of_the_stored_connection(
    run_cli: Any, mapctl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paper cut 1 (issue 15): connected to a sandbox, with nothing else naming a host, doctor
    said "[ok] Clio at https://app.clio.com" (a host it never asked) and settings said
    "https://app.clio.com (default)". Both now name the host actually used, and why."""
    from tests.clio.conftest import connect_via_cli

    monkeypatch.chdir(tmp_path)
    with Sandbox() as sandbox:
        connect_via_cli(run_cli, sandbox)
        env = {"CLIO_CLIENT_ID": "sandbox-app"}  # no CLIO_BASE_URL: the stored connection's
        settings = run_cli("settings", "--format", "json", env=env)
        result = run_cli("doctor", env=env)
    assert json.loads(settings.stdout)["clio_base_url"]["value"] == sandbox.base_url
    assert json.loads(settings.stdout)["clio_base_url"]["origin"] == "connection"
    assert result.exit_code == 0, result.output
    assert (
        f"[ok  ] Clio at {sandbox.base_url} (connection: where `mapctl connect` connected): "
        "reachable" in result.stdout
    )
    assert "app.clio.com" not in result.stdout
