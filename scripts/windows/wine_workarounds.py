"""`make test-windows` only, never shipped: what Wine 8.0 does unlike Windows, put right in the
Windows Python that runs the suite under Wine (a `.pth` file in its site-packages imports this).

Wine defect: Wine 8.0's CRT `_locking` fails on a lock another process holds without setting
errno, so Python raises `OSError(0, 'Error')`; Microsoft's CRT sets EACCES (`PermissionError`),
which is what mapctl's lock (engine/fsutil.py `try_lock`) reads as "held by another process".
"""

from __future__ import annotations

import errno
import sys

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
