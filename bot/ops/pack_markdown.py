"""The conference pack as Markdown (`marat agenda DATE --pack --format md`): the offline copy
a chair can read if Teams is down (business continuity). Same content and order as in Teams,
nothing shortened."""

from __future__ import annotations

from datetime import date

from bot.domain.actions import STATUS_LABELS
from bot.domain.calendar import WorkingDayCalendar
from bot.domain.cases import AgencyReturn
from bot.domain.pack import ConferencePack
from bot.domain.referral import RELATIONSHIPS, criteria_text
from bot.domain.wording import day, moment, plural


def _block(value: str, indent: str = "  ") -> str:
    """Multi-line text kept inside its list item."""
    return ("\n" + indent).join(value.splitlines()) if value else ""


def _return(ret: AgencyReturn, name: str) -> list[str]:
    if not ret.answered:
        return [f"- **{name}**: awaited (due {day(ret.due)})"]
    late = " (late)" if ret.late else ""
    lines = [
        f"- **{name}**: returned {moment(ret.answered_at)} by {ret.answered_by}{late}",
        f"  - Known to the agency: {'yes' if ret.known else 'no'}",
    ]
    if ret.information:
        lines.append(f"  - Information: {_block(ret.information, '    ')}")
    lines.append(f"  - Concerns: {_block(ret.concerns, '    ') if ret.concerns else 'none given'}")
    return lines


def pack_markdown(pack: ConferencePack, calendar: WorkingDayCalendar, today: date) -> str:
    """The whole pack as one Markdown document."""
    out = [
        f"# MARAC conference pack: {day(pack.meeting.date)}",
        "",
        "Confidential: for the members of this MARAC conference only.",
        "",
        f"{plural(len(pack.cases), 'case')}, in agenda order.",
    ]
    section = None
    for number, entry in enumerate(pack.cases, 1):
        case, referral = entry.case, entry.case.referral
        if entry.section != section:
            section = entry.section
            out += ["", f"## {section}"]
        target = day(case.deadlines.conference_target) + (
            " (missed)" if case.listing.breach else ""
        )
        out += [
            "",
            f"### {number}. {case.reference}: {referral.victim_name}",
            "",
            f"- Criteria: {criteria_text(referral.criteria, referral.dash_score)}",
            f"- Repeat: {'yes' if case.is_repeat else 'no'}",
            f"- Children: {referral.children_count}",
            f"- Relationship: {RELATIONSHIPS.get(referral.relationship, referral.relationship)}",
            f"- Referred by: {pack.name(referral.referring_agency)}",
            f"- Working days since day 0: {case.working_days_since_day_zero(calendar, today)}",
            f"- Day-14 target: {target}",
            f"- Information returns: {case.returns_in}/{case.returns_due}",
            "",
            "#### Summary of risk",
            "",
            referral.summary or "No summary was given.",
            "",
            "#### Case discussion",
            "",
        ]
        discussion = entry.discussion
        if discussion is None:
            out.append("Not recorded.")
        else:
            took_part = ", ".join(pack.name(a) for a in discussion.attendees) or "no agency named"
            out.append(f"Held, with {took_part}." if discussion.held else "Not held.")
            if discussion.notes:
                out += ["", discussion.notes]
        out += ["", "#### Information returns", ""]
        for ret in entry.returns:
            out += _return(ret, pack.name(ret.agency_key))
        if not entry.returns:
            out.append("No information was requested.")
        out += ["", "#### Outstanding actions", ""]
        for a in entry.actions:
            state = STATUS_LABELS[a.status] if a.agreed else "proposed (plan not agreed)"
            out.append(
                f"- **{pack.name(a.agency_key)}**: {a.description}; due {day(a.due)}; {state}"
            )
        if not entry.actions:
            out.append("None.")
    return "\n".join(out) + "\n"
