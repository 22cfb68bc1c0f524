"""The reliability figures of the fault suites, printed as one line at the end of the run.

Each fault test records what it injected and what it then counted (``record``) *before* it
asserts, so the line tells the truth even when a test fails:

    reliability: 262 faults injected, 0 lost, 0 duplicates (crash 9, database outage 1, …);
    Teams-send window: 5 faults left a message there, 5 resent

A "duplicate" is a second effect nobody can explain. The one documented exception (decision
0009) is the Teams-send window: Teams accepted a message but the bot never learnt it (the
process died before marking the row sent, or Teams answered too late), so the message goes
again. Those are measured and shown separately; the tests that provoke them check that each
one is a message that was in that window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.support.summary import report


@dataclass
class _Figures:
    faults: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicates: int = 0
    window_faults: int = 0
    window_resent: int = 0

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items()))
        text = (
            f"reliability: {sum(self.faults.values())} faults injected, {self.lost} lost, "
            f"{self.duplicates} duplicates ({kinds})"
        )
        if self.window_faults:
            text += (
                f"; Teams-send window: {self.window_faults} faults left a message there, "
                f"{self.window_resent} resent"
            )
        return text


_FIGURES = _Figures()


def record(
    kind: str,
    faults: int,
    lost: int = 0,
    duplicates: int = 0,
    window_faults: int = 0,
    window_resent: int = 0,
) -> None:
    """Add one test's figures (``kind``: crash, database outage, connector, inbound
    duplicate, time…) and refresh the line."""
    _FIGURES.faults[kind] += faults
    _FIGURES.lost += lost
    _FIGURES.duplicates += duplicates
    _FIGURES.window_faults += window_faults
    _FIGURES.window_resent += window_resent
    report("reliability", _FIGURES.line())
