"""The HotDocs file formats: answer files written (deterministic bytes) and read as HotDocs' own
reader reads them, and interview files (.cmp, .manifest.xml, .anx) read for their variables.
"""

from __future__ import annotations
