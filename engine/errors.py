"""Errors: the project's exception types and the exit codes that go with them.

Bottom of the dependency graph: imports nothing from the project. The core only raises these;
`cli.py` is the one place that turns them into a message and an exit code (click-style: the
code sits on the class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_CLIO = 3
EXIT_INTERNAL = 4


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a file the user edits: 1-based line and column, the file as the user typed it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class MapctlError(Exception):
    """Base of every error mapctl reports to a person. Carries its exit code."""

    exit_code: ClassVar[int] = EXIT_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass
class Problem:
    """One problem found in a mapping, with everything a person needs to fix it.

    `code` is a stable machine-readable name (for `--format json`), e.g. ``unknown-key``.
    `context` holds extra lines shown under the gcc-style first line (the YAML line, the
    expression with a caret...); `report.py` renders them. `end_column`, when the span is known,
    is the 1-based column of the span's last character on `location`'s line: what the caret and
    its `~` underline (GitHub annotations carry it as endLine/endColumn).
    """

    message: str
    code: str
    location: SourceLocation | None = None
    hint: str | None = None
    expression: str | None = None
    expression_column: int | None = None  # 0-based offset of the bad spot inside `expression`
    path: tuple[str | int, ...] = ()
    context: list[str] = field(default_factory=list)
    severity: str = "error"  # "error" makes a mapping invalid; "warning" is reported only
    end_column: int | None = None  # the span's last column (inclusive), on the same line

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message) if loc else ("", 0, 0, self.message)


class MappingError(MapctlError):
    """The mapping is invalid: YAML syntax, schema, expressions, references. Holds every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        errors = [p for p in self.problems if p.is_error] or self.problems
        first = errors[0] if errors else Problem("invalid mapping", "invalid")
        super().__init__(first.message, hint=first.hint)


class EvaluationError(MapctlError):
    """An expression failed at render time. `problems` lists every failing answer."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.warnings: list[str] = []  # the bundle's warnings, set by rendering
        super().__init__(problems[0].message if problems else "evaluation failed")


class BundleError(MapctlError):
    """The matter bundle is unusable (not JSON, wrong version, dangling references)."""


class AnswerFileError(MapctlError):
    """An answer file, component file or manifest could not be read."""


class ImportRefused(MapctlError):
    """The import would overwrite something that exists (a client, a file): refused."""


class ImportInProgress(ImportRefused):
    """Another workstation is importing this client right now (or its import was stopped and
    is not taken back yet): refused, saying who and since when."""


class FolderInTheWay(ImportRefused):
    """The new client's folder name is taken by a folder no ledger records: refused."""


class ClioError(MapctlError):
    """Clio could not be reached or refused: network, auth, permissions, rate limit.

    Messages never contain secrets (tokens, the App Secret).
    """

    exit_code: ClassVar[int] = EXIT_CLIO

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.url = url


class NotFound(ClioError):
    """Clio says the record does not exist (404), or no matter matches a display number.

    Exit 3 like every Clio refusal (the house style: 401/404/500 -> 3); its message says which.
    """
