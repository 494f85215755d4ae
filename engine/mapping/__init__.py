"""The mapping language: a firm admin's YAML file with positions, loading and `extends`, the schema
check, expressions and their functions, relationship labels, validation (also against an
interview) and compilation into a `CompiledMapping`.
"""

from __future__ import annotations
