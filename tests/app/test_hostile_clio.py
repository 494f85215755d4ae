"""The staff app against a hostile Clio on 127.0.0.1 (issue 17 items 9 and 12): a matter of
5,000 digits, a contact id of 5,000 digits, records of the wrong shape and a sort link over
them are pages that say what happened, never the 500 page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from ..clio.hostile import connect_home, hostile_clio, mutated, trickle
from .conftest import MakeApp, enter
from .test_routes import open_draft, post


def app_for(make_app: MakeApp, home: Path, server: Any, **env: str) -> FlaskClient:
    connected = {"MAPCTL_HOME": str(home), **connect_home(home, server), **env}
    app, guard, _ = make_app(env=connected)
    return enter(app, guard)


def opened(client: FlaskClient, response: Any) -> Any:
    """Use Selected Matter's answer once its work is done: the opening page is polled until it
    is no longer the waiting page, then followed to where it leads (an error page or a draft)."""
    if response.status_code == 303 and response.headers["Location"].startswith("/opening/"):
        opening = response.headers["Location"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            response = client.get(opening)
            if response.status_code != 200 or "/opening/" not in response.text:
                break
            time.sleep(0.05)
    return response


def test_a_matter_or_contact_of_5000_digits_is_a_page_not_a_500(
    make_app: MakeApp, mapctl_home: Path
) -> None:
    with hostile_clio() as server:
        client = app_for(make_app, mapctl_home, server)
        response = opened(client, post(client, "/matters", matter="9" * 5000))
        assert response.status_code == 400
        assert "MATTER is 5,000 characters long" in response.text
        draft = open_draft(client)
        response = post(client, f"{draft}/remove", contact="9" * 5000)
        assert response.status_code == 400 and "Click a contact in the list first" in response.text


def test_records_of_the_wrong_shape_are_a_clio_page_not_a_500(
    make_app: MakeApp, mapctl_home: Path
) -> None:
    def odd_client(body: Any) -> None:
        body["data"][0]["client"] = "Jay Pritchett"

    with hostile_clio({"/api/v4/matters.json": mutated(odd_client)}) as server:
        client = app_for(make_app, mapctl_home, server)
        for sort in ("", "client", "number"):
            response = client.get(f"/search?q=Pritchett&sort={sort}", follow_redirects=True)
            deadline = time.monotonic() + 10
            while response.status_code == 200 and time.monotonic() < deadline:  # still going
                time.sleep(0.1)
                response = client.get(response.request.full_path)
            assert response.status_code == 502, response.text[:500]
            assert "`client` is text, expected an object with an id" in response.text
        response = opened(client, post(client, "/matters", matter="00002-Pritchett"))
        assert response.status_code == 502
        assert "`client` is text, expected an object with an id" in response.text


def test_a_trickling_clio_is_a_page_within_the_deadline(
    make_app: MakeApp, mapctl_home: Path
) -> None:
    with hostile_clio({"/api/v4/matters/9002.json": trickle(0.1)}) as server:
        client = app_for(make_app, mapctl_home, server, MAPCTL_CLIO_REQUEST_TIMEOUT="1")
        started = time.monotonic()
        response = opened(client, post(client, "/matters", matter="9002"))
    assert time.monotonic() - started < 10
    assert response.status_code == 502
    assert "is too slow: no complete answer within 1 s" in response.text
