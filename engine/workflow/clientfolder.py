"""Client folders: a safe folder name for a new client, and writing the folder all at once.

Stage: the file-system half of an import (`importing` calls it). A client's folder is built under
a temporary name in the output folder, every file fsynced, then renamed into place while the
ledger holds the client's row as pending (see `ledger`), so the folder and the ledger row appear
together or not at all, even after a kill. Nothing existing is ever overwritten. No printing, no
click.

Folder names (decided for issue 5): the client's name, last name first, then the Clio contact id
(`Pritchett-Jay-5001`). Letters and digits of any script are kept (NFC-normalised: ILS and
Windows handle Unicode names, and a Núñez should stay a Núñez); every other run of characters
becomes one hyphen, so path separators, `..`, the characters Windows forbids (<>:"/\\|?*),
control characters and spaces cannot appear. Apostrophes vanish (O'Brien -> OBrien), names of
Windows devices (CON, PRN, AUX, NUL, COM1-9, LPT1-9) get a leading underscore, the result is
capped at 60 characters and never empty or ending in a dot or space.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ImportRefused, MapctlError
from ..fsutil import fsync_folder, make_folders, set_mode

MAX_NAME_CHARS = 60
FOLDER_MODE = 0o700  # the folder holds personal data (birth dates, SSN): only its owner reads it
FILE_MODE = 0o600
STALE_AFTER = 3600.0  # seconds after which a leftover staging folder is surely dead
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{stem}{n}" for stem in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"]
)
_DROPPED = "'\u2019`"  # apostrophes join the letters around them


def safe_component(text: str | None, *, fallback: str = "client") -> str:
    """One safe path component made from free text (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFC", text or "")
    pieces: list[str] = []
    for char in text:
        if char in _DROPPED:
            continue
        if char.isalnum() and char.isprintable():
            pieces.append(char)
        elif pieces and pieces[-1] != "-":
            pieces.append("-")
    name = "".join(pieces)[:MAX_NAME_CHARS].strip("-")
    if not name:
        return fallback
    if name.split(".")[0].upper() in _WINDOWS_DEVICES:
        name = "_" + name
    return name


def client_folder_name(contact: Mapping[str, object]) -> str:
    """`Last-First-ID` for a person, `Name-ID` for a company (`Pritchett-Jay-5001`)."""
    last, first = contact.get("last_name"), contact.get("first_name")
    if contact.get("type") != "Company" and (last or first):
        words = " ".join(str(part) for part in (last, first) if part)
    else:
        words = str(contact.get("name") or "")
    stem = safe_component(words)
    return f"{stem}-{safe_component(str(contact.get('id', '')), fallback='0')}"


def _write_new(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        set_mode(handle.fileno(), FILE_MODE)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def refuse_if_exists(target: Path) -> None:
    """`ImportRefused` when something is already at `target` (mapctl never overwrites)."""
    if os.path.lexists(target):
        raise ImportRefused(
            f"{target} already exists; mapctl never overwrites it",
            hint="mapctl never overwrites a folder: check what it is, or import to another "
            "folder with --out",
        )


CLIENT_MARKER = "client.json"  # every client folder mapctl makes holds one


def client_info(folder: Path) -> dict[str, Any] | None:
    """The `client.json` of a client folder mapctl made, or None when `folder` is not one."""
    try:
        info = json.loads((folder / CLIENT_MARKER).read_bytes())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and "clio_contact_id" in info else None


def refuse_inside_client_folder(parent: Path) -> None:
    """`ImportRefused` when `parent` (--out) is inside a client's folder (or is one): the new
    client's folder would be nested in another client's."""
    try:
        resolved = Path(parent).resolve()
    except OSError:
        return
    for folder in (resolved, *resolved.parents):
        if client_info(folder) is not None:
            raise ImportRefused(
                f"{parent} is inside the client folder {folder}: the new client's folder would "
                "be nested in another client's",
                hint="choose a folder outside client folders with --out",
            )


@contextmanager
def staged_folder(
    parent: Path, name: str, files: Mapping[str, bytes], *, tag: str = ""
) -> Iterator[Path]:
    """Write `files` into a hidden temporary folder in `parent`; yield it; remove it if still
    there when the block ends (after a successful `publish` it is gone). `tag` (a firm-wide
    claim's token) goes into the folder's name, so that taking that claim back removes exactly
    its staging folder (`remove_stale_staging(..., tag=)`)."""
    created: list[Path] = []  # made here (0700); taken back if the import fails
    try:
        created = make_folders(parent)
        remove_stale_staging(parent, name)
        prefix = f".{name}.{tag}-" if tag else f".{name}."
        staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=parent))
    except OSError as error:
        _remove_empty(created)
        raise MapctlError(
            f"cannot create a folder in {parent}: {error.strerror or error}"
        ) from error
    try:
        os.chmod(staging, FOLDER_MODE)
        for file_name, data in files.items():
            _write_new(staging / file_name, data)
        fsync_folder(staging)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise MapctlError(f"cannot write in {parent}: {error.strerror or error}") from error
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)  # after a publish the folder holds the client: it stays


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders an import created, deepest first, as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def remove_stale_staging(
    parent: Path, name: str, *, older_than: float = STALE_AFTER, tag: str = ""
) -> None:
    """Remove what an import killed mid-way (power cut, SIGKILL) left behind: this client's
    staging folders older than `older_than` seconds (a live import stages for milliseconds);
    with `tag`, only that import's (see `staged_folder`)."""
    limit = time.time() - older_than
    pattern = (
        f".{glob.escape(name)}.{glob.escape(tag)}-*.partial"
        if tag
        else f".{glob.escape(name)}.*.partial"
    )
    for leftover in parent.glob(pattern):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and not leftover.is_symlink() and leftover.stat().st_mtime < limit:
                shutil.rmtree(leftover)


def publish(
    staging: Path, target: Path, *, rename: Callable[[Path, Path], None] = os.rename
) -> None:
    """Move the staged folder to `target` in one step; refuse when `target` exists."""
    refuse_if_exists(target)
    try:
        # rename(2) would replace an empty folder that appeared since the check; that is the only
        # case it does not refuse, and it loses nothing.
        rename(staging, target)
    except OSError as error:
        if os.path.lexists(target):
            refuse_if_exists(target)
        raise MapctlError(f"cannot create {target}: {error.strerror or error}") from error
    fsync_folder(target.parent)


def remove_published(target: Path) -> None:
    """Undo `publish` when the ledger could not record the client."""
    shutil.rmtree(target, ignore_errors=True)
