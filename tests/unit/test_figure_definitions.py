"""The figures' definitions are written once: the README quotes them word for word, the board
paper footnotes them, and every figure the card shows has one."""

from __future__ import annotations

from pathlib import Path

from bot.domain.figure_definitions import BY_KEY, DEFINITIONS
from bot.domain.figure_records import FIGURE_FIELDS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_quotes_every_definition_word_for_word() -> None:
    for definition in DEFINITIONS:
        assert f"- **{definition.label}.** {definition.text}" in README, definition.key


def test_definitions_have_unique_keys_and_say_which_period_they_count() -> None:
    assert len(BY_KEY) == len(DEFINITIONS)
    for definition in DEFINITIONS:
        if definition.key in ("days_to_conference", "equality", "per_10000", "meetings"):
            continue  # these refer to another figure's cohort
        assert "in the period" in definition.text or "period" in definition.text, definition.key


def test_retention_is_told_which_fields_the_figures_use() -> None:
    case_fields = FIGURE_FIELDS["CaseFacts"]
    assert "received" in case_fields and "victim_age" in case_fields
    assert not {"victim_name", "victim_dob", "perpetrator_name", "summary"} & set(case_fields)
