"""Specification of the directory CSV import.

The file is ``agency,name,email,aad_object_id,role``; it is checked as a whole before anything is
applied, and the first bad line is named (``Line N: ...``, counting the header as line 1). All
people and ids here are synthetic.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.directory import (
    DEFAULT_AGENCIES,
    DirectoryImportError,
    DirectoryRow,
    Role,
    agency_key,
    parse_directory_csv,
)

HEADER = "agency,name,email,aad_object_id,role"
JANE_ID = "1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0"
ALEX_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"
SAM_ID = "abcdefab-cdef-4abc-8def-abcdefabcdef"


def csv_line(
    agency: str = "Police",
    name: str = "Jane Testcase",
    email: str = "jane.testcase@example.org",
    aad_object_id: str = JANE_ID,
    role: str = "contact",
) -> str:
    """One directory row, valid unless a field is overridden."""
    return ",".join((agency, name, email, aad_object_id, role))


def csv_file(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def import_error(text: str) -> str:
    """The refusal message; fails the test if the file is accepted."""
    with pytest.raises(DirectoryImportError) as refused:
        parse_directory_csv(text)
    return str(refused.value)


# --- A good file ------------------------------------------------------------------------------


def test_good_file_parses_every_row() -> None:
    text = csv_file(
        csv_line(),
        csv_line(
            agency="",
            name="Alex Coordinator",
            email="",
            aad_object_id=ALEX_ID.upper(),
            role="coordinator",
        ),
        csv_line(
            agency="Children's Social Care",
            name="Sam Example",
            email="sam@example.org",
            aad_object_id=SAM_ID,
            role="Contact",
        ),
    )
    assert parse_directory_csv(text) == [
        DirectoryRow(
            line=2,
            agency="Police",
            name="Jane Testcase",
            email="jane.testcase@example.org",
            aad_object_id=JANE_ID,
            role=Role.CONTACT,
        ),
        DirectoryRow(
            line=3,
            agency=None,
            name="Alex Coordinator",
            email=None,
            aad_object_id=ALEX_ID,  # stored lower-case whatever the file used
            role=Role.COORDINATOR,
        ),
        DirectoryRow(
            line=4,
            agency="Children's Social Care",
            name="Sam Example",
            email="sam@example.org",
            aad_object_id=SAM_ID,
            role=Role.CONTACT,
        ),
    ]


def test_cells_are_trimmed() -> None:
    text = csv_file(
        " Police , Jane Testcase , jane.testcase@example.org , " + JANE_ID + " , contact "
    )
    (row,) = parse_directory_csv(text)
    assert (row.agency, row.name, row.email, row.aad_object_id, row.role) == (
        "Police",
        "Jane Testcase",
        "jane.testcase@example.org",
        JANE_ID,
        Role.CONTACT,
    )


def test_a_coordinator_may_also_belong_to_an_agency() -> None:
    (row,) = parse_directory_csv(csv_file(csv_line(role="coordinator")))
    assert (row.role, row.agency) == (Role.COORDINATOR, "Police")


def test_quoted_agency_names_with_commas_are_read_whole() -> None:
    text = csv_file('"Housing, North",Jane Testcase,,' + JANE_ID + ",contact")
    (row,) = parse_directory_csv(text)
    assert row.agency == "Housing, North"


def test_header_only_gives_no_rows() -> None:
    assert parse_directory_csv(HEADER + "\n") == []


def test_windows_line_endings_are_accepted() -> None:
    text = csv_file(csv_line(), csv_line(name="Sam Example", aad_object_id=SAM_ID))
    rows = parse_directory_csv(text.replace("\n", "\r\n"))
    assert [(row.line, row.name) for row in rows] == [(2, "Jane Testcase"), (3, "Sam Example")]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    rows = parse_directory_csv("\ufeff" + csv_file(csv_line()))
    assert [row.name for row in rows] == ["Jane Testcase"]


def test_blank_lines_are_skipped_but_still_counted() -> None:
    text = csv_file(
        "", csv_line(), "   ", ",,,,", csv_line(name="Sam Example", aad_object_id=SAM_ID), ""
    )
    rows = parse_directory_csv(text)
    assert [(row.line, row.name) for row in rows] == [(3, "Jane Testcase"), (6, "Sam Example")]


# --- The header -------------------------------------------------------------------------------


def test_header_is_matched_ignoring_case_and_spaces() -> None:
    header = " Agency , NAME,Email,AAD_Object_Id ,Role"
    assert len(parse_directory_csv(csv_file(csv_line(), header=header))) == 1


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("name,agency,email,aad_object_id,role", id="columns-swapped"),
        pytest.param("agency,name,email,role", id="column-missing"),
        pytest.param("agency,name,email,aad_object_id,role,phone", id="column-extra"),
        pytest.param("agency,name,e-mail,aad_object_id,role", id="column-misspelt"),
        pytest.param(csv_line(), id="no-header-just-data"),
    ],
)
def test_header_must_match(header: str) -> None:
    message = import_error(csv_file(csv_line(), header=header))
    assert message == "Line 1: the header must be agency,name,email,aad_object_id,role."


def test_empty_file_is_refused() -> None:
    assert import_error("").startswith("The file is empty")


# --- Bad lines: the first one is named --------------------------------------------------------

BAD_LINES = [
    pytest.param(csv_line(role="chair"), "role must be coordinator or contact", id="bad-role"),
    pytest.param(csv_line(role=""), "role must be coordinator or contact", id="no-role"),
    pytest.param(csv_line(name=""), "the name is missing", id="missing-name"),
    pytest.param(csv_line(name="   "), "the name is missing", id="blank-name"),
    pytest.param(csv_line(aad_object_id="not-a-guid"), "GUID", id="guid-not-a-guid"),
    pytest.param(csv_line(aad_object_id=""), "GUID", id="guid-missing"),
    pytest.param(csv_line(aad_object_id=JANE_ID[:-1]), "GUID", id="guid-too-short"),
    pytest.param(csv_line(aad_object_id=JANE_ID + "a"), "GUID", id="guid-13-digit-last-group"),
    pytest.param(csv_line(aad_object_id="{" + JANE_ID + "}"), "GUID", id="guid-in-braces"),
    pytest.param(csv_line(aad_object_id=JANE_ID.replace("-", "")), "GUID", id="guid-no-dashes"),
    pytest.param(csv_line(aad_object_id=JANE_ID.replace("1b", "1g", 1)), "GUID", id="guid-not-hex"),
    pytest.param(csv_line(email="jane.example.org"), "e-mail", id="email-without-at"),
    pytest.param(csv_line(email="jane@example"), "e-mail", id="email-without-domain-dot"),
    pytest.param(csv_line(email="jane test@example.org"), "e-mail", id="email-with-space"),
    pytest.param(csv_line(agency=""), "a contact needs an agency", id="contact-without-agency"),
    pytest.param(csv_line(agency="!!!"), "agency name is not valid", id="agency-no-letters"),
    pytest.param("Police,Jane Testcase,contact", "expected 5 columns, found 3", id="too-few"),
    pytest.param(csv_line() + ",extra", "expected 5 columns, found 6", id="too-many"),
]


@pytest.mark.parametrize(("bad_line", "problem"), BAD_LINES)
def test_bad_line_is_named(bad_line: str, problem: str) -> None:
    good = csv_line(name="Sam Example", aad_object_id=SAM_ID)
    message = import_error(csv_file(good, bad_line, good))
    assert message.startswith("Line 3: ")
    assert problem in message


@pytest.mark.parametrize(("bad_line", "problem"), BAD_LINES)
def test_line_numbers_count_blank_lines_and_the_header(bad_line: str, problem: str) -> None:
    message = import_error(csv_file("", csv_line(), "", "", bad_line))
    assert message.startswith("Line 6: ")
    assert problem in message


def test_only_the_first_bad_line_is_reported() -> None:
    message = import_error(csv_file(csv_line(), csv_line(name=""), csv_line(role="chair")))
    assert message == "Line 3: the name is missing."


def test_a_bad_line_after_good_ones_rejects_the_whole_file() -> None:
    with pytest.raises(DirectoryImportError):
        parse_directory_csv(csv_file(csv_line(), csv_line(email="nope")))


def test_guid_may_be_upper_case() -> None:
    (row,) = parse_directory_csv(csv_file(csv_line(aad_object_id=JANE_ID.upper())))
    assert row.aad_object_id == JANE_ID


# --- Agency keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Police", "police"),
        ("IDVA service", "idva-service"),
        ("Children's Social Care", "children-s-social-care"),
        ("Adult Social Care", "adult-social-care"),
        ("Health (acute)", "health-acute"),
        ("Health (community/GP)", "health-community-gp"),
        ("Mental Health", "mental-health"),
        ("Substance Misuse", "substance-misuse"),
        ("  Housing  ", "housing"),
        ("HOUSING", "housing"),
        ("Probation -- Service 2", "probation-service-2"),
    ],
)
def test_agency_key_is_stable(name: str, key: str) -> None:
    # The keys are the card choice values, so they must never change for a given name.
    assert agency_key(name) == key


def test_default_agencies_have_distinct_keys() -> None:
    keys = [agency_key(name) for name in DEFAULT_AGENCIES]
    assert len(set(keys)) == len(keys)
    assert all(keys)


ascii_names = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@given(name=ascii_names)
def test_agency_key_ignores_case(name: str) -> None:
    assert agency_key(name.upper()) == agency_key(name.lower()) == agency_key(name)


@given(name=ascii_names)
def test_agency_key_is_a_clean_slug_and_idempotent(name: str) -> None:
    key = agency_key(name)
    assert all(c.islower() or c.isdigit() or c == "-" for c in key)
    assert not key.startswith("-")
    assert not key.endswith("-")
    assert "--" not in key
    assert agency_key(key) == key
