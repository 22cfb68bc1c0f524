"""Storage contract: directory, meetings, audit, card tokens and the unit of work.

Every test runs on SQLite and on PostgreSQL (the ``engine`` fixture), through
``SqlUnitOfWorkFactory`` and the repositories of ``bot.ports``. Cases: test_cases.py.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.directory import Agency
from bot.ports import AuditEvent, TokenInfo
from storage.models import AuditRow, CardTokenRow
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.db_data import ACTOR, AGENCY_KEYS, AT, CaseMaker, MeetingMaker, listed_at

ADA = "AAAAAAAA-1111-4111-8111-0000000000AA"
BEN = "bbbbbbbb-2222-4222-8222-0000000000bb"


# -- directory -------------------------------------------------------------------------------


async def test_upsert_agency_creates_once_with_a_case_insensitive_key(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        police, created = await uow.directory.upsert_agency("Police", AT)
        await uow.commit()
    assert created is True
    assert (police.key, police.name) == ("police", "Police")

    async with units() as uow:
        again, created_again = await uow.directory.upsert_agency("  POLICE ", AT)
        care, _ = await uow.directory.upsert_agency("Children's Social Care", AT)
        await uow.commit()
    assert created_again is False
    assert again == police
    assert care.key == "children-s-social-care"

    async with units() as uow:
        assert await uow.directory.agencies() == [police, care]


async def test_agencies_are_listed_in_creation_order(
    units: SqlUnitOfWorkFactory, agencies: dict[str, Agency]
) -> None:
    async with units() as uow:
        listed = await uow.directory.agencies()
    assert [a.key for a in listed] == list(AGENCY_KEYS)
    assert listed == [agencies[key] for key in AGENCY_KEYS]


async def test_upsert_person_creates_then_updates(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        assert await uow.directory.upsert_person(ADA, "Ada Example", "ada@example.org", AT)
        await uow.commit()
    async with units() as uow:
        person = await uow.directory.person(ADA)
    assert person is not None
    assert (person.name, person.email, person.is_coordinator) == (
        "Ada Example",
        "ada@example.org",
        False,
    )
    assert person.agency_keys == frozenset()

    async with units() as uow:
        created = await uow.directory.upsert_person(
            ADA.lower(), "Ada Renamed", None, AT + timedelta(days=1)
        )
        await uow.commit()
    assert created is False
    async with units() as uow:
        person = await uow.directory.person(ADA)
    assert person is not None
    assert (person.name, person.email) == ("Ada Renamed", None)


async def test_person_lowercases_the_aad_object_id(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.directory.upsert_person(BEN.upper(), "Ben Example", None, AT)
        await uow.commit()
    async with units() as uow:
        by_upper = await uow.directory.person(ADA.upper())
        by_lower = await uow.directory.person(ADA.lower())
        ben = await uow.directory.person(BEN)
    assert by_upper is not None and by_lower is not None
    assert by_upper == by_lower
    assert by_upper.aad_object_id == ADA.lower()
    assert ben is not None and ben.aad_object_id == BEN.lower()


async def test_unknown_person_is_none(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.directory.person(BEN) is None


async def test_set_coordinator_grants_and_removes_the_role(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.directory.upsert_person(BEN, "Ben Example", None, AT)
        await uow.directory.set_coordinator(ADA.upper(), True)
        await uow.commit()
    async with units() as uow:
        ada, ben = await uow.directory.person(ADA), await uow.directory.person(BEN)
    assert ada is not None and ada.is_coordinator is True
    assert ben is not None and ben.is_coordinator is False

    async with units() as uow:
        await uow.directory.set_coordinator(ADA, False)
        await uow.commit()
    async with units() as uow:
        ada = await uow.directory.person(ADA)
    assert ada is not None and ada.is_coordinator is False


async def test_add_membership_is_idempotent_and_lists_the_agency(
    units: SqlUnitOfWorkFactory, agencies: dict[str, Agency]
) -> None:
    async with units() as uow:
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        assert await uow.directory.add_membership(ADA.upper(), "police") is True
        await uow.commit()
    async with units() as uow:
        assert await uow.directory.add_membership(ADA, "police") is False
        assert await uow.directory.add_membership(ADA, "housing") is True
        await uow.commit()
    async with units() as uow:
        person = await uow.directory.person(ADA)
    assert person is not None
    assert person.agency_keys == frozenset({"police", "housing"})
    assert person.is_contact


@pytest.mark.parametrize(
    ("aad", "key"),
    [(BEN, "police"), (ADA, "no-such-agency")],
    ids=["unknown-person", "unknown-agency"],
)
async def test_add_membership_of_unknown_person_or_agency_raises_lookup_error(
    units: SqlUnitOfWorkFactory, agencies: dict[str, Agency], aad: str, key: str
) -> None:
    async with units() as uow:
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.commit()
    async with units() as uow:
        with pytest.raises(LookupError):
            await uow.directory.add_membership(aad, key)


async def test_a_naive_timestamp_is_refused(units: SqlUnitOfWorkFactory) -> None:
    """Every stored instant is UTC; a naive one would be ambiguous, so it is never written."""
    async with units() as uow:
        with pytest.raises((ValueError, StatementError)):
            await uow.directory.upsert_agency("Police", datetime(2027, 1, 4, 10, 0))


# -- meetings --------------------------------------------------------------------------------


async def test_add_meeting_then_re_add_updates_its_capacity(
    units: SqlUnitOfWorkFactory,
) -> None:
    day = date(2027, 1, 12)
    async with units() as uow:
        first = await uow.meetings.add(day, 4, ACTOR, AT)
        await uow.commit()
    assert (first.date, first.capacity, first.listed, first.free_places) == (day, 4, 0, 4)

    async with units() as uow:
        again = await uow.meetings.add(day, 7, ACTOR, AT + timedelta(hours=1))
        await uow.commit()
    assert again.id == first.id
    assert (again.date, again.capacity) == (day, 7)

    async with units() as uow:
        stored = await uow.meetings.by_date(day)
        everything = await uow.meetings.list_from(date(2000, 1, 1), 100)
    assert stored == again
    assert everything == [again]


async def test_by_date_finds_only_that_date(
    add_meeting: MeetingMaker, units: SqlUnitOfWorkFactory
) -> None:
    meeting = await add_meeting(date(2027, 1, 12), 3)
    async with units() as uow:
        assert await uow.meetings.by_date(date(2027, 1, 12)) == meeting
        assert await uow.meetings.by_date(date(2027, 1, 13)) is None


async def test_next_on_or_after(add_meeting: MeetingMaker, units: SqlUnitOfWorkFactory) -> None:
    later = await add_meeting(date(2027, 1, 19), 3)
    sooner = await add_meeting(date(2027, 1, 12), 3)
    async with units() as uow:
        assert await uow.meetings.next_on_or_after(date(2027, 1, 5)) == sooner
        assert await uow.meetings.next_on_or_after(date(2027, 1, 12)) == sooner
        assert await uow.meetings.next_on_or_after(date(2027, 1, 13)) == later
        assert await uow.meetings.next_on_or_after(date(2027, 1, 20)) is None


async def test_list_from_is_in_date_order_from_the_day_and_limited(
    add_meeting: MeetingMaker, units: SqlUnitOfWorkFactory
) -> None:
    days = [date(2027, 1, 19), date(2027, 1, 5), date(2027, 1, 26), date(2027, 1, 12)]
    for day in days:
        await add_meeting(day, 3)
    async with units() as uow:
        from_12 = await uow.meetings.list_from(date(2027, 1, 12), 10)
        two = await uow.meetings.list_from(date(2027, 1, 6), 2)
        none = await uow.meetings.list_from(date(2027, 2, 1), 10)
    assert [m.date for m in from_12] == [date(2027, 1, 12), date(2027, 1, 19), date(2027, 1, 26)]
    assert [m.date for m in two] == [date(2027, 1, 12), date(2027, 1, 19)]
    assert none == []


async def test_free_places_decrease_as_cases_are_listed(
    add_meeting: MeetingMaker, create_case: CaseMaker, units: SqlUnitOfWorkFactory
) -> None:
    first = await add_meeting(date(2027, 1, 12), 2)
    second = await add_meeting(date(2027, 1, 19), 1)
    await add_meeting(date(2027, 1, 5), 3)  # before the day asked for

    async def free() -> dict[date, int]:
        async with units() as uow:
            slots = await uow.meetings.slots_from(date(2027, 1, 8))
        assert all(s.date >= date(2027, 1, 8) for s in slots)
        by_date = {s.date: s.free_places for s in slots}
        assert len(by_date) == len(slots)
        assert {s.meeting_id for s in slots} <= {first.id, second.id}
        return {day: by_date.get(day, 0) for day in (first.date, second.date)}

    assert await free() == {first.date: 2, second.date: 1}
    await create_case("MARAT-2027-0001", choice=listed_at(first.id, first.date))
    assert await free() == {first.date: 1, second.date: 1}
    await create_case("MARAT-2027-0002", choice=listed_at(first.id, first.date))
    assert await free() == {first.date: 0, second.date: 1}
    await create_case("MARAT-2027-0003", choice=listed_at(second.id, second.date))
    assert await free() == {first.date: 0, second.date: 0}

    async with units() as uow:
        full = await uow.meetings.by_date(first.date)
    assert full is not None and (full.listed, full.free_places) == (2, 0)


async def test_listed_counts_ignore_ended_and_unlisted_listings(
    add_meeting: MeetingMaker, create_case: CaseMaker, units: SqlUnitOfWorkFactory
) -> None:
    first = await add_meeting(date(2027, 1, 12), 5)
    second = await add_meeting(date(2027, 1, 19), 5)
    moved = await create_case("MARAT-2027-0001", choice=listed_at(first.id, first.date))
    await create_case("MARAT-2027-0002", choice=listed_at(first.id, first.date))
    await create_case("MARAT-2027-0003")  # waiting: no conference

    async with units() as uow:
        await uow.cases.relist(
            moved, listed_at(second.id, second.date), AT + timedelta(days=1), "deferred"
        )
        await uow.commit()

    async with units() as uow:
        listed = {m.date: m.listed for m in await uow.meetings.list_from(first.date, 10)}
        again = await uow.meetings.add(first.date, 5, ACTOR, AT)
        nxt = await uow.meetings.next_on_or_after(second.date)
        slots = {s.date: s.free_places for s in await uow.meetings.slots_from(first.date)}
    assert listed == {first.date: 1, second.date: 1}
    assert again.listed == 1
    assert nxt is not None and nxt.listed == 1
    assert slots == {first.date: 4, second.date: 4}


# -- audit -----------------------------------------------------------------------------------

AUDIT_COLUMNS = {"id", "at", "actor", "role", "action", "case_id", "outcome", "correlation_id"}


async def test_audit_table_holds_no_personal_data_columns(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("audit_events")}
        )
    assert columns == AUDIT_COLUMNS
    assert set(AuditRow.__table__.columns.keys()) == AUDIT_COLUMNS


async def test_audit_record_writes_one_row(
    units: SqlUnitOfWorkFactory, create_case: CaseMaker
) -> None:
    case_id = await create_case("MARAT-2027-0001")
    event = AuditEvent(AT, ACTOR, "coordinator", "case.view", "ok", case_id, "corr-0001")
    bare = AuditEvent(AT + timedelta(seconds=1), "cli", "operator", "directory.import", "ok")
    async with units() as uow:
        await uow.audit.record(event)
        await uow.audit.record(bare)
        await uow.commit()
    async with units() as uow:
        rows = (await uow.session.scalars(select(AuditRow).order_by(AuditRow.id))).all()
        stored = [
            AuditEvent(r.at, r.actor, r.role, r.action, r.outcome, r.case_id, r.correlation_id)
            for r in rows
        ]
    assert stored == [event, bare]


# -- card tokens -----------------------------------------------------------------------------

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


async def test_issued_tokens_are_random_url_safe_and_stored_only_hashed(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        tokens = [await uow.tokens.issue("referral", None, ACTOR, AT) for _ in range(5)]
        await uow.commit()
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert URL_SAFE.match(token), token
        assert len(token) >= 32  # at least 192 random bits in base64

    columns = CardTokenRow.__table__.columns.keys()
    async with units() as uow:
        rows = (await uow.session.scalars(select(CardTokenRow))).all()
        hashes = sorted(r.token_hash for r in rows)
        stored_text = " ".join(str(getattr(row, column)) for row in rows for column in columns)
    assert hashes == sorted(hashlib.sha256(t.encode()).hexdigest() for t in tokens)
    for token in tokens:
        assert token not in stored_text


async def test_peek_describes_the_token(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        plain = await uow.tokens.issue("referral", None, ACTOR, AT)
        about = await uow.tokens.issue("request", 42, ACTOR, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.tokens.peek(plain) == TokenInfo("referral", None, ACTOR, False, None)
        assert await uow.tokens.peek(about) == TokenInfo("request", 42, ACTOR, False, None)


async def test_unknown_token_peeks_as_none_and_cannot_be_claimed(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        token = await uow.tokens.issue("referral", None, ACTOR, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.tokens.peek(token + "x") is None
        assert await uow.tokens.peek("") is None
        assert await uow.tokens.claim("not-a-token", ACTOR, AT, "MARAT-2027-0001") is False


async def test_claim_succeeds_once(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        token = await uow.tokens.issue("referral", None, ACTOR, AT)
        other = await uow.tokens.issue("referral", None, ACTOR, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.tokens.claim(token, ACTOR, AT, "MARAT-2027-0001") is True
        assert await uow.tokens.claim(token, ACTOR, AT, "MARAT-2027-0002") is False
        await uow.commit()
    async with units() as uow:
        assert await uow.tokens.claim(token, ACTOR, AT, "MARAT-2027-0003") is False
        assert await uow.tokens.peek(token) == TokenInfo(
            "referral", None, ACTOR, True, "MARAT-2027-0001"
        )
        assert await uow.tokens.peek(other) == TokenInfo("referral", None, ACTOR, False, None)


async def test_an_uncommitted_claim_leaves_the_token_unused(units: SqlUnitOfWorkFactory) -> None:
    async with units() as uow:
        token = await uow.tokens.issue("referral", None, ACTOR, AT)
        await uow.commit()
    async with units() as uow:
        assert await uow.tokens.claim(token, ACTOR, AT, "MARAT-2027-0001") is True
    async with units() as uow:
        info = await uow.tokens.peek(token)
        assert info is not None and info.used is False
        assert await uow.tokens.claim(token, ACTOR, AT, "MARAT-2027-0001") is True


# -- unit of work ----------------------------------------------------------------------------


async def test_leaving_without_commit_rolls_everything_back(
    units: SqlUnitOfWorkFactory, add_meeting: MeetingMaker
) -> None:
    async with units() as uow:
        await uow.directory.upsert_agency("Police", AT)
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.meetings.add(date(2027, 1, 12), 3, ACTOR, AT)
        await uow.audit.record(AuditEvent(AT, ACTOR, "coordinator", "meeting.add", "ok"))
        token = await uow.tokens.issue("referral", None, ACTOR, AT)
        # Visible inside the unit of work itself...
        assert await uow.directory.person(ADA) is not None
        assert await uow.tokens.peek(token) is not None

    with pytest.raises(RuntimeError, match="use case failed"):
        async with units() as uow:
            await uow.directory.upsert_agency("Housing", AT)
            raise RuntimeError("use case failed")

    async with units() as uow:
        assert await uow.directory.agencies() == []
        assert await uow.directory.person(ADA) is None
        assert await uow.meetings.by_date(date(2027, 1, 12)) is None
        assert await uow.tokens.peek(token) is None
        assert (await uow.session.scalars(select(AuditRow))).all() == []


async def test_commit_makes_everything_visible_to_a_new_unit_of_work(
    units: SqlUnitOfWorkFactory,
) -> None:
    async with units() as uow:
        police, _ = await uow.directory.upsert_agency("Police", AT)
        await uow.directory.upsert_person(ADA, "Ada Example", None, AT)
        await uow.directory.add_membership(ADA, "police")
        meeting = await uow.meetings.add(date(2027, 1, 12), 3, ACTOR, AT)
        token = await uow.tokens.issue("referral", None, ACTOR, AT)
        await uow.audit.record(AuditEvent(AT, ACTOR, "coordinator", "meeting.add", "ok"))
        await uow.commit()

    async with units() as uow:
        assert await uow.directory.agencies() == [police]
        person = await uow.directory.person(ADA)
        assert person is not None and person.agency_keys == frozenset({"police"})
        assert await uow.meetings.by_date(date(2027, 1, 12)) == meeting
        assert await uow.tokens.peek(token) is not None
        assert len((await uow.session.scalars(select(AuditRow))).all()) == 1
