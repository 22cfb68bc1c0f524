"""Use cases of the safety action plan and the rest of a case's life (being built)."""

from __future__ import annotations

from bot.usecase_base import UseCaseBase


class PlanUseCases(UseCaseBase):
    """Action plans, action updates, reviews, deferrals, withdrawals and closure."""
