"""The record of mappings that passed validation (compile_mapping(..., cache=)): a mapping whose
exact text passed before is not validated again (no jsonschema at start-up); anything else is.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from mapctl.engine.errors import MappingError, Problem
from mapctl.engine.mapping import compilation, validation
from mapctl.engine.mapping.compilation import compile_mapping
from mapctl.engine.mapping.loading import LoadedMapping

from tests.conftest import POSIX_MODES

MAPPING = "version: 1\ntitle: T\nanswers:\n  A TE: client.name\n"


def _records(cache: Path) -> list[Path]:
    folder = cache / "validated"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Validation still runs; each run is counted."""
    calls: list[int] = []

    def counting(loaded: LoadedMapping) -> list[Problem]:
        calls.append(1)
        return validation.validate(loaded)

    monkeypatch.setattr(compilation, "validate", counting)
    return calls


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(loaded: object) -> list[object]:
        raise AssertionError("validated again")

    monkeypatch.setattr(compilation, "validate", refuse)


def test_a_mapping_that_passed_is_recorded_privately_and_not_validated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    cache = tmp_path / "cache"
    first = compile_mapping(path, cache=cache)
    [record] = _records(cache)
    assert not POSIX_MODES or stat.S_IMODE(record.stat().st_mode) == 0o600
    assert not POSIX_MODES or stat.S_IMODE(record.parent.stat().st_mode) == 0o700
    _no_validation(monkeypatch)
    again = compile_mapping(path, cache=cache)
    assert again.answers == first.answers and again.title == first.title
    assert again.answers[0].value({"client": {"name": "Jay"}}) == "Jay"


def test_an_edited_mapping_is_validated_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    cache = tmp_path / "cache"
    compile_mapping(path, cache=cache)
    path.write_text(MAPPING + "  B TE: clint.name\n", encoding="utf-8")  # a typo: an error
    with pytest.raises(MappingError, match="clint"):
        compile_mapping(path, cache=cache)
    with pytest.raises(MappingError):  # a failure is never recorded
        compile_mapping(path, cache=cache)
    assert len(_records(cache)) == 1


def test_an_extended_file_is_part_of_the_key(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(MAPPING, encoding="utf-8")
    firm = tmp_path / "firm.yaml"
    firm.write_text("version: 1\nextends: base.yaml\nanswers:\n  B TE: client.id\n", "utf-8")
    cache = tmp_path / "cache"
    compile_mapping(firm, cache=cache)
    base.write_text(MAPPING.replace("client.name", "clinet.name"), encoding="utf-8")
    with pytest.raises(MappingError, match="clinet"):
        compile_mapping(firm, cache=cache)


def test_a_changed_mapctl_validates_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    cache = tmp_path / "cache"
    compile_mapping(path, cache=cache)
    monkeypatch.setattr(compilation, "_code_stamp", lambda: b"another mapctl")
    calls = _counted(monkeypatch)
    compile_mapping(path, cache=cache)
    assert calls == [1]
    assert len(_records(cache)) == 2


def test_a_damaged_or_unwritable_record_only_means_validating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    cache = tmp_path / "cache"
    compile_mapping(path, cache=cache)
    [record] = _records(cache)
    record.write_bytes(b"")  # damaged: not trusted
    calls = _counted(monkeypatch)
    compile_mapping(path, cache=cache)
    assert calls == [1]
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    compile_mapping(path, cache=blocked)  # cannot record: compiles all the same
    assert calls == [1, 1]


def test_without_a_cache_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    before = set(os.listdir(tmp_path))
    compile_mapping(path)
    assert set(os.listdir(tmp_path)) == before


def test_a_recorded_mapping_compiles_without_importing_jsonschema(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    cache = tmp_path / "cache"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mapctl.engine.mapping.compilation import compile_mapping\n"
        f"compile_mapping({str(path)!r}, cache=Path({str(cache)!r}))\n"
        "print('jsonschema' in sys.modules)\n"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True)
    second = subprocess.run(run, capture_output=True, text=True, check=True)
    assert (first.stdout, second.stdout) == ("True\n", "False\n")
