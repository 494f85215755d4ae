"""Benchmark: wall time of `mapctl validate` on the default mapping, as a ratio to the bare
imports of its libraries (`python -c "import yaml, jsonschema, jmespath, click"`). Goal <= 1.3.

Each command runs as a fresh subprocess, the two interleaved (A B A B) so that both see the same
machine load; the best of N runs counts (the least disturbed one), the median is shown too.
Run: .venv/bin/python bench/validate_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def startup_ratio(runs: int) -> float:
    """Print both times; `mapctl validate` over the bare imports (best of `runs` each)."""
    mapctl = Path(sys.executable).with_name("mapctl")
    validate = [str(mapctl)] if mapctl.exists() else [sys.executable, str(ROOT / "cli.py")]
    mapping = str(ROOT / "mappings" / "ils-client-interview.yaml")
    baseline = [sys.executable, "-c", "import yaml, jsonschema, jmespath, click"]
    commands = {"base": baseline, "ours": [*validate, "validate", mapping]}
    times: dict[str, list[float]] = {"base": [], "ours": []}
    with tempfile.TemporaryDirectory() as empty:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        for name in ("base", "ours", "base", "ours"):  # warm the file cache and bytecode
            timed(commands[name], empty)
        for _ in range(runs):
            for name in ("base", "ours"):
                times[name].append(timed(commands[name], empty))
    base, ours = min(times["base"]), min(times["ours"])
    median = statistics.median(times["ours"]) / statistics.median(times["base"])
    load = os.getloadavg()[0]
    print(f"imports only (yaml, jsonschema, jmespath, click): {base * 1000:7.1f} ms")
    print(f"mapctl validate (default mapping):                {ours * 1000:7.1f} ms")
    print(
        f"ratio: {ours / base:.2f} (goal <= 1.3), best of {runs} interleaved runs each; "
        f"ratio of the medians {median:.2f}; load average {load:.1f}"
    )
    return ours / base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    return 0 if startup_ratio(args.runs) <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
