"""Benchmark: batch-render 3,000 copies of a realistic bundle, mapctl vs a hand-written renderer.

Both sides do the same work per copy: JSON bytes -> parse -> roles and custom fields -> the 20
answers of bench/render-mapping.yaml -> answer-file XML -> write the file
(bench/handwritten.py is the hand-written side: plain Python for that one mapping).

1. Whole processes (what users run; goals: default --jobs <= 1.0x, --jobs 1 <= 1.5x):
       mapctl render DIR/*.json -m bench/render-mapping.yaml --out-dir OUT [--jobs 1]
       python bench/handwritten.py DIR/*.json --out-dir OUT
   interleaved in rotating order, ROUNDS times; the median counts (the machine is shared), and
   the CPU time (user + system, workers included) is shown beside the wall time. Every
   run's files are compared: mapctl's with each other and with the hand-written ones.
2. In-process (the engine alone, no process start, no durability): render_bundle in a loop vs
   the hand-written function, best of ROUNDS.

Not a test: `.venv/bin/python bench/render_speed.py [--copies N] [--rounds R] [--profile]`.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapctl.engine.mapping.compilation import compile_mapping  # noqa: E402
from mapctl.engine.render.rendering import render_bundle  # noqa: E402

from bench.handwritten import by_hand  # noqa: E402

TODAY = datetime.date(2026, 3, 1)
BUNDLE = ROOT / "tests" / "cases" / "blended-family" / "bundle.json"
MAPPING = ROOT / "bench" / "render-mapping.yaml"
GOALS = {"mapctl (default --jobs)": 1.0, "mapctl --jobs 1": 1.5}


def mapctl_command() -> list[str]:
    script = Path(sys.executable).with_name("mapctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mapctl"]


def make_bundles(folder: Path, copies: int) -> list[str]:
    folder.mkdir(parents=True)
    data = BUNDLE.read_bytes()
    paths = []
    for n in range(copies):
        path = folder / f"bundle-{n:05d}.json"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


# --- whole processes ---------------------------------------------------------------------------


def whole_processes(work: Path, paths: list[str], rounds: int) -> int:
    common = ["-m", str(MAPPING), "--today", TODAY.isoformat()]
    sides: dict[str, Callable[[Path], list[str]]] = {
        "hand-written script": lambda out: [
            sys.executable,
            str(ROOT / "bench" / "handwritten.py"),
            *paths,
            "--out-dir",
            str(out),
        ],
        "mapctl (default --jobs)": lambda out: [
            *mapctl_command(),
            "render",
            *paths,
            *common,
            "--out-dir",
            str(out),
        ],
        "mapctl --jobs 1": lambda out: [
            *mapctl_command(),
            "render",
            *paths,
            *common,
            "--out-dir",
            str(out),
            "--jobs",
            "1",
        ],
    }
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    reference: Path | None = None
    identical = True
    load_before = os.getloadavg()
    for run in range(rounds + 1):  # run 0 warms the page cache and bytecode; not counted
        order = names[run % len(names) :] + names[: run % len(names)]
        for name in order:
            out = work / f"out-{run}-{names.index(name)}"
            elapsed, cpu = run_process(name, sides[name](out), work)
            if run:
                times[name].append(elapsed)
                cpus[name].append(cpu)
            if reference is None:
                reference = out
            else:
                identical &= same_files(reference, out, len(paths))
                shutil.rmtree(out)
    load_after = os.getloadavg()
    hand = statistics.median(times[names[0]])
    print(
        f"whole processes: {len(paths):,} bundles ({BUNDLE.parent.name}, {MAPPING.name}: 20 "
        f"answers), median of {rounds} interleaved runs; {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    failed = False
    for name in names:
        median = statistics.median(times[name])
        cpu = statistics.median(cpus[name])
        low = min(times[name])
        line = f"  {name + ':':25} {median:6.2f} s  (min {low:5.2f} s, CPU {cpu:5.2f} s)"
        if name in GOALS:
            ratio = median / hand
            failed |= ratio > GOALS[name]
            line += f"  ratio {ratio:4.2f}  (goal <= {GOALS[name]})"
        print(line)
    print(f"  identical output files across all runs and sides: {identical}")
    return 1 if failed or not identical else 0


def run_process(name: str, command: list[str], work: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system, its workers included) of one whole process."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
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
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return not mismatch and not errors


# --- in-process ----------------------------------------------------------------------------------


def in_process(data: list[bytes], rounds: int) -> None:
    mapping = compile_mapping(str(MAPPING))

    def engine() -> None:
        for n, raw in enumerate(data):
            render_bundle(raw, f"bundle-{n}.json", mapping, today=TODAY)

    def hand() -> None:
        for raw in data:
            by_hand(raw)

    best = {"hand": float("inf"), "engine": float("inf")}
    for _ in range(rounds):
        for name, func in (("hand", hand), ("engine", engine)):
            start = time.perf_counter()
            func()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"in-process (the engine alone: no process start, no files), best of {rounds}:")
    for name, label in (("hand", "hand-written function"), ("engine", "mapctl render_bundle")):
        per = best[name] / len(data) * 1e6
        print(f"  {label + ':':25} {best[name]:6.2f} s  ({per:.0f} us/bundle)")
    print(f"  ratio {best['engine'] / best['hand']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process engine")
    args = parser.parse_args()
    data = [BUNDLE.read_bytes()] * args.copies
    if args.profile:
        import cProfile
        import pstats

        mapping = compile_mapping(str(MAPPING))
        code = "for raw in data: render_bundle(raw, 'b.json', mapping, today=TODAY)"
        names = {"data": data, "mapping": mapping, "render_bundle": render_bundle, "TODAY": TODAY}
        cProfile.runctx(code, names, {}, "/tmp/render.prof")
        pstats.Stats("/tmp/render.prof").sort_stats("tottime").print_stats(25)
        return 0
    with tempfile.TemporaryDirectory(prefix="mapctl-bench-") as temp:
        work = Path(temp)
        paths = make_bundles(work / "in", args.copies)
        status = whole_processes(work, paths, args.rounds)
    in_process(data, args.rounds)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
