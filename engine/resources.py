"""Resources: the bundled mappings and schema, wherever mapctl is installed.

In a wheel they live under `engine/_data/` (pyproject's force-include); in a checkout or an
editable install they are the repository's `mappings/` and `schemas/` folders.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

DEFAULT_MAPPING = "ils-client-interview.yaml"
MAPPING_SCHEMA = "mapping.schema.json"


def _folder(kind: str) -> Traversable:
    packaged = files("engine") / "_data" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / kind


def bundled_mapping(name: str = DEFAULT_MAPPING) -> Traversable:
    """A mapping shipped with mapctl, by file name."""
    return _folder("mappings") / name


def bundled_mapping_names() -> list[str]:
    """File names of every bundled mapping."""
    return sorted(
        p.name for p in _folder("mappings").iterdir() if p.name.endswith((".yaml", ".yml"))
    )


def mapping_schema() -> Traversable:
    """The published JSON Schema for mapping files."""
    return _folder("schemas") / MAPPING_SCHEMA
