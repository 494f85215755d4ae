"""The import workflow: preview, import as a new client, the ledger, client folders and the import
report. `cli.py` and the staff app are thin layers over it.
"""

from __future__ import annotations
