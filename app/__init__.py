"""The staff app: the import workflow's screens in a browser (`mapctl app`, issue 10).

A thin Flask layer over the engine's workflow API (search, preview, import): the same functions
the command line calls, server-rendered Jinja templates and a little plain JavaScript shipped in
`static/` (no CDN, no build step). Served by waitress on loopback.

Parts: `workspace` (searches and import drafts in memory), `security` (the per-launch token,
CSRF, Host check, headers), `views` (the screens), `server` (waitress, the demo). No engine module
imports this package (tests/test_layering.py).
"""

from __future__ import annotations

from .server import AppConfig, AppServer, create_app, start_app

__all__ = ["AppConfig", "AppServer", "create_app", "start_app"]
