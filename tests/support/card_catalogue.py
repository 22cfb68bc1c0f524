"""Every card the bot can send, built from the real builders with fixed synthetic data.

The catalogue is the source of the golden files in ``tests/golden/cards/`` (reviewed like code:
a change to a card shows up as a diff of its JSON) and of every test that checks all cards.
Regenerate the golden files after an intended change with:

    .venv/bin/python -m tests.support.card_catalogue --write
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.domain.actions import Action, ActionStatus
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import Agenda, CaseDetail, CaseView, Discussion, Listing, Meeting
from bot.domain.deadlines import CaseDeadlines
from bot.domain.directory import (
    DEFAULT_AGENCIES,
    Agency,
    AgencyListing,
    ContactListing,
    DirectoryListing,
    Person,
    agency_key,
)
from bot.domain.figure_records import Period
from bot.domain.figure_tallies import FigureFacts
from bot.domain.figures import compute_figures
from bot.domain.identities import SerialPerpetrator
from bot.domain.lifecycle import CaseState, Transition
from bot.domain.referral import parse_referral
from cards.action import action_card, actions_card
from cards.agenda import agenda_card
from cards.case import case_card, cases_card, meetings_card
from cards.common import message_card
from cards.directory import agencies_card
from cards.discussion import discussion_card, discussion_recorded_card
from cards.help import help_card
from cards.information_request import answered_card, closed_card, information_request_card
from cards.plan import plan_agreed_card, plan_card
from cards.referral import already_submitted_card, referral_card, referral_done_card
from cards.report import report_card
from tests.support import figure_world
from tests.support.builders import COORDINATOR, POLICE_CONTACT, referral_inputs

Card = dict[str, Any]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "cards"
AGENCIES = [Agency(i, agency_key(name), name) for i, name in enumerate(DEFAULT_AGENCIES, 1)]
NAMES = {a.key: a.name for a in AGENCIES}
CALENDAR = WorkingDayCalendar("ENG")
TODAY = date(2027, 1, 4)
REFERENCE = "MARAT-2027-0001"
AT = datetime(2027, 1, 4, 10, tzinfo=UTC)


def a_case(
    children: int = 2,
    breach: bool = False,
    meeting: date | None = date(2027, 1, 14),
    state: CaseState = CaseState.REFERRED,
    **inputs: str,
) -> CaseView:
    """The default synthetic referral (Jane Testcase), as a case listed at a conference."""
    referral = parse_referral(
        referral_inputs(children_count=str(children), **inputs), TODAY, [a.key for a in AGENCIES]
    )
    deadlines = CaseDeadlines(
        TODAY, TODAY, date(2027, 1, 6), date(2027, 1, 7), date(2027, 1, 8), date(2027, 1, 22)
    )
    return CaseView(
        1,
        REFERENCE,
        state,
        referral,
        deadlines,
        Listing(1 if meeting else None, meeting, date(2027, 1, 22), breach),
        referral.agencies,
        1,
        3,
        AT,
        COORDINATOR,
    )


def an_action(
    number: int = 1,
    agency: str = "police",
    description: str = "Police to serve the non-molestation order on the person causing harm",
    status: ActionStatus = ActionStatus.OPEN,
    agreed: bool = True,
    note: str | None = None,
    perpetrator_focused: bool = True,
) -> Action:
    updated = datetime(2027, 1, 15, 9, 30, tzinfo=UTC) if status is not ActionStatus.OPEN else None
    return Action(
        number,
        1,
        REFERENCE,
        agency,
        description,
        date(2027, 1, 21),
        perpetrator_focused,
        status,
        note,
        POLICE_CONTACT if updated else None,
        updated,
        agreed,
    )


LOCKS = an_action(
    2,
    "housing",
    "Housing to fit additional locks at the victim's address",
    perpetrator_focused=False,
)


def _detail(coordinator: bool) -> CaseDetail:
    transitions = (
        Transition(None, CaseState.REFERRED, COORDINATOR, AT),
        Transition(
            CaseState.REFERRED,
            CaseState.DISCUSSED,
            COORDINATOR,
            datetime(2027, 1, 7, 11, tzinfo=UTC),
            "case discussion held",
        ),
    )
    return CaseDetail(
        a_case(state=CaseState.DISCUSSED),
        transitions,
        NAMES,
        frozenset({"police"}),
        frozenset({"police"}),
        (("Harper Housing", "could not be reached"),) if coordinator else (),
        None if coordinator else frozenset({"police"}),
        Discussion(
            True,
            ("police", "housing"),
            "Synthetic notes.",
            COORDINATOR,
            datetime(2027, 1, 7, 11, tzinfo=UTC),
        ),
        None,
        (an_action(status=ActionStatus.IN_PROGRESS, note="Order served (synthetic)."), LOCKS),
        {POLICE_CONTACT: "Pat Police"},
    )


def _cards() -> Iterator[tuple[str, Callable[[], Card]]]:
    today = TODAY.isoformat()
    meeting = Meeting(1, date(2027, 1, 14), 18, 2)
    yield "referral", lambda: referral_card("token-referral", AGENCIES, today)
    yield (
        "referral-errors",
        lambda: referral_card(
            "token-referral",
            AGENCIES,
            today,
            referral_inputs(victim_name="", dash_score="30"),
            {
                "victim_name": "Please enter the victim's name.",
                "dash_score": "The DASH score is a whole number from 0 to 24.",
            },
        ),
    )
    yield (
        "referral-failed",
        lambda: referral_card(
            "token-referral",
            AGENCIES,
            today,
            referral_inputs(),
            {"_form": "Sorry, something went wrong and the referral was not saved."},
        ),
    )
    yield "referral-recorded", lambda: referral_done_card(a_case(), CALENDAR)
    yield (
        "referral-recorded-breach",
        lambda: referral_done_card(a_case(breach=True, meeting=None), CALENDAR),
    )
    yield (
        "referral-recorded-weekend",
        lambda: referral_done_card(a_case(received_date="2027-01-02"), CALENDAR),
    )
    yield "referral-already-recorded", lambda: already_submitted_card(REFERENCE)
    due = date(2027, 1, 6)
    yield "inforeq", lambda: information_request_card("token-inforeq", a_case(), "Police", due)
    yield (
        "inforeq-errors",
        lambda: information_request_card(
            "token-inforeq",
            a_case(),
            "Police",
            due,
            {"known": "yes", "information": ""},
            {"information": "Please give the information your agency holds."},
        ),
    )
    yield (
        "inforeq-answered",
        lambda: answered_card(REFERENCE, "Police", "Pat Police", AT, late=False, mine=True),
    )
    yield (
        "inforeq-answered-by-colleague",
        lambda: answered_card(REFERENCE, "Police", "Pat Police", AT, late=True, mine=False),
    )
    yield "inforeq-closed", lambda: closed_card("This information request is closed.")
    agencies = {"police": "Police", "housing": "Housing"}
    yield (
        "discussion",
        lambda: discussion_card("token-discussion", REFERENCE, date(2027, 1, 7), agencies),
    )
    yield (
        "discussion-errors",
        lambda: discussion_card(
            "token-discussion",
            REFERENCE,
            date(2027, 1, 7),
            agencies,
            {"held": "", "notes": "Synthetic notes."},
            {"held": "Please say whether the case discussion was held."},
        ),
    )
    yield (
        "discussion-recorded",
        lambda: discussion_recorded_card(REFERENCE, True, ["Police", "Housing"]),
    )
    yield "discussion-recorded-not-held", lambda: discussion_recorded_card(REFERENCE, False, [])
    draft = an_action(agreed=False)
    yield (
        "plan-empty",
        lambda: plan_card(REFERENCE, "discussed", [], AGENCIES, NAMES, "token-plan", {}),
    )
    yield (
        "plan-draft",
        lambda: plan_card(
            REFERENCE, "discussed", [draft], AGENCIES, NAMES, "token-plan", {1: "token-remove"}
        ),
    )
    yield (
        "plan-errors",
        lambda: plan_card(
            REFERENCE,
            "discussed",
            [draft],
            AGENCIES,
            NAMES,
            "token-plan",
            {1: "token-remove"},
            {"agency": "housing", "description": "monitor", "due_date": "2027-01-01"},
            {
                "description": "Please say specifically what will be done.",
                "due_date": "The due date must be in the future.",
            },
        ),
    )
    yield (
        "plan-confirm",
        lambda: plan_card(
            REFERENCE,
            "discussed",
            [an_action(agreed=False, perpetrator_focused=False)],
            AGENCIES,
            NAMES,
            "token-plan",
            {1: "token-remove"},
            notice="Please confirm: no action addresses the person causing harm.",
            confirm_without_perpetrator_action=True,
        ),
    )
    yield (
        "plan-agreed",
        lambda: plan_agreed_card(REFERENCE, [an_action(), LOCKS], NAMES, date(2027, 1, 14)),
    )
    yield "action", lambda: action_card(an_action(), "Police", "token-action", None)
    yield (
        "action-errors",
        lambda: action_card(
            an_action(),
            "Police",
            "token-action",
            None,
            {"status": "done", "note": ""},
            {"note": "Please add a note: what was done, or why it is not possible."},
        ),
    )
    yield (
        "action-updated",
        lambda: action_card(
            an_action(status=ActionStatus.IN_PROGRESS, note="Booked (synthetic)."),
            "Police",
            "token-action",
            "Pat Police",
        ),
    )
    yield (
        "action-closed",
        lambda: action_card(
            an_action(status=ActionStatus.DONE, note="Served (synthetic)."),
            "Police",
            None,
            "Pat Police",
        ),
    )
    yield "actions", lambda: actions_card("Open actions", [an_action(), LOCKS], NAMES, TODAY)
    yield "actions-empty", lambda: actions_card("Overdue actions", [], NAMES, TODAY)
    yield (
        "agenda",
        lambda: agenda_card(
            Agenda(
                meeting,
                (a_case(),),
                (a_case(0),),
                (a_case(),),
                TODAY,
                (an_action(),),
                (),
                {1: 1},
            ),
            CALENDAR,
            TODAY,
        ),
    )
    yield "agenda-none", lambda: agenda_card(Agenda(None, (), (), (), TODAY), CALENDAR, TODAY)
    yield "case-coordinator", lambda: case_card(_detail(True), CALENDAR, TODAY, True)
    yield "case-contact", lambda: case_card(_detail(False), CALENDAR, TODAY, False)
    yield (
        "case-coordinator-serial-perpetrator",
        lambda: case_card(
            replace(
                _detail(True),
                serial_perpetrator=SerialPerpetrator(2, ("MARAT-2026-0007", "MARAT-2026-0031")),
            ),
            CALENDAR,
            TODAY,
            True,
        ),
    )
    yield (
        "report",
        lambda: report_card(
            compute_figures(
                figure_world.FACTS,
                figure_world.Q1,
                figure_world.AS_OF,
                CALENDAR,
                adult_female_population=75_000,
            )
        ),
    )
    yield (
        "report-empty",
        lambda: report_card(
            compute_figures(
                FigureFacts(agency_names=figure_world.AGENCIES),
                Period(date(2027, 1, 1), date(2027, 3, 31)),
                date(2027, 4, 12),
                CALENDAR,
            )
        ),
    )
    yield "cases", lambda: cases_card([a_case(), a_case(breach=True)], TODAY)
    yield "cases-empty", lambda: cases_card([], TODAY)
    yield "meetings", lambda: meetings_card([meeting])
    coordinator = Person(COORDINATOR, "Casey Coordinator", None, True, frozenset({"police"}))
    contact = Person(POLICE_CONTACT, "Pat Police", None, False, frozenset({"police"}))
    yield "help-coordinator", lambda: help_card(coordinator, NAMES)
    yield (
        "help-contact",
        lambda: help_card(contact, NAMES, "I did not recognise that. Here is what you can do."),
    )
    yield (
        "directory",
        lambda: agencies_card(
            DirectoryListing(
                (
                    AgencyListing(AGENCIES[0], (ContactListing("Pat Police", True),)),
                    AgencyListing(AGENCIES[7], (ContactListing("Harper Housing", False),)),
                    AgencyListing(AGENCIES[8], ()),
                ),
                (ContactListing("Casey Coordinator", True),),
            )
        ),
    )
    yield "refusal", lambda: message_card("This action belongs to another agency.")
    yield (
        "error",
        lambda: message_card(
            "Sorry, something went wrong on my side. If it happens again, quote reference 0a1b2c3d."
        ),
    )


def catalogue() -> dict[str, Card]:
    """Every card by its golden-file name."""
    return {name: build() for name, build in _cards()}


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json"


def serialise(card: Card) -> str:
    return json.dumps(card, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the golden card files.")
    parser.add_argument("--write", action="store_true", help="(re)write tests/golden/cards/")
    args = parser.parse_args()
    cards = catalogue()
    if not args.write:
        print("\n".join(sorted(cards)))
        return
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for stale in GOLDEN.glob("*.json"):
        if stale.stem not in cards:
            stale.unlink()
    for name, card in cards.items():
        golden_path(name).write_text(serialise(card), encoding="utf-8")
    print(f"wrote {len(cards)} golden cards to {GOLDEN}")


if __name__ == "__main__":
    main()
