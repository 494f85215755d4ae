"""Safe client folder names and the all-or-nothing folder write."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from mapctl.engine.errors import ImportRefused, MapctlError
from mapctl.engine.workflow.clientfolder import (
    MAX_NAME_CHARS,
    client_folder_name,
    publish,
    safe_component,
    staged_folder,
)

from tests.conftest import POSIX_MODES

WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
WINDOWS_DEVICES = (
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jay Pritchett", "Jay-Pritchett"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "client"),
        ("", "client"),
        (None, "client"),
        ("   ", "client"),
        ('a<b>c:d"e/f\\g|h?i*j', "a-b-c-d-e-f-g-h-i-j"),
        ("tab\there\nnew\x00line", "tab-here-new-line"),
        ("CON", "_CON"),
        ("lpt1", "_lpt1"),
        ("Connie", "Connie"),
        ("Dr. Smith Jr.", "Dr-Smith-Jr"),
        ("O'Brien", "OBrien"),
        ("Núñez Zoë", "Núñez-Zoë"),
        ("Nu\u0301n\u0303ez", "Núñez"),  # decomposed input comes out composed (NFC)
        ("李 小龍", "李-小龍"),
        ("trailing dots...", "trailing-dots"),
        ("x" * 300, "x" * MAX_NAME_CHARS),
    ],
)
def test_safe_component(text: str | None, expected: str) -> None:
    assert safe_component(text) == expected


def test_safe_component_property_random_text() -> None:
    rng = random.Random(20260302)
    alphabet = [chr(c) for c in range(0x250)] + list("./\\..李龍\u200b\ufeff\U0001f600")
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        name = safe_component(text)
        assert name and len(name) <= MAX_NAME_CHARS + 1
        assert not (set(name) & WINDOWS_FORBIDDEN), repr(text)
        assert name not in (".", "..") and not name.endswith((".", " "))
        assert name.split(".")[0].upper() not in WINDOWS_DEVICES
        assert Path(name).name == name and len(Path(name).parts) == 1


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        (
            {
                "id": 5001,
                "type": "Person",
                "first_name": "Jay",
                "last_name": "Pritchett",
                "name": "Jay Pritchett",
            },
            "Pritchett-Jay-5001",
        ),
        (
            {"id": 5030, "type": "Company", "name": "Pritchett's Closets & Blinds, Inc."},
            "Pritchetts-Closets-Blinds-Inc-5030",
        ),
        (
            {"id": 7, "type": "Person", "first_name": None, "last_name": None, "name": None},
            "client-7",
        ),
        ({"id": 8, "type": "Person", "name": "Cher"}, "Cher-8"),
        ({"id": "../9", "type": "Person", "last_name": "/"}, "client-9"),
    ],
)
def test_client_folder_name(contact: dict[str, object], expected: str) -> None:
    assert client_folder_name(contact) == expected


def test_staged_folder_then_publish(tmp_path: Path) -> None:
    target = tmp_path / "Pritchett-Jay-5001"
    with staged_folder(tmp_path, target.name, {"a.anx": b"<x/>", "client.json": b"{}"}) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".Pritchett-Jay-5001.")
        publish(staging, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pritchett-Jay-5001"]
    assert (target / "a.anx").read_bytes() == b"<x/>"
    if POSIX_MODES:
        assert oct(target.stat().st_mode & 0o777) == "0o700"
        assert oct((target / "a.anx").stat().st_mode & 0o777) == "0o600"


def test_publish_refuses_an_existing_folder_and_leaves_it_alone(tmp_path: Path) -> None:
    target = tmp_path / "Pritchett-Jay-5001"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with (
        pytest.raises(ImportRefused, match="already exists; mapctl never overwrites it"),
        staged_folder(tmp_path, target.name, {"a.anx": b"new"}) as staging,
    ):
        publish(staging, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pritchett-Jay-5001"]
    assert sorted(p.name for p in target.iterdir()) == ["mine.txt"]


def test_a_disk_error_while_staging_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(MapctlError, match="No space left on device"):
        with staged_folder(tmp_path, "x", {"a": b"1", "b": b"2"}):
            pass  # pragma: no cover
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_leaves_nothing(tmp_path: Path) -> None:
    def broken(src: Path, dst: Path) -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(MapctlError, match="cannot create .*: Input/output error"):
        with staged_folder(tmp_path, "x", {"a": b"1"}) as staging:
            publish(staging, tmp_path / "x", rename=broken)
    assert list(tmp_path.iterdir()) == []


def test_stale_staging_folders_of_a_killed_import_are_swept(tmp_path: Path) -> None:
    old = tmp_path / ".Pritchett-Jay-5001.abc123.partial"
    fresh = tmp_path / ".Pritchett-Jay-5001.def456.partial"
    other = tmp_path / ".Dunphy-Phil-5011.abc123.partial"
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "client.json").write_text("{}")
    two_hours_ago = time.time() - 7200
    for folder in (old, other):
        os.utime(folder, (two_hours_ago, two_hours_ago))
    with staged_folder(tmp_path, "Pritchett-Jay-5001", {"a": b"1"}) as staging:
        publish(staging, tmp_path / "Pritchett-Jay-5001")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".Dunphy-Phil-5011.abc123.partial",  # another client's: not ours to judge
        ".Pritchett-Jay-5001.def456.partial",  # recent: may be a live import
        "Pritchett-Jay-5001",
    ]
