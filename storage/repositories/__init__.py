"""SQLAlchemy implementations of the repository protocols in ``bot.ports``."""

from storage.repositories.audit import SqlAudit
from storage.repositories.cases import SqlCases
from storage.repositories.directory import SqlDirectory
from storage.repositories.meetings import SqlMeetings
from storage.repositories.tokens import SqlCardTokens

__all__ = ["SqlAudit", "SqlCardTokens", "SqlCases", "SqlDirectory", "SqlMeetings"]
