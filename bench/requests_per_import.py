"""Benchmark: Clio requests and wall time to fetch a matter bundle, by number of related contacts.

For matters with 1, 10 and 100 related contacts (plus 199 and 450 to show where batching adds a
request), fetches the bundle through `ClioClient.fetch_bundle` from the sandbox over real HTTP
on 127.0.0.1, with a fresh MAPCTL_HOME (no custom-field cache), and prints the requests the
client sent (goal: <= 3) and the wall time with 100 ms sandbox latency per request (goal: 2
rounds, about 0.2 s, since the contacts and the custom fields are fetched concurrently). Also
the `mapctl fetch` command's wall time in a fresh process (Python start-up included).
Not a test: run `.venv/bin/python bench/requests_per_import.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapctl.engine.clio.auth import Tokens, TokenStore  # noqa: E402
from mapctl.engine.clio.client import open_client  # noqa: E402
from mapctl.engine.sandbox.seed import demo_data, matter  # noqa: E402
from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox  # noqa: E402

LATENCY = 0.100
SIZES = [1, 10, 100, 199, 450]


def firm(related: int) -> dict[str, Any]:
    """The demo firm plus matter 00990-Bench (client Jay Pritchett) with `related` contacts."""
    data = demo_data()
    template = next(c for c in data["contacts"] if c["id"] == 5002)
    data["matters"].append(
        matter(99990, 990, "Bench", "Benchmark matter", 5001, "Open", "2026-01-01")
    )
    for i in range(related):
        data["contacts"].append({**template, "id": 80000 + i, "name": f"Relative {i}"})
        data["relationships"].append(
            {
                "id": 98000 + i,
                "description": "Cousin",
                "matter": {"id": 99990},
                "contact": {"id": 80000 + i},
            }
        )
    return data


def connect(home: Path, sandbox: Sandbox) -> None:
    granted = sandbox.issue_tokens()
    TokenStore(home).save(
        Tokens(
            granted["access_token"],
            granted["refresh_token"],
            time.time() + 3600,
            sandbox.base_url,
            APP_KEY,
            APP_SECRET,
        )
    )


def measure(related: int) -> tuple[int, int, float, float]:
    """(requests sent by the client, requests the sandbox saw, fetch seconds, CLI seconds)."""
    with Sandbox(firm(related), latency=LATENCY) as sandbox:
        home = Path(tempfile.mkdtemp(prefix="mapctl-bench-"))
        connect(home, sandbox)
        client = open_client(home, {"CLIO_BASE_URL": sandbox.base_url})
        seen = len(sandbox.requests)
        start = time.perf_counter()
        bundle = client.fetch_bundle("00990-Bench")
        fetch_time = time.perf_counter() - start
        client.close()
        assert len(bundle["contacts"]) == related + 1
        served = len(sandbox.requests) - seen
        cli_home = Path(tempfile.mkdtemp(prefix="mapctl-bench-"))
        connect(cli_home, sandbox)
        env = {**os.environ, "MAPCTL_HOME": str(cli_home), "CLIO_BASE_URL": sandbox.base_url}
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from mapctl.cli import main; main()",
                "fetch",
                "00990-Bench",
                "-o",
                str(cli_home / "bundle.json"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        cli_time = time.perf_counter() - start
        return client.request_count, served, fetch_time, cli_time


def main() -> None:
    print(f"fetch_bundle over HTTP, sandbox latency {LATENCY * 1000:.0f} ms per request")
    print(
        f"{'related':>8} {'requests':>9} {'served':>7} {'fetch s':>8} {'rounds':>7} "
        f"{'mapctl fetch s':>15}"
    )
    for related in SIZES:
        sent, served, fetch_time, cli_time = measure(related)
        goal = "ok" if sent <= 3 else "over"
        print(
            f"{related:>8} {sent:>9} {served:>7} {fetch_time:>8.3f} "
            f"{fetch_time / LATENCY:>7.1f} {cli_time:>15.3f}  {goal}"
        )
    print("goal: <= 3 requests and about 2 rounds (0.2 s) for up to 199 related contacts")


if __name__ == "__main__":
    main()
