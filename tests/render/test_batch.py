"""Batch rendering (issue 12): folders, --jobs, --force, whole files, an interrupted batch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mapctl.engine import fsutil
from mapctl.engine.errors import ImportRefused, MapctlError
from mapctl.engine.render.batch import SortedNames

from tests.conftest import POSIX_MODES, RunCli
from tests.render.test_cases import CASES
from tests.render.test_cli import BLENDED, DAY, snapshot_bytes

# Cases rendered with the bundled mapping (every-custom-field-type brings its own).
DEFAULT_CASES = sorted(p.name for p in CASES.iterdir() if not (p / "mapping.yaml").exists())
BROKEN_MAPPING = """\
version: 1
title: Broken
answers:
  Kids NU: {type: number, value: length(spouse.prefix)}
  Name TE: client.name
"""


def bundles_folder(root: Path) -> Path:
    """Every case's bundle as <case>.json, plus two unusable ones (sorted between them)."""
    folder = root / "bundles"
    folder.mkdir()
    for case in CASES.iterdir():
        shutil.copy(case / "bundle.json", folder / f"{case.name}.json")
    (folder / "broken.json").write_text('{"bundle_version": 1}')
    (folder / "not-json.json").write_text("nope")
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("extra", [(), ("--keep-going", "-m", "BROKEN")], ids=["ok", "broken"])
def test_workers_give_the_same_files_messages_and_status(
    run_cli: RunCli, tmp_path: Path, extra: tuple[str, ...]
) -> None:
    folder = bundles_folder(tmp_path)
    (tmp_path / "broken.yaml").write_text(BROKEN_MAPPING)
    extra = tuple(str(tmp_path / "broken.yaml") if a == "BROKEN" else a for a in extra)
    runs = {}
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out-{jobs}"
        result = run_cli("render", str(folder), "--out-dir", str(out), "--jobs", jobs, *DAY, *extra)
        runs[jobs] = (result.exit_code, result.stderr.replace(str(out), "OUT"), files(out))
    assert runs["1"] == runs["2"] == runs["3"]
    status, stderr, written = runs["1"]
    assert status == 1
    assert stderr.index("broken.json") < stderr.index("company-client.json: warning")
    assert stderr.index("company-client.json") < stderr.index("not-json.json")
    if not extra:  # byte for byte the reviewed answer files
        cases = len(list(CASES.iterdir()))  # every case renders, the two unusable fail
        assert stderr.endswith(f"rendered {cases} of {cases + 2} bundles into OUT; 2 failed\n")
        assert {name: written[f"{name}.anx"] for name in DEFAULT_CASES} == {
            name: snapshot_bytes(name) for name in DEFAULT_CASES
        }


def test_a_folder_gives_its_json_files_by_name(run_cli: RunCli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.json", "a.json", ".hidden.json"):
        shutil.copy(BLENDED, folder / name)
    shutil.copy(CASES / "company-client" / "bundle.json", folder / "c.json")
    (folder / "notes.txt").write_text("not a bundle")
    (folder / "sub.json").mkdir()
    out = tmp_path / "out"
    result = run_cli("render", f"{folder}/", BLENDED, "--out-dir", str(out), *DAY)
    assert (result.exit_code, result.stderr) == (
        0,
        f"{folder / 'c.json'}: warning: the client Dunphy Realty LLC is a Company, not a Person: "
        "personal answers (names, birth date) stay blank\n"
        f"rendered 4 of 4 bundles into {out}\n",
    )
    assert sorted(files(out)) == ["a.anx", "b.anx", "bundle.anx", "c.anx"]
    assert files(out)["a.anx"] == snapshot_bytes("blended-family")


def test_folder_mistakes_are_clear(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("render", str(empty), "--out-dir", str(tmp_path / "out"), *DAY)
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {empty}: no bundles in this folder (it holds no *.json files)\n"
        "  hint: make one with `mapctl fetch MATTER -o FILE`\n",
    )
    result = run_cli("render", str(empty))
    assert result.exit_code == 2
    assert "a folder of bundles needs --out-dir DIR" in result.stderr
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(BLENDED, folder / "jay.json")
    result = run_cli("render", str(folder), "--out-dir", str(folder), "--format", "json")
    assert result.exit_code == 2
    assert f"Error: the answers would overwrite the bundle {folder / 'jay.json'}\n" in result.stderr
    result = run_cli("render", str(folder), str(folder / "jay.json"), "--out-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "two bundles are named 'jay'" in result.stderr
    result = run_cli("render", BLENDED, "--out-dir", str(tmp_path), "--jobs", "0")
    assert result.exit_code == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_existing_answer_files_need_force(run_cli: RunCli, tmp_path: Path, jobs: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(BLENDED, folder / "jay.json")
    shutil.copy(CASES / "no-spouse" / "bundle.json", folder / "solo.json")
    out = tmp_path / "out"
    out.mkdir()
    (out / "jay.anx").write_bytes(b"an answer file someone edited")
    args = ("render", str(folder), "--out-dir", str(out), "--jobs", jobs, *DAY)
    result = run_cli(*args)
    assert (result.exit_code, result.stderr) == (
        1,
        f"{folder / 'jay.json'}: error: {out / 'jay.anx'} already exists; mapctl never overwrites it\n"
        "  hint: pass --force to replace it, or choose another output path\n"
        f"rendered 1 of 2 bundles into {out}; 1 failed\n",
    )
    assert (out / "jay.anx").read_bytes() == b"an answer file someone edited"
    assert (out / "solo.anx").read_bytes() == snapshot_bytes("no-spouse")
    result = run_cli(*args, "--force")
    assert (result.exit_code, result.stderr) == (0, f"rendered 2 of 2 bundles into {out}\n")
    assert files(out) == {
        "jay.anx": snapshot_bytes("blended-family"),
        "solo.anx": snapshot_bytes("no-spouse"),
    }
    # With --force, a bundle that now fails leaves no stale answer file behind.
    (folder / "jay.json").write_text('{"bundle_version": 1}')
    result = run_cli(*args, "--force")
    assert (result.exit_code, result.stderr) == (
        1,
        f"{folder / 'jay.json'}: removed {out / 'jay.anx'}, the answer file of an earlier render\n"
        f"error: {folder / 'jay.json'}: not a usable matter bundle: no 'matter'\n"
        "  hint: make one with `mapctl fetch MATTER -o FILE`\n"
        f"rendered 1 of 2 bundles into {out}; 1 failed\n",
    )
    assert sorted(files(out)) == ["solo.anx"]


def test_render_o_needs_force_and_a_failure_removes_the_stale_file(
    run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "jay.anx"
    out.write_bytes(b"older answers")
    result = run_cli("render", BLENDED, "-o", str(out), *DAY)
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {out} already exists; mapctl never overwrites it\n"
        "  hint: pass --force to replace it, or choose another output path\n",
    )
    assert out.read_bytes() == b"older answers"
    result = run_cli("render", BLENDED, "-o", str(out), "--force", *DAY)
    assert (result.exit_code, out.read_bytes()) == (0, snapshot_bytes("blended-family"))
    mapping = tmp_path / "broken.yaml"
    mapping.write_text(BROKEN_MAPPING)
    result = run_cli("render", BLENDED, "-o", str(out), "--force", "-m", str(mapping), *DAY)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{BLENDED}: removed {out}, the answer file of an earlier render\n{mapping}:4:34: error:"
    )
    assert not out.exists()


def test_an_interrupted_batch_leaves_only_whole_files(tmp_path: Path) -> None:
    """Kill -9 the parent halfway: its workers die with it; every answer file there is whole,
    no temp file is left, and the same command with --force then completes the batch."""
    folder = tmp_path / "in"
    folder.mkdir()
    count = 400
    for n in range(count):
        os.link(BLENDED, folder / f"b{n:04d}.json")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "mapctl", "render", str(folder), "--out-dir", str(out)]
    command += ["--jobs", "2", *DAY]
    env = {**os.environ, "MAPCTL_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and len(os.listdir(out)) >= 10) and time.monotonic() < deadline:
        time.sleep(0.002)
    process.kill()  # SIGKILL; TerminateProcess on Windows
    process.communicate()
    time.sleep(0.3)  # workers still running would go on writing
    written = files(out)
    assert 10 <= len(written) < count
    assert files(out).keys() == written.keys()  # nothing was added since: the workers are gone
    expected = snapshot_bytes("blended-family")
    assert all(name.startswith("b") and name.endswith(".anx") for name in written)
    assert all(data == expected for data in written.values())
    done = subprocess.run([*command, "--force"], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (
        0,
        f"rendered {count} of {count} bundles into {out}\n",
    )
    assert len(os.listdir(out)) == count


@pytest.mark.parametrize("nameless", [True, False], ids=["O_TMPFILE", "temp-file"])
def test_write_new_is_whole_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nameless: bool
) -> None:
    monkeypatch.setattr(fsutil, "_NAMELESS", nameless and fsutil._NAMELESS)
    target = tmp_path / "a.anx"
    fsutil.write_new(target, b"first", mode=0o640)
    assert target.read_bytes() == b"first"
    assert not POSIX_MODES or target.stat().st_mode & 0o777 == 0o640
    with pytest.raises(ImportRefused, match="already exists; mapctl never overwrites it"):
        fsutil.write_new(target, b"second")
    assert target.read_bytes() == b"first"
    fsutil.write_new(target, b"second", overwrite=True)
    assert target.read_bytes() == b"second"
    fsutil.sync_folder(tmp_path)
    assert os.listdir(tmp_path) == ["a.anx"]  # no temp file left
    assert fsutil.remove_file(target) and not fsutil.remove_file(target)


def test_read_bounded_reads_whole_files_and_refuses_big_ones(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(b"x" * 5000)
    assert fsutil.read_bounded(path, "a bundle") == b"x" * 5000
    with pytest.raises(MapctlError, match="too large for a bundle"):
        fsutil.read_bounded(path, "a bundle", limit=4999)
    assert fsutil.read_bounded(path, "a bundle", limit=5000) == b"x" * 5000
    raw = b'{"a": 1}\r\n\x1a\r\n' * 300  # CRLF, Ctrl-Z: bytes as they are (Windows' text mode)
    path.write_bytes(raw)
    assert fsutil.read_bounded(path, "a bundle") == raw
    if sys.platform != "win32":  # /dev/zero never ends (Windows' NUL is empty)
        with pytest.raises(MapctlError, match="too large"):
            fsutil.read_bounded("/dev/zero", "a bundle", limit=100)


def test_sorted_names_match_sorted() -> None:
    names = [f"{(n * 7919) % 5003:05d}-é.json" for n in range(3000)]
    assert list(SortedNames(names)) == sorted(names)
    assert len(SortedNames(names)) == 3000


def test_spawned_workers_compile_the_mapping_themselves(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where forking is unsafe (other threads run), workers are spawned: same output."""
    import threading

    monkeypatch.setattr(threading, "active_count", lambda: 2)
    folder = bundles_folder(tmp_path)
    out = tmp_path / "out"
    result = run_cli("render", str(folder), "--out-dir", str(out), "--jobs", "2", *DAY)
    assert result.exit_code == 1
    cases = len(list(CASES.iterdir()))
    assert result.stderr.endswith(f"rendered {cases} of {cases + 2} bundles into {out}; 2 failed\n")
    assert {name: files(out)[f"{name}.anx"] for name in DEFAULT_CASES} == {
        name: snapshot_bytes(name) for name in DEFAULT_CASES
    }


def test_forked_workers_keep_the_order_over_many_blocks(tmp_path: Path) -> None:
    """Forked workers take blocks of bundles in turn (POSIX): over 180 bundles, of warnings,
    failures and plain renders mixed, files, messages and their order are those of --jobs 1."""
    source = bundles_folder(tmp_path)
    folder = tmp_path / "many"
    folder.mkdir()
    bundles = sorted(source.iterdir())
    for n in range(180):
        os.link(
            bundles[n * 7 % len(bundles)], folder / f"b{n:03d}-{bundles[n * 7 % len(bundles)].name}"
        )
    runs = {}
    env = {**os.environ, "MAPCTL_HOME": str(tmp_path / "home")}
    for jobs in ("1", "2", "3"):  # processes of their own: the test session runs threads
        out = tmp_path / f"out-{jobs}"
        command = [sys.executable, "-m", "mapctl", "render", str(folder), "--out-dir", str(out)]
        done = subprocess.run(
            [*command, "--jobs", jobs, *DAY], env=env, capture_output=True, text=True, timeout=60
        )
        runs[jobs] = (done.returncode, done.stderr.replace(str(out), "OUT"), files(out))
    assert runs["1"] == runs["2"] == runs["3"]
    assert runs["1"][0] == 1 and "warning" in runs["1"][1] and "failed" in runs["1"][1]


WORKER_FAULT = """
import os, sys
from mapctl.cli import main
from mapctl.engine.render import batch

render_into, parent = batch.render_into, os.getpid()

def faulty(bundle, *args):
    if os.getpid() != parent:  # in a forked worker
        if sys.argv[1] == "bug":
            raise ZeroDivisionError("a bug")
        os._exit(9)  # killed
    return render_into(bundle, *args)

batch.render_into = faulty
main(sys.argv[2:], prog_name="mapctl")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers: POSIX only")
@pytest.mark.parametrize("fault", ["bug", "death"])
def test_a_forked_workers_bug_or_death_is_reported(tmp_path: Path, fault: str) -> None:
    """A bug in a forked worker is raised again in the main process (exit 4, as any bug); a
    worker that dies (killed) stops the batch with exit 4 and says so, never hangs. (A process
    of its own: the test session runs threads, and mapctl does not fork under threads.)"""
    folder = bundles_folder(tmp_path)
    command = [sys.executable, "-c", WORKER_FAULT, fault, "render", str(folder)]
    command += ["--out-dir", str(tmp_path / "out"), "--jobs", "3", *DAY]
    env = {**os.environ, "MAPCTL_HOME": str(tmp_path / "home")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    if fault == "bug":
        assert done.stderr.endswith(
            "internal error (ZeroDivisionError): this is a bug in mapctl; please report it with "
            "the command you ran (run again with --debug for the details)\n"
        )
    else:
        assert done.stderr.endswith(
            "error: a worker process of the batch stopped before its work was done (killed?)\n"
            "  hint: the answer files written are whole; run the command again to render the "
            "rest (with --force to render them all again)\n"
        )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers' frames: POSIX only")
def test_outcome_records_carry_any_text() -> None:
    """What a forked worker sends back: frames of a block's outcomes (flags and the report's
    text, surrogates included), read as they come, in pieces. (50,000 bytes wait in the pipe
    with no reader: Linux's pipe holds 64 KiB, Windows' 4 KiB, and only POSIX forks.)"""
    from mapctl.engine.render.batch import _END, Outcome, _frame, _Frames, _outcomes, _record

    outcomes = [
        Outcome(""),
        Outcome("a.json: warning: Jöe \udcff\n", partial=True),
        Outcome("x" * 100_000, failed=True),
    ]
    records = b"".join(_record(outcome) for outcome in outcomes)
    data = _frame(7, records) + _frame(_END, b"")
    read_end, write_end = os.pipe()
    frames = _Frames(read_end)
    with open(write_end, "wb", closefd=True) as pipe:
        pipe.write(data[:50_000])
        pipe.flush()
        assert list(frames.read()) == []  # not whole yet
        pipe.write(data[50_000:])
    got: list[tuple[int, bytes]] = []
    while not frames.ended:
        got += frames.read()
    assert got == [(7, records)]
    assert list(_outcomes(records)) == outcomes
    os.close(read_end)
