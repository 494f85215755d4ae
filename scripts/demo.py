"""`make run`: the seed's workflow end to end on the embedded Clio sandbox, in a few seconds.

Starts the sandbox on a free 127.0.0.1 port (a thread of this process), then runs the REAL
`mapctl` command line as a user would, echoing each command before its output:
connect (through the sandbox's OAuth), search, preview, import with one contact removed,
clients. MAPCTL_HOME is `.mapctl-demo/` in the checkout (git-ignored), wiped at the start so
every run begins with an empty ledger. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the sandbox lives in the project (installed editable anyway)

from mapctl.engine.sandbox.server import APP_KEY, APP_SECRET, Sandbox  # noqa: E402

# git-ignored; DEMO_HOME moves it (the test of this demo runs it in a temporary folder)
HOME = Path(os.environ.get("DEMO_HOME") or ROOT / ".mapctl-demo")
MATTER = "00002-Pritchett"
APP_PORT = 8770  # the demo's app_port: where "Import to ILS" points
REMOVE = "Pritchett's Closets & Blinds"  # a company, not family: the contact the demo removes


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def mapctl_command() -> list[str]:
    """The installed `mapctl` next to this Python, else `python -m cli`."""
    script = Path(sys.executable).parent / "mapctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mapctl"]


def run(env: dict[str, str], *args: str, show: bool = True, expect: int = 0) -> str:
    """Run `mapctl ARGS`, echoing the command and its output; stop the demo if the exit code
    is not `expect`."""
    if show:
        print(f"\n$ mapctl {shlex.join(args)}", flush=True)
    done = subprocess.run(
        [*mapctl_command(), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if show:
        print(done.stdout, end="", flush=True)
    print(done.stderr, end="", flush=True)  # interleaved as on a terminal
    if done.returncode != expect:
        raise SystemExit(f"demo stopped: `mapctl {shlex.join(args)}` exited {done.returncode}")
    return done.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # keep the 302: its Location carries the code


def approve(authorize_url: str) -> str:
    """What the user does in the browser: open the authorize URL, read the code it redirects
    with (the sandbox approves at once)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(authorize_url, timeout=10)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers.get("Location", "")
    else:
        raise SystemExit("demo stopped: the sandbox did not redirect to its approval page")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [""])[0]
    if not code:
        raise SystemExit(f"demo stopped: no code in the approval redirect {location!r}")
    return code


def contact_to_remove(env: dict[str, str]) -> tuple[int, str]:
    """The demo removes the closets company (else the last related contact)."""
    contacts = json.loads(run(env, "preview", MATTER, "--format", "json", show=False))["contacts"]
    chosen = next((c for c in contacts if c["name"] == REMOVE), contacts[-1])
    return int(chosen["id"]), str(chosen["name"])


def show_answer_file(import_output: str, lines: int = 14) -> None:
    """The first lines of the answer file the import wrote (its path is in the output)."""
    marker = "answer file: "
    path = next(line.split(marker, 1)[1] for line in import_output.splitlines() if marker in line)
    text = Path(path).read_text(encoding="utf-8-sig").splitlines()
    print(f"\n# the answer file ({len(text)} lines; HotDocs reads it into the interview):")
    print("\n".join(f"  {line.expandtabs(2)}" for line in text[:lines]) + "\n  ...")


def main() -> None:
    started = time.perf_counter()
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir()
    with Sandbox() as sandbox:
        print(f"Clio sandbox running at {sandbox.base_url}; MAPCTL_HOME={shown(HOME)}/")
        settings = HOME / "settings.yaml"  # the port "Import to ILS" opens (issue 19)
        settings.write_text(f"app_port: {APP_PORT}\n", encoding="utf-8")
        env = {
            **os.environ,
            "MAPCTL_HOME": str(HOME),
            "MAPCTL_SETTINGS": str(settings),
            "CLIO_BASE_URL": sandbox.base_url,
            "CLIO_CLIENT_ID": APP_KEY,  # in the environment, never in argv
            "CLIO_CLIENT_SECRET": APP_SECRET,
        }
        url = run(env, "connect", "--print-url").strip().splitlines()[-1]
        print(f"# (the browser step) approving at {url.split('?')[0]} ...")
        run(env, "connect", "--code", approve(url))
        run(env, "search", "Pritchett")
        run(env, "preview", MATTER)
        contact_id, name = contact_to_remove(env)
        print(f"\n# import without the {name} (contact {contact_id})")
        imported = run(env, "import", MATTER, "--yes", "--exclude", str(contact_id))
        show_answer_file(imported)
        print("\n# importing the same client again is refused (exit 1): new clients only")
        run(env, "import", MATTER, "--yes", expect=1)
        run(env, "clients")
        page = sandbox.matter_url(9002)
        print(
            f"\n# the import left a note on the matter in Clio (the sandbox's page): {page}#notes"
        )
        print('\n# put "Import to ILS" on Clio\'s matter pages, opening the staff app on app_port')
        run(env, "doctor", "--create-action", "--yes")
        print(f'\n# in Clio, the matter\'s page now offers "Import to ILS": {page}')
        print(f"# with `mapctl app` on port {APP_PORT}, choosing it opens that matter's Preview;")
        print("# this sandbox stops with the demo: `mapctl app --demo` shows it all in a browser")
        requests = len(sandbox.requests)
    seconds = time.perf_counter() - started
    print(f"\nDone in {seconds:.1f} s; the sandbox answered {requests} requests; it is stopped.")
    print(f"Run again any time: the demo starts from a clean {shown(HOME)}/ each run.")


if __name__ == "__main__":
    main()
