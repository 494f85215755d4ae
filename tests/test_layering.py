"""The layout's dependency rules, checked on the source (issue 8).

`LAYERS` is the one place the direction is written: each part of `engine/` may import only the
parts it lists (and itself). Besides: no engine module imports click, the web framework, `cli` or
the app; only `engine/clio/` imports httpx; imports inside the package are relative, so the
repository can be mapped into the one import package `mapctl`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

GROUND = "ground"  # errors, model, fsutil, resources, report: the top of engine/
# part -> the parts it may import. Imports point one way: down this table.
LAYERS: dict[str, frozenset[str]] = {
    GROUND: frozenset(),
    "hotdocs": frozenset({GROUND}),
    "mapping": frozenset({GROUND, "hotdocs"}),
    "clio": frozenset({GROUND}),
    "sandbox": frozenset({GROUND, "clio"}),
    "render": frozenset({GROUND, "hotdocs", "mapping"}),
    "workflow": frozenset({GROUND, "hotdocs", "mapping", "render", "clio"}),
    "setup": frozenset({GROUND, "hotdocs", "mapping", "render", "clio", "workflow"}),
}
FORBIDDEN_EVERYWHERE = {
    "click",
    "flask",
    "waitress",
    "werkzeug",
    "jinja2",
    "cli",
    "commands",
    "app",
    "mapctl",
}


def part_of(path: Path, root: Path = ENGINE) -> str:
    """The part of engine/ a file belongs to."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else GROUND


def engine_imports(path: Path, root: Path = ENGINE) -> tuple[set[str], set[tuple[str, int]]]:
    """(top-level absolute imports, (engine part, line) for each import inside the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(root).parent.parts)  # [] for the ground modules
    absolute: set[str] = set()
    inside: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                absolute.add((node.module or "").split(".")[0])
                continue
            if node.level > len(package) + 1:
                inside.add(("<outside engine>", node.lineno))
                continue
            base = package[: len(package) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            if not target:  # `from . import x` at the top: x is a module or a part
                target = [alias.name for alias in node.names][:1]
            first = target[0]
            inside.add((first if (root / first).is_dir() else GROUND, node.lineno))
    return absolute, inside


def layering_violations(root: Path = ENGINE) -> list[str]:
    """Every import that points the wrong way, as `file:line: part imports part`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        me = part_of(path, root)
        absolute, inside = engine_imports(path, root)
        for other, line in sorted(inside):
            if other != me and other not in LAYERS.get(me, frozenset()):
                found.append(f"{path.relative_to(root)}:{line}: {me} imports {other}")
        if "engine" in absolute:
            found.append(f"{path.relative_to(root)}: imports `engine` absolutely (use relative)")
    return found


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_every_part_of_engine_is_in_the_table() -> None:
    parts = {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts == set(LAYERS) - {GROUND}


def test_imports_point_one_way() -> None:
    assert layering_violations() == []


def test_the_layering_test_fails_on_an_import_pointing_the_wrong_way(tmp_path: Path) -> None:
    """A test of the test: a copy of engine/ where the Clio client imports the workflow."""
    import shutil

    copy = tmp_path / "engine"
    shutil.copytree(ENGINE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    client = copy / "clio" / "client.py"
    client.write_text(
        client.read_text(encoding="utf-8") + "\nfrom ..workflow import ledger  # wrong way\n",
        encoding="utf-8",
    )
    hotdocs = copy / "hotdocs" / "answerfile.py"
    hotdocs.write_text(
        hotdocs.read_text(encoding="utf-8") + "\nfrom ..mapping import loading  # wrong way\n",
        encoding="utf-8",
    )
    found = [line.split(": ", 1)[1] for line in layering_violations(copy)]
    assert found == ["clio imports workflow", "hotdocs imports mapping"]


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_engine_module_imports_a_user_interface(path: Path) -> None:
    absolute, _ = engine_imports(path)
    assert absolute & FORBIDDEN_EVERYWHERE == set()


def test_only_engine_clio_imports_httpx() -> None:
    offenders = [
        str(p) for p in engine_files() if "httpx" in engine_imports(p)[0] and part_of(p) != "clio"
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
    """engine.__all__ names real objects; importing `mapctl.engine` alone loads none of them."""
    probe = (
        "import sys; import mapctl.engine as engine;"
        "assert 'httpx' not in sys.modules, 'engine loaded httpx';"
        "assert 'mapctl.engine.mapping.compilation' not in sys.modules;"
        "missing = [n for n in engine.__all__ if getattr(engine, n, None) is None];"
        "assert not missing, missing"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
