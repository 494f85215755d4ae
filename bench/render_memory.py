"""Benchmark: peak memory of `mapctl render FOLDER --out-dir DIR` for 3,000 and 30,000 bundles.

Goal: the peak for 30,000 bundles is within 10% of the peak for 3,000 (memory does not grow
with the batch). The bundles are hard links to one copy of a realistic bundle
(tests/cases/blended-family), so 30,000 of them cost no disk space; mapctl still opens and
reads each one. Two figures per run: the largest resident set of any one process (the parent
or a worker, from wait4), and the peak of the whole process tree's resident sets added up
(sampled every 5 ms from /proc).

Not a test: `.venv/bin/python bench/render_memory.py [--counts 3000 30000] [--jobs N]` (Linux).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "tests" / "cases" / "blended-family" / "bundle.json"
MAPPING = ROOT / "bench" / "render-mapping.yaml"
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo.extend(int(child) for child in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(folder: Path, out: Path, jobs: list[str], home: Path) -> tuple[int, int, float]:
    """(largest single process's peak RSS, the tree's sampled peak, seconds) of one render
    (`home`: its MAPCTL_HOME, so the bench leaves the user's own alone)."""
    script = Path(sys.executable).with_name("mapctl")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mapctl"]
    command += ["render", str(folder), "-m", str(MAPPING), "--today", "2026-03-01"]
    start = time.perf_counter()
    env = {**os.environ, "MAPCTL_HOME": str(home)}
    process = subprocess.Popen(
        [*command, "--out-dir", str(out), *jobs], stderr=subprocess.DEVNULL, env=env
    )
    peak = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"mapctl render failed with exit status {process.returncode}")
    return usage.ru_maxrss * 1024, peak, elapsed


def growth(counts: list[int], jobs_arg: str | None = None) -> float:
    """Print each count's peaks; the growth of the larger peak from the first count to the
    last (0.05: 5% more memory)."""
    jobs = ["--jobs", jobs_arg] if jobs_arg else []
    results = []
    with tempfile.TemporaryDirectory(prefix="mapctl-bench-") as temp:
        for count in counts:
            folder = Path(temp) / f"in-{count}"
            folder.mkdir()
            source = Path(temp) / f"bundle-{count}.json"
            source.write_bytes(BUNDLE.read_bytes())
            for n in range(count):
                os.link(source, folder / f"bundle-{n:05d}.json")
            out, home = Path(temp) / f"out-{count}", Path(temp) / "home"
            single, tree, seconds = measure(folder, out, jobs, home)
            results.append((count, single, tree))
            print(
                f"{count:>7,} bundles: peak RSS {single / 2**20:6.1f} MiB (largest process), "
                f"{tree / 2**20:6.1f} MiB (whole tree, sampled); {seconds:.1f} s"
                f"{' with --jobs ' + jobs_arg if jobs_arg else ' with the default --jobs'}"
            )
    first, last = results[0], results[-1]
    grown = max(last[1] / first[1], last[2] / first[2]) - 1
    print(f"growth from {first[0]:,} to {last[0]:,} bundles: {grown:+.1%} (goal <= +10%)")
    return grown


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--jobs", default=None, help="passed to mapctl (default: its own)")
    args = parser.parse_args()
    return 0 if growth(args.counts, args.jobs) <= 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
