"""Named fault points for the crash tests: a process started with ``MARAT_FAULT_POINT=NAME``
kills itself with SIGKILL the moment it reaches that point (after ``MARAT_FAULT_SKIP`` earlier
passes, default 0), so a test can crash the bot exactly there. Without the variable every
point does nothing. Standard library only; the composition root hands ``reached`` to the use
cases (through their context) and to the outbox sender.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Final

log = logging.getLogger(__name__)

ENVIRONMENT: Final = "MARAT_FAULT_POINT"
SKIP_ENVIRONMENT: Final = "MARAT_FAULT_SKIP"

AFTER_SEND_BEFORE_MARK: Final = "after-send-before-mark"
"""Teams accepted an outbox message; the row is not yet marked sent (decision 0009)."""
MID_INFORMATION_RETURN: Final = "mid-information-return"
"""An agency's answer is written but its transaction has not committed."""
MID_PLAN_AGREE: Final = "mid-plan-agree"
"""The first action of a plan is agreed and queued; the rest and the commit are not done."""
HOLDING_REMINDER_CLAIMS: Final = "holding-reminder-claims"
"""A sweep has claimed due reminders (committed) and not yet processed any."""

POINTS: Final = frozenset(
    {AFTER_SEND_BEFORE_MARK, MID_INFORMATION_RETURN, MID_PLAN_AGREE, HOLDING_REMINDER_CLAIMS}
)


class FaultPoints:
    """The one armed point of this process (or none)."""

    def __init__(self, armed: str | None = None, skip: int = 0) -> None:
        if armed is not None and armed not in POINTS:
            raise ValueError(f"{ENVIRONMENT}: unknown fault point {armed!r}")
        self.armed = armed
        self.skip = skip

    @classmethod
    def from_environment(cls) -> FaultPoints:
        armed = os.environ.get(ENVIRONMENT) or None
        skip = int(os.environ.get(SKIP_ENVIRONMENT) or "0")
        return cls(armed, skip)

    def reached(self, point: str) -> None:
        """Die here if this is the armed point (and its earlier passes are used up)."""
        if point != self.armed:
            return
        if self.skip > 0:
            self.skip -= 1
            return
        # The line is what lets a test tell "killed at the point" from "died elsewhere".
        log.warning("fault point reached: killing the process", extra={"outcome": point})
        for handler in logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def nowhere(_point: str) -> None:
    """The default hook: no fault is ever injected."""
