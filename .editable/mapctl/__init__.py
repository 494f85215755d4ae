"""Editable installs only (`pip install -e .`, `make test`, `make run`).

The wheel maps the repository into the package `mapctl` at build time (pyproject's `sources`).
An editable install cannot rename folders, so its `.pth` file puts this folder on `sys.path`
(pyproject's `dev-mode-dirs`), and this stub makes the repository itself the `mapctl` package:
its submodules (`mapctl.cli`, `mapctl.engine`...) are the repository's own files, edited in place.
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
__path__ = [str(_ROOT)]
__file__ = str(_ROOT / "_package.py")  # the package's __init__.py, as the wheel installs it
exec(compile((_ROOT / "_package.py").read_text(encoding="utf-8"), __file__, "exec"))
