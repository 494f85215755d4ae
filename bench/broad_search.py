"""Benchmark: a broad search (20,000 matching matters) against a Clio of 50 requests a minute.

Issue 17 item 6: the sandbox holds the demo firm plus 20,000 matters matching "Zebra", adds
100 ms to every request and allows 50 API requests per token per minute (then 429, as Clio at
peak hours). Whole processes: `mapctl search Zebra` (a table written page by page, off a
terminal) and `mapctl search Zebra --format json`. Prints, for each: Clio API requests, rounds
(pages asked one after another), time to the first results on stdout, time to the final
answer, the exit code and what stderr said. `--all` also runs `mapctl search Zebra --all
--format json` (100 pages: it must wait out Clio's minute at least once; takes minutes).
Not a test: `.venv/bin/python bench/broad_search.py [--all]`.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from mapctl.engine.sandbox.seed import zebra_data  # noqa: E402
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox  # noqa: E402

_demo: Any = importlib.import_module("demo")
approve, mapctl_command = _demo.approve, _demo.mapctl_command

MATCHES = 20_000
LATENCY = 0.100
RATE_LIMIT = 50


def connect(env: dict[str, str]) -> None:
    url = subprocess.run(
        [*mapctl_command(), "connect", "--print-url"], env=env, capture_output=True, text=True,
        check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    done = subprocess.run(
        [*mapctl_command(), "connect", "--code", approve(url)], env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"connect failed:\n{done.stderr}")


def run(sandbox: Sandbox, env: dict[str, str], *args: str) -> dict[str, Any]:
    """One whole `mapctl search` process: requests, rounds, first output, final answer."""
    before = len(sandbox.requests)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*mapctl_command(), "search", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    first: float | None = None
    lines = 0
    for _line in process.stdout:
        if first is None:
            first = time.perf_counter() - started
        lines += 1
    err = process.stderr.read()
    code = process.wait()
    total = time.perf_counter() - started
    api = [t for m, t in sandbox.requests[before:] if t.startswith("/api/v4/")]
    return {
        "args": " ".join(args),
        "requests": len(api),
        "rounds": len(api),  # a search's pages are asked one after another
        "first": first,
        "total": total,
        "exit": code,
        "lines": lines,
        "stderr": err.strip().splitlines()[-1] if err.strip() else "",
    }


def main() -> None:
    with_all = "--all" in sys.argv[1:]
    print(
        f"building a sandbox of {MATCHES:,} matching matters ({LATENCY * 1000:.0f} ms a "
        f"request, {RATE_LIMIT} requests a minute)...",
        flush=True,
    )
    with (
        Sandbox(zebra_data(MATCHES), rate_limit=RATE_LIMIT) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = {
            **os.environ,
            "CLIO_BASE_URL": sandbox.base_url,
            "CLIO_CLIENT_ID": APP_KEY,
            "CLIO_CLIENT_SECRET": APP_SECRET,
            "MAPCTL_HOME": str(Path(tmp) / "home"),
        }
        connect(env)
        sandbox.latency = LATENCY
        runs = [run(sandbox, env, "Zebra"), run(sandbox, env, "Zebra", "--format", "json")]
        if with_all:
            time.sleep(61)  # a fresh rate-limit minute
            runs.append(run(sandbox, env, "Zebra", "--all", "--format", "json"))
    for result in runs:
        first = f"{result['first']:.2f} s" if result["first"] is not None else "-"
        print(f"mapctl search {result['args']}")
        print(
            f"  requests {result['requests']}, rounds {result['rounds']}, first results "
            f"{first}, final answer {result['total']:.2f} s, exit {result['exit']}, "
            f"{result['lines']} lines on stdout"
        )
        print(f"  stderr: {result['stderr']}")


if __name__ == "__main__":
    main()
