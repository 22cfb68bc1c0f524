"""`marat report` output: the SafeLives quarterly return (CSV, one row per conference), the
figures as JSON, and a Markdown board paper whose footnotes are the figures' definitions."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Any

from bot.domain.figure_definitions import BY_KEY, DEFINITIONS
from bot.domain.figure_results import Figures, Share
from bot.domain.figures import SAFELIVES_EXPECTED_PER_10000
from bot.domain.referral import CRITERIA_LABELS, Criteria
from bot.domain.wording import day

EQUALITY_COLUMNS = (
    ("minoritised", "Black, Asian or racially minoritised victims"),
    ("lgbt", "LGBT+ victims"),
    ("disabled", "Disabled victims"),
    ("male", "Male victims"),
    ("aged_16_17", "Victims aged 16-17"),
    ("harm_by_17_or_under", "Causing harm aged 17 or under"),
)


def csv_columns(figures: Figures) -> list[str]:
    """The return's header: the conference, its cases, then one column per referring agency
    (every agency of the directory), then the equality columns."""
    return [
        "Meeting date",
        "Cases discussed",
        "Repeat cases",
        "Children in households",
        *(f"Referred by {name}" for _, name in _agencies(figures)),
        *(label for _, label in EQUALITY_COLUMNS),
    ]


def _agencies(figures: Figures) -> list[tuple[str, str]]:
    known = list(figures.agency_names)
    seen = {k for k, _ in known}
    extra = sorted({k for m in figures.meetings for k, _ in m.by_agency} - seen)
    return known + [(k, k) for k in extra]


def safelives_csv(figures: Figures) -> str:
    """One row per conference held in the period (the SafeLives quarterly MARAC return)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns(figures))
    agencies = [k for k, _ in _agencies(figures)]
    for m in figures.meetings:
        referred = dict(m.by_agency)
        writer.writerow(
            [
                m.date.isoformat(),
                m.cases,
                m.repeats,
                m.children,
                *(referred.get(k, 0) for k in agencies),
                *(getattr(m, field) for field, _ in EQUALITY_COLUMNS),
            ]
        )
    return out.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, Share):
        return {"n": value.n, "of": value.of, "percent": value.percent}
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(getattr(value, k)) for k in asdict(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def figures_json(figures: Figures) -> str:
    """Every figure, with the definitions, as JSON (dates ISO, shares as n, of and percent)."""
    data = _plain(figures)
    data["returns_total"] = _plain(figures.returns_total)
    data["actions_total"] = _plain(figures.actions_total)
    data["definitions"] = {d.key: {"label": d.label, "definition": d.text} for d in DEFINITIONS}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _note(key: str) -> str:
    return f"[^{key}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _section(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    return [f"## {title}", "", *_table(header, rows)]


def board_paper(figures: Figures) -> str:
    """The figures as Markdown for a board paper, each figure footnoted with its definition."""
    r, e, t = figures.referrals, figures.equality, figures.timeliness
    label = BY_KEY
    lines = [
        f"# MARAT partnership figures: {day(figures.period.start)} to {day(figures.period.end)}",
        "",
        f"As known on {day(figures.as_of)}. Synthetic or live data as held by marat-bot; every "
        "figure is defined in the footnotes.",
        "",
        "## Timeliness",
        "",
    ]
    median = "none heard" if t.median_days is None else f"{t.median_days:g}"
    p90 = "none heard" if t.p90_days is None else str(t.p90_days)
    lines += _table(
        ["Figure", "Value"],
        [
            [
                f"{label['heard_within_target'].label}{_note('heard_within_target')}",
                t.within_target.text(),
            ],
            [f"Median working days from day 0 to the plan{_note('days_to_conference')}", median],
            ["90th percentile of working days", p90],
            [
                f"{label['waiting_past_target'].label}{_note('waiting_past_target')}",
                str(t.waiting_past_target),
            ],
            ["Plans agreed outside a conference", str(t.heard_outside_conference)],
            [
                f"{label['discussions_on_day_3'].label}{_note('discussions_on_day_3')}",
                t.discussions_on_day_3.text(),
            ],
            [
                f"{label['perpetrator_focused'].label}{_note('perpetrator_focused')}",
                t.perpetrator_focused_plans.text(),
            ],
        ],
    )
    criteria = dict(r.by_criteria)
    volume = [
        [f"Referrals{_note('referrals')}", f"{r.total} ({r.withdrawn} withdrawn)"],
        *[[f"  {CRITERIA_LABELS[c]}", str(criteria.get(c.value, 0))] for c in Criteria],
        *[[f"  Referred by {figures.agency_name(k)}", str(n)] for k, n in r.by_agency],
        ["Non-police referrals", r.not_police.text()],
        [f"{label['repeats'].label}{_note('repeats')}", r.repeats.text()],
        [f"{label['children'].label}{_note('children')}", str(r.children)],
        [f"{label['without_consent'].label}{_note('without_consent')}", r.without_consent.text()],
        [f"{label['reviews'].label}{_note('reviews')}", str(figures.reviews)],
        [
            f"{label['serial_perpetrators'].label}{_note('serial_perpetrators')}",
            str(r.serial_perpetrators),
        ],
    ]
    if r.per_10000 is not None:
        volume.append(
            [
                f"{label['per_10000'].label}{_note('per_10000')}",
                f"{r.per_10000:.1f} a year (SafeLives: about {SAFELIVES_EXPECTED_PER_10000})",
            ]
        )
    lines += _section("Volumes", ["Figure", "Value"], volume)
    lines += _section(
        f"Equality{_note('equality')}",
        ["Of the referrals", "Value"],
        [
            ["Male victims", e.male.text()],
            ["Black, Asian or racially minoritised victims", e.minoritised.text()],
            ["Disabled victims", e.disabled.text()],
            ["LGBT+ victims", e.lgbt.text()],
            ["Victims aged 16-17", e.aged_16_17.text()],
            ["Person causing harm aged 17 or under", e.harm_by_17_or_under.text()],
        ],
    )
    lines += _section(
        f"Information returns{_note('returns')}",
        ["Agency", "Due", "On time", "Late", "Missing", "Not yet due", "Median working days"],
        [
            [
                figures.agency_name(a.agency),
                str(a.requested),
                a.in_time.text(),
                str(a.late),
                str(a.missing),
                str(a.pending),
                "-" if a.median_days is None else f"{a.median_days:g}",
            ]
            for a in figures.returns
        ]
        or [["none due", "0", "-", "-", "-", "-", "-"]],
    )
    lines += _section(
        f"Actions{_note('actions')}",
        ["Agency", "Agreed", "Due", "Done on time", "Done late", "Overdue", "Not possible"],
        [
            [
                figures.agency_name(a.agency),
                str(a.agreed),
                str(a.due),
                a.in_time.text(),
                str(a.late),
                str(a.overdue),
                str(a.not_possible),
            ]
            for a in figures.actions
        ]
        or [["none", "0", "0", "-", "-", "-", "-"]],
    )
    lines += _section(
        f"Conferences{_note('meetings')}",
        ["Conference", "Cases discussed", "Repeats", "Children"],
        [[day(m.date), str(m.cases), str(m.repeats), str(m.children)] for m in figures.meetings]
        or [["none held", "0", "0", "0"]],
    )
    lines += [f"[^{d.key}]: **{d.label}.** {d.text}" for d in DEFINITIONS]
    return "\n".join(lines) + "\n"
