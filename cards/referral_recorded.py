"""The cards that replace a submitted referral card: the case and its working-day dates (for
the first click and any later one), and the answer to an old card whose case is unknown."""

from __future__ import annotations

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import CaseView
from bot.domain.clock import LONDON
from bot.domain.wording import plural
from cards.common import Card, Element, day, envelope, facts, heading, text


def referral_done_card(case: CaseView, calendar: WorkingDayCalendar) -> Card:
    """Replaces the form: the case reference and its working-day dates."""
    d = case.deadlines
    listing = case.listing
    body: list[Element] = [
        heading(f"Referral recorded: {case.reference}"),
        facts(
            [
                ("Victim", case.referral.victim_initials),
                (
                    "Repeat",
                    f"yes, of {case.repeat_of}"
                    if case.repeat_of
                    else ("yes" if case.is_repeat else "no"),
                ),
                ("Day 0", day(d.day_zero)),
                ("Information due", day(d.information_due)),
                ("Case discussion (day 3)", day(d.discussion)),
                (
                    "Conference",
                    day(listing.meeting_date) if listing.meeting_date else "none with capacity yet",
                ),
                ("Day-14 target", day(d.conference_target)),
            ]
        ),
    ]
    if d.day_zero != d.received:
        reason = calendar.holiday_name(d.received) or "a weekend"
        body.append(
            text(
                f"Received on {day(d.received)} ({reason}); day 0 is the next working day.",
                subtle=True,
            )
        )
    if listing.breach:
        if (
            listing.meeting_date is None
            and d.conference_target < case.created_at.astimezone(LONDON).date()
        ):
            body.append(
                text(
                    f"The day-14 target, {day(d.conference_target)}, had passed before the "
                    "referral was recorded, and no conference has a free place yet: add one "
                    "with meeting add YYYY-MM-DD.",
                    attention=True,
                )
            )
        elif listing.meeting_date is None:
            body.append(
                text(
                    f"No conference with capacity exists yet. The target of "
                    f"{day(d.conference_target)} will be missed unless one is added "
                    "(meeting add).",
                    attention=True,
                )
            )
        else:
            body.append(
                text(
                    f"No conference with capacity on or before {day(d.conference_target)}: "
                    f"the day-14 target is missed. Listed at the earliest possible "
                    f"conference, {day(listing.meeting_date)}.",
                    attention=True,
                )
            )
    body.append(
        text(
            "Information requests are open for "
            f"{plural(len(case.agencies), 'agency', 'agencies')}.",
            subtle=True,
        )
    )
    return envelope(body, fallback_text="A MARAT referral was recorded.")


def already_submitted_card(reference: str | None) -> Card:
    """The answer to a second click of a referral card: the case it created."""
    message = (
        f"This referral was already submitted as {reference}."
        if reference
        else "This referral was already submitted."
    )
    return envelope(
        [heading("Referral already recorded"), text(message)],
        fallback_text="A MARAT referral was recorded.",
    )
