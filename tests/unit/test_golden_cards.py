"""Every card the bot sends has a golden JSON file, and matches it.

A card that changes without its golden file fails here: look at the diff, and if the change is
meant, regenerate with ``.venv/bin/python -m tests.support.card_catalogue --write`` and commit
the files with the change (they are reviewed like code).
"""

from __future__ import annotations

import json

import pytest

from tests.support.card_catalogue import GOLDEN, catalogue, golden_path, serialise

CARDS = catalogue()
REGENERATE = "regenerate with: .venv/bin/python -m tests.support.card_catalogue --write"


@pytest.mark.parametrize("name", sorted(CARDS))
def test_the_card_matches_its_golden_file(name: str) -> None:
    path = golden_path(name)
    assert path.exists(), f"{name} has no golden file; {REGENERATE}"
    assert serialise(CARDS[name]) == path.read_text(encoding="utf-8"), (
        f"{name} changed without its golden file; {REGENERATE}"
    )


def test_no_golden_file_is_left_without_its_card() -> None:
    orphans = sorted(p.stem for p in GOLDEN.glob("*.json") if p.stem not in CARDS)
    assert orphans == [], f"golden files of cards that no longer exist; {REGENERATE}"


def test_the_golden_files_are_valid_json_cards() -> None:
    for path in GOLDEN.glob("*.json"):
        card = json.loads(path.read_text(encoding="utf-8"))
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.5", path.name
