"""What protects mapctl's files, said truthfully on each platform (issue 16, item 5), and
commands in hints quoted for the shell people have there (item 4).

0600/0700 modes do nothing on Windows: files inherit their folder's ACL. So mapctl no longer
says "readable only by you" there; doctor warns when the Clio connection is kept outside the
user's profile and when the output folder is a share (its permissions are the firm's to set)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mapctl.engine.report import command_line
from mapctl.engine.setup import doctor, privacy
from mapctl.engine.setup.doctor import Diagnosis
from mapctl.engine.setup.settings import resolve_setup


def test_hints_quote_for_the_platforms_shell() -> None:
    path = "C:\\Firm Share\\mappings\\firm.yaml"
    assert command_line("mapctl", "validate", path, platform="win32") == (
        'mapctl validate "C:\\Firm Share\\mappings\\firm.yaml"'
    )
    assert command_line("mapctl", "validate", "/srv/firm share/it's.yaml", platform="linux") == (
        "mapctl validate '/srv/firm share/it'\"'\"'s.yaml'"
    )
    assert command_line("mapctl", "clients", platform="win32") == "mapctl clients"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("C:\\Users\\ana\\.mapctl\\clio-token.json", True),
        ("c:\\users\\ANA\\.mapctl", True),  # Windows paths are not case-sensitive
        ("C:\\Users\\ana", True),
        ("C:\\Users\\anabel\\.mapctl", False),  # a prefix of the name is not inside
        ("D:\\mapctl", False),
        ("\\\\server\\ils\\.mapctl", False),
    ],
)
def test_inside_the_windows_profile(path: str, expected: bool) -> None:
    assert privacy.inside_profile(Path(path), {"USERPROFILE": "C:\\Users\\ana"}) is expected


def test_what_protects_a_file_is_said_truthfully() -> None:
    env = {"USERPROFILE": "C:\\Users\\ana"}
    inside = Path("C:\\Users\\ana\\.mapctl\\clio-token.json")
    outside = Path("D:\\mapctl\\clio-token.json")
    assert privacy.protection(inside, env, platform="linux") == "readable only by you"
    assert "your Windows profile" in privacy.protection(inside, env, platform="win32")
    assert "readable only by you" not in privacy.protection(outside, env, platform="win32")
    assert "folder's permissions" in privacy.protection(outside, env, platform="win32")


def test_unc_paths_are_shares_on_windows() -> None:
    assert privacy.is_network_folder(Path("\\\\server\\ils\\clients"), platform="win32")
    assert privacy.is_network_folder(Path("//server/ils/clients"), platform="win32")


@pytest.mark.skipif(sys.platform == "win32", reason="the mount table and its paths are Linux's")
def test_nfs_and_smb_mounts_are_shares(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw 0 0\n"
        "server:/ils /mnt/ils nfs4 rw 0 0\n"
        "//server/share /mnt/smb\\040share cifs rw 0 0\n"
    )
    assert privacy._mount_type(Path("/mnt/ils/clients"), str(mounts)) == "nfs4"
    assert privacy._mount_type(Path("/mnt/smb share/x"), str(mounts)) == "cifs"
    assert privacy._mount_type(Path("/mnt/ilsx"), str(mounts)) == "ext4"
    assert privacy._mount_type(Path("/home"), str(tmp_path / "none")) is None


def _privacy_checks(
    env: dict[str, str], platform: str, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, str, str | None]]:
    monkeypatch.setattr(privacy, "is_network_folder", lambda path, platform=None: True)
    result = Diagnosis()
    setup = resolve_setup(env)
    doctor._privacy(result, setup, env, platform=platform)
    return [(c.status, c.message, c.hint) for c in result.checks]


def test_doctor_warns_when_the_connection_is_outside_the_windows_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "share"
    out.mkdir()
    (tmp_path / "settings.yaml").write_text(f"output_folder: {out}\n")
    env = {
        "MAPCTL_HOME": str(tmp_path),
        "USERPROFILE": "C:\\Users\\ana",
        "MAPCTL_SETTINGS": str(tmp_path / "settings.yaml"),
    }
    checks = _privacy_checks(env, "win32", monkeypatch)
    assert [status for status, _, _ in checks] == ["warn", "warn"]
    assert "outside your Windows profile" in checks[0][1]
    assert "%USERPROFILE%" in str(checks[0][2])
    assert "on a network share, so the share's permissions, not mapctl" in checks[1][1]
    assert "only the staff who import clients" in str(checks[1][2])


@pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX modes: on Windows a file takes its folder's ACL"
)
def test_doctor_on_posix_checks_the_token_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "clio-token.json"
    token.write_text("{}")
    token.chmod(0o644)
    checks = _privacy_checks({"MAPCTL_HOME": str(tmp_path)}, "linux", monkeypatch)
    assert checks[0][0] == "warn" and "others can read it (mode 644)" in checks[0][1]
    token.chmod(0o600)
    checks = _privacy_checks({"MAPCTL_HOME": str(tmp_path)}, "linux", monkeypatch)
    assert checks == []  # private, and the default output folder is not made yet
