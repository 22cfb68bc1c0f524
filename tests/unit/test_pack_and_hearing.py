"""The conference pack's read model (order and need to know) and the rule of where a plan is
agreed; pure, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.domain.cases import Listing, Meeting
from bot.domain.errors import FieldErrors
from bot.domain.hearing import Hearing, hearing, outside_reason_of
from bot.domain.pack import conference_pack
from tests.support.card_catalogue import NAMES, RETURNS, a_case, an_action

CONFERENCE = date(2027, 1, 14)
LISTED = Listing(7, CONFERENCE, date(2027, 1, 22), False)


def test_a_contact_s_pack_has_only_their_cases_and_their_own_agency_s_returns() -> None:
    with_children = a_case()
    adults = replace(a_case(0, agencies="idva-service"), id=2, reference="MARAT-2027-0002")
    meeting = Meeting(1, CONFERENCE, 18, 2)
    actions = {1: (an_action(), an_action(2, "housing", "Housing to fit locks at the address"))}
    cases = [adults, with_children]

    full = conference_pack(meeting, cases, {1: RETURNS}, {}, actions, NAMES)
    mine = conference_pack(meeting, cases, {1: RETURNS}, {}, actions, NAMES, frozenset({"police"}))

    assert [(e.case.reference, e.section) for e in full.cases] == [
        ("MARAT-2027-0001", "Cases with children"),
        ("MARAT-2027-0002", "Adult-only cases"),
    ]
    assert [r.agency_key for r in full.cases[0].returns] == ["police", "idva-service", "housing"]
    assert [e.case.reference for e in mine.cases] == ["MARAT-2027-0001"]
    assert [r.agency_key for r in mine.cases[0].returns] == ["police"]
    assert [a.agency_key for a in mine.cases[0].actions] == ["police"]


def test_on_or_after_the_conference_day_the_plan_is_agreed_at_it() -> None:
    for today in (CONFERENCE, date(2027, 1, 15)):
        assert hearing(LISTED, today, {"outside_conference": "yes"}) == Hearing(7, CONFERENCE)


def test_before_it_only_an_explicit_choice_with_a_reason_agrees_outside_a_conference() -> None:
    with pytest.raises(FieldErrors) as no_choice:
        hearing(LISTED, date(2027, 1, 8), {})
    assert set(no_choice.value.errors) == {"outside_conference"}
    with pytest.raises(FieldErrors) as no_reason:
        hearing(LISTED, date(2027, 1, 8), {"outside_conference": "yes", "outside_reason": " "})
    assert set(no_reason.value.errors) == {"outside_reason"}

    record = hearing(
        LISTED, date(2027, 1, 8), {"outside_conference": "yes", "outside_reason": "Emergency."}
    )

    assert (record.meeting_id, record.conference) == (None, None)
    assert record.transition_reason == "plan agreed outside a conference: Emergency."
    assert outside_reason_of(record.transition_reason) == "Emergency."
    assert outside_reason_of("plan agreed at the conference") is None
