"""Firm set-up: the settings file and where each effective setting comes from, `mapctl init`'s
scaffold, and `mapctl doctor`'s checks (mapping, interview, Clio and its custom fields, output
folder, ledger)."""

from __future__ import annotations
