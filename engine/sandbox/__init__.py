"""The sandbox: a local Clio (API v4 subset and OAuth) for demos and tests, its API and its seed
data. It may use the Clio client's field parsing; the client never imports it.
"""

from __future__ import annotations
