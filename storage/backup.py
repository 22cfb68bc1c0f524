"""``marat backup FILE``: a consistent copy of the SQLite database, taken while the bot runs.

SQLite's online backup API copies the database in one step from a read transaction: in WAL
mode the bot goes on writing meanwhile, and the copy is the database as it was at one instant
(never half a transaction). The copy is checked (``PRAGMA integrity_check``) and only then
moved into place. PostgreSQL is backed up with its own tools (README: Operating).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.db import sqlite_file


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupMade:
    source: Path
    target: Path
    size_bytes: int


def backup_sqlite(database_url: str, target: Path) -> BackupMade:
    source = sqlite_file(database_url)
    if source is None:
        raise BackupError(
            "marat backup copies a SQLite database. For PostgreSQL use pg_dump, or continuous "
            "archiving for point-in-time recovery (see the README, Operating)."
        )
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    target = target.resolve()
    if target == source:
        raise BackupError("The backup must go to another file than the database itself.")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file (nothing was changed).")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            _closing(sqlite3.connect(source, timeout=10)) as reader,
            _closing(sqlite3.connect(partial)) as copy,
        ):
            # One step (pages=-1): a single read transaction, so writers never restart it.
            reader.backup(copy, pages=-1)
            # A plain file: the copy does not need the -wal and -shm files beside it.
            copy.execute("PRAGMA journal_mode = DELETE")
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupError("The copy failed its integrity check; nothing was kept.")
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"The backup failed: {error}.") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupMade(source, target, target.stat().st_size)


class _closing:
    """sqlite3 connections used as context managers commit but do not close."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()
