"""mapctl: a Clio matter becomes a new InterActive LegalSuite client, with the ILS Client Interview
pre-filled by a HotDocs answer file.

This file is the package's `__init__.py`: the wheel installs it as `mapctl/__init__.py`
(pyproject's `force-include`), and an editable install runs it from `.editable/mapctl/`. It is
not called `__init__.py` in the repository so that the checkout's folder is not itself a package
(pytest and mypy would then name every module after the folder a clone happens to have). The
repository's parts stand at the top level and the wheel maps them into `mapctl` (`sources`):
`cli` (the command line), `app` (the staff app), `engine` (everything else; its docstring gives
the vocabulary and the layout), and the bundled `mappings/` and `schemas/`.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`mapctl.__version__`, read from the installed metadata on first use: importing
    importlib.metadata costs ~40 ms, which every command (`mapctl validate`) would pay at start."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("mapctl")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout that was not installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version
