"""File writing that never leaves half a file: temp file in the same folder, fsync, rename.

Shared by the answer-file output, the token store, `fetch -o` and the import. With
`overwrite=False` the final step is a hard link, which fails atomically when the target exists,
so two writers racing for one name cannot both win.

Private by default: what mapctl writes may hold a client's SSN or a token, so files are created
0600 and the folders mapctl creates 0700, whatever the umask (`FILE_MODE`, `FOLDER_MODE`,
`make_folders`). Folders that already exist are left as their owner set them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import ImportRefused, MapctlError

FILE_MODE = 0o600
FOLDER_MODE = 0o700

try:  # POSIX; staff also run mapctl on Windows, where ILS runs
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def set_mode(fd: int, mode: int) -> None:
    """`chmod` an open file (Windows has no fchmod and no POSIX modes: nothing to do there)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting: True when taken, False when
    another process holds it. The lock goes when the file is closed or the process dies."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as error:  # Windows says "locked" with EACCES/EDEADLK
        if error.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK):
            return False
        raise
    return True


def make_folders(path: Path) -> list[Path]:
    """Create `path` and its missing parents, each `FOLDER_MODE` (only the owner gets in);
    returns the folders created, deepest first. Raises OSError."""
    missing: list[Path] = []
    current = Path(path)
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            missing.remove(folder)  # another process made it: not ours
            continue
        os.chmod(folder, FOLDER_MODE)  # the umask may have taken bits away (umask 0277...)
    return missing


def write_atomic(path: Path, data: bytes, *, mode: int = FILE_MODE, overwrite: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never part.

    Raises `ImportRefused` when `overwrite` is false and `path` exists, and `MapctlError` (exit 1)
    with one clear line for any OS error (disk full, permission denied...).
    """
    path = Path(path)
    try:
        make_folders(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (FileExistsError, NotADirectoryError) as error:  # e.g. MAPCTL_HOME names a file
        raise MapctlError(
            f"cannot write {path}: {path.parent} is not a folder (a file is in the way)"
        ) from error
    except OSError as error:
        raise MapctlError(f"cannot write {path}: {error.strerror or error}") from error
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            set_mode(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ImportRefused(
                    f"{path} already exists; mapctl never overwrites it",
                    hint="choose another output path or move the existing file away",
                ) from None
    except OSError as error:
        raise MapctlError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


MAX_INPUT_BYTES = 64_000_000  # a bundle of 40 contacts is ~100 kB; an interview file a few MB


def read_bounded(path: str | os.PathLike[str], what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """A file's bytes, refused (MapctlError, exit 1) when unreadable or larger than `limit`,
    so that /dev/zero or a never-ending pipe cannot exhaust memory."""
    try:
        data = read_at_most(path, limit + 1)
    except OSError as error:
        raise MapctlError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > limit:
        raise MapctlError(f"{path}: too large for {what} (more than {limit:,} bytes)")
    return data


def read_at_most(path: str | os.PathLike[str], size: int) -> bytes:
    """Up to `size` bytes of a file, without ever blocking on the open: a named pipe (FIFO) is
    opened non-blocking, and refused (OSError) when nothing writes to it, where a plain open would
    wait forever. A pipe with a writer (`<(command)`) is read as usual."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file")
    with os.fdopen(fd, "rb", buffering=0) as handle:
        first = b""
        if stat.S_ISFIFO(mode):
            try:
                first = os.read(fd, size)
            except BlockingIOError:  # a writer is there, not done yet: wait for it below
                pass
            else:
                if not first:
                    raise OSError(errno.EPIPE, "it is a named pipe (FIFO) that nothing writes to")
        if stat.S_ISFIFO(mode):
            os.set_blocking(fd, True)
        chunks = [first]
        remaining = size - len(first)
        while remaining > 0:
            chunk = handle.read(min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
