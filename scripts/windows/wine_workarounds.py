"""`make test-windows` only, never shipped: what Wine 8.0 does unlike Windows, put right in the
Windows Python that runs the suite under Wine (a `.pth` file in its site-packages imports this).

Wine defect: Wine 8.0's CRT `_locking` fails on a lock another process holds without setting
errno, so Python raises `OSError(0, 'Error')`; Microsoft's CRT sets EACCES (`PermissionError`),
which is what mapctl's lock (engine/fsutil.py `try_lock`) reads as "held by another process".

Wine defect: Wine 8.0's CreateProcess now and then fails with ERROR_INTERNAL_ERROR (WinError
1359) under load, having started nothing; Windows does not. `_winapi.CreateProcess` (what both
subprocess and multiprocessing call) tries again, up to twice, after a short pause.
"""

from __future__ import annotations

import errno
import sys
import time

if sys.platform == "win32":
    import msvcrt

    _locking = msvcrt.locking

    def _locking_as_on_windows(fd: int, mode: int, nbytes: int) -> None:
        try:
            _locking(fd, mode, nbytes)
        except OSError as error:
            if error.errno == 0 and mode in (msvcrt.LK_NBLCK, msvcrt.LK_NBRLCK):
                raise PermissionError(errno.EACCES, "Permission denied") from None
            raise

    msvcrt.locking = _locking_as_on_windows

    import _winapi

    _create_process = _winapi.CreateProcess

    def _create_process_as_on_windows(*args: object) -> object:
        for attempt in range(2):
            try:
                return _create_process(*args)
            except OSError as error:
                if getattr(error, "winerror", None) != 1359:  # ERROR_INTERNAL_ERROR
                    raise
                time.sleep(0.1 * (attempt + 1))
        return _create_process(*args)

    _winapi.CreateProcess = _create_process_as_on_windows
