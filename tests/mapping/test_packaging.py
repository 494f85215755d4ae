"""The installed layout (issue 8): the wheel holds one import package, `mapctl`, and works beside
another distribution that ships its own top-level `cli.py` and `engine/`.

The wheel is built by the real build backend (hatchling, a dev dependency, so no network), then
installed by pip into a fresh virtualenv that borrows this environment's dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("mapctl-*.whl")
    return found


@pytest.fixture(scope="module")
def wheel_from_sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist's wheel: the source distribution built, then a wheel built from it."""
    out = tmp_path_factory.mktemp("sdist")
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (sdist,) = out.glob("mapctl-*.tar.gz")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out / "wheel"), str(sdist)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (found,) = (out / "wheel").glob("mapctl-*.whl")
    return found


@pytest.mark.parametrize("which", ["wheel", "wheel_from_sdist"])
def test_the_wheel_holds_one_top_level_package(which: str, request: pytest.FixtureRequest):
    wheel: Path = request.getfixturevalue(which)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"mapctl", wheel.name.split("-py3")[0] + ".dist-info"}
    for expected in (
        "mapctl/__init__.py",
        "mapctl/__main__.py",
        "mapctl/cli.py",
        "mapctl/commands/clio.py",
        "mapctl/engine/__init__.py",
        "mapctl/engine/mapping/validation.py",
        "mapctl/mappings/ils-client-interview.yaml",
        "mapctl/schemas/mapping.schema.json",
    ):
        assert expected in names
    assert not [n for n in names if "__pycache__" in n or "/tests/" in n]


def test_installed_beside_a_package_with_its_own_cli_and_engine(wheel: Path, tmp_path: Path):
    # Windows' embeddable CPython (`make test-windows`) ships without venv.
    venv = pytest.importorskip("venv", reason="this Python has no venv (the embeddable build)")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    scripts = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    python = scripts / ("python.exe" if sys.platform == "win32" else "python")
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    # Dependencies come from this environment (a dir named by a .pth: its own .pth files, such
    # as the editable install's, are not read).
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # Another distribution's generic top-level modules.
    (site / "cli.py").write_text("def main():\n    raise SystemExit('the other cli')\n")
    (site / "engine").mkdir()
    (site / "engine" / "__init__.py").write_text("raise ImportError('the other engine')\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    run = {"cwd": empty, "capture_output": True, "text": True, "timeout": 60, "env": clean}
    checked = subprocess.run([str(scripts / "mapctl"), "validate"], **run)  # type: ignore[call-overload]
    assert checked.returncode == 0, checked.stderr
    assert "1 mapping valid" in checked.stderr
    helped = subprocess.run([str(python), "-m", "mapctl", "--help"], **run)  # type: ignore[call-overload]
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: mapctl [OPTIONS] COMMAND"), helped.stdout
    version = subprocess.run([str(python), "-m", "mapctl", "--version"], **run)  # type: ignore[call-overload]
    assert version.stdout.startswith("mapctl, version "), version.stdout
    where = subprocess.run(
        [str(python), "-c", "import mapctl.engine as e; print(e.__file__)"], **run
    )  # type: ignore[call-overload]
    assert where.stdout.startswith(str(site)), where.stdout
