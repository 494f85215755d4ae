"""Batch rendering: many bundles -> one answer file each in a folder; fast, safe, in order.

Stage: the file-handling loop of `mapctl render --out-dir` around `rendering.render_bundle`. In:
bundle files and folders (every `*.json` inside, sorted), a compiled mapping, the options. Out:
one `Outcome` per bundle, in input order, holding the text the user is told about it (warnings,
errors) and whether it failed; the caller prints them and the summary. Never prints.

Decisions (issue 12, docs/batch-render.md):
- Each answer file appears whole or not at all (`fsutil.write_new`: a nameless file linked in
  when complete), an existing file is never replaced without `force`, and with `force` a bundle
  that now fails removes its stale answer file. Nothing is fsynced per file: `finish` flushes
  the folder once, before the caller prints the summary.
- `jobs` > 1 renders in `jobs` processes. On POSIX (no other thread running) this process
  forks `jobs - 1` children once the mapping is compiled and renders too (`_in_forks`: blocks
  of bundles taken from a shared queue, outcomes sent back as compact records; no
  multiprocessing, no pickling). Elsewhere (Windows; under threads) a multiprocessing pool,
  the mapping compiled once per worker (`_in_workers`). Either way output bytes, file names,
  messages and exit status are those of `jobs=1`, in the same order.
- Memory does not grow with the batch: folders are listed as sorted names (not Paths), the work
  goes out in blocks or chunks with a bounded number in flight, and only the outcomes' text
  comes back.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import heapq
import itertools
import os
import select
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EXIT_INTERNAL, EvaluationError, ImportRefused, MapctlError
from ..fsutil import (
    make_folders,
    open_folder,
    read_bounded,
    remove_file,
    sync_folder,
    write_all,
    write_new,
)
from ..mapping.model import CompiledMapping
from ..report import format_error, format_problems, printable
from .codegen import plan_for
from .rendering import OutputFormat, render_bundle

OVERWRITE_HINT = "pass --force to replace it, or choose another output path"


@dataclass(frozen=True)
class BatchOptions:
    """How every bundle of a batch is rendered and written."""

    today: datetime.date
    exclude: tuple[int, ...] = ()
    keep_going: bool = False
    fmt: OutputFormat = "anx"
    force: bool = False  # replace existing answer files; remove those of bundles that now fail


@dataclass(frozen=True, slots=True)
class Outcome:
    """One bundle's result: what to tell the user (lines ending in a newline, or "")."""

    report: str
    failed: bool = False  # nothing written for this bundle
    partial: bool = False  # written, with answers left out (keep_going)


# --- the bundles of a batch --------------------------------------------------------------------


class Bundles:
    """The bundle files of a batch, in order: files as given, folders as their sorted `*.json`.

    A folder's names are kept as `SortedNames` (bytes, not objects) and paths are made one at a
    time, so a folder of 30,000 bundles costs about half a megabyte, not 30,000 Path objects.
    """

    def __init__(
        self, paths: Sequence[str | Path], *, folders: Iterable[str] | None = None
    ) -> None:
        """`folders`: which of `paths` are folders, when the caller knows it already (it
        stat'ed them all); otherwise each path is looked at here."""
        known = None if folders is None else set(folders)
        self._parts: list[tuple[str, SortedNames | None]] = []  # (file, None) or (folder, names)
        for path in paths:
            text = os.fspath(path)
            folder = os.path.isdir(text) if known is None else text in known
            self._parts.append((text, _bundle_names(text) if folder else None))
        self._count = sum(1 if names is None else len(names) for _, names in self._parts)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for text, names in self._parts:
            if names is None:
                yield text
            else:
                prefix = text if text.endswith(os.sep) else text + os.sep
                for name in names:
                    yield prefix + name

    def first_clash(self) -> str | None:
        """A stem two bundles share (their answer files would collide), or None."""
        if len(self._parts) == 1:  # one file, or the distinct names of one folder
            return None
        seen: set[str] = set()
        for text, names in self._parts:
            for stem in [stem_of(text)] if names is None else (n[:-5] for n in names):
                if stem in seen:
                    return stem
                seen.add(stem)
        return None

    def overwritten_bundle(self, out_dir: Path, fmt: OutputFormat) -> str | None:
        """A bundle the answers would overwrite (`--format json` into the bundles' folder)."""
        target = os.path.realpath(out_dir)
        suffix = f".{fmt}"
        for text, names in self._parts:
            if names is None:
                if not text.endswith(suffix):  # the answer file is `<stem>.<fmt>`: not this
                    continue
                if f"{stem_of(text)}.{fmt}" == os.path.basename(text):  # rare: few stats
                    if os.path.realpath(os.path.dirname(text) or ".") == target:
                        return text
            elif fmt == "json" and os.path.realpath(text) == target:
                return os.path.join(text, next(iter(names)))
        return None


def stem_of(path: str) -> str:
    """`Path(path).stem` (the answer file is `<stem>.<fmt>`, as `rendering.output_name`), without
    making a Path for each of thousands of bundles."""
    name = os.path.basename(path)
    if len(name) > 5 and name.endswith(".json") and name[0] != ".":
        return name[:-5]
    return Path(path).stem


class SortedNames:
    """Names iterated in sorted order, held compactly: UTF-8 bytes in sorted runs of `RUN`
    names, merged lazily. Never more than one run's names exist as objects at once."""

    RUN = 1024

    def __init__(self, names: Iterable[str]) -> None:
        self._data = bytearray()
        self._runs: list[tuple[int, int]] = []  # (start, end) of each sorted run in _data
        self._count = 0
        for run in _chunks(iter(names), self.RUN):
            run.sort()
            start = len(self._data)
            self._data += b"\0".join(os.fsencode(name) for name in run) + b"\0"
            self._runs.append((start, len(self._data)))
            self._count += len(run)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return heapq.merge(*(self._run(start, end) for start, end in self._runs))

    def _run(self, start: int, end: int) -> Iterator[str]:
        data = self._data
        while start < end:
            stop = data.index(0, start)
            yield os.fsdecode(bytes(data[start:stop]))
            start = stop + 1


def _bundle_names(folder: str) -> SortedNames:
    """The `*.json` files in a folder (not hidden ones, not folders), by name."""
    try:
        with os.scandir(folder) as entries:
            names = SortedNames(
                entry.name
                for entry in entries
                if entry.name.endswith(".json")
                and not entry.name.startswith(".")
                and entry.is_file()
            )
    except OSError as error:
        raise MapctlError(f"cannot read the folder {folder}: {error.strerror or error}") from None
    if not len(names):
        raise MapctlError(
            f"{folder}: no bundles in this folder (it holds no *.json files)",
            hint="make one with `mapctl fetch MATTER -o FILE`",
        )
    return names


# --- one bundle --------------------------------------------------------------------------------


def render_into(
    bundle: str,
    out_dir: str,
    mapping: CompiledMapping,
    options: BatchOptions,
    dir_fd: int | None = None,
) -> Outcome:
    """Render one bundle into `out_dir/<stem>.<fmt>` (`dir_fd`: that folder, held open); every
    problem becomes the outcome's text."""
    target = os.path.join(out_dir, f"{stem_of(bundle)}.{options.fmt}")
    lines: list[str] = []
    try:  # an existing answer file is refused by write_new (atomically; no stat beforehand)
        rendered = render_bundle(
            read_bounded(bundle, "a matter bundle"),
            bundle,
            mapping,
            today=options.today,
            exclude=options.exclude,
            keep_going=options.keep_going,
            fmt=options.fmt,
        )
        lines.extend(warning_lines(bundle, rendered.warnings))
        if rendered.errors:
            lines.append(left_out_text(bundle, len(rendered.errors)))
            lines.append(format_problems(rendered.errors) + "\n")
        write_new(
            target, rendered.output, overwrite=options.force, hint=OVERWRITE_HINT, dir_fd=dir_fd
        )
        return Outcome("".join(lines), partial=bool(rendered.errors))
    except EvaluationError as error:  # reported per file; the rest are still written
        lines.extend(warning_lines(bundle, error.warnings))
        lines.append(_removed(bundle, target, options))
        lines.append(f"{bundle}: {answers(len(error.problems))} failed; nothing written:\n")
        lines.append(format_problems(error.problems) + "\n")
    except ImportRefused as error:  # an existing answer file: kept as it is, nothing else said
        lines = [_named(bundle, error)]
    except MapctlError as error:  # an unusable bundle, or the answer file cannot be written
        lines.append(_removed(bundle, target, options))
        lines.append(_named(bundle, error))
    return Outcome("".join(lines), failed=True)


def _removed(bundle: str, target: str, options: BatchOptions) -> str:
    """With --force, a bundle that fails removes its stale answer file (and says so)."""
    try:
        return removed_text(bundle, target) if options.force and remove_file(target) else ""
    except MapctlError as error:  # e.g. permission denied: said, and the batch goes on
        return _named(bundle, error)


def removed_text(bundle: str, target: str) -> str:
    return f"{bundle}: removed {target}, the answer file of an earlier render\n"


def _named(bundle: str, error: MapctlError) -> str:
    text = format_error(error)
    return (text if error.message.startswith(f"{bundle}:") else f"{bundle}: {text}") + "\n"


def warning_lines(source: str, warnings: Iterable[str]) -> list[str]:
    # Warnings carry Clio text (names): cleaned of terminal escapes, as every screen line is.
    return [f"{source}: warning: {printable(warning)}\n" for warning in warnings]


def left_out_text(source: str, count: int) -> str:
    verb = "was" if count == 1 else "were"
    return f"{source}: {answers(count)} failed and {verb} left out (--keep-going):\n"


def answers(count: int) -> str:
    return f"{count} answer{'' if count == 1 else 's'}"


# --- the batch ---------------------------------------------------------------------------------


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def render_batch(
    bundles: Bundles,
    out_dir: Path,
    mapping: CompiledMapping,
    options: BatchOptions,
    *,
    jobs: int = 1,
    mapping_name: str | None = None,
) -> Iterator[Outcome]:
    """Each bundle's outcome, in order. `mapping_name` (the `-m` value) lets workers that are not
    forked compile the mapping themselves. Call `finish` when all are consumed."""
    try:
        make_folders(Path(out_dir))  # private (0700), as every folder mapctl creates
    except OSError as error:
        reason = error.strerror or error
        raise MapctlError(f"cannot create the folder {out_dir}: {reason}") from None
    folder = str(out_dir)
    dir_fd = open_folder(folder)  # one open for every file (inherited by forked workers)
    try:
        if jobs <= 1 or len(bundles) < 2:
            for bundle in bundles:
                yield render_into(bundle, folder, mapping, options, dir_fd)
        elif _can_fork():
            yield from _in_forks(bundles, folder, mapping, options, jobs, dir_fd)
        else:
            yield from _in_workers(bundles, folder, mapping, options, jobs, mapping_name, dir_fd)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def finish(out_dir: Path) -> None:
    """Make the batch durable: one flush of the folder's file system, then of the folder."""
    sync_folder(out_dir)


# --- workers: forked (POSIX) ---------------------------------------------------------------------


def _can_fork() -> bool:
    """Forking is safe: POSIX, and no other thread runs (a forked child would inherit its locks
    in whatever state; a test session, an embedding app)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _in_forks(
    bundles: Bundles,
    folder: str,
    mapping: CompiledMapping,
    options: BatchOptions,
    jobs: int,
    dir_fd: int | None,
) -> Iterator[Outcome]:
    """`jobs` processes: this one and `jobs - 1` forked children, which inherit the compiled
    mapping, the list of bundles and the open folder. The bundles are cut into numbered blocks;
    the block numbers wait in a pipe (the queue), and each process takes the next one when it
    is free, so a process slowed down (by a busy machine) takes fewer. Every process walks the
    same list of bundles, so no name crosses a process boundary; a child sends back each
    block's outcomes as compact records through its own pipe. This process renders blocks too,
    keeps those it (or a child) finished early as records, and yields every outcome in input
    order."""
    count = len(bundles)
    jobs = min(jobs, count)
    size = max(1, min(32, count // (jobs * 8)), -(-count // _MAX_BLOCKS))
    blocks = -(-count // size)
    plan_for(mapping)  # the generated renderer: made once here, inherited by the children
    _prctl()  # loaded here once (functools.cache), not in each child
    parent = os.getpid()
    queue, fill = os.pipe()
    try:
        write_all(fill, b"".join(n.to_bytes(4, "little") for n in range(blocks)))
    finally:
        os.close(fill)  # once the queue is empty, a read gives b"": no block left
    work = _Work(bundles, size, queue)
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is inherited (and said twice)
        with contextlib.suppress(Exception):
            stream.flush()
    gc.freeze()  # the children then never touch (and copy) this process's objects to collect
    try:
        for _ in range(1, jobs):
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(read_end)
                os.close(write_end)
                raise
            if pid == 0:  # the child: render blocks, report, and leave without clean-up
                os.close(read_end)
                for _, other in children:
                    os.close(other)
                _child(work, folder, mapping, options, dir_fd, parent, write_end)
            os.close(write_end)
            children.append((pid, read_end))
    except BaseException:
        _stop(children)
        os.close(queue)
        raise
    finally:
        gc.unfreeze()
    readers = {read_end: _Frames(read_end) for _, read_end in children}
    done: dict[int, bytes] = {}  # blocks finished before their turn: their records
    try:
        for turn in range(blocks):
            own: list[Outcome] | None = None
            while turn not in done:
                _receive(readers, done, wait=False)  # what came meanwhile: no child waits
                if turn in done:
                    break
                block = work.take()
                if block is None:  # every block is taken: wait for the children's
                    _receive(readers, done, wait=True)
                    continue
                outcomes = [
                    render_into(bundle, folder, mapping, options, dir_fd)
                    for bundle in work.bundles(block)
                ]
                if block == turn:
                    own = outcomes
                    break
                done[block] = b"".join(_record(outcome) for outcome in outcomes)
            yield from own if own is not None else _outcomes(done.pop(turn))
        for pid, _ in children:  # each has sent every block it took: its files are written
            os.waitpid(pid, 0)
        for _, read_end in children:
            os.close(read_end)
        children.clear()
    finally:
        _stop(children)  # interrupted (Ctrl-C, an error): the children stop writing now
        os.close(queue)


_MAX_BLOCKS = 4096  # block numbers in the queue: 16 KiB, what any pipe holds without a reader


class _Work:
    """The blocks of a batch: taken from the shared queue, each process's in increasing order
    (the queue hands them out in order), so each walks the list of bundles once, forward."""

    def __init__(self, bundles: Bundles, size: int, queue: int) -> None:
        self._items = iter(bundles)
        self._at = 0  # the index of the next bundle self._items gives
        self.size = size
        self._queue = queue

    def take(self) -> int | None:
        """The next block nobody has taken (one read of 4 bytes: atomic), or None."""
        number = os.read(self._queue, 4)
        return int.from_bytes(number, "little") if number else None

    def bundles(self, block: int) -> list[str]:
        start = block * self.size
        for _ in itertools.islice(self._items, start - self._at):  # others' blocks
            pass
        chunk = list(itertools.islice(self._items, self.size))
        self._at = start + len(chunk)
        return chunk


def _stop(children: list[tuple[int, int]]) -> None:
    for pid, read_end in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(read_end)
    children.clear()


def _child(
    work: _Work,
    folder: str,
    mapping: CompiledMapping,
    options: BatchOptions,
    dir_fd: int | None,
    parent: int,
    pipe: int,
) -> None:
    """A forked child: blocks from the queue until it is empty; never returns."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        _die_with_parent(parent)
        while (block := work.take()) is not None:
            records = bytearray()
            for bundle in work.bundles(block):
                if os.getppid() != parent:  # orphaned (no prctl): stop writing
                    os._exit(1)
                records += _record(render_into(bundle, folder, mapping, options, dir_fd))
            write_all(pipe, _frame(block, records))
        write_all(pipe, _frame(_END, b""))
    except BaseException as error:  # an internal error: raised again in the parent
        status = 1
        with contextlib.suppress(BaseException):
            write_all(pipe, _frame(_FAILED, _pickled(error)))
    finally:
        os._exit(status)  # no atexit handlers, no flushing of the parent's buffers


class WorkerLost(MapctlError):
    """A forked worker ended without reporting all its bundles (killed, out of memory)."""

    exit_code = EXIT_INTERNAL


# What a child sends: frames of its length (4 bytes, little-endian, the block number included),
# the block number (4 bytes; _END: no block left; _FAILED: a pickled exception follows), and
# the block's outcomes, each a record: one byte (bit 0: failed, bit 1: partial), the report's
# length (4 bytes), the report (UTF-8).
_END = 0xFFFFFFFF
_FAILED = 0xFFFFFFFE


def _frame(block: int, payload: bytes | bytearray) -> bytes:
    return (len(payload) + 4).to_bytes(4, "little") + block.to_bytes(4, "little") + payload


def _record(outcome: Outcome) -> bytes:
    report = outcome.report.encode("utf-8", "surrogatepass") if outcome.report else b""
    flags = outcome.failed | outcome.partial << 1
    return bytes((flags,)) + len(report).to_bytes(4, "little") + report


def _outcomes(records: bytes) -> Iterator[Outcome]:
    at = 0
    while at < len(records):
        flags, size = records[at], int.from_bytes(records[at + 1 : at + 5], "little")
        report = records[at + 5 : at + 5 + size].decode("utf-8", "surrogatepass") if size else ""
        at += 5 + size
        yield Outcome(report, failed=bool(flags & 1), partial=bool(flags & 2))


def _pickled(error: BaseException) -> bytes:
    import pickle

    try:
        return pickle.dumps(error)
    except Exception:
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def _receive(readers: dict[int, _Frames], done: dict[int, bytes], *, wait: bool) -> None:
    """Keep the records of each block the children finished in `done`: those sent already, or
    (`wait`) at least the next that comes."""
    waiting = [fd for fd, reader in readers.items() if not reader.ended]
    if not waiting:
        if wait:  # every child said it has no block left, and one is still missing
            raise _lost()
        return
    poll = select.poll()  # not select.select: no limit on the descriptors' numbers
    for fd in waiting:
        poll.register(fd, select.POLLIN)
    for fd, _ in poll.poll(None if wait else 0):
        for block, payload in readers[fd].read():
            if block == _FAILED:
                import pickle

                raise pickle.loads(payload)
            done[block] = payload


def _lost() -> WorkerLost:
    return WorkerLost(
        "a worker process of the batch stopped before its work was done (killed?)",
        hint="the answer files written are whole; run the command again to render "
        "the rest (with --force to render them all again)",
    )


class _Frames:
    """The frames one child sends, read as they come."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._data = bytearray()
        self.ended = False

    def read(self) -> Iterator[tuple[int, bytes]]:
        """The frames complete after one read (which must not block: the pipe is readable)."""
        more = os.read(self._fd, 1 << 16)
        if not more:  # the child is gone without saying it was done
            raise _lost()
        self._data += more
        data, at = self._data, 0
        while len(data) - at >= 8:
            size = int.from_bytes(data[at : at + 4], "little")
            if len(data) - at - 4 < size:
                break
            block = int.from_bytes(data[at + 4 : at + 8], "little")
            payload = bytes(data[at + 8 : at + 4 + size])
            at += 4 + size
            if block == _END:
                self.ended = True
            else:
                yield block, payload
        del data[:at]


# --- workers: multiprocessing (Windows; a process running threads) --------------------------------


def _in_workers(
    bundles: Bundles,
    folder: str,
    mapping: CompiledMapping,
    options: BatchOptions,
    jobs: int,
    mapping_name: str | None,
    dir_fd: int | None,
) -> Iterator[Outcome]:
    import multiprocessing

    # Forked workers inherit the compiled mapping. Forking a process that runs threads (a test
    # session, an embedding app) can deadlock the child, so then the workers are spawned and
    # compile the mapping themselves.
    fork = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    context = multiprocessing.get_context("fork" if fork else "spawn")
    size = max(1, min(64, len(bundles) // (jobs * 8)))
    chunks = _chunks(iter(bundles), size)
    work = (folder, options, os.getpid(), dir_fd if fork else None)
    plan_for(mapping)  # the generated renderer: made once here, inherited by forked workers
    init = (mapping if fork else None, mapping_name, work)
    gc.freeze()  # forked workers then never touch (and copy) the parent's objects to collect them
    try:
        pool = context.Pool(jobs, initializer=_start_worker, initargs=init)
    finally:
        gc.unfreeze()
    with pool:
        first = itertools.islice(chunks, jobs * 4)
        pending = deque(pool.apply_async(_render_chunk, (chunk,)) for chunk in first)
        while pending:
            outcomes: list[Outcome] = pending.popleft().get()
            for chunk in itertools.islice(chunks, 1):
                pending.append(pool.apply_async(_render_chunk, (chunk,)))
            yield from outcomes


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


_worker: dict[str, Any] = {}


def _start_worker(
    mapping: CompiledMapping | None,
    mapping_name: str | None,
    work: tuple[str, BatchOptions, int, int | None],
) -> None:
    """In each worker: leave Ctrl-C to the parent, die with it, hold the compiled mapping and
    the output folder (inherited when forked)."""
    folder, options, parent, dir_fd = work
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    if mapping is None:
        from ..mapping.compilation import compile_mapping

        mapping = compile_mapping(mapping_name)
    if dir_fd is None:
        dir_fd = open_folder(folder)
    _worker.update(mapping=mapping, folder=folder, options=options, parent=parent, dir_fd=dir_fd)


@functools.cache
def _prctl() -> Any:
    """Linux's prctl(2) (None elsewhere): loaded once, in the parent before it forks, so that
    forked workers need not load ctypes and libc each."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None


def _die_with_parent(parent: int) -> None:
    """A killed parent must not leave workers writing on: Linux kills them with it."""
    prctl = _prctl()
    if prctl is not None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _render_chunk(chunk: list[str]) -> list[Outcome]:
    mapping, folder, options = _worker["mapping"], _worker["folder"], _worker["options"]
    outcomes = []
    for bundle in chunk:
        if os.getppid() != _worker["parent"]:  # orphaned (no prctl): stop writing
            os._exit(1)
        outcomes.append(render_into(bundle, folder, mapping, options, _worker["dir_fd"]))
    return outcomes
