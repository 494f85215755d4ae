"""The staff app on two workstations importing into one shared folder (issue 15): the second
desk's Add Client page refuses the client, saying who imported it; its Clients page lists it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mapctl.engine.sandbox.server import Sandbox, connect_home

from .conftest import MakeApp, enter
from .test_routes import MATTER_ID, open_draft, post, rows


def test_a_client_imported_on_one_desk_is_refused_and_listed_on_the_other(
    make_app: MakeApp, sandbox: Sandbox, mapctl_home: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "share" / "clients"
    env_a = {"MAPCTL_HOME": str(mapctl_home), **connect_home(sandbox, mapctl_home)}
    env_a.update(MAPCTL_TEST_USER="ann", MAPCTL_TEST_COMPUTER="DESK-A")
    home_b = tmp_path / "home-b"
    shutil.copytree(mapctl_home, home_b)
    env_b = {**env_a, "MAPCTL_HOME": str(home_b)}
    env_b.update(MAPCTL_TEST_USER="bob", MAPCTL_TEST_COMPUTER="DESK-B")
    app_a, guard_a, _ = make_app(env=env_a, out_dir=shared)
    app_b, guard_b, _ = make_app(env=env_b, home=home_b, out_dir=shared)
    desk_a, desk_b = enter(app_a, guard_a), enter(app_b, guard_b)

    draft_b = open_draft(desk_b, MATTER_ID)  # B is looking at the matter...
    draft_a = open_draft(desk_a, MATTER_ID)
    done = post(desk_a, f"{draft_a}/import", name="Jay Pritchett", notes="")  # ...A imports it
    assert done.status_code == 303, done.text

    page = desk_b.get(f"{draft_b}/client")
    assert page.status_code == 409
    text = re.sub(r"\s+", " ", page.text)
    assert "This client already exists" in text
    assert "imported by ann on DESK-A" in text and "from matter 00002-Pritchett" in text
    assert str(shared / "Pritchett-Jay-5001" / "ils-client-interview.anx") in text
    assert "mv " not in text and "move it" not in text
    refused = post(desk_b, f"{draft_b}/import", name="Jay Pritchett", notes="")
    assert refused.status_code == 409

    listed = desk_b.get("/clients").text
    assert "Imported by" in listed
    (row,) = rows(listed)
    assert "Jay Pritchett" in row and "ann on DESK-A" in row
    assert not (home_b / "clients").exists()
