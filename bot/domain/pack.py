"""The conference pack: what a chair reads before a MARAC conference, per listed case in the
agenda's order — the referral summary, the agencies' returns, the case discussion and the
outstanding actions.

It is a read model only (no rule writes through it), shared by `/agenda DATE pack`,
`marat agenda DATE --pack` and, later, the conference mode. Need to know is applied here:
a pack built for an agency contact carries only that agency's returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.actions import Action
from bot.domain.cases import AgencyReturn, CaseView, Discussion, Meeting, agenda_order

SECTIONS = ("Cases with children", "Adult-only cases", "12 months since the last MARAC")


@dataclass(frozen=True)
class PackCase:
    """One listed case as the pack shows it."""

    case: CaseView
    section: str
    returns: tuple[AgencyReturn, ...]
    discussion: Discussion | None
    actions: tuple[Action, ...]  # not done yet: agreed and open, or proposed (draft)


@dataclass(frozen=True)
class ConferencePack:
    """A conference's pack; ``viewer_agencies`` None is the coordinator's (full) pack."""

    meeting: Meeting
    cases: tuple[PackCase, ...]
    agency_names: Mapping[str, str]
    viewer_agencies: frozenset[str] | None = None

    def name(self, agency_key: str) -> str:
        """An agency's display name (its key if it is unknown)."""
        return self.agency_names.get(agency_key, agency_key)


def conference_pack(
    meeting: Meeting,
    cases: Sequence[CaseView],
    returns: Mapping[int, Sequence[AgencyReturn]],
    discussions: Mapping[int, Discussion | None],
    actions: Mapping[int, Sequence[Action]],
    agency_names: Mapping[str, str],
    viewer_agencies: frozenset[str] | None = None,
) -> ConferencePack:
    """The pack in the SafeLives order of the agenda (children first, adult-only, back after
    12 months), each case with what is still to do; a contact's pack keeps only their cases and
    their own agencies' returns and actions."""
    visible = [
        c for c in cases if viewer_agencies is None or set(c.agencies) & set(viewer_agencies)
    ]

    def mine(agency_key: str) -> bool:
        return viewer_agencies is None or agency_key in viewer_agencies

    entries: list[PackCase] = []
    for section, group in zip(SECTIONS, agenda_order(visible), strict=True):
        for case in group:
            entries.append(
                PackCase(
                    case,
                    section,
                    tuple(r for r in returns.get(case.id, ()) if mine(r.agency_key)),
                    discussions.get(case.id),
                    tuple(
                        a
                        for a in actions.get(case.id, ())
                        if not a.status.is_closed and mine(a.agency_key)
                    ),
                )
            )
    return ConferencePack(meeting, tuple(entries), dict(agency_names), viewer_agencies)
