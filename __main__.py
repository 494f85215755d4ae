"""`python -m mapctl`: the same command line as the `mapctl` console script."""

from __future__ import annotations

from mapctl.cli import main

if __name__ == "__main__":
    main(prog_name="mapctl")
