"""Schemathesis hooks for `make conformance`: what Clio's documents say beyond the OpenAPI one.

Loaded by Schemathesis (see scripts/conformance.toml), never by mapctl. Before the document is
read, it is corrected in two documented ways only:
- the nulls Clio sends although the document marks nothing nullable: `NULLABLE`, the one list
  the tests use too (tests/clio/spec_tools.py);
- the keyword `null` where a parameter's description says "Use the keyword `null`" while its
  schema says integer.
(X-API-VERSION is fixed to 4.0.13 in scripts/conformance.toml.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import schemathesis  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.clio.spec_tools import mark_nullable  # noqa: E402


@schemathesis.hook  # type: ignore[untyped-decorator, unused-ignore]
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    mark_nullable(raw_schema)
    for operations in raw_schema["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if "Use the keyword `null`" in parameter.get("description", ""):
                        parameter["schema"] = {
                            "anyOf": [parameter["schema"], {"type": "string", "enum": ["null"]}]
                        }
