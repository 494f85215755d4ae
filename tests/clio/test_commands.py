"""connect -> search -> fetch -> disconnect through the real CLI against the sandbox over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mapctl.cli import AppState
from mapctl.engine.sandbox.server import APP_SECRET, Sandbox

from tests.clio.conftest import connect_via_cli, sandbox_env
from tests.conftest import POSIX_MODES, ROOT


def test_connect_search_fetch(
    run_cli: Any, clio_sandbox: Sandbox, mapctl_home: Path, snapshot_txt: Any
) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    token_file = mapctl_home / "clio-token.json"
    assert not POSIX_MODES or token_file.stat().st_mode & 0o777 == 0o600
    stored = json.loads(token_file.read_text())
    assert stored["base_url"] == clio_sandbox.base_url

    found = run_cli("search", "pritchett", env=env)
    assert found.exit_code == 0, found.output
    assert found.stdout == snapshot_txt
    assert found.stderr == "3 matters found.\n"
    assert max(len(line) for line in found.stdout.splitlines()) <= 100

    fetched = run_cli("fetch", "00002-Pritchett", env=env)
    assert fetched.exit_code == 0, fetched.output
    bundle = json.loads(fetched.stdout)
    assert bundle["matter"]["display_number"] == "00002-Pritchett"
    assert [c["name"] for c in bundle["contacts"][:3]] == [
        "Jay Pritchett",
        "Gloria Pritchett",
        "Claire Dunphy",
    ]
    labels = [r["description"] for r in bundle["relationships"]]
    assert labels == [
        "Wife",
        "Daughter",
        "son",
        "Step-Son",
        "SON",
        "Granddaughter",
        "grand-daughter",
        "Grand Son",
        "grandchild",
        "Son-in-law",
        "Son-in-Law",
        "Ex-Wife",
        "",
        "Business",
    ]

    everything = [found.stdout, found.stderr, fetched.stderr, json.dumps(bundle)]
    for secret in (stored["access_token"], stored["refresh_token"], APP_SECRET):
        assert all(secret not in text for text in everything)


def test_search_json_gets_every_page(run_cli: Any, mapctl_home: Path) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        before = len(sandbox.requests)
        result = run_cli("search", "Estate", "--format", "json", "--sort", "number", env=env)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert len(rows) == 471
        assert list(rows[0]) == [
            "id",
            "display_number",
            "description",
            "client_name",
            "status",
            "open_date",
        ]
        assert [r["display_number"] for r in rows] == sorted(r["display_number"] for r in rows)
        pages = [t for m, t in sandbox.requests[before:] if t.startswith("/api/v4/matters")]
        assert len(pages) == 3 and all("page_token=" in t for t in pages[1:])


def test_short_query_is_a_usage_error(run_cli: Any) -> None:
    result = run_cli("search", "x")
    assert result.exit_code == 2
    assert "Invalid value for QUERY: give at least 2 characters to search for" in result.stderr


def test_not_connected(run_cli: Any, clio_sandbox: Sandbox) -> None:
    result = run_cli("search", "pritchett", env=sandbox_env(clio_sandbox))
    assert (result.exit_code, result.stderr) == (
        3,
        "error: not connected to Clio\n  hint: run `mapctl connect` first\n",
    )


def test_fetch_to_a_file_never_overwrites(
    run_cli: Any, clio_sandbox: Sandbox, tmp_path: Path
) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    out = tmp_path / "pritchett.json"
    first = run_cli("fetch", "9002", "-o", str(out), env=env)
    assert first.exit_code == 0, first.output
    assert first.stderr == f"Saved 00002-Pritchett (15 contacts) to {out}\n"
    saved = out.read_text()
    before = len(clio_sandbox.requests)
    again = run_cli("fetch", "9002", "-o", str(out), env=env)
    assert again.exit_code == 1
    assert again.stderr == (
        f"error: {out} already exists; mapctl never overwrites it\n"
        "  hint: pass --force to replace it, or choose another output path\n"
    )
    assert len(clio_sandbox.requests) == before  # refused before asking Clio
    assert out.read_text() == saved
    forced = run_cli("fetch", "9002", "-o", str(out), "--force", "--redact", env=env)
    assert forced.exit_code == 0 and "redacted" in forced.stderr


def test_fetch_redacted_has_no_personal_data(
    run_cli: Any, clio_sandbox: Sandbox, mapctl_home: Path
) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    plain = json.loads(run_cli("fetch", "00002-Pritchett", env=env).stdout)
    result = run_cli("fetch", "00002-Pritchett", "--redact", env=env)
    assert result.exit_code == 0, result.output
    redacted = json.loads(result.stdout)
    text = result.stdout
    for word in (
        "Pritchett",
        "Gloria",
        "Dunphy",
        "jay.pritchett",
        "900-12-3456",
        "1947-05-23",
        "Closets",
    ):
        assert word not in text, word
    assert [r["description"] for r in redacted["relationships"]] == [
        r["description"] for r in plain["relationships"]
    ]
    assert redacted["custom_fields"] == plain["custom_fields"]
    assert redacted == json.loads(run_cli("fetch", "9002", "--redact", env=env).stdout)
    key = mapctl_home / "redact.key"  # the fakes are keyed by this home's secret
    assert not POSIX_MODES or key.stat().st_mode & 0o777 == 0o600


def test_unknown_matter(run_cli: Any, clio_sandbox: Sandbox) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    result = run_cli("fetch", "00077-Nobody", env=env)
    assert (result.exit_code, result.stderr) == (
        3,
        "error: Clio has no matter with display number '00077-Nobody'\n"
        "  hint: find it with: mapctl search '00077-Nobody'\n",
    )


def test_expired_token_is_refreshed(run_cli: Any, mapctl_home: Path) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        before = json.loads((mapctl_home / "clio-token.json").read_text())
        sandbox.expire_tokens()
        result = run_cli("search", "pritchett", "--format", "json", env=env)
        assert result.exit_code == 0, result.output
        after = json.loads((mapctl_home / "clio-token.json").read_text())
        assert after["access_token"] != before["access_token"]
        assert after["refresh_token"] == before["refresh_token"]


def test_revoked_refresh_token_is_a_clear_error(run_cli: Any) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.expire_tokens()
        sandbox.revoke_refresh_tokens()
        result = run_cli("search", "pritchett", env=env)
        assert (result.exit_code, result.stderr) == (
            3,
            "error: Clio refused to refresh the access token (invalid_grant)\n"
            "  hint: run `mapctl connect` to connect mapctl to Clio again\n",
        )


def test_429_then_success(run_cli: Any) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        sandbox.force_429(2, retry_after=0)
        result = run_cli("search", "pritchett", "--format", "json", env=env)
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == 3


def test_disconnect_revokes_at_clio(run_cli: Any, mapctl_home: Path) -> None:
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        token = json.loads((mapctl_home / "clio-token.json").read_text())["access_token"]
        result = run_cli("disconnect", env=env)
        assert (result.exit_code, result.stdout) == (
            0,
            "Disconnected from Clio: the tokens are deleted.\n",
        )
        assert not (mapctl_home / "clio-token.json").exists()
        response = httpx.get(
            sandbox.base_url + "/api/v4/matters.json", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        again = run_cli("disconnect", env=env)
        assert again.stdout == "Not connected to Clio: nothing to do.\n"


def test_connecting_or_disconnecting_forgets_cached_clio_data(
    run_cli: Any, mapctl_home: Path
) -> None:
    """Another firm's account on the same host must not see the last one's custom fields."""
    with Sandbox() as sandbox:
        stale = mapctl_home / "cache" / "custom-fields-0123456789abcdef.json"
        stale.parent.mkdir(parents=True)
        stale.write_text('{"fetched_at": 0, "custom_fields": []}')
        env = connect_via_cli(run_cli, sandbox)
        assert not (mapctl_home / "cache").exists()
        assert run_cli("fetch", "9002", env=env).exit_code == 0
        assert list((mapctl_home / "cache").iterdir())
        assert run_cli("disconnect", env=env).exit_code == 0
        assert not (mapctl_home / "cache").exists()


def test_connect_says_the_tokens_are_saved_when_the_check_fails(
    run_cli: Any, mapctl_home: Path
) -> None:
    with Sandbox(failure_rate=1.0) as sandbox:  # every API request fails; OAuth works
        env = sandbox_env(sandbox)
        url = run_cli("connect", "--print-url", env=env).stdout.strip()
        approval = httpx.get(url, follow_redirects=True)
        result = run_cli("connect", "--code", str(approval.url), env=env)
    token_file = mapctl_home / "clio-token.json"
    assert (result.exit_code, result.stdout, result.stderr) == (
        3,
        "",
        f"error: mapctl is connected (tokens saved in {token_file}), but checking the "
        "connection failed: Clio failed with HTTP 500 3 times in a row\n"
        "  hint: Clio may be having trouble: try again in a few minutes\n",
    )
    assert token_file.exists()


def test_connect_with_a_reused_code(run_cli: Any, clio_sandbox: Sandbox) -> None:
    env = sandbox_env(clio_sandbox)
    url = run_cli("connect", "--print-url", env=env).stdout.strip()
    code = httpx.get(url, follow_redirects=True).url.params["code"]
    assert run_cli("connect", "--code", code, env=env).exit_code == 0
    reused = run_cli("connect", "--code", code, env=env)
    assert (reused.exit_code, reused.stderr) == (
        3,
        "error: Clio refused to exchange the authorization code (invalid_grant)\n"
        "  hint: codes work once and expire after 10 minutes: run `mapctl connect` again\n",
    )


def test_connect_rejects_a_foreign_state(run_cli: Any, clio_sandbox: Sandbox) -> None:
    env = sandbox_env(clio_sandbox)
    run_cli("connect", "--print-url", env=env)
    pasted = f"{clio_sandbox.base_url}/oauth/approval?code=abc&state=someone-else"
    result = run_cli("connect", "--code", pasted, env=env)
    assert (result.exit_code, result.stderr) == (
        1,
        "error: the approval address does not belong to this connection attempt "
        "(state mismatch)\n  hint: start again with `mapctl connect`\n",
    )


def test_connect_opens_the_browser_and_prompts(
    run_cli: Any, clio_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, mapctl_home: Path
) -> None:
    """Neither option: the browser opens the authorize URL, then the code and (hidden) secret
    are asked for. The secret never comes from argv and is never echoed."""
    opened: list[str] = []
    asked: list[tuple[str, bool]] = []

    def approve(url: str) -> bool:
        opened.append(url)
        return True

    def prompt(text: str, hide_input: bool = False, err: bool = False) -> str:
        asked.append((text, hide_input))
        if "code" in text:  # what the user copies from the approval page's title
            code = httpx.get(opened[0], follow_redirects=True).url.params["code"]
            return f"Success code={code}"
        return APP_SECRET

    monkeypatch.setattr("webbrowser.open", approve)
    monkeypatch.setattr("click.prompt", prompt)
    env = {
        "CLIO_BASE_URL": clio_sandbox.base_url,
        "CLIO_CLIENT_ID": "sandbox-app",
        "MAPCTL_HOME": str(mapctl_home),
    }
    result = run_cli("connect", state=AppState(env=env, interactive=True))
    assert result.exit_code == 0, result.output
    # the code is a secret for its 10 minutes: typed hidden, like the App Secret (issue 17)
    assert asked == [("Paste the code from Clio's approval page", True), ("Clio App Secret", True)]
    assert result.stderr == f"Authorize mapctl in Clio at:\n  {opened[0]}\n"
    assert result.stdout.startswith(f"Connected to Clio at {clio_sandbox.base_url} as Sam Sandbox")
    assert APP_SECRET not in result.output


def test_connect_no_browser_does_not_open_it(
    run_cli: Any, clio_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url: pytest.fail("browser opened"))
    result = run_cli("connect", "--no-browser", env=sandbox_env(clio_sandbox), input="\n")
    assert result.exit_code == 1  # no code typed: aborted, and no browser was opened
    assert result.stderr.endswith(
        "Paste the code from Clio's approval page: \n"
        "error: no authorization code was given\n"
        "  hint: open the address above and approve, then paste the code when asked, or run "
        "`mapctl connect --code -` and give it on standard input\n"
    )


def test_unknown_region_and_bad_base_url(run_cli: Any) -> None:
    result = run_cli("search", "pritchett", "--region", "mars")
    assert result.exit_code == 2
    bad = run_cli(
        "connect", "--print-url", env={"CLIO_BASE_URL": "app.clio.com", "CLIO_CLIENT_ID": "k"}
    )
    assert (bad.exit_code, bad.stderr) == (
        1,
        "error: CLIO_BASE_URL 'app.clio.com' is not a host URL\n"
        "  hint: use e.g. https://app.clio.com or the sandbox's http://127.0.0.1:8765\n",
    )


@pytest.mark.parametrize(
    "region, host",
    [
        ("us", "app.clio.com"),
        ("ca", "ca.app.clio.com"),
        ("eu", "eu.app.clio.com"),
        ("au", "au.app.clio.com"),
    ],
)
def test_print_url_per_region(run_cli: Any, region: str, host: str) -> None:
    result = run_cli("connect", "--print-url", "--region", region, env={"CLIO_CLIENT_ID": "my-app"})
    url = httpx.URL(result.stdout.strip())
    assert (url.host, url.path) == (host, "/oauth/authorize")
    assert dict(url.params) | {"state": "-"} == {
        "response_type": "code",
        "client_id": "my-app",
        "state": "-",
        "redirect_uri": f"https://{host}/oauth/approval",
    }


@pytest.mark.skipif(
    sys.platform == "win32", reason="Ctrl-C as SIGINT to a child process is POSIX-only"
)
def test_sandbox_command_serves_until_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mapctl.cli import main; main()",
            "sandbox",
            "--port",
            "0",
            "--rate-limit",
            "5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MAPCTL_HOME": str(tmp_path)},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base = first.split()[4]
        assert first == f"Clio sandbox listening on {base} (Ctrl-C to stop)\n"
        assert process.stdout.readline() == "Point mapctl at it:\n"
        assert process.stdout.readline() == (
            f"  export CLIO_BASE_URL={base} CLIO_CLIENT_ID=sandbox-app "
            "CLIO_CLIENT_SECRET=sandbox-secret\n"
        )
        assert httpx.get(base + "/api/v4/users/who_am_i.json").status_code == 401
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()  # reaped and its pipes closed: no warning in the next test
    assert process.returncode == 0
    assert err.splitlines() == ["GET /api/v4/users/who_am_i.json -> 401", "sandbox stopped"]


def test_sandbox_command_bad_data(run_cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "firm.json"
    bad.write_text("{}")
    result = run_cli("sandbox", "--data", str(bad), "--port", "0")
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {bad}: 'matters' must be a list of Clio records\n",
    )


@pytest.mark.parametrize(
    "option, value",
    [
        ("--port", "70000"),
        ("--port", "-1"),
        ("--latency", "-5"),
        ("--rate-limit", "0"),
        ("--token-lifetime", "0"),
    ],
)
def test_sandbox_command_refuses_impossible_settings(run_cli: Any, option: str, value: str) -> None:
    result = run_cli("sandbox", option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': {value} is not in the range" in result.stderr
    assert "Traceback" not in result.output


def test_fetch_redact_with_a_mapping_redacts_its_sensitive_fields(
    run_cli: Any, clio_sandbox: Sandbox, tmp_path: Path
) -> None:
    mapping = tmp_path / "firm.yaml"
    mapping.write_text(
        "version: 1\n"
        "custom_fields:\n"
        "  wed: {name: Date of Marriage, sensitive: true}\n"
        "answers:\n"
        "  Client Name: client.name\n"
        "  Marriage Date: {type: date, value: client.custom.wed}\n"
    )
    env = connect_via_cli(run_cli, clio_sandbox)
    result = run_cli("fetch", "00002-Pritchett", "--redact", "-m", str(mapping), env=env)
    assert result.exit_code == 0, result.output
    jay = json.loads(result.stdout)["contacts"][0]
    wed = next(v for v in jay["custom_field_values"] if v["field_name"] == "Date of Marriage")
    assert wed["value"] not in ("2007-06-16", None)
    plain = json.loads(run_cli("fetch", "00002-Pritchett", "--redact", env=env).stdout)
    plain_wed = next(
        v
        for v in plain["contacts"][0]["custom_field_values"]
        if v["field_name"] == "Date of Marriage"
    )
    assert plain_wed["value"] == "2007-06-16"  # a date field is not free text: kept without -m


def test_fetch_with_an_invalid_mapping_stops_before_clio(
    run_cli: Any, clio_sandbox: Sandbox, tmp_path: Path
) -> None:
    mapping = tmp_path / "broken.yaml"
    mapping.write_text("version: 1\nanswers: [\n")
    env = connect_via_cli(run_cli, clio_sandbox)
    before = len(clio_sandbox.requests)
    result = run_cli("fetch", "00002-Pritchett", "--redact", "-m", str(mapping), env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{mapping}:")
    assert len(clio_sandbox.requests) == before


def test_search_with_no_result(run_cli: Any, clio_sandbox: Sandbox) -> None:
    env = connect_via_cli(run_cli, clio_sandbox)
    result = run_cli("search", "zzzz-nothing", env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "No matters found.\n", "")
    as_json = run_cli("search", "zzzz-nothing", "--format", "json", env=env)
    assert as_json.stdout == "[]\n"


def test_search_table_fits_100_columns_with_long_values() -> None:
    from mapctl.engine.clio.table import format_matters

    row = {
        "id": 1234567890,
        "display_number": "00123-" + "Long" * 10,
        "status": "Pending",
        "client_name": "The Extremely Long Company Name Incorporated LLC",
        "open_date": "2026-01-01",
        "description": "An estate " * 20,
    }
    lines = format_matters([row]).splitlines()
    assert max(len(line) for line in lines) == 100
    assert "1234567890" in lines[1] and "Pending" in lines[1] and "2026-01-01" in lines[1]


def test_search_table_shows_control_characters_as_spaces() -> None:
    from mapctl.engine.clio.table import format_matters

    row = {
        "id": 1,
        "display_number": "00001-X",
        "description": "Two\nlines\x1b[2J",
        "status": "Open",
    }
    lines = format_matters([row]).splitlines()
    assert len(lines) == 2 and lines[1].endswith("Two lines [2J")


def test_connect_without_credentials_in_a_script(run_cli: Any, clio_sandbox: Sandbox) -> None:
    result = run_cli("connect", "--print-url", env={"CLIO_BASE_URL": clio_sandbox.base_url})
    assert (result.exit_code, result.stderr) == (
        1,
        "error: the Clio App Key and App Secret are needed\n"
        "  hint: set CLIO_CLIENT_ID and CLIO_CLIENT_SECRET (the sandbox's are sandbox-app "
        "and sandbox-secret)\n",
    )


def test_fetch_reads_the_roster_the_documented_way(run_cli: Any) -> None:
    """The sandbox refuses, by default, what Clio's document does not define (a matter's nested
    relationships have no `contact`); `fetch` reads the roster (and the co-clients, issue 17)
    from /matters/{id}/contacts.json instead: 4 requests with a cold custom-field cache, 3 warm,
    none refused."""
    with Sandbox() as sandbox:
        env = connect_via_cli(run_cli, sandbox)
        refused = httpx.get(
            sandbox.base_url + "/api/v4/matters/9002.json",
            params={"fields": "id,relationships{id,contact}"},
            headers={"Authorization": "Bearer " + str(sandbox.issue_tokens()["access_token"])},
        )
        assert (refused.status_code, refused.json()) == (
            400,
            {
                "error": {
                    "type": "InvalidFields",
                    "message": "relationships{contact} is not a valid field",
                }
            },
        )
        counts = []
        for _ in range(2):
            before = len(sandbox.requests)
            result = run_cli("fetch", "9002", env=env)
            assert result.exit_code == 0, result.output
            counts.append(sorted(t.split("?")[0] for _, t in sandbox.requests[before:]))
        assert counts[0] == [
            "/api/v4/contacts.json",
            "/api/v4/custom_fields.json",
            "/api/v4/matters/9002.json",
            "/api/v4/matters/9002/contacts.json",
        ]
        assert counts[1] == [p for p in counts[0] if p != "/api/v4/custom_fields.json"]
        bundle = json.loads(result.stdout)
        assert [r["description"] for r in bundle["relationships"]][:3] == [
            "Wife",
            "Daughter",
            "son",
        ]


def test_a_fetched_bundle_can_be_served_again(
    run_cli: Any, clio_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Support replays a firm's (redacted) bundle: --data accepts what fetch saved."""
    from mapctl.engine.sandbox.server import load_data_file

    env = connect_via_cli(run_cli, clio_sandbox)
    saved = tmp_path / "case.json"
    assert run_cli("fetch", "9002", "--redact", "-o", str(saved), env=env).exit_code == 0
    with Sandbox(load_data_file(saved)) as replay:
        replay_env = connect_via_cli(run_cli, replay)
        again = run_cli("fetch", "9002", env=replay_env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(saved.read_text())
