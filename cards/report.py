"""The `/report` card: the partnership figures of a period, headline first (heard within 14
working days), then volumes, equality and a per-agency table. Text, facts and columns only,
so it reads the same in a client that draws no charts."""

from __future__ import annotations

from bot.domain.figure_definitions import BY_KEY
from bot.domain.figure_results import AgencyActions, AgencyReturns, Figures
from bot.domain.figures import SAFELIVES_EXPECTED_PER_10000
from bot.domain.referral import CRITERIA_LABELS, Criteria
from cards.common import Card, Element, day, envelope, facts, heading, text

FALLBACK = "MARAT partnership figures are ready."


def period_text(figures: Figures) -> str:
    """'Fri 1 Jan 2027 to Wed 31 Mar 2027'."""
    return f"{day(figures.period.start)} to {day(figures.period.end)}"


def _days(value: float | int | None) -> str:
    if value is None:
        return "none heard"
    return f"{value:g}"


def _column(value: str, *, bold: bool = False, width: str = "stretch") -> Element:
    block = text(value, bold=bold)
    return {"type": "Column", "width": width, "items": [block]}


def _row(cells: list[str], *, bold: bool = False) -> Element:
    widths = ["stretch", "stretch", "stretch"]
    return {
        "type": "ColumnSet",
        "separator": not bold,
        "columns": [_column(c, bold=bold, width=w) for c, w in zip(cells, widths, strict=True)],
    }


def _returns_cell(r: AgencyReturns | None) -> str:
    if r is None or r.requested == 0:
        return "none asked"
    cell = r.in_time.text()
    extra = [f"{r.late} late"] if r.late else []
    extra += [f"{r.missing} missing"] if r.missing else []
    if r.median_days is not None:
        extra.append(f"median {r.median_days:g} working days")
    return cell + (" · " + ", ".join(extra) if extra else "")


def _actions_cell(a: AgencyActions | None) -> str:
    if a is None or (a.due == 0 and a.agreed == 0):
        return "none"
    cell = a.in_time.text() if a.in_time.of else "none due yet"
    extra = [f"{a.agreed} agreed"]
    extra += [f"{a.overdue} overdue"] if a.overdue else []
    extra += [f"{a.not_possible} not possible"] if a.not_possible else []
    return cell + " · " + ", ".join(extra)


def report_card(figures: Figures) -> Card:
    """The figures card (for coordinators: it includes the serial-perpetrator count)."""
    r, e, t = figures.referrals, figures.equality, figures.timeliness
    body: list[Element] = [
        heading(f"Partnership figures: {period_text(figures)}"),
        text(
            f"As known on {day(figures.as_of)}. Each figure's exact definition is in the README "
            "and in the footnotes of the board paper (marat report --format md).",
            subtle=True,
        ),
        {
            "type": "TextBlock",
            "text": f"{BY_KEY['heard_within_target'].label}: {t.within_target.text()}",
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        },
        facts(
            [
                (
                    "Working days from day 0 to the plan",
                    f"median {_days(t.median_days)}, 90th percentile {_days(t.p90_days)}",
                ),
                (BY_KEY["waiting_past_target"].label, str(t.waiting_past_target)),
                ("Plans agreed outside a conference", str(t.heard_outside_conference)),
                (BY_KEY["discussions_on_day_3"].label, t.discussions_on_day_3.text()),
                (BY_KEY["perpetrator_focused"].label, t.perpetrator_focused_plans.text()),
            ]
        ),
        text("Volumes", bold=True, spacing="Large"),
    ]
    criteria = dict(r.by_criteria)
    volume = [
        ("Referrals", f"{r.total}" + (f" ({r.withdrawn} withdrawn)" if r.withdrawn else "")),
        (
            "By criterion",
            " · ".join(f"{CRITERIA_LABELS[c]} {criteria.get(c.value, 0)}" for c in Criteria),
        ),
        (
            "By referring agency",
            " · ".join(f"{figures.agency_name(k)} {n}" for k, n in r.by_agency) or "none",
        ),
        ("Non-police referrals", r.not_police.text()),
        (BY_KEY["repeats"].label, r.repeats.text()),
        (BY_KEY["children"].label, str(r.children)),
        (BY_KEY["without_consent"].label, r.without_consent.text()),
        (BY_KEY["reviews"].label, str(figures.reviews)),
        (f"{BY_KEY['serial_perpetrators'].label} (coordinators only)", str(r.serial_perpetrators)),
        (
            "Conferences held",
            f"{len(figures.meetings)}, discussing {sum(m.cases for m in figures.meetings)} cases",
        ),
    ]
    if r.per_10000 is not None:
        volume.append(
            (
                BY_KEY["per_10000"].label,
                f"{r.per_10000:.1f} a year (SafeLives expects about "
                f"{SAFELIVES_EXPECTED_PER_10000})",
            )
        )
    body.append(facts(volume))
    body.append(text("Equality (of the referrals)", bold=True, spacing="Large"))
    body.append(
        facts(
            [
                ("Male victims", e.male.text()),
                ("Black, Asian or racially minoritised", e.minoritised.text()),
                ("Disabled", e.disabled.text()),
                ("LGBT+", e.lgbt.text()),
                ("Aged 16-17", e.aged_16_17.text()),
                ("Person causing harm aged 17 or under", e.harm_by_17_or_under.text()),
            ]
        )
    )
    body.append(text("By agency", bold=True, spacing="Large"))
    returns = {a.agency: a for a in figures.returns}
    actions = {a.agency: a for a in figures.actions}
    agencies = [k for k, _ in figures.agency_names if k in returns or k in actions]
    agencies += sorted((set(returns) | set(actions)) - set(agencies))
    if not agencies:
        body.append(text("No information requests or actions were due in the period."))
    else:
        body.append(
            _row(["Agency", "Information returned on time", "Actions done on time"], bold=True)
        )
        for key in agencies:
            body.append(
                _row(
                    [
                        figures.agency_name(key),
                        _returns_cell(returns.get(key)),
                        _actions_cell(actions.get(key)),
                    ]
                )
            )
    return envelope(body, fallback_text=FALLBACK)
