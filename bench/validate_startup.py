"""Benchmark: wall time of `mapctl validate` on the default mapping, as a ratio to the bare
imports of its libraries (`python -c "import yaml, jsonschema, jmespath, click"`). Goal <= 1.5.

Each command runs as a fresh subprocess; the best of N runs counts (the least disturbed one).
Run: .venv/bin/python bench/validate_startup.py [--runs N]
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


def best_of(command: list[str], runs: int, cwd: str) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    mapctl = Path(sys.executable).with_name("mapctl")
    validate = [str(mapctl)] if mapctl.exists() else [sys.executable, str(ROOT / "cli.py")]
    mapping = str(ROOT / "mappings" / "ils-client-interview.yaml")
    baseline = [sys.executable, "-c", "import yaml, jsonschema, jmespath, click"]
    with tempfile.TemporaryDirectory() as empty:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        best_of(baseline, 2, empty)  # warm the file cache and bytecode
        best_of([*validate, "validate", mapping], 2, empty)
        base = best_of(baseline, args.runs, empty)
        ours = best_of([*validate, "validate", mapping], args.runs, empty)
    print(f"imports only (yaml, jsonschema, jmespath, click): {base * 1000:7.1f} ms")
    print(f"mapctl validate (default mapping):                {ours * 1000:7.1f} ms")
    print(f"ratio: {ours / base:.2f} (goal <= 1.5), best of {args.runs} runs each")


if __name__ == "__main__":
    main()
