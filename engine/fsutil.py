"""File writing that never leaves half a file: temp file in the same folder, fsync, rename.

Shared by the answer-file output, the token store, `fetch -o` and the import. With
`overwrite=False` the final step is a hard link, which fails atomically when the target exists,
so two writers racing for one name cannot both win.

Private by default: what mapctl writes may hold a client's SSN or a token, so files are created
0600 and the folders mapctl creates 0700, whatever the umask (`FILE_MODE`, `FOLDER_MODE`,
`make_folders`). Folders that already exist are left as their owner set them.

Batch output (`render --out-dir`) uses `write_new` instead: the same whole-or-nothing and
no-overwrite guarantees without an fsync per file, then one `sync_folder` for the whole batch.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from .errors import ImportRefused, MapctlError

FILE_MODE = 0o600
FOLDER_MODE = 0o700

try:  # POSIX; staff also run mapctl on Windows, where ILS runs
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def home_folder(env: object) -> Path:
    """$MAPCTL_HOME, default ~/.mapctl (created on first write, not here).

    A file where the folder should be is refused here, for every command that uses the folder
    (exit 1), rather than surfacing as "No such file or directory" (Windows raises
    FileNotFoundError opening a path below a file) or as an empty answer ("No clients imported
    yet"). `env` is a mapping of environment variables."""
    value = env.get("MAPCTL_HOME") if hasattr(env, "get") else None
    home = Path(value).expanduser() if value else Path.home() / ".mapctl"
    if home.exists() and not home.is_dir():
        named = "MAPCTL_HOME names" if value else "mapctl's folder is"
        raise MapctlError(
            f"{named} {home}, which is a file, not a folder (a file is in the way)",
            hint="set MAPCTL_HOME to a folder (mapctl creates it), or ask your administrator",
        )
    return home


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


def _file_in_the_way(folder: Path) -> bool:
    """Whether `folder` or a folder above it is a file (so `folder` cannot be made)."""
    for above in (folder, *folder.parents):
        with contextlib.suppress(OSError):
            if above.exists():
                return not above.is_dir()
    return False


def write_atomic(path: Path, data: bytes, *, mode: int = FILE_MODE, overwrite: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never part.

    Raises `ImportRefused` when `overwrite` is false and `path` exists, and `MapctlError` (exit 1)
    with one clear line for any OS error (disk full, permission denied...).
    """
    path = Path(path)
    try:
        make_folders(path.parent)
        import tempfile  # the rare path: not loaded at every start

        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (FileExistsError, NotADirectoryError) as error:  # e.g. MAPCTL_HOME names a file
        raise MapctlError(
            f"cannot write {path}: {path.parent} is not a folder (a file is in the way)"
        ) from error
    except OSError as error:
        if isinstance(error, FileNotFoundError) and _file_in_the_way(path.parent):
            # Windows says "No such file or directory" for a path below a file
            raise MapctlError(
                f"cannot write {path}: {path.parent} is not a folder (a file is in the way)"
            ) from error
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


# Windows' C runtime opens a file in text mode unless told otherwise: a read then turns CRLF
# into LF and ends at the first Ctrl-Z. mapctl reads and writes bytes as they are.
O_BINARY: int = getattr(os, "O_BINARY", 0)
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)


# --- batch output: whole files now, durable once per batch (see docs/batch-render.md) -----------

# An O_TMPFILE file has no name until it is linked in whole: a process killed while writing one
# leaves nothing behind in the folder. Where the file system lacks it, a named temp file is used.
_TMPFILE_FLAGS = getattr(os, "O_TMPFILE", 0) | os.O_WRONLY | _CLOEXEC
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}
_NAMELESS = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
_DIRECTORY_FLAGS = getattr(os, "O_DIRECTORY", 0) | _CLOEXEC


def write_new(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    mode: int = FILE_MODE,
    overwrite: bool = False,
    hint: str | None = None,
    dir_fd: int | None = None,
) -> None:
    """Write one file of a batch whole or not at all, without waiting for the disk.

    The folder must exist. The file gets its name only once all of `data` is in it (O_TMPFILE
    and a hard link, or a temp file and a rename), so a reader or a killed process never sees
    part of it. No fsync: call `sync_folder` once when the batch is written. With `overwrite`
    false an existing `path` is kept and `ImportRefused` (carrying `hint`) raised; OS errors are
    `MapctlError` (exit 1). `dir_fd`: the folder, held open by the caller (`open_folder`) to
    spare an open per file.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    try:
        if _NAMELESS and _write_nameless(
            dir_fd, folder or ".", name, path, data, mode, overwrite, hint
        ):
            return
        import tempfile  # the rare path: not loaded at every start

        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
        try:
            try:
                _write_fd(fd, data, mode)
            finally:
                os.close(fd)
            if overwrite:
                os.replace(tmp, path)
            else:
                _link_new(tmp, path, hint)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except ImportRefused:
        raise
    except OSError as error:
        raise MapctlError(f"cannot write {path}: {error.strerror or error}") from error


def _write_nameless(
    held: int | None,
    folder: str,
    name: str,
    path: str,
    data: bytes,
    mode: int,
    overwrite: bool,
    hint: str | None,
) -> bool:
    """Write through an O_TMPFILE file, linked in by its /proc/self/fd name when complete.
    False (nothing done) where the file system does not support O_TMPFILE."""
    dir_fd = os.open(folder, os.O_RDONLY | _DIRECTORY_FLAGS) if held is None else held
    try:
        try:
            fd = os.open(".", _TMPFILE_FLAGS, mode, dir_fd=dir_fd)
        except OSError as error:
            if error.errno in _NO_TMPFILE:
                return False
            raise
        try:
            if held is not None and mode & _held_umask[0] == 0:  # `mode` already: no fchmod
                write_all(fd, data)
            else:
                _write_fd(fd, data, mode)
            source = f"/proc/self/fd/{fd}"  # linkat(..., AT_SYMLINK_FOLLOW) links the file itself
            if not overwrite:
                _link_new(source, name, hint, dir_fd=dir_fd, shown=path)
                return True
            tmp = f".{name}.{os.urandom(6).hex()}.tmp"
            os.link(source, tmp, dst_dir_fd=dir_fd)
            try:
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except OSError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=dir_fd)
                raise
            return True
        finally:
            os.close(fd)
    finally:
        if held is None:
            os.close(dir_fd)


def open_folder(folder: str | os.PathLike[str]) -> int | None:
    """A folder held open for `write_new(..., dir_fd=)` (close it with os.close); None where
    folders cannot be held open for links (Windows): `write_new` then works by path."""
    if os.link not in os.supports_dir_fd:  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY_FLAGS)
    except OSError as error:
        reason = error.strerror or error
        raise MapctlError(f"cannot write into {os.fspath(folder)}: {reason}") from None
    if _NAMELESS:
        _held_umask[0] = _read_umask()
    return fd


def _write_fd(fd: int, data: bytes, mode: int) -> None:
    set_mode(fd, mode)  # the mode asked for, whatever the umask
    write_all(fd, data)
    if _NO_FOLDER_SYNC:  # pragma: no cover - Windows: no batch flush, so each file's own
        os.fsync(fd)


def write_all(fd: int, data: bytes | bytearray) -> None:
    """All of `data` to the descriptor `fd` (os.write may take only part of it: a pipe, a
    signal, a full disk's last blocks)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_folder(path: str | os.PathLike[str]) -> None:
    """Make a rename or a new name in the folder `path` durable, where the system can: nothing
    on Windows (no folder handles to fsync) or on a file system that cannot fsync a folder."""
    if sys.platform == "win32":  # pragma: no cover - no folder handles to fsync there
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# The umask when a batch opened its folder (`open_folder`): while it is the same, a nameless
# file is created with exactly the mode asked for, and needs no fchmod. (A long-lived process
# may change its umask between batches; so it is read again for each.)
_held_umask = [0o777]


def _read_umask() -> int:
    """The umask, read from /proc/self/status (Linux 4.7 and later) without changing it (which
    `os.umask` would do, for an instant, under other threads); 0o777 (so: always fchmod) where
    it cannot be read."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o777


def _link_new(
    source: str, target: str, hint: str | None, *, dir_fd: int | None = None, shown: str = ""
) -> None:
    """Hard-link `source` as `target`, which must not exist (atomic: one of two writers wins)."""
    try:
        os.link(source, target, dst_dir_fd=dir_fd)
    except FileExistsError:
        message = f"{shown or target} already exists; mapctl never overwrites it"
        raise ImportRefused(message, hint=hint) from None


def remove_file(path: str | os.PathLike[str]) -> bool:
    """Remove a file if it is there (a stale output); False when there was none."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise MapctlError(f"cannot remove {os.fspath(path)}: {error.strerror or error}") from error
    return True


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Make every file written into `folder` durable, once for the whole batch: one syncfs(2) of
    its file system (os.sync() where syncfs is missing), then the folder's own fsync. (Windows
    can open no folder and has no sync: each file was flushed as it was written there.)"""
    if _NO_FOLDER_SYNC:  # pragma: no cover - Windows
        return
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY_FLAGS)
    except OSError as error:
        raise MapctlError(f"cannot flush {os.fspath(folder)}: {error.strerror or error}") from error
    try:
        if not _syncfs(fd):
            os.sync()
        os.fsync(fd)
    except OSError as error:
        raise MapctlError(f"cannot flush {os.fspath(folder)}: {error.strerror or error}") from error
    finally:
        os.close(fd)


_NO_FOLDER_SYNC = not hasattr(os, "sync")


def _syncfs(fd: int) -> bool:
    """syncfs(2) through libc (Linux); False where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.syncfs(fd) == 0)
    except (OSError, AttributeError):
        return False


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
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | O_BINARY)
    try:
        status = os.fstat(fd)
        if stat.S_ISREG(status.st_mode) and 0 < status.st_size < size:
            # The common case, a file of known size (every bundle of a batch): read that much
            # and one byte more, to see it grew; no file object, no second fstat.
            data = os.read(fd, status.st_size + 1)
            if len(data) <= status.st_size:
                os.close(fd)
                return data
            chunks, remaining = [data], size - len(data)
            while remaining > 0 and (data := os.read(fd, min(remaining, 1 << 20))):
                chunks.append(data)  # it grew meanwhile: read on, to the end or to `size`
                remaining -= len(data)
            os.close(fd)
            return b"".join(chunks)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    mode = status.st_mode
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
        if stat.S_ISREG(mode) and 0 < status.st_size < remaining:
            # The size is known: read that much (and one byte more, to see it grew), not 1 MB
            # chunks, which cost an allocation each for every small bundle of a batch.
            chunk = handle.read(status.st_size + 1)
            if len(chunk) <= status.st_size:
                return chunk
            chunks.append(chunk)
            remaining -= len(chunk)
        while remaining > 0:
            chunk = handle.read(min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


# --- $MAPCTL_HOME: no symbolic links followed (issue 17 item 14) ------------------------------

# A link planted in MAPCTL_HOME (`clients.db -> ~/.ssh/id_rsa`, a dangling `clients.lock ->
# /etc/cron.d/x`) would make mapctl change or create a file elsewhere: every file mapctl opens
# there is opened without following links (O_NOFOLLOW where the OS has it, an lstat check
# everywhere, Windows included, where a reparse point counts as a link).
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT (Windows symbolic links and junctions)


def is_link(path: str | os.PathLike[str]) -> bool:
    """Whether `path` itself is a symbolic link (or a Windows reparse point); False when it is
    not there or cannot be looked at."""
    try:
        status = os.lstat(path)
    except OSError:
        return False
    attributes = getattr(status, "st_file_attributes", 0)
    return stat.S_ISLNK(status.st_mode) or bool(attributes & _REPARSE_POINT)


def link_refused(path: str | os.PathLike[str]) -> MapctlError:
    return MapctlError(
        f"{os.fspath(path)} is a symbolic link; mapctl does not follow links in its home folder",
        hint="replace the link with the real file (or delete it: mapctl makes a new one where "
        "it can)",
    )


def refuse_link(path: str | os.PathLike[str]) -> None:
    """MapctlError (exit 1) when `path` is a symbolic link; nothing when it is not there."""
    if is_link(path):
        raise link_refused(path)


def open_no_follow(path: str | os.PathLike[str], flags: int, mode: int = FILE_MODE) -> int:
    """os.open that never follows a link at `path` itself (MapctlError when one is there);
    other OSErrors (FileNotFoundError...) get out as they are."""
    refuse_link(path)
    try:
        return os.open(path, flags | O_NOFOLLOW | _CLOEXEC | O_BINARY, mode)
    except OSError as error:
        if O_NOFOLLOW and error.errno == errno.ELOOP:  # made a link since the check
            raise link_refused(path) from None
        raise


def read_private(path: str | os.PathLike[str], limit: int = 1 << 20) -> bytes:
    """A small file of mapctl's own in MAPCTL_HOME (the token store...), read without
    following a link (MapctlError) and refused (OSError) when it is not a regular file or is
    larger than `limit`. FileNotFoundError when it is not there."""
    fd = open_no_follow(path, os.O_RDONLY | _NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, "too large")
    return data
