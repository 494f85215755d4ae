"""Clio Manage API v4: the client only (OAuth, the session, search, fetch, record fields).

The only package in engine/ that imports httpx. Nothing here prints or exits: errors are raised
as `engine.errors.ClioError` (exit 3) and friends; `cli.py` reports them.
"""

from __future__ import annotations
