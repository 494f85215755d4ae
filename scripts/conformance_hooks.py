"""Schemathesis hooks for `make conformance`: what Clio's documents say beyond the OpenAPI one.

Loaded by Schemathesis (see scripts/conformance.toml), never by mapctl. Before the document is
read, it is corrected in two documented ways only:
- the nulls Clio sends although the document marks nothing nullable: `NULLABLE`, the one list
  the tests use too (tests/clio/spec_tools.py);
- `410 Gone` on every operation: the document's own "Minor Versions" section says an invalid or
  retired X-API-VERSION gets it, but no operation lists it;
- the keyword `null` where a parameter's description says "Use the keyword `null`" while its
  schema says integer;
- X-API-VERSION: "Versions are of the form '4.X.Y'" and the ones the full document names are
  4.0.4 to 4.0.13 (its "Minor Versions" section), where the subset types the header as any
  string: generated requests then reach the API instead of stopping at 410 (other strings are
  still sent, as invalid data, and must get 410).
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

VERSIONS = r"^4\.0\.([4-9]|1[0-3])$"
GONE = {
    "description": "Gone: the X-API-VERSION asked for is invalid or no longer supported",
    "content": {
        "application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Error"}}
    },
}


@schemathesis.hook  # type: ignore[untyped-decorator, unused-ignore]
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    mark_nullable(raw_schema)
    for operations in raw_schema["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("410", GONE)
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "X-API-VERSION":
                        parameter["schema"] = {"type": "string", "pattern": VERSIONS}
                    if "Use the keyword `null`" in parameter.get("description", ""):
                        parameter["schema"] = {
                            "anyOf": [parameter["schema"], {"type": "string", "enum": ["null"]}]
                        }
