"""`make test-windows`, the smoke run: the main commands as a user runs them, on Windows' own
CPython (run by harness.py under Wine; it works on a real Windows machine too).

Each command is the installed `Scripts\\mapctl.exe` in its own process, its output piped:
validate, the sandbox (its own process), connect, search, preview, fetch, render --jobs, import
and its refusal, clients, clients forget, doctor, and the staff app starting (directly and from
the launcher `mapctl launcher` writes, through cmd.exe). Exits 1 at the first surprise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def _beside(name: str) -> Any:
    """The module `name`.py beside this script (the embeddable Python's ._pth file leaves the
    script's folder off sys.path)."""
    import importlib.util

    path = Path(__file__).resolve().parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kill_tree = _beside("winproc").kill_tree  # shared with tests/setup/test_launcher.py


SCRIPTS = Path(sys.executable).parent / "Scripts"
MAPCTL = [str(SCRIPTS / "mapctl.exe")] if (SCRIPTS / "mapctl.exe").exists() else [
    sys.executable, "-m", "mapctl"]  # fmt: skip
MATTER = "00002-Pritchett"


class Failed(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise Failed(message)


def mapctl(
    env: dict[str, str], *args: str, expect: int | tuple[int, ...] = 0, cwd: Path | None = None
) -> str:
    """Run `mapctl ARGS` with its output piped; its stdout. Fails on another exit status or a
    traceback."""
    started = time.monotonic()
    done = subprocess.run(
        [*MAPCTL, *args], env=env, cwd=cwd, capture_output=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    expected = (expect,) if isinstance(expect, int) else expect
    shown = " ".join(args)
    print(
        f"$ mapctl {shown}  -> exit {done.returncode} ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    if done.returncode not in expected or "Traceback" in out + err:
        raise Failed(f"mapctl {shown} exited {done.returncode}, wanted {expected}\n{out}{err}")
    return out + ("\n" + err if expect != 0 else "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def approve(authorize_url: str) -> str:
    """The browser's part of `connect`: the sandbox approves at once, redirecting with a code."""
    try:
        urllib.request.build_opener(_NoRedirect).open(authorize_url, timeout=30)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers.get("Location", "")
    else:
        raise Failed("the sandbox did not redirect to its approval page")
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]


def first_line(process: subprocess.Popen[bytes], what: str, timeout: float = 120) -> str:
    """The first line `process` prints (it runs on); fails after `timeout` seconds."""
    assert process.stdout is not None
    lines: list[bytes] = []
    import threading

    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        raise Failed(f"{what} printed nothing in {timeout:.0f} s (exit {process.poll()})")
    return lines[0].decode("utf-8", "replace").rstrip("\r\n")


def get(url: str) -> str:
    """A page as a browser gets it: the app trades the address's token for a cookie."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with browser.open(url, timeout=60) as page:
        return str(page.read().decode("utf-8"))


def app_serves(line: str, what: str) -> None:
    check(line.startswith("mapctl app: http://127.0.0.1:"), f"{what}: not the app's line: {line!r}")
    page = get(line.split(": ", 1)[1])
    check("Search Matters" in page, f"{what}: the app's first page has no search box")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()  # TerminateProcess: Windows has no SIGINT to send another console's process
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def smoke(work: Path) -> None:
    home = work / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAPCTL_", "CLIO_"))}
    env.update(MAPCTL_HOME=str(home))

    out = mapctl(env, "validate", expect=0)
    out = mapctl(env, "--version")
    check(out.startswith("mapctl, version "), out)

    sandbox = subprocess.Popen(
        [*MAPCTL, "sandbox", "--port", "0"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        line = first_line(sandbox, "mapctl sandbox")
        check(line.startswith("Clio sandbox listening on http://127.0.0.1:"), line)
        env.update(
            CLIO_BASE_URL=line.split()[4],
            CLIO_CLIENT_ID="sandbox-app",
            CLIO_CLIENT_SECRET="sandbox-secret",
        )
        url = mapctl(env, "connect", "--print-url").strip().splitlines()[-1]
        mapctl(env, "connect", "--code", approve(url))

        found = json.loads(mapctl(env, "search", "Pritchett", "--format", "json"))
        check(MATTER in [m["display_number"] for m in found], f"search: {found}")
        preview = json.loads(mapctl(env, "preview", MATTER, "--format", "json"))
        check(preview["contacts"][0]["role"] == "Client", f"preview: {preview}")

        bundles = work / "bundles"
        bundles.mkdir()
        mapctl(env, "fetch", MATTER, "-o", str(bundles / "pritchett.json"))
        for copy in ("second", "third"):
            shutil.copy(bundles / "pritchett.json", bundles / f"{copy}.json")
        single = mapctl(env, "render", str(bundles / "pritchett.json"), "-o", str(work / "one.anx"))
        check(single == "", single)
        mapctl(env, "render", str(bundles), "--out-dir", str(work / "anx"), "--jobs", "2")
        answers = sorted(p.name for p in (work / "anx").iterdir())
        check(answers == ["pritchett.anx", "second.anx", "third.anx"], f"render --jobs: {answers}")
        check(
            (work / "anx" / "third.anx").read_bytes() == (work / "one.anx").read_bytes(),
            "render --jobs and render -o wrote different answer files",
        )

        imported = mapctl(env, "import", MATTER, "--yes")
        answer_file = next(
            ln.split("answer file: ", 1)[1].strip()
            for ln in imported.splitlines()
            if "answer file: " in ln
        )
        check(Path(answer_file).is_file(), f"import: no answer file at {answer_file}")
        refused = mapctl(env, "import", MATTER, "--yes", expect=1)
        check("already" in refused, f"the second import was not refused as existing: {refused}")
        clients = json.loads(mapctl(env, "clients", "--format", "json"))
        check(len(clients) == 1, f"clients: {clients}")
        client_id = str(preview["contacts"][0]["id"])
        mapctl(env, "clients", "forget", client_id, "--yes")
        mapctl(env, "doctor", expect=(0, 1))
    finally:
        stop(sandbox)

    app = subprocess.Popen(
        [*MAPCTL, "app", "--demo", "--no-browser"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        app_serves(first_line(app, "mapctl app --demo"), "mapctl app --demo")
        print("$ mapctl app --demo --no-browser  -> serves its pages", flush=True)
    finally:
        stop(app)

    launcher_smoke(env, work)


def launcher_smoke(env: dict[str, str], work: Path) -> None:
    """`mapctl launcher DIR` writes a .cmd file that staff double-click; run it through cmd.exe
    (as Explorer does) with `--demo --no-browser` added, and see the app answer."""
    help_text = mapctl(env, "--help")
    if " launcher " not in help_text:
        print("(no `mapctl launcher` command on this branch: the launcher is not checked)")
        return
    folder = work / "desktop"
    folder.mkdir()
    mapctl(env, "launcher", str(folder))
    (cmd_file,) = folder.glob("*.cmd")
    app = subprocess.Popen(
        ["cmd.exe", "/c", str(cmd_file), "--demo", "--no-browser"], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        app_serves(first_line(app, cmd_file.name), cmd_file.name)
        print(
            f"$ cmd /c {cmd_file.name} --demo --no-browser  -> the app serves its pages", flush=True
        )
    finally:
        kill_tree(app.pid)  # the app cmd.exe started
        stop(app)


def main() -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="mapctl-smoke-"))
    try:
        smoke(work)
    except Failed as failure:
        print(f"SMOKE FAILED: {failure}", flush=True)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"smoke run passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
