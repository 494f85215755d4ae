"""Clio's regions: each region's host. Pure data (no httpx), so the settings can check a region
without loading the HTTP stack."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://app.clio.com"
TOKEN_FILE = "clio-token.json"  # in $MAPCTL_HOME: the stored connection (engine.clio.auth)
REGIONS = {
    "us": "https://app.clio.com",
    "ca": "https://ca.app.clio.com",
    "eu": "https://eu.app.clio.com",
    "au": "https://au.app.clio.com",
}
