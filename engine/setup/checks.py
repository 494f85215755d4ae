"""Checks: one line of `mapctl doctor` (a mark, a plain message, a hint) and their reports.

Stage: presentation of doctor's results. Pure: data in, strings out; never prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["pass", "fail", "warn", "info", "skip"]
MARKS: dict[str, str] = {
    "pass": "ok  ",
    "fail": "FAIL",
    "warn": "warn",
    "info": "info",
    "skip": "skip",
}


@dataclass(frozen=True)
class Check:
    """One thing doctor looked at. Only `fail` makes doctor exit non-zero."""

    name: str  # what was checked: "settings", "mapping", "clio token", "field marital"...
    status: Status
    message: str
    hint: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return asdict(self)


def format_checks(checks: Sequence[Check]) -> str:
    """Every check on its line with its mark; the hint indented below; a summary line."""
    lines = []
    for check in checks:
        lines.append(f"[{MARKS[check.status]}] {check.message}")
        if check.hint and check.status != "pass":
            lines.append(f"       hint: {check.hint}")
    lines.append(summary(checks))
    return "\n".join(lines)


def summary(checks: Sequence[Check]) -> str:
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    passed = sum(c.status == "pass" for c in checks)
    if failed:
        head = f"{failed} problem{'s' if failed != 1 else ''} to fix"
    else:
        head = "imports will work"
    tail = f" ({passed} passed" + (
        f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    )
    return head + tail + ")"


def checks_json(checks: Sequence[Check], exit_code: int) -> str:
    return json.dumps(
        {"ok": exit_code == 0, "exit_code": exit_code, "checks": [c.as_json() for c in checks]},
        indent=2,
        ensure_ascii=False,
    )
