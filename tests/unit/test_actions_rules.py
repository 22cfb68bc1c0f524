"""The SMART checks on a safety-plan action, and the agencies' action updates (PRODUCT.md 4).

An action must name an agency from the directory, say specifically what will be done, and be
timed on a future working day; whether it addresses the person causing harm must be answered.
Each problem is reported under its own field, all at once. An update needs a note unless the
action is simply in progress. Dates sit around Monday 4 January 2027 (England's calendar).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.actions import (
    Action,
    ActionDraft,
    ActionStatus,
    ActionUpdate,
    parse_action,
    parse_update,
)
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.errors import FieldErrors

TODAY = date(2027, 1, 4)  # a Monday
AGENCIES = ("police", "housing", "idva-service", "probation")
GOOD: dict[str, Any] = {
    "agency": "housing",
    "description": "Housing to fit additional locks at the victim's address",
    "due_date": "2027-01-20",
    "perpetrator_focused": "no",
}
CALENDAR = WorkingDayCalendar("ENG")

AGENCY_ERROR = "Please choose the agency that will do this, from the directory."
VAGUE_ERROR = (
    "Please say specifically what will be done, by whom and how (at least 4 words), e.g. "
    "'Housing to fit additional locks at the victim's address'."
)
FOCUS_ERROR = "Please say whether this action addresses the person causing harm."


def check(**changes: Any) -> ActionDraft:
    return parse_action({**GOOD, **changes}, AGENCIES, TODAY, CALENDAR)


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(FieldErrors) as caught:
        check(**changes)
    return dict(caught.value.errors)


# -- a good action ----------------------------------------------------------------------------


def test_a_specific_timed_action_of_a_directory_agency_is_accepted() -> None:
    assert check() == ActionDraft(
        "housing",
        "Housing to fit additional locks at the victim's address",
        date(2027, 1, 20),
        False,
    )


def test_perpetrator_focused_yes_is_recorded_as_such() -> None:
    assert check(perpetrator_focused="yes").perpetrator_focused is True


def test_extra_spaces_and_line_breaks_in_the_description_are_tidied() -> None:
    draft = check(description="  Police to   serve\nthe  non-molestation order  ")
    assert draft.description == "Police to serve the non-molestation order"


def test_every_problem_is_reported_at_once_each_under_its_field() -> None:
    assert errors_of(agency="", description="", due_date="", perpetrator_focused="") == {
        "agency": AGENCY_ERROR,
        "description": "Please say what will be done.",
        "due_date": "Please give a due date: actions must be timed.",
        "perpetrator_focused": FOCUS_ERROR,
    }


def test_missing_keys_are_treated_like_empty_fields() -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_action({}, AGENCIES, TODAY, CALENDAR)
    assert set(caught.value.errors) == {"agency", "description", "due_date", "perpetrator_focused"}


# -- the agency -------------------------------------------------------------------------------


@pytest.mark.parametrize("agency", ["", "   ", "made-up-agency", "Police", "POLICE"])
def test_the_agency_must_be_one_of_the_directory_s_keys(agency: str) -> None:
    assert errors_of(agency=agency) == {"agency": AGENCY_ERROR}


def test_spaces_around_the_agency_key_are_forgiven() -> None:
    assert check(agency=" police ").agency_key == "police"


def test_an_agency_that_is_not_in_the_directory_list_given_is_refused() -> None:
    """The caller passes the directory's current agencies (removed ones are left out)."""
    with pytest.raises(FieldErrors) as caught:
        parse_action({**GOOD, "agency": "education"}, AGENCIES, TODAY, CALENDAR)
    assert caught.value.errors == {"agency": AGENCY_ERROR}


# -- the description --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        "TBC",
        "tba",
        "To be confirmed",
        "N/A",
        "none",
        "Ongoing.",
        "As discussed",
        "see notes",
        "Monitor",
        "continue",
        "Noted",
        "agreed",
        "Follow up",
        "SUPPORT",
    ],
)
def test_vague_descriptions_are_refused_with_an_example(description: str) -> None:
    assert errors_of(description=description) == {"description": VAGUE_ERROR}


@pytest.mark.parametrize(
    "description", ["Fit locks", "Police visit victim", "a b c", "!!! ??? ..."]
)
def test_descriptions_of_fewer_than_four_words_are_too_short(description: str) -> None:
    assert errors_of(description=description) == {"description": VAGUE_ERROR}


def test_four_words_are_enough() -> None:
    assert check(description="Police visit victim weekly").description == (
        "Police visit victim weekly"
    )


@pytest.mark.parametrize("description", ["   ", "\n\t"])
def test_a_blank_description_asks_what_will_be_done(description: str) -> None:
    assert errors_of(description=description) == {"description": "Please say what will be done."}


def test_a_description_longer_than_1000_characters_is_refused() -> None:
    long = "Housing to fit locks " + "x" * 1000
    assert errors_of(description=long) == {"description": "Please use at most 1000 characters."}
    assert check(description="Housing fits locks " + "x" * 981).description.endswith("x")


# -- the due date -----------------------------------------------------------------------------


@pytest.mark.parametrize("due", ["2027-01-03", "2026-12-31", "2020-01-06"])
def test_a_due_date_in_the_past_is_refused(due: str) -> None:
    assert errors_of(due_date=due) == {"due_date": "The due date must be in the future."}


def test_today_is_not_a_future_due_date() -> None:
    assert errors_of(due_date=TODAY.isoformat()) == {
        "due_date": "The due date must be in the future."
    }


def test_tomorrow_is_the_earliest_due_date() -> None:
    assert check(due_date="2027-01-05").due == date(2027, 1, 5)


@pytest.mark.parametrize("due", ["2027-01-09", "2027-01-10"])
def test_a_weekend_due_date_is_refused(due: str) -> None:
    assert errors_of(due_date=due) == {
        "due_date": "The due date must be a working day (not a weekend)."
    }


@pytest.mark.parametrize(
    ("due", "holiday"),
    [
        ("2027-03-26", "Good Friday"),
        ("2027-03-29", "Easter Monday"),
        ("2027-05-03", "May Day"),
        ("2027-08-30", "Late Summer Bank Holiday"),
        ("2027-12-27", "Christmas Day (observed)"),
    ],
)
def test_a_bank_holiday_due_date_is_refused_naming_the_holiday(due: str, holiday: str) -> None:
    message = errors_of(due_date=due)["due_date"]
    assert message.startswith("The due date must be a working day (")
    assert f" is {holiday})." in message


def test_a_one_off_local_holiday_is_refused_too() -> None:
    calendar = WorkingDayCalendar("ENG", extra_holidays=[date(2027, 1, 20)])
    with pytest.raises(FieldErrors) as caught:
        parse_action(GOOD, AGENCIES, TODAY, calendar)
    assert caught.value.errors == {
        "due_date": "The due date must be a working day (Wed 20 Jan 2027 is Local holiday)."
    }


@pytest.mark.parametrize("due", ["20/01/2027", "2027-13-01", "2027-02-30", "next week", "20 Jan"])
def test_a_due_date_that_is_not_a_date_asks_for_yyyy_mm_dd(due: str) -> None:
    assert errors_of(due_date=due) == {"due_date": "Please enter a date as YYYY-MM-DD."}


def test_a_due_date_more_than_a_year_ahead_is_refused() -> None:
    assert errors_of(due_date="2028-01-06") == {"due_date": "The due date must be within a year."}
    assert check(due_date="2027-12-31").due == date(2027, 12, 31)


# -- perpetrator-focused ------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["", "maybe", "true", "1"])
def test_perpetrator_focused_must_be_answered_yes_or_no(answer: str) -> None:
    assert errors_of(perpetrator_focused=answer) == {"perpetrator_focused": FOCUS_ERROR}


def test_perpetrator_focused_missing_from_the_payload_is_reported() -> None:
    raw = {k: v for k, v in GOOD.items() if k != "perpetrator_focused"}
    with pytest.raises(FieldErrors) as caught:
        parse_action(raw, AGENCIES, TODAY, CALENDAR)
    assert caught.value.errors == {"perpetrator_focused": FOCUS_ERROR}


# -- updates by the agencies ---------------------------------------------------------------------


def test_in_progress_needs_no_note() -> None:
    assert parse_update({"status": "in_progress"}) == ActionUpdate(ActionStatus.IN_PROGRESS, None)
    assert parse_update({"status": "in_progress", "note": "  "}) == ActionUpdate(
        ActionStatus.IN_PROGRESS, None
    )


@pytest.mark.parametrize("status", ["done", "not_possible"])
@pytest.mark.parametrize("note", [None, "", "   \n "])
def test_done_and_not_possible_need_a_note(status: str, note: str | None) -> None:
    raw: dict[str, object] = {"status": status}
    if note is not None:
        raw["note"] = note
    with pytest.raises(FieldErrors) as caught:
        parse_update(raw)
    assert caught.value.errors == {
        "note": "Please add a note: what was done, or why it is not possible."
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [("done", ActionStatus.DONE), ("not_possible", ActionStatus.NOT_POSSIBLE)],
)
def test_done_and_not_possible_with_a_note_are_accepted(
    status: str, expected: ActionStatus
) -> None:
    update = parse_update({"status": status, "note": "  Locks fitted\non 12 Jan (synthetic). "})
    assert update == ActionUpdate(expected, "Locks fitted on 12 Jan (synthetic).")


def test_an_in_progress_note_is_kept() -> None:
    assert parse_update({"status": "in_progress", "note": "Visit booked"}).note == "Visit booked"


@pytest.mark.parametrize("status", ["", "open", "finished", "DONE"])
def test_the_status_must_be_one_of_the_three_choices(status: str) -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_update({"status": status, "note": ""})
    # Only the status is reported: the note cannot be judged without it.
    assert caught.value.errors == {"status": "Please choose in progress, done or not possible."}


def test_an_over_long_note_is_refused() -> None:
    with pytest.raises(FieldErrors) as caught:
        parse_update({"status": "done", "note": "y" * 1001})
    assert caught.value.errors == {"note": "Please use at most 1000 characters."}


# -- what counts as open and overdue ----------------------------------------------------------


def action(status: ActionStatus, due: date, agreed: bool = True) -> Action:
    return Action(
        1,
        1,
        "MARAT-2027-0001",
        "police",
        "Police to serve the order on the person causing harm",
        due,
        True,
        status,
        None,
        None,
        datetime(2027, 1, 4, 10, tzinfo=UTC),
        agreed,
    )


def test_an_agreed_open_action_is_overdue_only_after_its_due_date() -> None:
    due = date(2027, 1, 20)
    assert not action(ActionStatus.OPEN, due).is_overdue(date(2027, 1, 20))
    assert action(ActionStatus.OPEN, due).is_overdue(date(2027, 1, 21))
    assert action(ActionStatus.IN_PROGRESS, due).is_overdue(date(2027, 1, 21))


def test_closed_or_unagreed_actions_are_never_overdue() -> None:
    late = date(2027, 2, 1)
    due = date(2027, 1, 20)
    assert not action(ActionStatus.DONE, due).is_overdue(late)
    assert not action(ActionStatus.NOT_POSSIBLE, due).is_overdue(late)
    assert not action(ActionStatus.OPEN, due, agreed=False).is_overdue(late)
    assert ActionStatus.DONE.is_closed and ActionStatus.NOT_POSSIBLE.is_closed
    assert not ActionStatus.OPEN.is_closed and not ActionStatus.IN_PROGRESS.is_closed
