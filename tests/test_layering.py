"""The dependency rules of the house style, checked on the source: no click in engine/, httpx
only in engine/clio/, nothing imports cli."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_no_engine_module_imports_click_or_cli() -> None:
    offenders = [str(p) for p in engine_files() if {"click", "cli"} & imported_modules(p)]
    assert offenders == []


def test_only_engine_clio_imports_httpx() -> None:
    offenders = [
        str(p)
        for p in engine_files()
        if "httpx" in imported_modules(p) and "clio" not in p.relative_to(ENGINE).parts[:-1]
    ]
    assert offenders == []


def test_every_engine_module_has_a_docstring_and_future_annotations() -> None:
    for path in engine_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not tree.body:
            continue
        assert ast.get_docstring(tree), f"{path} has no module docstring"
        futures = [
            n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"
        ]
        assert futures, f"{path} lacks 'from __future__ import annotations'"


def test_the_public_api_resolves_lazily_without_loading_httpx() -> None:
    """engine.__all__ names real objects; importing `engine` alone loads none of them."""
    import subprocess
    import sys

    probe = (
        "import sys, engine; assert 'httpx' not in sys.modules, 'engine loaded httpx';"
        "assert 'engine.compilation' not in sys.modules;"
        "missing = [n for n in engine.__all__ if getattr(engine, n, None) is None];"
        "assert not missing, missing"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
