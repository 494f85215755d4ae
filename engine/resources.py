"""Resources: the bundled mappings and schema, wherever mapctl is installed.

They are the repository's `mappings/` and `schemas/` folders, which the wheel installs beside
`engine/` inside the `mapctl` package (pyproject's `sources` remapping): the same relative place
in a checkout, an editable install and a wheel.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MAPPING = "ils-client-interview.yaml"
MAPPING_SCHEMA = "mapping.schema.json"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _folder(kind: str) -> Path:
    return PACKAGE_ROOT / kind


def bundled_mapping(name: str = DEFAULT_MAPPING) -> Path:
    """A mapping shipped with mapctl, by file name."""
    return _folder("mappings") / name


def bundled_mapping_names() -> list[str]:
    """File names of every bundled mapping."""
    return sorted(
        p.name for p in _folder("mappings").iterdir() if p.name.endswith((".yaml", ".yml"))
    )


def mapping_schema() -> Path:
    """The published JSON Schema for mapping files."""
    return _folder("schemas") / MAPPING_SCHEMA
