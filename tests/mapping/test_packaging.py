"""The installed layout: the wheel carries engine/, cli.py and the bundled mappings and schema
under engine/_data/ (pyproject's force-include). Built here by hand from pyproject.toml, without
network or build backend, then `mapctl validate` runs from an empty folder against it.
(A real `pip install .` into a fresh virtualenv was also checked by hand: see the report.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

from tests.conftest import ROOT


def test_validate_works_from_the_wheel_layout(tmp_path):
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = config["tool"]["hatch"]["build"]["targets"]["wheel"]
    site = tmp_path / "site"
    for name in wheel["only-include"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, site / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, site / name)
    for source, target in wheel["force-include"].items():
        shutil.copytree(ROOT / source, site / target)
    empty = tmp_path / "empty"
    empty.mkdir()
    code = (
        "import engine, sys\n"
        "from click.testing import CliRunner\n"
        "from cli import main\n"
        f"assert engine.__file__.startswith({str(site)!r}), engine.__file__\n"
        "result = CliRunner().invoke(main, ['validate'])\n"
        "print(result.exit_code, result.stderr.strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=empty, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(site), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0 1 mapping valid\n"
