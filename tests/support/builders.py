"""Builders for synthetic test data: fictional people, valid referral inputs, directories."""

from __future__ import annotations

from typing import Any

from bot.domain.directory import DEFAULT_AGENCIES, DirectoryRow, Role
from dialogs.base import Dependencies

COORDINATOR = "11111111-1111-4111-8111-111111111111"
POLICE_CONTACT = "22222222-2222-4222-8222-222222222222"
HOUSING_CONTACT = "33333333-3333-4333-8333-333333333333"
STRANGER = "99999999-9999-4999-8999-999999999999"


def directory_rows() -> list[DirectoryRow]:
    rows = [
        DirectoryRow(
            1, None, "Casey Coordinator", "casey@example.org", COORDINATOR, Role.COORDINATOR
        )
    ]
    rows += [
        DirectoryRow(2, "Police", "Pat Police", None, POLICE_CONTACT, Role.CONTACT),
        DirectoryRow(3, "Housing", "Harper Housing", None, HOUSING_CONTACT, Role.CONTACT),
    ]
    rows += [
        DirectoryRow(10 + i, name, "Casey Coordinator", None, COORDINATOR, Role.CONTACT)
        for i, name in enumerate(DEFAULT_AGENCIES)
    ]
    return rows


async def seed_directory(deps: Dependencies) -> None:
    await deps.directory.import_directory(directory_rows())


def referral_inputs(**overrides: Any) -> dict[str, Any]:
    """A valid referral as the card submits it (strings, like Teams sends)."""
    values: dict[str, Any] = {
        "victim_name": "Jane Testcase",
        "victim_dob": "1990-05-17",
        "victim_gender": "female",
        "victim_ethnicity": "white_british",
        "victim_disability": "no",
        "victim_lgbt": "no",
        "perpetrator_name": "John Fictional",
        "perpetrator_dob": "1988-02-01",
        "relationship": "ex_partner",
        "children_count": "2",
        "referring_agency": "police",
        "criteria": "visible_high_risk",
        "dash_score": "16",
        "incident_date": "2026-12-30",
        "received_date": "2027-01-04",
        "agencies": "police,idva-service,housing",
        "summary": "Synthetic test summary.",
        "consent": "yes",
        "consent_reason": "",
    }
    values.update(overrides)
    return values
