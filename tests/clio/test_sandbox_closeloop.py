"""Issue 19's sandbox: notes and custom actions as Clio's document defines them (validated
against the document's schemas), its refusals, the matter page with Clio's parameters, the
nonce (single-use, 60 seconds, for that record), and 403s on demand."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest
from mapctl.engine.sandbox.server import Sandbox

from tests.clio.spec_tools import NOTES_ACTIONS, SUBSET, load_spec, mark_nullable

SPEC = load_spec()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clio"


def created_schema(path: str) -> jsonschema.Draft202012Validator:
    """The document's 201 body of `POST path`, as JSON Schema."""
    from tests.clio.spec_tools import _nullable

    spec = mark_nullable(json.loads(json.dumps(SPEC)))
    content = spec["paths"][path]["post"]["responses"]["201"]["content"]
    schema = _nullable(next(iter(content.values()))["schema"], spec["components"]["schemas"])
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def clio() -> Any:
    with Sandbox() as sandbox:
        token = sandbox.issue_tokens()["access_token"]
        yield sandbox, {"Authorization": f"Bearer {token}"}


def api(clio: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    sandbox, headers = clio
    return httpx.request(method, f"{sandbox.base_url}/api/v4/{path}", headers=headers, **kwargs)


def test_the_second_document_subset_is_the_one_its_readme_names() -> None:
    data = NOTES_ACTIONS.read_bytes()
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert f"`{hashlib.sha256(data).hexdigest()}` ({len(data):,} bytes)" in readme
    assert NOTES_ACTIONS.parent == SUBSET.parent
    security = next(t for t in SPEC["tags"] if t["name"] == "Custom Actions")["description"]
    assert "custom_action_nonce" in security  # what app/clio_action.py follows


def test_a_note_is_created_as_the_document_says(clio: Any) -> None:
    body = {"data": {"type": "Matter", "matter": {"id": 9002}, "subject": "S", "detail": "D"}}
    fields = "id,etag,type,subject,detail,detail_text_type,date,matter{id,display_number},author{id,name}"
    created = api(clio, "POST", "notes.json", json=body, params={"fields": fields})
    assert created.status_code == 201, created.text
    created_schema("/notes.json").validate(created.json())
    note = created.json()["data"]
    assert (note["type"], note["subject"], note["detail"], note["detail_text_type"]) == (
        "Matter", "S", "D", "plain_text",
    )  # fmt: skip
    assert note["matter"] == {"id": 9002, "display_number": "00002-Pritchett"}
    assert note["author"] == {"id": 3001, "name": "Sam Sandbox"}
    listed = api(
        clio, "GET", "notes.json", params={"type": "Matter", "matter_id": "9002", "fields": "id"}
    )
    assert [n["id"] for n in listed.json()["data"]] == [60001, note["id"]]
    assert api(clio, "GET", "notes.json", params={"matter_id": "9002"}).status_code == 400  # type
    assert api(clio, "DELETE", f"notes/{note['id']}.json").status_code == 204
    assert api(clio, "GET", f"notes/{note['id']}.json").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"type": "Matter", "subject": "x"}, 422, "Validation failed: Matter can't be blank"),
        ({"type": "Matter", "matter": {"id": 1}, "subject": "x"}, 404,
         "The requested Matter could not be found"),
        ({"type": "Note", "subject": "x"}, 422, "Validation failed: Type is not included in the list"),
        ({"type": "Matter", "matter": {"id": 9002}, "subject": 3}, 422,
         "Validation failed: Subject is not a string"),
        ({}, 400, "param is missing or the value is empty: data"),
    ],
)  # fmt: skip
def test_bad_notes_are_refused(clio: Any, data: dict[str, Any], status: int, message: str) -> None:
    refused = api(clio, "POST", "notes.json", json={"data": data})
    assert (refused.status_code, refused.json()["error"]["message"]) == (status, message)


def test_custom_actions_create_list_patch_delete(clio: Any) -> None:
    body = {"data": {"label": "Import to ILS", "target_url": "http://127.0.0.1:8770/clio/action",
                     "ui_reference": "matters/show"}}  # fmt: skip
    fields = {"fields": "id,etag,label,target_url,ui_reference,created_at,updated_at"}
    created = api(clio, "POST", "custom_actions.json", json=body, params=fields)
    assert created.status_code == 201, created.text
    created_schema("/custom_actions.json").validate(created.json())
    ident = created.json()["data"]["id"]
    twice = api(clio, "POST", "custom_actions.json", json=body)
    assert (twice.status_code, twice.json()["error"]["message"]) == (
        422, "Validation failed: Label has already been taken",
    )  # fmt: skip
    bad = {"data": {"label": " ", "target_url": "javascript:alert(1)", "ui_reference": "x"}}
    assert api(clio, "POST", "custom_actions.json", json=bad).json()["error"]["message"] == (
        "Validation failed: Label can't be blank, Target url is invalid, Ui reference is not "
        "included in the list"
    )
    moved = api(clio, "PATCH", f"custom_actions/{ident}.json",
                json={"data": {"target_url": "http://127.0.0.1:9001/clio/action"}}, params=fields)  # fmt: skip
    assert moved.json()["data"]["target_url"] == "http://127.0.0.1:9001/clio/action"
    listed = api(clio, "GET", "custom_actions.json", params={"fields": "id,label"})
    assert listed.json()["data"] == [{"id": ident, "label": "Import to ILS"}]
    assert api(clio, "DELETE", f"custom_actions/{ident}.json").status_code == 204
    assert api(clio, "GET", "custom_actions.json").json()["data"] == []


def launch(clio: Any, matter: int = 9002) -> dict[str, str]:
    """Choose the first custom action on the matter's page: Clio's parameters."""
    sandbox, _ = clio
    page = httpx.get(sandbox.matter_url(matter))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    link = re.search(r'<a href="(/nc/custom_actions/[^"]+)">([^<]+)</a>', page.text)
    assert link is not None, page.text
    went = httpx.get(sandbox.base_url + link.group(1).replace("&amp;", "&"))
    assert went.status_code == 302
    location = urlsplit(went.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == "http://127.0.0.1:8770/clio/action"
    )
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_the_matter_page_sends_the_browser_with_clios_parameters(clio: Any) -> None:
    body = {"data": {"label": "Import to ILS", "target_url": "http://127.0.0.1:8770/clio/action",
                     "ui_reference": "matters/show"}}  # fmt: skip
    assert api(clio, "POST", "custom_actions.json", json=body).status_code == 201
    other = {"data": {**body["data"], "label": "On contacts", "ui_reference": "contacts/show"}}
    assert api(clio, "POST", "custom_actions.json", json=other).status_code == 201
    sandbox, _ = clio
    page = httpx.get(sandbox.matter_url(9002)).text
    assert ">Import to ILS</a>" in page and "On contacts" not in page  # matters/show only
    assert "Intake call" in page  # the matter's notes
    params = launch(clio)
    assert set(params) == {"custom_action_id", "user_id", "subject_url", "custom_action_nonce"}
    assert (params["user_id"], params["subject_url"]) == ("3001", "/api/v4/matters/9002")
    nonce = params["custom_action_nonce"]
    with_nonce = {"custom_action_nonce": nonce, "fields": "id"}
    wrong_record = api(clio, "GET", "matters/9003.json", params=with_nonce)
    assert wrong_record.status_code == 403  # spent on the wrong record: gone
    fresh = launch(clio)["custom_action_nonce"]
    confirmed = api(
        clio, "GET", "matters/9002.json", params={**with_nonce, "custom_action_nonce": fresh}
    )
    assert confirmed.json() == {"data": {"id": 9002}}
    replayed = api(
        clio, "GET", "matters/9002.json", params={**with_nonce, "custom_action_nonce": fresh}
    )
    assert (replayed.status_code, replayed.json()["error"]["type"]) == (403, "ForbiddenError")
    assert httpx.get(sandbox.base_url + "/nc/matters/424242").status_code == 404


def test_a_nonce_expires(clio: Any) -> None:
    sandbox, _ = clio
    sandbox.nonces.lifetime = -1.0  # issued already expired
    body = {"data": {"label": "Import to ILS", "target_url": "http://127.0.0.1:8770/clio/action",
                     "ui_reference": "matters/show"}}  # fmt: skip
    api(clio, "POST", "custom_actions.json", json=body)
    nonce = launch(clio)["custom_action_nonce"]
    late = api(clio, "GET", "matters/9002", params={"custom_action_nonce": nonce})
    assert late.status_code == 403


def test_a_data_file_can_refuse_notes(tmp_path: Path, run_cli: Any) -> None:
    from mapctl.engine.sandbox.seed import demo_data
    from mapctl.engine.sandbox.server import load_data_file

    path = tmp_path / "firm.json"
    path.write_text(json.dumps({**demo_data(), "refused": ["notes", "custom_actions"]}))
    with Sandbox(load_data_file(path)) as sandbox:
        headers = {"Authorization": f"Bearer {sandbox.issue_tokens()['access_token']}"}
        for path_ in ("notes.json?type=Matter", "custom_actions.json"):
            refused = httpx.get(f"{sandbox.base_url}/api/v4/{path_}", headers=headers)
            assert refused.status_code == 403
            assert refused.json() == {
                "error": {
                    "type": "ForbiddenError",
                    "message": "User is forbidden from taking that action",
                }
            }
        assert (
            httpx.get(f"{sandbox.base_url}/api/v4/matters/9002.json", headers=headers).status_code
            == 200
        )
    path.write_text(json.dumps({**demo_data(), "refused": "notes"}))
    result = run_cli("sandbox", "--data", str(path), "--port", "0")
    assert result.exit_code == 1, result.output
    assert "'refused' must be a list of API resources" in result.stderr


def test_refused_in_data_is_forbid_and_both_can_change_while_it_runs() -> None:
    """One way to answer 403: a --data file's "refused" is --forbid (custom_fields included,
    which also strips custom field values to their ids); the set can change while it runs."""
    from mapctl.engine.sandbox.seed import demo_data

    def answers(sandbox: Sandbox) -> list[tuple[int, Any]]:
        headers = {"Authorization": f"Bearer {sandbox.issue_tokens()['access_token']}"}
        got = []
        for path_ in ("custom_fields.json", "notes.json?type=Matter", "contacts/5001.json"):
            url = f"{sandbox.base_url}/api/v4/{path_}"
            if path_.startswith("contacts"):
                url += "?fields=custom_field_values{id,value}"
            response = httpx.get(url, headers=headers)
            got.append((response.status_code, response.json()))
        return got

    with Sandbox({**demo_data(), "refused": ["custom_fields", "notes"]}) as by_data:
        from_data = answers(by_data)
        by_data.forbidden.clear()
        cleared = answers(by_data)
    with Sandbox(forbidden=["custom_fields", "notes"]) as by_option:
        from_option = answers(by_option)
    assert from_data == from_option
    assert [status for status, _ in from_data] == [403, 403, 200]
    stripped = from_data[2][1]["data"]["custom_field_values"]
    assert stripped and all("value" not in value for value in stripped)
    assert [status for status, _ in cleared] == [200, 200, 200]
    assert any("value" in value for value in cleared[2][1]["data"]["custom_field_values"])
