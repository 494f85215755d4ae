"""Build hook: the package's `__init__.py` for the wheel (see `_package.py` for why the
repository does not keep it as `__init__.py`).

Only the standard wheel gets it: an editable install must not put a `mapctl/__init__.py` into
site-packages, where it would hide the stub in `.editable/mapctl/` that maps the checkout.
"""

from __future__ import annotations

import os
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PackageInitHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            # Targets are remapped by `sources` (`"" = "mapctl"`): this lands as mapctl/__init__.py.
            build_data["force_include"][os.path.join(self.root, "_package.py")] = "__init__.py"
