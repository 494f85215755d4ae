"""`make conformance`: Schemathesis (a third-party OpenAPI tester) against the sandbox.

Starts the sandbox on 127.0.0.1 (a free port, no rate limit to speak of), gives Schemathesis a
fresh access token through the environment (never argv), runs `st run` on the copy of Clio's
OpenAPI subset in tests/fixtures/clio with the checks below, bounded in examples per operation
and in time, then prints the figures and stops the sandbox. Run by `make conformance` with the
.venv-conformance interpreter (it has mapctl and Schemathesis 4); `make test` never runs it.

Checks: server errors, status codes the document gives, content types, response headers,
response bodies against the document's schemas (nulls: only those in NULLABLE, in
tests/clio/spec_tools.py), the answer to undocumented methods (405 with Allow), and requests
that break the document's parameter types (negative data: 4xx).
Not checked: positive_data_acceptance, because the document types `fields` and `page_token` as
free strings and the date filters as an enum of placeholders such as ">=DATE", while Clio's own
docs refuse most such strings (400 InvalidFields, 400); the stateful phase, because the sandbox
takes no writes. X-API-VERSION is the one mapctl sends (scripts/conformance.toml).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "fixtures" / "clio" / "clio-api-v4-openapi-subset.json"
CONFIG = ROOT / "scripts" / "conformance.toml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
    ]
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=40, help="per operation")
    parser.add_argument("--max-time", type=int, default=150, help="seconds, the whole run")
    parser.add_argument("--seed", type=int, default=20260912)
    # One worker: Hypothesis describing lambdas with ast.parse in two threads at once fails
    # on Python 3.11 ("AST constructor recursion depth mismatch"), a tester error, not ours.
    parser.add_argument("--workers", default="1")
    args = parser.parse_args(argv)

    from mapctl.engine.sandbox.server import Sandbox

    st = Path(sys.executable).with_name("st")
    statuses: Counter[str] = Counter()
    answered = partial(_count, statuses)
    with (
        Sandbox(rate_limit=1_000_000, log=answered) as sandbox,
        tempfile.TemporaryDirectory() as reports,
    ):
        token = str(sandbox.issue_tokens()["access_token"])
        env = {**os.environ, "MAPCTL_SANDBOX_TOKEN": token, "NO_COLOR": "1"}
        command = [
            str(st),
            "--config-file",
            str(CONFIG),
            "run",
            str(SPEC),
            "--url",
            sandbox.base_url + "/api/v4",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(args.max_examples),
            "--max-time",
            str(args.max_time),
            "--seed",
            str(args.seed),
            "--workers",
            str(args.workers),
            "--report",
            "junit",
            "--report-dir",
            reports,
        ]
        print(f"sandbox on {sandbox.base_url}; schemathesis: {' '.join(command[1:])}", flush=True)
        try:
            run = subprocess.run(
                command,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=args.max_time + 300,
            )
        except subprocess.TimeoutExpired:
            print("conformance: schemathesis did not finish in time", file=sys.stderr)
            return 1
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
        served = len(sandbox.requests)
        junit = next(Path(reports).glob("*.xml"), None)
        cases = re.search(r"(\d+) generated(.*)", run.stdout)
        print("\n--- conformance figures ---")
        print(f"test cases: {cases.group(0) if cases else '?'}")
        print(f"requests the sandbox answered: {served}")
        print("by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
        if junit is not None:
            suite = ElementTree.parse(junit).getroot()
            node = suite if suite.tag == "testsuite" else suite.find("testsuite")
            if node is not None:
                print(
                    f"operations tested: {node.get('tests')}, failed: {node.get('failures')}, "
                    f"errors: {node.get('errors')}"
                )
        print(f"schemathesis exit code: {run.returncode}")
        return run.returncode


def _count(statuses: Counter[str], line: str) -> None:
    """The sandbox's log line "GET /api/v4/... -> 200": count the status."""
    statuses[line.rsplit(" ", 1)[-1]] += 1


if __name__ == "__main__":
    sys.exit(main())
