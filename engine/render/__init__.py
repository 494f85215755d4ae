"""Rendering: a bundle becomes the evaluation context (roles, typed custom values), a compiled
mapping is evaluated over it, and the answers are written; also explain, admin case tests and
redaction.
"""

from __future__ import annotations
