"""The agency list card: keys, contacts, reachability, and a neutral preview."""

from __future__ import annotations

from bot.domain.directory import Agency, AgencyListing, ContactListing, DirectoryListing
from cards.directory import agencies_card
from tests.support.turns import card_text

POLICE = Agency(1, "police", "Police")
CARE = Agency(2, "children-s-social-care", "Children's Social Care")
CASEY = ContactListing("Casey Coordinator", True)


def test_each_agency_shows_its_key_and_each_contact_whether_reachable() -> None:
    card = agencies_card(
        DirectoryListing(
            (
                AgencyListing(POLICE, (ContactListing("Pat Police", True),)),
                AgencyListing(CARE, (ContactListing("Chris Care", False),)),
            ),
            (CASEY,),
        )
    )
    shown = card_text(card)
    assert "**Police** · key: police" in shown
    assert "**Children's Social Care** · key: children-s-social-care" in shown
    facts = [
        (f["title"], f["value"]) for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]
    ]
    assert facts == [
        ("Pat Police", "reachable"),
        ("Chris Care", "not reachable yet"),
        ("Casey Coordinator", "reachable"),
    ]
    assert "cannot send them requests" in shown
    assert card["version"] == "1.5"
    assert card["fallbackText"] == "A MARAT agency list is ready."
    assert "Pat" not in card["fallbackText"]


def test_an_agency_without_contacts_is_flagged_and_no_warning_when_all_are_reachable() -> None:
    card = agencies_card(DirectoryListing((AgencyListing(POLICE, ()),), (CASEY,)))
    shown = card_text(card)
    assert "No contacts yet." in shown
    assert "cannot send them requests" not in shown


def test_an_empty_directory_says_how_to_add_an_agency() -> None:
    card = agencies_card(DirectoryListing((), (CASEY,)))
    assert "Add one with: agency add NAME" in card_text(card)
