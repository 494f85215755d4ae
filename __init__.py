"""mapctl: a Clio matter becomes a new InterActive LegalSuite client, with the ILS Client
Interview pre-filled by a HotDocs answer file.

The one import package. In the repository its parts stand at the top level and the wheel maps
them into `mapctl` (pyproject's `sources`): `cli` (the command line), `app` (the staff app),
`engine` (everything else; its docstring gives the vocabulary and the layout), and the bundled
`mappings/` and `schemas/`.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("mapctl")
except metadata.PackageNotFoundError:  # pragma: no cover - only a checkout that was not installed
    __version__ = "0+unknown"
