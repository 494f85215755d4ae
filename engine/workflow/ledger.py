"""Ledger: the record of ILS clients mapctl has created (`$MAPCTL_HOME/clients.db`, sqlite3).

Stage: the last step of an import. New clients only: a Clio contact appears at most once (a
UNIQUE column), so two imports of the same client racing each other cannot both succeed.

The folder and the row are one recoverable step (`Ledger.reserve`), even when mapctl is killed
(`kill -9`, a power cut) half-way: the row is committed first, marked pending in the `pending`
table; then the caller writes and renames the client's folder; then the mark is removed. While
it is pending, the import holds `clients.lock` (flock), which the kernel releases when the
process dies. So a pending row nobody locks belongs to a dead import, and the next import (or
`mapctl clients`) finishes it when the folder is in place with its answer file (`recover`), or
takes the row and the staging folder back when it is not. No printing, no click; sqlite errors
become `MapctlError`s here.

`mapctl clients forget` moves a row to the `forgotten` table (what was forgotten and when),
after which the contact may be imported again.

Clio's ids are 64-bit integers (its OpenAPI document: int64), as are sqlite's: an id outside
that range is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ImportRefused, MapctlError
from ..fsutil import FILE_MODE, make_folders, open_no_follow, refuse_link, try_lock
from .clientfolder import STALE_AFTER, remove_stale_staging

LEDGER_FILE = "clients.db"
LOCK_FILE = "clients.lock"
SCHEMA_VERSION = 4  # 1: clients; 2: + forgotten (issue 11); 3: + pending (issue 9); 4: + extra
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
# Clients removed from `clients` by `mapctl clients forget` (issue 11): the row as it was, when
# it was forgotten and whether its folder was deleted. Created for new ledgers and added to
# schema-1 ledgers by the migration (`CREATE ... IF NOT EXISTS` on both tables).
_FORGOTTEN_SCHEMA = """
CREATE TABLE IF NOT EXISTS forgotten (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL,
    notes                 TEXT NOT NULL,
    clio_contact_id       INTEGER NOT NULL,
    matter_id             INTEGER,
    matter_display_number TEXT,
    answer_file           TEXT NOT NULL,
    answer_sha256         TEXT NOT NULL,
    mapping_title         TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    forgotten_at          TEXT NOT NULL,
    folder_deleted        INTEGER NOT NULL
)
"""
_PENDING = """
CREATE TABLE IF NOT EXISTS pending (
    clio_contact_id INTEGER PRIMARY KEY
)
"""
# Fields added to a client's entry after its import (issue 15: e.g. the Clio note's status),
# one JSON object per client, written in one transaction (`update_extra`).
_EXTRA = """
CREATE TABLE IF NOT EXISTS extra (
    clio_contact_id INTEGER PRIMARY KEY,
    fields          TEXT NOT NULL
)
"""
_INT64 = range(-(2**63), 2**63)
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


@dataclass(frozen=True)
class ForgottenEntry:
    """A client removed from the ledger by `mapctl clients forget`, and when (UTC ISO 8601)."""

    client: ClientEntry
    forgotten_at: str
    folder_deleted: bool

    def as_json(self) -> dict[str, Any]:
        return {
            **self.client.as_json(),
            "forgotten_at": self.forgotten_at,
            "folder_deleted": self.folder_deleted,
        }


def already_exists(entry: ClientEntry) -> ImportRefused:
    """The refusal for a client the ledger already holds: what, when, from where, and where."""
    matter = entry.matter_display_number or f"id {entry.matter_id}"
    return ImportRefused(
        f"{entry.name} (Clio contact {entry.clio_contact_id}) already exists: created "
        f"{entry.created_at} from matter {matter}; its answer file is {entry.answer_file}",
        hint="mapctl creates new clients only; open the existing client in ILS instead (if it "
        "was imported by mistake or deleted in ILS: mapctl clients forget "
        f"{entry.clio_contact_id})",
    )


def _private_file(path: Path) -> None:
    """Create the ledger file 0600 before sqlite does (sqlite follows the umask, and gives its
    -wal and -shm files the database's mode); tighten one an older mapctl left 0644. A link in
    its place, or in the place of sqlite's files beside it, is refused: mapctl would change or
    create the file it points at (issue 17)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        refuse_link(path.with_name(path.name + suffix))
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        with suppress(OSError):  # not ours to change (another user's): sqlite will say more
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, FILE_MODE)


def _check_id(value: int, what: str) -> None:
    if value not in _INT64:
        raise MapctlError(
            f"Clio {what} id {value} is outside the 64-bit range of Clio's ids; mapctl cannot "
            "record this client (nothing was written)",
            hint="Clio's API documents its ids as 64-bit integers: check the matter in Clio",
        )


check_id = _check_id  # for callers that refuse before opening the ledger


def folder_in_place(entry: ClientEntry) -> bool:
    """Whether a pending client's folder was renamed into place: its answer file is there with
    the checksum the row (or the firm-wide claim) recorded (files are fsynced before the
    rename)."""
    try:
        data = Path(entry.answer_file).read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == entry.answer_sha256


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
            self._db.execute(_FORGOTTEN_SCHEMA)
            self._db.execute(_PENDING)
            self._db.execute(_EXTRA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute("COMMIT")

    def find_by_contact(self, contact_id: int) -> ClientEntry | None:
        """The client created (or being created) from this Clio contact, if any."""
        _check_id(contact_id, "contact")
        row = self._query(f"SELECT {_COLUMNS} FROM clients WHERE clio_contact_id = ?", contact_id)
        return ClientEntry(*row[0]) if row else None

    def is_pending(self, contact_id: int) -> bool:
        """Whether this contact's import has not finished (running, or killed: see `recover`)."""
        _check_id(contact_id, "contact")
        return bool(self._query("SELECT 1 FROM pending WHERE clio_contact_id = ?", contact_id))

    def list_clients(self) -> list[ClientEntry]:
        """Every client whose import finished, oldest first."""
        return [
            ClientEntry(*row)
            for row in self._query(
                f"SELECT {_COLUMNS} FROM clients WHERE clio_contact_id NOT IN "
                "(SELECT clio_contact_id FROM pending) ORDER BY id"
            )
        ]

    def record(self, entry: ClientEntry) -> None:
        """Insert one client on its own; `ImportRefused` when its Clio contact is already there."""
        with self.reserve(entry):
            pass

    @contextmanager
    def reserve(self, entry: ClientEntry) -> Iterator[None]:
        """Commit `entry` marked pending, run the block (which puts the client's folder in
        place), then remove the mark. An exception in the block deletes the row again; a kill
        leaves the pending row for `recover`. A second import of the same contact waits for the
        lock, then is refused with `ImportRefused` (never both win)."""
        _check_id(entry.clio_contact_id, "contact")
        if entry.matter_id is not None:
            _check_id(entry.matter_id, "matter")
        with self._locked(wait=True):
            self._recover_locked()
            self._transaction(self._insert, entry)
            try:
                yield
            except BaseException:
                self._transaction(self._delete, entry.clio_contact_id)
                raise
            self._transaction(self._finish, entry.clio_contact_id)

    def recover(self, *, wait: bool = False) -> None:
        """Finish or take back what killed imports left (see the module docstring); without
        `wait`, nothing is done while an import runs (it recovers itself first)."""
        with self._locked(wait=wait) as locked:
            if locked:
                self._recover_locked()

    def _recover_locked(self) -> None:
        stray = (
            "SELECT 1 FROM pending WHERE clio_contact_id NOT IN (SELECT clio_contact_id FROM "
            "clients)"
        )
        if self._query(stray):  # written only when needed: listing works on a read-only ledger
            self._transaction(self._drop_stray_marks)
        rows = self._query(
            f"SELECT {_COLUMNS} FROM clients WHERE clio_contact_id IN "
            "(SELECT clio_contact_id FROM pending)"
        )
        for entry in (ClientEntry(*row) for row in rows):
            if folder_in_place(entry):
                self._transaction(self._finish, entry.clio_contact_id)
            else:
                folder = Path(entry.answer_file).parent
                # In a shared folder another workstation may be staging this client right now:
                # only its own personal folder's leftovers are surely this home's.
                personal = folder.parent == self.path.parent / "clients"
                remove_stale_staging(
                    folder.parent, folder.name, older_than=0 if personal else STALE_AFTER
                )
                self._transaction(self._delete, entry.clio_contact_id)

    @contextmanager
    def idle(self) -> Iterator[bool]:
        """Hold this home's import lock if no import of it runs: yields True when held (then no
        import of this MAPCTL_HOME runs until the block ends), False when one runs."""
        with self._locked(wait=False) as locked:
            yield locked

    @contextmanager
    def _locked(self, *, wait: bool) -> Iterator[bool]:
        """Hold `clients.lock` (yields False when `wait` is false and another import holds it,
        or when the lock file cannot be made, e.g. a read-only MAPCTL_HOME, when not waiting)."""
        path = self.path.parent / LOCK_FILE
        try:
            fd = open_no_follow(path, os.O_RDWR | os.O_CREAT, FILE_MODE)  # a link: refused
        except OSError as error:
            if not wait:
                yield False
                return
            raise MapctlError(f"cannot lock the client ledger {path}: {error}") from error
        try:
            deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
            while True:
                if try_lock(fd):
                    break
                if not wait:
                    yield False
                    return
                if time.monotonic() >= deadline:
                    raise MapctlError(
                        f"the client ledger {self.path} is busy: another import has held "
                        f"it for {BUSY_TIMEOUT_MS // 1000} seconds",
                        hint="wait for the other import to finish, then try again",
                    ) from None
                time.sleep(0.005)
            yield True
        finally:
            os.close(fd)  # releases the lock

    def _transaction(self, step: Any, *args: Any) -> None:
        """One write transaction around `step(*args)`; committed, or rolled back on error."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error
        try:
            step(*args)
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error
        except BaseException:
            self._rollback()
            raise

    def _drop_stray_marks(self) -> None:
        """Pending marks whose row is gone (forgotten meanwhile): nothing to finish."""
        self._db.execute(
            "DELETE FROM pending WHERE clio_contact_id NOT IN (SELECT clio_contact_id FROM clients)"
        )

    def update_extra(self, contact_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Add or change fields of a finished client's entry (e.g. `{"note": {"status": "ok"}}`)
        in one transaction; returns all its extra fields. `MapctlError` when there is no such
        client."""
        import json

        if self.find_by_contact(contact_id) is None or self.is_pending(contact_id):
            raise self.not_in_ledger(contact_id)
        merged: dict[str, Any] = {}

        def write() -> None:
            merged.update(self.extra(contact_id))
            merged.update(fields)
            self._db.execute(
                "INSERT OR REPLACE INTO extra VALUES (?, ?)",
                (contact_id, json.dumps(merged, ensure_ascii=False)),
            )

        self._transaction(write)
        return merged

    def extra(self, contact_id: int) -> dict[str, Any]:
        """The fields added to a client's entry after its import ({} when none)."""
        import json

        rows = self._query("SELECT fields FROM extra WHERE clio_contact_id = ?", contact_id)
        try:
            value = json.loads(rows[0][0]) if rows else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _finish(self, contact_id: int) -> None:
        self._db.execute("DELETE FROM pending WHERE clio_contact_id = ?", (contact_id,))

    def _delete(self, contact_id: int) -> None:
        self._db.execute("DELETE FROM pending WHERE clio_contact_id = ?", (contact_id,))
        self._db.execute("DELETE FROM clients WHERE clio_contact_id = ?", (contact_id,))
        self._db.execute("DELETE FROM extra WHERE clio_contact_id = ?", (contact_id,))

    @contextmanager
    def forgetting(
        self, contact_id: int, forgotten_at: str, *, folder_deleted: bool
    ) -> Iterator[ClientEntry]:
        """Move this contact's row to `forgotten` in a write transaction committed when the block
        ends without error (any exception in it rolls the move back); yields the row.
        `MapctlError` when the ledger has no client for this contact."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error
        try:
            entry = self.find_by_contact(contact_id)
            if entry is None:
                raise self.not_in_ledger(contact_id)
            self._write(
                f"INSERT INTO forgotten ({_COLUMNS}, forgotten_at, folder_deleted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                *entry._row(),
                forgotten_at,
                int(folder_deleted),
            )
            self._write("DELETE FROM clients WHERE clio_contact_id = ?", contact_id)
            self._write("DELETE FROM extra WHERE clio_contact_id = ?", contact_id)
            yield entry
        except BaseException:
            self._rollback()
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise MapctlError(f"cannot write the client ledger {self.path}: {error}") from error

    def not_in_ledger(self, contact_id: int) -> MapctlError:
        """The error for a contact the ledger has no client for (saying when it was forgotten)."""
        earlier = [f for f in self.list_forgotten() if f.client.clio_contact_id == contact_id]
        if earlier:
            last = earlier[-1]
            return MapctlError(
                f"Clio contact {contact_id} is not in the client ledger: {last.client.name} was "
                f"forgotten on {last.forgotten_at}",
                hint="it can be imported again; `mapctl clients --forgotten` lists what was "
                "forgotten",
            )
        return MapctlError(
            f"Clio contact {contact_id} is not in the client ledger {self.path}",
            hint="`mapctl clients` lists the imported clients and their contact ids",
        )

    def list_forgotten(self) -> list[ForgottenEntry]:
        """Every forgotten client, oldest first (a contact forgotten twice is there twice)."""
        rows = self._query(
            f"SELECT {_COLUMNS}, forgotten_at, folder_deleted FROM forgotten ORDER BY id"
        )
        return [ForgottenEntry(ClientEntry(*row[:-2]), row[-2], bool(row[-1])) for row in rows]

    def was_forgotten(self, contact_id: int) -> bool:
        """Whether a client of this Clio contact was imported once and then forgotten."""
        sql = "SELECT 1 FROM forgotten WHERE clio_contact_id = ? LIMIT 1"
        return bool(self._query(sql, contact_id))

    def _write(self, sql: str, *params: Any) -> None:
        try:
            self._db.execute(sql, params)
        except sqlite3.Error as error:
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
        self._db.execute("INSERT OR REPLACE INTO pending VALUES (?)", (entry.clio_contact_id,))

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise MapctlError(f"cannot read the client ledger {self.path}: {error}") from error
