"""What actually protects mapctl's files, said truthfully on each platform.

On POSIX systems mapctl creates its files 0600 and its folders 0700 (`engine.fsutil`): only
their owner can read them. On Windows those modes do nothing: a new file inherits its folder's
access control list (ACL). `%USERPROFILE%\\.mapctl` inherits the profile's ACL, which lets the
user, SYSTEM and the computer's administrators in; a folder elsewhere (a share, `C:\\mapctl`)
lets in whoever its ACL names. And the firm's output folder on a share is protected by the
share's permissions, which are the firm's to set, not mapctl's.

Stage: set-up (doctor, connect's messages). Reads paths and, on Linux, /proc/self/mounts.
"""

from __future__ import annotations

import ntpath
import os
import sys
from collections.abc import Mapping
from pathlib import Path

# File systems reached over the network (Linux's names in /proc/self/mounts).
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "fuse.sshfs"}
)
DRIVE_REMOTE = 4  # GetDriveTypeW's answer for a mapped network drive


def _platform(platform: str | None) -> str:
    return platform or sys.platform


def inside_profile(path: Path, env: Mapping[str, str]) -> bool:
    """Whether `path` is inside the user's Windows profile (%USERPROFILE%)."""
    profile = env.get("USERPROFILE", "")
    if not profile:
        return False
    here = ntpath.normcase(ntpath.abspath(str(path)))
    top = ntpath.normcase(ntpath.abspath(profile)).rstrip("\\")
    return here == top or here.startswith(top + "\\")


def protection(path: Path, env: Mapping[str, str], platform: str | None = None) -> str:
    """Who can read a private file mapctl wrote at `path`, in a few words for a message."""
    if _platform(platform) != "win32":
        return "readable only by you"
    if inside_profile(path, env):
        return "in your Windows profile, which only you and this computer's administrators can read"
    return "outside your Windows profile: whoever the folder's permissions let in can read it"


def is_network_folder(path: Path, platform: str | None = None) -> bool:
    """Whether `path` is on a network share: a UNC path or a mapped network drive on Windows,
    an NFS/SMB/... mount elsewhere. False when it cannot be told."""
    text = str(path)
    if _platform(platform) == "win32":
        if text.startswith(("\\\\", "//")):
            return True
        drive = ntpath.splitdrive(ntpath.abspath(text))[0]
        if len(drive) == 2 and drive[1] == ":" and sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
            return bool(kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE)
        return False
    return _mount_type(Path(os.path.abspath(text))) in NETWORK_FILESYSTEMS


def _mount_type(path: Path, mounts: str = "/proc/self/mounts") -> str | None:
    """The file system type of the mount that holds `path` (the longest mount point above it)."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    best, kind = "", None
    target = str(path)
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind
