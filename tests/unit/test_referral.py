"""Specification of referral card validation (PRODUCT.md sections 2 and 4).

``parse_referral`` checks every input of the referral card at once and raises ``FieldErrors``
naming each bad input id, so the card can come back with an error under each field. All names
and details here are synthetic.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.directory import DEFAULT_AGENCIES, agency_key
from bot.domain.errors import FieldErrors
from bot.domain.referral import Criteria, Referral, parse_referral, victim_initials

TODAY = date(2026, 5, 20)
AGENCY_KEYS = tuple(agency_key(name) for name in DEFAULT_AGENCIES)
OMIT = object()  # an override that leaves the input out of the submission altogether


def valid_inputs(**overrides: object) -> dict[str, object]:
    """The inputs of a correctly filled referral card; overrides replace (or with OMIT drop)."""
    inputs: dict[str, object] = {
        "victim_name": "Jane Testcase",
        "victim_dob": "1990-04-01",
        "victim_gender": "female",
        "victim_ethnicity": "white_british",
        "victim_disability": "no",
        "victim_lgbt": "not_known",
        "perpetrator_name": "John Example",
        "perpetrator_dob": "1988-02-03",
        "relationship": "ex_partner",
        "children_count": "2",
        "referring_agency": "police",
        "criteria": "visible_high_risk",
        "dash_score": "16",
        "incident_date": "2026-05-15",
        "received_date": "2026-05-18",
        "agencies": "police,idva-service,children-s-social-care",
        "summary": "Synthetic summary of concerns for a test.",
        "consent": "yes",
        "consent_reason": "",
    }
    for key, value in overrides.items():
        if value is OMIT:
            inputs.pop(key, None)
        else:
            inputs[key] = value
    return inputs


def parse(**overrides: object) -> Referral:
    return parse_referral(valid_inputs(**overrides), TODAY, AGENCY_KEYS)


def field_errors(**overrides: object) -> dict[str, str]:
    """The errors the card would show; fails the test if the inputs are accepted."""
    with pytest.raises(FieldErrors) as refused:
        parse(**overrides)
    return refused.value.errors


# --- A valid referral -------------------------------------------------------------------------


def test_valid_referral_parses_every_field() -> None:
    assert parse() == Referral(
        victim_name="Jane Testcase",
        victim_dob=date(1990, 4, 1),
        victim_gender="female",
        victim_ethnicity="white_british",
        victim_disability="no",
        victim_lgbt="not_known",
        perpetrator_name="John Example",
        perpetrator_dob=date(1988, 2, 3),
        relationship="ex_partner",
        children_count=2,
        referring_agency="police",
        criteria=Criteria.VISIBLE_HIGH_RISK,
        dash_score=16,
        incident_date=date(2026, 5, 15),
        received_date=date(2026, 5, 18),
        agencies=("police", "idva-service", "children-s-social-care"),
        summary="Synthetic summary of concerns for a test.",
        consent=True,
        consent_reason=None,
    )


def test_text_is_trimmed() -> None:
    referral = parse(victim_name="  Jane Testcase  ", summary="  Concerns.  ")
    assert referral.victim_name == "Jane Testcase"
    assert referral.summary == "Concerns."


def test_optional_fields_may_be_left_out() -> None:
    referral = parse(
        victim_dob=OMIT,
        victim_gender=OMIT,
        victim_ethnicity=OMIT,
        victim_disability=OMIT,
        victim_lgbt=OMIT,
        perpetrator_name=OMIT,
        perpetrator_dob="",
        incident_date="",
        summary="",
    )
    assert referral.victim_dob is None
    assert (referral.victim_gender, referral.victim_ethnicity) == ("not_known", "not_known")
    assert (referral.victim_disability, referral.victim_lgbt) == ("not_known", "not_known")
    assert referral.perpetrator_name is None
    assert referral.perpetrator_dob is None
    assert referral.incident_date is None
    assert referral.summary is None


def test_dates_may_be_today() -> None:
    referral = parse(received_date="2026-05-20", incident_date="2026-05-20")
    assert referral.received_date == referral.incident_date == TODAY


def test_incident_on_the_received_date_is_accepted() -> None:
    assert parse(incident_date="2026-05-18").incident_date == date(2026, 5, 18)


def test_numbers_submitted_as_integers_are_accepted() -> None:
    referral = parse(dash_score=20, children_count=0)
    assert (referral.dash_score, referral.children_count) == (20, 0)


# --- The example: every problem is reported at once ------------------------------------


def test_dash_score_30_and_no_victim_name_gives_exactly_those_two_errors() -> None:
    errors = field_errors(dash_score="30", victim_name="")
    assert set(errors) == {"dash_score", "victim_name"}
    assert "0 to 24" in errors["dash_score"]


def test_missing_victim_name_input_is_the_same_as_blank() -> None:
    assert set(field_errors(victim_name=OMIT)) == {"victim_name"}


def test_every_problem_is_reported_together() -> None:
    errors = field_errors(
        victim_name="  ",
        children_count="abc",
        referring_agency="nowhere",
        consent="no",
        received_date="2026-06-01",
    )
    assert set(errors) == {
        "victim_name",
        "children_count",
        "referring_agency",
        "consent_reason",
        "received_date",
    }


# --- One bad input, one error under that input --------------------------------------------------

SINGLE_FIELD_ERRORS = [
    # Criteria and the DASH score.
    pytest.param({"dash_score": "13"}, "dash_score", id="visible-high-risk-dash-13"),
    pytest.param({"dash_score": ""}, "dash_score", id="visible-high-risk-without-dash"),
    pytest.param({"dash_score": "25"}, "dash_score", id="dash-above-24"),
    pytest.param({"dash_score": "-1"}, "dash_score", id="dash-negative"),
    pytest.param({"dash_score": "twelve"}, "dash_score", id="dash-not-a-number"),
    pytest.param({"dash_score": "14.5"}, "dash_score", id="dash-not-whole"),
    pytest.param(
        {"criteria": "professional_judgement", "dash_score": "9", "summary": ""},
        "summary",
        id="professional-judgement-without-summary",
    ),
    pytest.param(
        {"criteria": "professional_judgement", "summary": "   "},
        "summary",
        id="professional-judgement-with-blank-summary",
    ),
    pytest.param({"summary": "x" * 4001}, "summary", id="summary-too-long"),
    pytest.param({"criteria": ""}, "criteria", id="criteria-missing"),
    pytest.param({"criteria": "high_risk"}, "criteria", id="criteria-unknown"),
    # Consent.
    pytest.param({"consent": "no"}, "consent_reason", id="no-consent-without-reason"),
    pytest.param(
        {"consent": "no", "consent_reason": "  "}, "consent_reason", id="no-consent-blank-reason"
    ),
    pytest.param({"consent": "maybe"}, "consent", id="consent-unknown"),
    pytest.param({"consent": OMIT}, "consent", id="consent-missing"),
    # Dates.
    pytest.param({"received_date": "2026-05-21"}, "received_date", id="received-in-future"),
    pytest.param({"received_date": ""}, "received_date", id="received-missing"),
    pytest.param({"received_date": "18/05/2026"}, "received_date", id="received-not-iso"),
    pytest.param({"incident_date": "2026-05-19"}, "incident_date", id="incident-after-received"),
    pytest.param({"incident_date": "2026-05-21"}, "incident_date", id="incident-in-future"),
    pytest.param({"incident_date": "2026-02-30"}, "incident_date", id="incident-not-a-date"),
    pytest.param({"victim_dob": "2027-01-01"}, "victim_dob", id="victim-born-in-future"),
    pytest.param({"victim_dob": "2010-05-21"}, "victim_dob", id="victim-aged-15"),
    pytest.param({"victim_dob": "2020-01-01"}, "victim_dob", id="victim-a-child"),
    pytest.param({"perpetrator_dob": "2026-05-21"}, "perpetrator_dob", id="perpetrator-future"),
    # Agencies.
    pytest.param({"referring_agency": "fire-service"}, "referring_agency", id="referrer-unknown"),
    pytest.param({"referring_agency": ""}, "referring_agency", id="referrer-missing"),
    pytest.param({"agencies": "police,fire-service"}, "agencies", id="agency-unknown"),
    pytest.param({"agencies": "Police"}, "agencies", id="agency-not-a-key"),
    pytest.param({"agencies": " , "}, "agencies", id="agencies-only-commas"),
    # Children.
    pytest.param({"children_count": "abc"}, "children_count", id="children-abc"),
    pytest.param({"children_count": "99"}, "children_count", id="children-99"),
    pytest.param({"children_count": "31"}, "children_count", id="children-31"),
    pytest.param({"children_count": "-1"}, "children_count", id="children-negative"),
    pytest.param({"children_count": ""}, "children_count", id="children-missing"),
    # Names and choices.
    pytest.param({"victim_name": "J" * 121}, "victim_name", id="victim-name-too-long"),
    pytest.param({"perpetrator_name": "J" * 121}, "perpetrator_name", id="perp-name-too-long"),
    pytest.param({"victim_gender": "unknown"}, "victim_gender", id="gender-unknown"),
    pytest.param({"victim_ethnicity": "british"}, "victim_ethnicity", id="ethnicity-unknown"),
    pytest.param({"victim_disability": "y"}, "victim_disability", id="disability-unknown"),
    pytest.param({"victim_lgbt": "true"}, "victim_lgbt", id="lgbt-unknown"),
    pytest.param({"relationship": ""}, "relationship", id="relationship-missing"),
    pytest.param({"relationship": "partner"}, "relationship", id="relationship-unknown"),
]


@pytest.mark.parametrize(("overrides", "field"), SINGLE_FIELD_ERRORS)
def test_one_bad_input_gives_one_error_under_it(overrides: dict[str, object], field: str) -> None:
    errors = field_errors(**overrides)
    assert set(errors) == {field}
    assert errors[field].strip()


def test_error_messages_say_what_to_do() -> None:
    assert "14 or more" in field_errors(dash_score="13")["dash_score"]
    assert "16 or over" in field_errors(victim_dob="2010-05-21")["victim_dob"]
    assert "YYYY-MM-DD" in field_errors(received_date="18/05/2026")["received_date"]
    assert "0 to 30" in field_errors(children_count="99")["children_count"]


# --- Boundaries that are accepted ---------------------------------------------------------------


def test_dash_14_is_visible_high_risk() -> None:
    assert parse(dash_score="14").dash_score == 14


def test_professional_judgement_with_a_reason_accepts_a_low_dash_score() -> None:
    referral = parse(criteria="professional_judgement", dash_score="5", summary="Strangulation.")
    assert referral.criteria is Criteria.PROFESSIONAL_JUDGEMENT
    assert referral.dash_score == 5


@pytest.mark.parametrize("criteria", ["potential_escalation", "repeat"])
def test_other_criteria_need_no_dash_score(criteria: str) -> None:
    referral = parse(criteria=criteria, dash_score="")
    assert referral.criteria == Criteria(criteria)
    assert referral.dash_score is None


def test_no_consent_with_a_reason_is_accepted_and_recorded() -> None:
    referral = parse(consent="no", consent_reason=" Asking would raise the risk. ")
    assert referral.consent is False
    assert referral.consent_reason == "Asking would raise the risk."


def test_victim_aged_exactly_16_today_is_accepted() -> None:
    assert parse(victim_dob="2010-05-20").victim_dob == date(2010, 5, 20)


@pytest.mark.parametrize("count", ["0", "30"])
def test_children_count_limits_are_accepted(count: str) -> None:
    assert parse(children_count=count).children_count == int(count)


@given(score=st.integers(min_value=0, max_value=24))
def test_visible_high_risk_is_exactly_a_dash_score_of_14_or_more(score: int) -> None:
    inputs = valid_inputs(dash_score=str(score))
    if score >= 14:
        assert parse_referral(inputs, TODAY, AGENCY_KEYS).dash_score == score
    else:
        with pytest.raises(FieldErrors) as refused:
            parse_referral(inputs, TODAY, AGENCY_KEYS)
        assert set(refused.value.errors) == {"dash_score"}


# --- Agencies to involve ------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", OMIT, None], ids=["empty", "omitted", "none"])
def test_no_agencies_chosen_means_every_directory_agency(blank: object) -> None:
    assert parse(agencies=blank).agencies == AGENCY_KEYS


def test_default_agencies_follow_the_directory_given() -> None:
    directory = ("police", "housing")
    referral = parse_referral(valid_inputs(agencies=""), TODAY, directory)
    assert referral.agencies == directory


def test_multi_select_is_split_trimmed_and_deduplicated_in_order() -> None:
    referral = parse(agencies=" housing,police , housing,,police,probation ")
    assert referral.agencies == ("housing", "police", "probation")


# --- Initials for agendas -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        pytest.param("Jane Testcase", "JT", id="two-names"),
        pytest.param("  jane   testcase ", "JT", id="lower-case-and-spaces"),
        pytest.param("Mary-Ann Testcase", "MAT", id="hyphenated"),
        pytest.param("Anna Beth Cara Dee", "ABC", id="at-most-three"),
        pytest.param("Prince", "P", id="one-name"),
        pytest.param("", "?", id="empty"),
        pytest.param(" - ", "?", id="only-separators"),
    ],
)
def test_victim_initials(name: str, initials: str) -> None:
    assert victim_initials(name) == initials


def test_referral_shows_initials_not_the_name() -> None:
    assert parse(victim_name="Jane Ellen Testcase").victim_initials == "JET"
