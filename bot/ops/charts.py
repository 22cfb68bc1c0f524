"""`marat report --chart FILE.png`: weekly referrals against cases heard within target, and
the working days from day 0 to the conference as a distribution.

The only module that imports matplotlib (tests/unit/test_layers.py), always with the headless
Agg backend: the bot and the CLI run on servers with no display.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # after choosing the backend

from bot.domain.figure_results import Figures
from bot.domain.wording import day

PURPLE, GREEN, GREY, RED = "#5B2C6F", "#1E8449", "#AAB7B8", "#C0392B"


def chart_png(figures: Figures, target_day: int = 14) -> bytes:
    """The two charts side by side, as PNG bytes."""
    figure = Figure(figsize=(11, 4.2), dpi=110)
    weekly, spread = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    weeks = [w.week for w in figures.weeks]
    positions = range(len(weeks))
    weekly.bar(
        [p - 0.2 for p in positions],
        [w.referrals for w in figures.weeks],
        width=0.4,
        color=PURPLE,
        label="Referrals received",
    )
    weekly.bar(
        [p + 0.2 for p in positions],
        [w.heard_within_target for w in figures.weeks],
        width=0.4,
        color=GREEN,
        label="Heard within target",
    )
    weekly.bar(
        [p + 0.2 for p in positions],
        [w.heard - w.heard_within_target for w in figures.weeks],
        bottom=[w.heard_within_target for w in figures.weeks],
        width=0.4,
        color=RED,
        label="Heard after target",
    )
    weekly.set_xticks(list(positions))
    weekly.set_xticklabels([f"{w:%d %b}" for w in weeks], rotation=60, fontsize=7)
    weekly.set_ylabel("Cases")
    weekly.set_title("Each week (from Monday)", fontsize=10)
    tallest = max([1, *(max(w.referrals, w.heard) for w in figures.weeks)])
    weekly.set_ylim(0, tallest * 1.35)  # room for the legend above the bars
    weekly.legend(fontsize=8, frameon=False, loc="upper left", ncol=3)
    weekly.yaxis.get_major_locator().set_params(integer=True)

    days = dict(figures.timeliness.days)
    top = max([*days, target_day + 2])
    values = list(range(top + 1))
    spread.bar(
        values,
        [days.get(v, 0) for v in values],
        color=[GREEN if v <= target_day else RED for v in values],
    )
    spread.axvline(target_day + 0.5, color=GREY, linestyle="--")
    spread.text(
        target_day + 0.7,
        0.95,
        f"target: day {target_day}",
        fontsize=8,
        color="#555555",
        transform=spread.get_xaxis_transform(),
        va="top",
    )
    spread.set_xticks([v for v in values if v % 2 == 0])
    spread.set_xlabel("Working days from day 0 to the first plan")
    spread.set_ylabel("Cases heard")
    share = figures.timeliness.within_target
    spread.set_title(f"Days to conference: {share.text()} within target", fontsize=10)
    spread.yaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"MARAT: {day(figures.period.start)} to {day(figures.period.end)}", fontsize=12)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
