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
- `jobs` > 1 renders in worker processes, the mapping compiled once per worker (inherited when
  the workers are forked). Workers read, render and write; the parent only prints, so output
  bytes, file names, messages and exit status are those of `jobs=1`, in the same order.
- Memory does not grow with the batch: folders are listed as sorted names (not Paths), the work
  goes out in chunks with a bounded number in flight, and only the outcomes' text comes back.
"""

from __future__ import annotations

import datetime
import gc
import heapq
import itertools
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EvaluationError, ImportRefused, MapctlError
from ..fsutil import (
    make_folders,
    open_folder,
    read_bounded,
    remove_file,
    sync_folder,
    write_new,
)
from ..mapping.model import CompiledMapping
from ..report import format_error, format_problems, printable
from .codegen import plan_for
from .rendering import OutputFormat, output_name, render_bundle

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

    def __init__(self, paths: Sequence[Path]) -> None:
        self._parts: list[tuple[str, SortedNames | None]] = []  # (file, None) or (folder, names)
        for path in paths:
            text = str(path)
            self._parts.append((text, _bundle_names(text) if os.path.isdir(text) else None))
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
            for stem in [Path(text).stem] if names is None else (n[:-5] for n in names):
                if stem in seen:
                    return stem
                seen.add(stem)
        return None

    def overwritten_bundle(self, out_dir: Path, fmt: OutputFormat) -> str | None:
        """A bundle the answers would overwrite (`--format json` into the bundles' folder)."""
        target = os.path.realpath(out_dir)
        for text, names in self._parts:
            if names is None:
                if output_name(Path(text), fmt) == os.path.basename(text):  # rare: few stats
                    if os.path.realpath(os.path.dirname(text) or ".") == target:
                        return text
            elif fmt == "json" and os.path.realpath(text) == target:
                return os.path.join(text, next(iter(names)))
        return None


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
    name = os.path.basename(bundle)  # `<stem>.<fmt>`, as output_name, without a Path each
    stem = name[:-5] if name.endswith(".json") and len(name) > 5 else Path(bundle).stem
    target = os.path.join(out_dir, f"{stem}.{options.fmt}")
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
        else:
            yield from _in_workers(bundles, folder, mapping, options, jobs, mapping_name, dir_fd)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def finish(out_dir: Path) -> None:
    """Make the batch durable: one flush of the folder's file system, then of the folder."""
    sync_folder(out_dir)


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


def _die_with_parent(parent: int) -> None:
    """A killed parent must not leave workers writing on: Linux kills them with it."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
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
