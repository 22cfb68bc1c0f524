"""How an agency's information return reads in a card (`/case` and the conference pack): known
or not, what it holds, current concerns, who answered and when, late answers marked.

A Teams message holds about 100 KB (UTF-16); with every agency answering at the maximum length
a case card would not fit, so when a card's returns are longer than ``TEXT_BUDGET`` characters
each long text is shortened, saying so (the offline pack from the CLI keeps everything).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.domain.cases import AgencyReturn
from bot.domain.wording import day, moment
from cards.common import Element, facts, text

TEXT_BUDGET = 24_000
SHORTENED = " … (shortened to fit in Teams: `marat agenda DATE --pack` prints it in full)"


def return_state(ret: AgencyReturn, closed_as: str | None = None) -> str:
    """'returned Mon 4 Jan 2027 10:00 by Pat Police', '… (late)', 'awaited (due …)', or for a
    closed case 'not returned (the case is closed)'."""
    if ret.answered:
        late = " (late)" if ret.late else ""
        return f"returned {moment(ret.answered_at)} by {ret.answered_by}{late}"
    if closed_as:
        return f"not returned (the case is {closed_as})"
    return f"awaited (due {day(ret.due)})"


def _limit(returns: Sequence[AgencyReturn]) -> int | None:
    lengths = [len(t) for r in returns for t in (r.information, r.concerns) if t]
    if sum(lengths) <= TEXT_BUDGET or not lengths:
        return None
    return max(400, TEXT_BUDGET // len(lengths))


def _fit(value: str, limit: int | None) -> str:
    if limit is None or len(value) <= limit:
        return value
    return value[:limit].rstrip() + SHORTENED


def return_elements(
    returns: Sequence[AgencyReturn], names: Mapping[str, str], closed_as: str | None = None
) -> list[Element]:
    """One block per agency: its name and state, then what it returned."""
    limit = _limit(returns)
    blocks: list[Element] = []
    for ret in returns:
        items: list[Element] = [
            facts([(names.get(ret.agency_key, ret.agency_key), return_state(ret, closed_as))])
        ]
        if ret.answered:
            detail = [("Known to the agency", "yes" if ret.known else "no")]
            if ret.information:
                detail.append(("Information", _fit(ret.information, limit)))
            detail.append(("Concerns", _fit(ret.concerns, limit) if ret.concerns else "none given"))
            items.append(facts(detail))
        blocks.append({"type": "Container", "separator": True, "items": items})
    if not blocks:
        blocks.append(text("No information was requested.", subtle=True))
    return blocks
