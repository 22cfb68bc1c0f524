"""The MARAT directory: agencies, people and their roles, and the CSV import rules."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.domain.errors import MaratError

CSV_HEADER: Final = ("agency", "name", "email", "aad_object_id", "role")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULT_AGENCIES: Final = (
    "Police",
    "IDVA service",
    "Children's Social Care",
    "Adult Social Care",
    "Health (acute)",
    "Health (community/GP)",
    "Mental Health",
    "Housing",
    "Probation",
    "Education",
    "Substance Misuse",
)


class Role(StrEnum):
    COORDINATOR = "coordinator"
    CONTACT = "contact"


@dataclass(frozen=True)
class Agency:
    id: int
    key: str
    name: str


@dataclass(frozen=True)
class Person:
    """Someone in the directory, known by their Entra object id, never by display name."""

    aad_object_id: str
    name: str
    email: str | None
    is_coordinator: bool
    agency_keys: frozenset[str]

    @property
    def is_contact(self) -> bool:
        return bool(self.agency_keys)


@dataclass(frozen=True)
class ContactListing:
    """A person shown in the agency list; ``reachable`` = the bot has a 1:1 chat with them."""

    name: str
    reachable: bool


@dataclass(frozen=True)
class AgencyListing:
    """An active agency with its contacts, as the agency list shows it."""

    agency: Agency
    contacts: tuple[ContactListing, ...]


@dataclass(frozen=True)
class DirectoryListing:
    """The whole directory as coordinators see it: agencies with contacts, and coordinators."""

    agencies: tuple[AgencyListing, ...]
    coordinators: tuple[ContactListing, ...]


def agency_key(name: str) -> str:
    """A stable, case-insensitive key for an agency name (its card choice value)."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


@dataclass(frozen=True)
class DirectoryRow:
    line: int
    agency: str | None
    name: str
    email: str | None
    aad_object_id: str
    role: Role


class DirectoryImportError(MaratError):
    """A CSV that cannot be applied; names the first bad line so nothing is applied."""


def parse_directory_csv(text: str) -> list[DirectoryRow]:
    """Parse and check the whole file before anything is applied (all or nothing)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise DirectoryImportError("The file is empty; expected the header line.") from None
    if tuple(h.strip().lower() for h in header) != CSV_HEADER:
        raise DirectoryImportError(f"Line 1: the header must be {','.join(CSV_HEADER)}.")
    rows: list[DirectoryRow] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise DirectoryImportError(
                f"Line {line}: expected {len(CSV_HEADER)} columns, found {len(row)}."
            )
        agency, name, email, aad, role_text = (cell.strip() for cell in row)
        try:
            role = Role(role_text.lower())
        except ValueError:
            raise DirectoryImportError(
                f"Line {line}: role must be coordinator or contact."
            ) from None
        if not name:
            raise DirectoryImportError(f"Line {line}: the name is missing.")
        if not _GUID.match(aad):
            raise DirectoryImportError(
                f"Line {line}: aad_object_id must be an Entra object id (a GUID)."
            )
        if email and not _EMAIL.match(email):
            raise DirectoryImportError(f"Line {line}: the e-mail address is not valid.")
        if role is Role.CONTACT and not agency:
            raise DirectoryImportError(f"Line {line}: a contact needs an agency.")
        if agency and not agency_key(agency):
            raise DirectoryImportError(f"Line {line}: the agency name is not valid.")
        rows.append(DirectoryRow(line, agency or None, name, email or None, aad.lower(), role))
    return rows
