"""A fresh clone passes its own tests with nothing beside it (issue 8): no test or fixture path
points outside the repository, and the copied Clio document is the one its README names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import ROOT, TESTS

# A path that climbs out of the repository: the team's shared folder by name, the root's parent,
# `parents[N]` or `.parent.parent...` past the root. (`"../x"` alone is test data: hostile names.)
TEAM = "sha" + "red"  # the team's folder beside the clone (spelled so no grep mistakes this file)
OUTSIDE = re.compile(
    rf"""\.\./{TEAM}|["']{TEAM}["']|/{TEAM}/reference|ROOT\.parent|/ ["']\.\.["']"""
)


def _climbs_out(path: Path, text: str) -> list[str]:
    depth = len(path.relative_to(ROOT).parts) - 1  # folders between the file and the root
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if OUTSIDE.search(line):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
        for match in re.finditer(r"parents\[(\d+)\]", line):
            if int(match.group(1)) > depth - 1 + 1:  # parents[depth] is the root
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
        chain = re.search(r"__file__\)(?:\.resolve\(\))?((?:\.parent)+)", line)
        if chain and chain.group(1).count(".parent") > depth + 1:
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_no_test_reads_outside_the_repository() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        offenders += _climbs_out(path, path.read_text(encoding="utf-8"))
    for path in sorted((TESTS / "fixtures").rglob("*")):
        if path.is_symlink():
            offenders.append(f"{path.relative_to(ROOT)}: a link ({path.readlink()})")
    assert offenders == []


def test_the_check_finds_a_path_outside() -> None:
    """A test of the test: the patterns it must catch."""
    here = TESTS / "clio" / "x.py"
    bad = [
        f'SPEC = Path(__file__).resolve().parents[3] / "{TEAM}"',
        f'open("../{TEAM}/reference/clio/x.json")',
        "ROOT = Path(__file__).parent.parent.parent.parent",
    ]
    assert all(_climbs_out(here, line) for line in bad)
    good = 'SUBSET = Path(__file__).resolve().parents[1] / "fixtures" / "clio" / "x.json"'
    assert _climbs_out(here, good) == []


def test_the_copied_clio_document_is_the_one_its_readme_names() -> None:
    folder = TESTS / "fixtures" / "clio"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    data = (folder / "clio-api-v4-openapi-subset.json").read_bytes()
    assert f"`{hashlib.sha256(data).hexdigest()}` ({len(data):,} bytes)" in readme


def test_the_checkout_is_not_itself_a_package() -> None:
    """With an `__init__.py` at the root, pytest and mypy name every module after the folder
    the clone happens to be in (`main.tests.x` here, something else in CI): `_package.py` is
    installed as `mapctl/__init__.py` instead."""
    assert not (ROOT / "__init__.py").exists()
    assert __name__ == "tests.test_self_contained"
