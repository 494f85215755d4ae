"""Doctor's checks for writing back to Clio (issue 19): may the Clio app use notes and custom
actions (its permissions), does "Import to ILS" exist and point at `app_port`; and
`--create-action`, which creates it once.

Stage: the set-up workflow, after doctor's Clio checks passed. Asks Clio over `engine.clio`;
never prints, never asks (the command asks before creating). Creating is idempotent: an action
with our label on matters that already points at the app's port is left alone; one pointing
elsewhere is pointed at it (PATCH), never duplicated (Clio keeps labels unique per place).

Writing a note cannot be tried without leaving one on some matter, so the Notes check reads
(`GET /notes.json`): a 403 there means no Notes permission at all; write access shows at the
first import, whose failure `mapctl clients` lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..clio import closeloop
from ..clio.client import ClioClient, open_client
from ..errors import ClioError
from .checks import Check
from .settings import DEFAULT_APP_PORT, Setup

RECONNECT = "after changing the Clio app's permissions run `mapctl connect` again"


def closeloop_checks(client: ClioClient, setup: Setup) -> list[Check]:
    """The Notes permission and the custom action, as check lines."""
    return [_notes(client, setup), _action(client, setup)]


def _notes(client: ClioClient, setup: Setup) -> Check:
    if not setup.note_wanted:
        return Check("clio notes", "info", "Clio notes: off (clio_note: false in the settings)")
    params = [("type", "Matter"), ("fields", "id"), ("limit", "1")]
    try:
        client.session.get(f"{client.session.api}/notes.json", params)
    except ClioError as error:
        if error.status != 403:
            return Check("clio notes", "fail", f"Clio notes: cannot be read: {error.message}")
        return Check(
            "clio notes",
            "fail",
            "Clio notes: the Clio app may not use notes (HTTP 403); imports would leave no note "
            "on the matter",
            f"tick Notes (read and write) in the Clio app's permissions; {RECONNECT}; or set "
            "clio_note: false",
        )
    return Check(
        "clio notes",
        "pass",
        "Clio notes: the app may read notes (writing shows at the first import's note)",
    )


def _action(client: ClioClient, setup: Setup) -> Check:
    try:
        found = closeloop.find_action(closeloop.custom_actions(client))
    except ClioError as error:
        if error.status != 403:
            return Check(
                "clio action", "fail", f"Clio custom actions: cannot be read: {error.message}"
            )
        return Check(
            "clio action",
            "fail" if setup.port else "warn",
            'Clio custom actions: the Clio app may not use them (HTTP 403); "Import to ILS" '
            "cannot be put on matters",
            f"tick Custom Actions in the Clio app's permissions; {RECONNECT}",
        )
    label = closeloop.ACTION_LABEL
    if found is None:
        if setup.port is None:
            return Check(
                "clio action",
                "info",
                f"Clio custom action '{label}': not created",
                f"set app_port in the settings (e.g. app_port: {DEFAULT_APP_PORT}), then "
                "`mapctl doctor --create-action`",
            )
        return Check(
            "clio action",
            "warn",
            f"Clio custom action '{label}': not created",
            "`mapctl doctor --create-action` puts it on every matter in Clio",
        )
    where = str(found.get("target_url"))
    if setup.port is None:
        return Check(
            "clio action",
            "warn",
            f"Clio custom action '{label}': opens {where}, but app_port is not set "
            "(mapctl app picks a free port)",
            "set app_port in the settings to the port the action opens",
        )
    wanted = closeloop.target_url(setup.port)
    if where != wanted:
        return Check(
            "clio action",
            "fail",
            f"Clio custom action '{label}': opens {where}, not the app's port ({wanted})",
            "`mapctl doctor --create-action` points it at app_port",
        )
    return Check("clio action", "pass", f"Clio custom action '{label}': on matters, opens {wanted}")


def create_action(
    setup: Setup,
    env: Mapping[str, str],
    *,
    transport: Any = None,
    notice: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Create "Import to ILS" (or point ours at app_port) -> ("created" | "updated" |
    "unchanged", the action). Needs `app_port`."""
    if setup.port is None:
        from ..errors import MapctlError

        raise MapctlError(
            "app_port is not set, so the action would not know where the app listens",
            hint=f"add app_port: {DEFAULT_APP_PORT} (or another free port) to the settings "
            "file, then run `mapctl doctor --create-action` again",
        )
    wanted = closeloop.target_url(setup.port)
    with open_client(setup.home_path, setup.clio_env(env), transport, notice=notice) as client:
        found = closeloop.find_action(closeloop.custom_actions(client))
        if found is None:
            return "created", closeloop.create_custom_action(client, wanted)
        if found.get("target_url") == wanted:
            return "unchanged", found
        return "updated", closeloop.point_action(client, int(found["id"]), wanted)
