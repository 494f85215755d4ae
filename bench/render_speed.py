"""Benchmark: mapctl's rendering vs a hand-written renderer, in-process and as whole processes.

Two workloads, each a bundle and a mapping with a hand-written renderer (bench/handwritten.py)
that writes byte-identical answer files:
- small: bench/small-bundle.json (7.8 KB: a client, a spouse, two children, a grandchild) with
  bench/small-mapping.yaml (24 answers; `handwritten.py --small`);
- large: tests/cases/blended-family/bundle.json (33 KB, 15 contacts) with
  bench/render-mapping.yaml (20 answers).

1. In-process (the engine alone: no process start, no files): `render_bundle` over COPIES
   bundles vs the hand-written function, interleaved, ROUNDS times; medians. Goal <= 1.3x.
2. Whole processes, COPIES bundles in a folder on disk and on tmpfs (/dev/shm):
       mapctl render DIR/*.json -m MAPPING --out-dir OUT [--jobs 1]
       python bench/handwritten.py DIR/*.json --out-dir OUT [--small]
   interleaved in rotating order, ROUNDS times after one warm-up run (page cache, bytecode,
   mapctl's record of the validated mapping in $MAPCTL_HOME/cache); medians, CPU time beside.
   Every run's files are compared with the hand-written ones. Goals on small bundles: --jobs 1
   <= 1.5x, default --jobs <= 1.0x, on disk and on tmpfs. The ratio of CPU times (user +
   system, workers included) is shown beside: on a shared machine it is steadier than wall time.
3. Memory (bench/render_memory.py): the peak RSS of `mapctl render FOLDER --out-dir DIR` for
   COPIES and 10 x COPIES bundles; goal: flat (the larger within 10%).
4. Start-up (bench/validate_startup.py): `mapctl validate` over the bare imports of its
   libraries, best of 15; goal <= 1.3, what it met when issue 20 was filed (no slower).
Each ratio is printed beside its goal; the exit status is 1 when one is missed.

Not a test: `.venv/bin/python bench/render_speed.py [--copies N] [--rounds R] [--disk DIR]
[--profile small|large] [--render-only]` (Linux). Run it on a machine as quiet as you can get
(the load is printed).
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapctl.engine.mapping.compilation import compile_mapping  # noqa: E402
from mapctl.engine.render.rendering import render_bundle  # noqa: E402

from bench.handwritten import by_hand  # noqa: E402

TODAY = datetime.date(2026, 3, 1)


@dataclass(frozen=True)
class Workload:
    name: str
    bundle: Path
    mapping: Path
    small: bool  # handwritten.py --small


WORKLOADS = (
    Workload("small", ROOT / "bench" / "small-bundle.json", ROOT / "bench" / "small-mapping.yaml",
             True),
    Workload("large", ROOT / "tests" / "cases" / "blended-family" / "bundle.json",
             ROOT / "bench" / "render-mapping.yaml", False),
)  # fmt: skip
IN_PROCESS_GOAL = 1.3
WHOLE_GOALS = {"mapctl --jobs 1": 1.5, "mapctl (default --jobs)": 1.0}  # small bundles
HAND = "hand-written script"
MEMORY_GOAL = 1.1  # peak memory for 10x the bundles: flat, within 10%
STARTUP_GOAL = 1.3  # validate's start-up over its libraries' bare imports, as when issue 20 came


@dataclass
class Result:
    label: str
    ratio: float
    goal: float | None

    @property
    def met(self) -> bool:
        return self.goal is None or self.ratio <= self.goal


def mapctl_command() -> list[str]:
    script = Path(sys.executable).with_name("mapctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mapctl"]


def make_bundles(folder: Path, source: Path, copies: int) -> list[str]:
    folder.mkdir(parents=True)
    data = source.read_bytes()
    paths = []
    for n in range(copies):
        path = folder / f"bundle-{n:05d}.json"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


# --- whole processes ---------------------------------------------------------------------------


def whole_processes(
    work: Path, where: str, load: Workload, paths: list[str], rounds: int, home: Path
) -> tuple[list[Result], bool]:
    common = ["-m", str(load.mapping), "--today", TODAY.isoformat()]
    hand_flags = ["--small"] if load.small else []
    sides: dict[str, Callable[[Path], list[str]]] = {
        HAND: lambda out: [sys.executable, str(ROOT / "bench" / "handwritten.py"), *paths,
                           "--out-dir", str(out), *hand_flags],
        "mapctl (default --jobs)": lambda out: [*mapctl_command(), "render", *paths, *common,
                                                "--out-dir", str(out)],
        "mapctl --jobs 1": lambda out: [*mapctl_command(), "render", *paths, *common,
                                        "--out-dir", str(out), "--jobs", "1"],
    }  # fmt: skip
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    reference: Path | None = None
    identical = True
    load_before = os.getloadavg()
    for run in range(rounds + 1):  # run 0 warms the page cache, bytecode and mapctl's cache
        order = names[run % len(names) :] + names[: run % len(names)]
        for name in order:
            out = work / f"out-{run}-{names.index(name)}"
            elapsed, cpu = run_process(name, sides[name](out), work, home)
            if run:
                times[name].append(elapsed)
                cpus[name].append(cpu)
            if reference is None:  # run 0 starts with the hand-written side: its files
                reference = out
            else:
                identical &= same_files(reference, out, len(paths))
                shutil.rmtree(out)
    load_after = os.getloadavg()
    hand = statistics.median(times[HAND])
    hand_cpu = statistics.median(cpus[HAND])
    print(
        f"whole processes, {load.name} bundles on {where}: {len(paths):,} x {load.bundle.name} "
        f"({load.bundle.stat().st_size / 1000:.1f} KB), {load.mapping.name}; median of {rounds} "
        f"interleaved runs; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    results = []
    for name in names:
        median = statistics.median(times[name])
        line = (
            f"  {name + ':':25} {median:6.3f} s  (min {min(times[name]):6.3f} s, "
            f"CPU {statistics.median(cpus[name]):6.3f} s)"
        )
        if name != HAND:
            goal = WHOLE_GOALS[name] if load.small else None
            result = Result(f"whole process, {name}, {load.name}, {where}", median / hand, goal)
            results.append(result)
            cpu_ratio = statistics.median(cpus[name]) / hand_cpu
            line += f"  ratio {result.ratio:5.2f}" + (f"  (goal <= {goal})" if goal else "")
            line += f"  [CPU ratio {cpu_ratio:4.2f}]"
        print(line)
    print(f"  identical answer files (mapctl's and the hand-written ones, every run): {identical}")
    return results, identical


def run_process(name: str, command: list[str], work: Path, home: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system, its workers included) of one whole process."""
    env = {**os.environ, "MAPCTL_HOME": str(home)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode is cached, as for users
    with open(work / "stderr.txt", "w+b") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise SystemExit(f"{name} failed ({process.returncode}):\n{stderr.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def same_files(a: Path, b: Path, count: int) -> bool:
    names = sorted(os.listdir(a))
    if len(names) != count or sorted(os.listdir(b)) != names:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


# --- in-process --------------------------------------------------------------------------------


def in_process(load: Workload, copies: int, rounds: int) -> Result:
    mapping = compile_mapping(str(load.mapping))
    raw = load.bundle.read_bytes()
    data = [raw] * copies
    small = load.small
    assert render_bundle(raw, "b.json", mapping, today=TODAY).output == by_hand(raw, small)

    def engine() -> None:
        for n, raw in enumerate(data):
            render_bundle(raw, f"bundle-{n}.json", mapping, today=TODAY)

    def hand() -> None:
        for raw in data:
            by_hand(raw, small)

    times: dict[str, list[float]] = {"hand": [], "engine": []}
    for _ in range(rounds):
        for name, func in (("hand", hand), ("engine", engine)):
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = Result(f"in-process, {load.name}", medians["engine"] / medians["hand"],
                    IN_PROCESS_GOAL)  # fmt: skip
    print(
        f"in-process, {load.name} bundles ({load.bundle.stat().st_size / 1000:.1f} KB, "
        f"{load.mapping.name}): {copies:,} bundles, median of {rounds} interleaved rounds; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for name, label in (("hand", "hand-written function"), ("engine", "mapctl render_bundle")):
        per = medians[name] / copies * 1e6
        print(f"  {label + ':':25} {medians[name]:6.3f} s  ({per:5.1f} us/bundle)")
    print(f"  ratio {result.ratio:5.2f}  (goal <= {IN_PROCESS_GOAL})")
    return result


def profile(load: Workload, copies: int) -> None:
    import cProfile
    import pstats

    mapping = compile_mapping(str(load.mapping))
    data = [load.bundle.read_bytes()] * copies
    code = "for raw in data: render_bundle(raw, 'b.json', mapping, today=TODAY)"
    names = {"data": data, "mapping": mapping, "render_bundle": render_bundle, "TODAY": TODAY}
    with tempfile.TemporaryDirectory() as temp:
        cProfile.runctx(code, names, {}, f"{temp}/render.prof")
        pstats.Stats(f"{temp}/render.prof").sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--disk", default="/var/tmp", help="a folder on disk (default /var/tmp)")
    parser.add_argument("--tmpfs", default="/dev/shm", help="a folder on tmpfs")
    parser.add_argument("--profile", choices=[w.name for w in WORKLOADS])
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="skip the memory (bench/render_memory.py) and validate start-up "
        "(bench/validate_startup.py) goals",
    )
    args = parser.parse_args()
    if args.profile:
        profile(next(w for w in WORKLOADS if w.name == args.profile), args.copies)
        return 0
    print(f"{os.cpu_count()} CPUs; load average at the start {os.getloadavg()[0]:.2f}\n")
    results = [in_process(load, args.copies, args.rounds) for load in WORKLOADS]
    identical = True
    for where, base in (("disk", args.disk), ("tmpfs", args.tmpfs)):
        for load in WORKLOADS:
            with tempfile.TemporaryDirectory(prefix="mapctl-bench-", dir=base) as temp:
                work = Path(temp)
                paths = make_bundles(work / "in", load.bundle, args.copies)
                found, same = whole_processes(
                    work, f"{where} ({base})", load, paths, args.rounds, work / "home"
                )
                results += found
                identical &= same
    if not args.render_only:
        from bench.render_memory import growth
        from bench.validate_startup import startup_ratio

        print("\nmemory: peak RSS of `mapctl render FOLDER --out-dir DIR` (bench/render_memory.py)")
        grown = growth([args.copies, args.copies * 10])
        results.append(Result(f"memory, {args.copies * 10:,} vs {args.copies:,} bundles", 1 + grown,
                              MEMORY_GOAL))  # fmt: skip
        print("\nstart-up: `mapctl validate` vs the bare imports (bench/validate_startup.py)")
        results.append(Result("validate start-up vs bare imports", startup_ratio(15),
                              STARTUP_GOAL))  # fmt: skip
    print("\ngoals:")
    for result in results:
        goal = f"<= {result.goal}" if result.goal is not None else "(no goal)"
        verdict = ("met" if result.met else "MISSED") if result.goal is not None else ""
        print(f"  {result.label + ':':55} {result.ratio:5.2f}  {goal:9} {verdict}")
    print(f"  identical answer files everywhere: {identical}")
    return 0 if identical and all(r.met for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
