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

from bot.domain.actions import Action, ActionStatus, Amendment, AmendmentKind
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import (
    AgencyReturn,
    Agenda,
    CaseDetail,
    CaseView,
    Discussion,
    Listing,
    Meeting,
)
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
from bot.domain.pack import conference_pack
from bot.domain.referral import RECEIVED_CONFIRMED, parse_referral
from cards.action import action_card, actions_card
from cards.agenda import agenda_card
from cards.case import case_card, cases_card, meetings_card
from cards.common import message_card
from cards.directory import agencies_card
from cards.discussion import discussion_card, discussion_recorded_card
from cards.help import help_card
from cards.information_request import answered_card, closed_card, information_request_card
from cards.pack import pack_case_card, pack_summary_card
from cards.plan import plan_card
from cards.plan_agreed import plan_agreed_card
from cards.referral import referral_card
from cards.referral_recorded import already_submitted_card, referral_done_card
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
    heard_at: datetime | None = None,
    heard_meeting: date | None = None,
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
        heard_at=heard_at,
        heard_meeting_date=heard_meeting,
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


POLICE_RETURN = AgencyReturn(
    "police",
    date(2027, 1, 6),
    True,
    "Two call-outs to the address in 2026 (synthetic).",
    "The person causing harm was released on bail last week (synthetic).",
    "Pat Police",
    datetime(2027, 1, 7, 9, 30, tzinfo=UTC),
    True,
)
RETURNS = (
    POLICE_RETURN,
    AgencyReturn("idva-service", date(2027, 1, 6)),
    AgencyReturn(
        "housing",
        date(2027, 1, 6),
        False,
        None,
        None,
        "Harper Housing",
        datetime(2027, 1, 5, 14, tzinfo=UTC),
    ),
)
PEOPLE = {COORDINATOR: "Casey Coordinator (coordinator)"}
MOVED = Amendment(
    1,
    AmendmentKind.DUE_DATE,
    "2027-01-21",
    "2027-01-28",
    "The court date moved (synthetic).",
    COORDINATOR,
    datetime(2027, 1, 18, 10, tzinfo=UTC),
)


def _detail(
    coordinator: bool, state: CaseState = CaseState.DISCUSSED, closed: bool = False
) -> CaseDetail:
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
    if closed:
        transitions += (
            Transition(
                CaseState.DISCUSSED,
                CaseState.WITHDRAWN,
                COORDINATOR,
                datetime(2027, 1, 8, 11, tzinfo=UTC),
                "Does not meet the threshold (synthetic).",
            ),
        )
    return CaseDetail(
        a_case(state=state),
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
        RETURNS if coordinator else (POLICE_RETURN,),
        PEOPLE,
        (MOVED,),
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
    yield (
        "referral-confirm-received",
        lambda: referral_card(
            "token-referral",
            AGENCIES,
            today,
            referral_inputs(received_date="2026-11-02"),
            {
                RECEIVED_CONFIRMED: (
                    "The referral was received on Mon 2 Nov 2026, 63 days ago. If that date "
                    "is right, tick the box and submit again; its deadlines have passed and "
                    "are shown as missed."
                )
            },
        ),
    )
    yield (
        "referral-errors-from-the-bot",
        lambda: referral_card(
            "token-referral",
            AGENCIES,
            today,
            referral_inputs(victim_name="-", dash_score="10", incident_date="2027-02-01"),
            {
                "victim_name": "Please enter the victim's name in letters.",
                "dash_score": (
                    "Visible high risk needs a DASH score of 14 or more; choose professional "
                    "judgement and give the reason instead."
                ),
                "incident_date": "The incident date cannot be in the future.",
            },
        ),
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
    yield (
        "inforeq-case-closed",
        lambda: closed_card(
            f"{REFERENCE} is closed, so this card needs nothing more. Thank you.",
            REFERENCE,
            "Police",
        ),
    )
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
        "plan-before-conference",
        lambda: plan_card(
            REFERENCE,
            "discussed",
            [draft],
            AGENCIES,
            NAMES,
            "token-plan",
            {1: "token-remove"},
            outside_needed=True,
            conference=date(2027, 1, 14),
        ),
    )
    yield (
        "plan-outside-errors",
        lambda: plan_card(
            REFERENCE,
            "discussed",
            [draft],
            AGENCIES,
            NAMES,
            "token-plan",
            {1: "token-remove"},
            {"outside_conference": "yes", "outside_reason": ""},
            {
                "outside_reason": (
                    "Please give the reason the plan is agreed outside a conference; it is "
                    "recorded."
                )
            },
            outside_needed=True,
            conference=date(2027, 1, 14),
        ),
    )
    yield (
        "plan-agreed",
        lambda: plan_agreed_card(REFERENCE, [an_action(), LOCKS], NAMES, date(2027, 1, 14)),
    )
    yield (
        "plan-agreed-outside",
        lambda: plan_agreed_card(
            REFERENCE,
            [an_action(), LOCKS],
            NAMES,
            None,
            agreed_on=date(2027, 1, 8),
            outside_reason="Emergency meeting after a new incident (synthetic).",
            released=date(2027, 1, 14),
        ),
    )
    amended = an_action(status=ActionStatus.IN_PROGRESS, note="Booked (synthetic).")
    yield (
        "plan-amendable",
        lambda: plan_card(
            REFERENCE,
            "monitoring",
            [amended, LOCKS],
            AGENCIES,
            NAMES,
            "token-plan",
            {},
            agreeable=False,
            amend_tokens={1: "token-amend-1", 2: "token-amend-2"},
            amendments=(MOVED,),
            people=PEOPLE,
            notice="Action changed: Due date moved from Thu 21 Jan 2027 to Thu 28 Jan 2027.",
        ),
    )
    yield (
        "plan-amend-errors",
        lambda: plan_card(
            REFERENCE,
            "monitoring",
            [amended, LOCKS],
            AGENCIES,
            NAMES,
            "token-plan",
            {},
            {"due_date": "2027-01-23", "agency": "police", "reason": ""},
            {
                "due_date": "The due date must be a working day (not a weekend).",
                "reason": "Please give the reason for the change; it is recorded.",
            },
            agreeable=False,
            amend_tokens={1: "token-amend-1", 2: "token-amend-2"},
            focus=1,
        ),
    )
    yield (
        "plan-add-to-agreed-errors",
        lambda: plan_card(
            REFERENCE,
            "monitoring",
            [amended, LOCKS],
            AGENCIES,
            NAMES,
            "token-plan",
            {},
            {"agency": "probation", "description": "TBC", "due_date": "2027-02-03"},
            {"description": "Please say specifically what will be done."},
            agreeable=False,
            amend_tokens={1: "token-amend-1", 2: "token-amend-2"},
            focus="add",
        ),
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
    yield (
        "action-amended",
        lambda: action_card(
            an_action(),
            "Police",
            "token-action",
            None,
            notice=(
                "Due date moved from Thu 21 Jan 2027 to Thu 28 Jan 2027 by Casey Coordinator, "
                "Mon 18 Jan 2027 10:00: The court date moved (synthetic)."
            ),
        ),
    )
    yield (
        "action-withdrawn",
        lambda: action_card(
            an_action(status=ActionStatus.WITHDRAWN, note="No longer needed (synthetic)."),
            "Police",
            None,
            None,
            notice=(
                "Withdrawn by Casey Coordinator, Mon 18 Jan 2027 10:00: No longer needed "
                "(synthetic)."
            ),
        ),
    )
    yield (
        "action-case-closed",
        lambda: action_card(
            an_action(),
            "Police",
            None,
            None,
            notice=f"{REFERENCE} is closed, so this card needs nothing more. Thank you.",
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
                "token-pack",
            ),
            CALENDAR,
            TODAY,
        ),
    )
    pack = conference_pack(
        meeting,
        [a_case(), a_case(0, dash_score="", criteria="professional_judgement")],
        {1: RETURNS},
        {
            1: Discussion(
                True,
                ("police", "housing"),
                "Synthetic notes.",
                COORDINATOR,
                datetime(2027, 1, 7, 11, tzinfo=UTC),
            )
        },
        {1: (an_action(), LOCKS)},
        NAMES,
    )
    yield "pack-summary", lambda: pack_summary_card(pack)
    yield "pack-case", lambda: pack_case_card(pack, pack.cases[0], 1, CALENDAR, TODAY)
    yield "agenda-none", lambda: agenda_card(Agenda(None, (), (), (), TODAY), CALENDAR, TODAY)
    yield "case-coordinator", lambda: case_card(_detail(True), CALENDAR, TODAY, True)
    yield "case-contact", lambda: case_card(_detail(False), CALENDAR, TODAY, False)
    yield (
        "case-withdrawn",
        lambda: case_card(_detail(True, CaseState.WITHDRAWN, True), CALENDAR, TODAY, True),
    )
    yield (
        "case-closed-card",
        lambda: message_card(f"{REFERENCE} is closed, so this card needs nothing more. Thank you."),
    )
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
