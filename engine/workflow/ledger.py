"""Ledger: the record of ILS clients mapctl has created (`$MAPCTL_HOME/clients.db`, sqlite3).

Stage: the last step of an import. New clients only: a Clio contact appears at most once (a
UNIQUE column), so two imports of the same client racing each other cannot both succeed. The
insert happens inside a write transaction (`BEGIN IMMEDIATE`) that the caller keeps open while it
moves the client's folder into place (`Ledger.reserve`), so the folder and the row appear
together or not at all. No printing, no click; sqlite errors become `MapctlError`s here.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ImportRefused, MapctlError
from ..fsutil import FILE_MODE, make_folders

LEDGER_FILE = "clients.db"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000  # a concurrent import holds the write lock for milliseconds

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL,
    notes                 TEXT NOT NULL,
    clio_contact_id       INTEGER NOT NULL UNIQUE,
    matter_id             INTEGER,
    matter_display_number TEXT,
    answer_file           TEXT NOT NULL,
    answer_sha256         TEXT NOT NULL,
    mapping_title         TEXT NOT NULL,
    created_at            TEXT NOT NULL
)
"""
_COLUMNS = (
    "name, notes, clio_contact_id, matter_id, matter_display_number, answer_file, "
    "answer_sha256, mapping_title, created_at"
)


@dataclass(frozen=True)
class ClientEntry:
    """One client mapctl created. `created_at` is UTC ISO 8601 (seconds)."""

    name: str
    notes: str
    clio_contact_id: int
    matter_id: int | None
    matter_display_number: str | None
    answer_file: str
    answer_sha256: str
    mapping_title: str
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def _row(self) -> tuple[Any, ...]:
        return tuple(asdict(self).values())


def already_exists(entry: ClientEntry) -> ImportRefused:
    """The refusal for a client the ledger already holds: what, when, from where, and where."""
    matter = entry.matter_display_number or f"id {entry.matter_id}"
    return ImportRefused(
        f"{entry.name} (Clio contact {entry.clio_contact_id}) already exists: created "
        f"{entry.created_at} from matter {matter}; its answer file is {entry.answer_file}",
        hint="mapctl creates new clients only; open the existing client in ILS instead",
    )


def _private_file(path: Path) -> None:
    """Create the ledger file 0600 before sqlite does (sqlite follows the umask, and gives its
    -wal and -shm files the database's mode); tighten one an older mapctl left 0644."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        with suppress(OSError):  # not ours to change (another user's): sqlite will say more
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, FILE_MODE)


class Ledger:
    """The ledger file of one MAPCTL_HOME. Open with `Ledger.open(home)` (a context manager)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    @contextmanager
    def open(cls, home: Path) -> Iterator[Ledger]:
        """Open (creating it and its folder when missing) the ledger in `home`."""
        path = Path(home) / LEDGER_FILE
        try:
            make_folders(path.parent)
            _private_file(path)
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise MapctlError(f"cannot open the client ledger {path}: {error}") from error
        with closing(connection):
            ledger = cls(connection, path)
            ledger._migrate()
            yield ledger

    def _migrate(self) -> None:
        """Set up the file (WAL, schema). `PRAGMA journal_mode` answers "database is locked" at
        once, without the busy timeout, while another mapctl writes or closes the ledger: two
        imports at the same moment must not fail on that, so a locked setup is tried again."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._migrate_once()
                return
            except sqlite3.OperationalError as error:
                self._rollback()
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise MapctlError(
                        f"cannot use the client ledger {self.path}: {error}"
                    ) from error
                time.sleep(0.01)
            except sqlite3.DatabaseError as error:
                raise MapctlError(f"cannot use the client ledger {self.path}: {error}") from error

    def _migrate_once(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise MapctlError(
                f"the client ledger {self.path} was written by a newer mapctl "
                f"(schema {version}, this one knows {SCHEMA_VERSION})",
                hint="upgrade mapctl",
            )
        if str(self._db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        if version < SCHEMA_VERSION:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute("COMMIT")

    def find_by_contact(self, contact_id: int) -> ClientEntry | None:
        """The client created from this Clio contact, if any."""
        row = self._query(f"SELECT {_COLUMNS} FROM clients WHERE clio_contact_id = ?", contact_id)
        return ClientEntry(*row[0]) if row else None

    def list_clients(self) -> list[ClientEntry]:
        """Every client, oldest first."""
        return [
            ClientEntry(*row) for row in self._query(f"SELECT {_COLUMNS} FROM clients ORDER BY id")
        ]

    def record(self, entry: ClientEntry) -> None:
        """Insert one client on its own; `ImportRefused` when its Clio contact is already there."""
        with self.reserve(entry):
            pass

    @contextmanager
    def reserve(self, entry: ClientEntry) -> Iterator[None]:
        """Insert `entry` in a write transaction committed when the block ends without error.

        The block runs while the row is inserted but not yet visible to others; any exception in
        it rolls the insert back. A second import of the same contact waits for the lock, then
        is refused with `ImportRefused` (never both win).
        """
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error
        try:
            self._insert(entry)
            yield
        except BaseException:
            self._rollback()
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _insert(self, entry: ClientEntry) -> None:
        try:
            self._db.execute(
                f"INSERT INTO clients ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                entry._row(),
            )
        except sqlite3.IntegrityError:
            existing = self.find_by_contact(entry.clio_contact_id)
            raise already_exists(existing or entry) from None
        except sqlite3.Error as error:
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise MapctlError(f"cannot read the client ledger {self.path}: {error}") from error
