"""One transaction per use case, with every repository on the same session."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import SqlAudit, SqlCardTokens, SqlCases, SqlDirectory, SqlMeetings
from storage.repositories.actions import SqlActions
from storage.repositories.addresses import SqlAddressBook
from storage.repositories.figures import SqlFigures
from storage.repositories.outbox import SqlOutbox
from storage.repositories.reminders import SqlReminders


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
        self.figures = SqlFigures(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Anything not committed explicitly is rolled back: a failed use case leaves no trace.
        await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)
