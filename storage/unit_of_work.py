"""One transaction per use case, with every repository on the same session.

A database that cannot be reached (refused, dropped, timed out, locked) surfaces as
``DatabaseUnavailable`` from the block or from ``commit``: the caller tells the user to try
again in a moment instead of reporting a bug.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ports import DatabaseUnavailable
from storage.repositories import SqlAudit, SqlCardTokens, SqlCases, SqlDirectory, SqlMeetings
from storage.repositories.actions import SqlActions
from storage.repositories.addresses import SqlAddressBook
from storage.repositories.figures import SqlFigures
from storage.repositories.inbound import SqlInboundActivities
from storage.repositories.outbox import SqlOutbox
from storage.repositories.reminders import SqlReminders

# SQLite's own words for "busy or gone", as opposed to a bug such as "no such table".
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o error")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (so retrying may help)."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, OSError | TimeoutError | sa_exc.TimeoutError):
        return True  # refused, reset, unreachable; connect or pool timeout
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.InterfaceError):
            return True
        if isinstance(error, sa_exc.OperationalError):
            if "sqlite" not in type(error.orig).__module__:
                return True  # PostgreSQL's operational errors are the connection's
            return any(words in str(error.orig).lower() for words in _SQLITE_UNAVAILABLE)
    cause = error.__cause__
    return cause is not None and cause is not error and is_unavailable(cause)


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        self.directory = SqlDirectory(self.session)
        self.meetings = SqlMeetings(self.session)
        self.cases = SqlCases(self.session)
        self.audit = SqlAudit(self.session)
        self.tokens = SqlCardTokens(self.session)
        self.addresses = SqlAddressBook(self.session)
        self.outbox = SqlOutbox(self.session)
        self.actions = SqlActions(self.session)
        self.reminders = SqlReminders(self.session)
        self.inbound = SqlInboundActivities(self.session)
        self.figures = SqlFigures(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Anything not committed explicitly is rolled back: a failed use case leaves no trace.
        try:
            await self.session.rollback()
            await self.session.close()
        except Exception as error:
            if not is_unavailable(error):
                raise
            # The connection is gone, and with it the transaction: nothing to undo.
            with contextlib.suppress(Exception):
                await self.session.invalidate()
            if exc is None:
                raise DatabaseUnavailable() from error
        if exc is not None and not isinstance(exc, DatabaseUnavailable) and is_unavailable(exc):
            raise DatabaseUnavailable() from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except Exception as error:
            if is_unavailable(error):
                raise DatabaseUnavailable() from error
            raise


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
