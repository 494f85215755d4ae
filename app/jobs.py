"""Clio work off the request threads: a bounded pool, a deadline, and what each job waits for
(issue 18, items 11, 12 and 15).

Every page that asks Clio hands the work to `ClioWork`: at most `slots` jobs talk to Clio at
once (more: "mapctl is busy, try again", at once), each on the pool's threads, never on
waitress's. A request waits a short while for its job, then shows a page that polls it; so a
slow Clio holds pool threads, not the threads that serve /clients and the other pages. A job
past its deadline is given up (the page says Clio is too slow; its late answer is dropped).
Rate-limit waits are announced with the moment they end, for a live countdown on the page.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..engine.errors import ClioError, MapctlError

SLOTS = 4  # Clio jobs at once (Clio itself allows a handful of concurrent requests per user)
DEADLINE = 75.0  # seconds a job may take, besides the rate-limit waits Clio asks for
CONNECT_SECONDS = 30.0  # Finish Connecting: Clio's token exchange, then "who is this?"
WHO_AM_I_SECONDS = 5.0  # the Connection page asking Clio who is connected
SLOT_WAIT = 0.5  # how long a request waits for a free slot before "busy"


class ClioBusy(MapctlError):
    """Every slot for Clio work is taken (slow Clio, many tabs): try again in a moment."""


class ClioTooSlow(ClioError):
    """A job passed its deadline: Clio answered too slowly."""


@dataclass
class Job:
    """One piece of Clio work: done/result/error, and what it is waiting for right now."""

    what: str  # in staff words: "Searching Clio for “Estate”"
    deadline: float = DEADLINE
    clock: Callable[[], float] = time.time
    started: float = 0.0
    result: Any = None
    error: MapctlError | None = None
    wait_until: float | None = None  # a rate-limit wait ends then (the clock's seconds)
    about: dict[str, str] = field(default_factory=dict)  # the page's own notes (matter, back)
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.started = self.started or self.clock()

    def waiting(self, seconds: float) -> None:
        """Clio asked to wait `seconds` (a rate limit): shown as a countdown; not counted
        against the deadline."""
        with self.lock:
            self.wait_until = self.clock() + seconds
            self.deadline += seconds

    def finish(self, result: Any = None, error: MapctlError | None = None) -> None:
        with self.lock:
            if self.done.is_set():
                return  # given up already: the late answer is dropped
            self.result, self.error, self.wait_until = result, error, None
            self.done.set()

    def check_deadline(self) -> None:
        """Give up a job past its deadline (called by the pages that poll it)."""
        if not self.done.is_set() and self.clock() - self.started > self.deadline:
            self.finish(error=too_slow(self.what))

    def seconds_left(self) -> int | None:
        with self.lock:
            until = self.wait_until
        if until is None:
            return None
        left = until - self.clock()
        return max(0, round(left)) if left > -1 else None

    def time_left(self) -> int:
        """Whole seconds until the job is given up (its deadline, rate-limit waits included):
        the "at most N s more" a waiting page counts down."""
        with self.lock:
            ends = self.started + self.deadline
        return max(0, math.ceil(ends - self.clock()))

    def as_json(self) -> dict[str, Any]:
        self.check_deadline()
        left = self.seconds_left()
        return {
            "done": self.done.is_set(),
            "what": self.what,
            "wait": left,  # seconds of a rate-limit wait still to go, or null
            "left": 0 if self.done.is_set() else self.time_left(),  # until it is given up
        }


def too_slow(what: str) -> ClioTooSlow:
    return ClioTooSlow(
        f"Clio did not answer in time ({what[0].lower() + what[1:]})",
        hint="Clio may be slow or down right now",
    )


class ClioWork:
    """The pool every job runs on, at most `slots` at once."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="mapctl-clio")

    def start(self, job: Job, work: Callable[[Job], Any]) -> None:
        """Run `work(job)` on the pool; ClioBusy when every slot stays taken."""
        if not self._slots.acquire(timeout=SLOT_WAIT):
            raise ClioBusy(
                "mapctl is already waiting on Clio for several other screens",
                hint="Clio is answering slowly",
            )

        def run() -> None:
            try:
                job.finish(work(job))
            except MapctlError as error:
                job.finish(error=error)
            except Exception as error:  # noqa: BLE001 - shown as a page, never a traceback
                job.finish(error=MapctlError(f"internal error ({type(error).__name__})"))
            finally:
                self._slots.release()

        try:
            self._pool.submit(run)
        except RuntimeError:  # the app is stopping
            self._slots.release()
            raise ClioBusy("mapctl is stopping") from None

    def run(self, job: Job, work: Callable[[Job], Any], wait: float | None = None) -> Any:
        """Run `work` and wait for its result (at most `wait`, default the job's deadline)."""
        self.start(job, work)
        if not job.done.wait(job.deadline if wait is None else wait):
            job.finish(error=too_slow(job.what))
        if job.error is not None:
            raise job.error
        return job.result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
