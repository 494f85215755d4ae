#!/usr/bin/env bash
# `make test-windows`: the suite and a smoke run on Windows' own CPython 3.11 under Wine.
# Installs what it needs from Debian (Wine, mingw-w64 for one shim DLL, osslsigncode for the
# Authenticode checks) when missing, then hands over to harness.py (see its docstring).
# Usage: scripts/windows/test-windows.sh [PYTHON] [harness options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${1:-.venv/bin/python}"
shift || true

missing=()
command -v wine >/dev/null || missing+=(wine)
[ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64-win32)
command -v osslsigncode >/dev/null || missing+=(osslsigncode)
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    echo "[test-windows] installing from Debian: ${missing[*]}"
    # Another apt-get may be running (CI installs Chromium): wait for dpkg's lock, not fail.
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
        --no-install-recommends "${missing[@]}"
fi
exec "$PYTHON" scripts/windows/harness.py "$@"
