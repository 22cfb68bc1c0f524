"""The `marat` command as an operator uses it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.cli import main as cli_main
from storage.models import AgencyRow, MeetingRow, MembershipRow, PersonRow

HEADER = "agency,name,email,aad_object_id,role\n"
CASEY = "11111111-1111-4111-8111-111111111111"
PAT = "22222222-2222-4222-8222-222222222222"
GOOD = (
    HEADER
    + f",Casey Coordinator,casey@example.org,{CASEY},coordinator\n"
    + f"Police,Pat Police,pat@example.org,{PAT},contact\n"
    + f"IDVA service,Pat Police,pat@example.org,{PAT},contact\n"
    + f"Housing,Casey Coordinator,,{CASEY},contact\n"
)


async def marat(argv: list[str]) -> int:
    """Run the CLI in a worker thread: it owns its event loop, as in a separate process."""
    return await asyncio.to_thread(cli_main, argv)


def marat_sync(argv: list[str]) -> int:
    return cli_main(argv)


@pytest.fixture
def db_env(engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the CLI at the test database (fresh: the `engine` fixture empties PostgreSQL)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def test_import_creates_agencies_people_and_roles(
    db_env: str, engine: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["directory", "import", str(write(tmp_path, GOOD))]) == 0
    assert "Imported 4 rows: 3 new agencies, 2 new people" in capsys.readouterr().out
    assert await count(engine, AgencyRow) == 3
    assert await count(engine, PersonRow) == 2
    assert await count(engine, MembershipRow) == 3
    async with engine.connect() as connection:
        coordinators = (
            await connection.execute(
                select(PersonRow.aad_object_id).where(PersonRow.is_coordinator.is_(True))
            )
        ).all()
    assert [row[0] for row in coordinators] == [CASEY]


async def test_reimport_updates_and_never_duplicates(
    db_env: str, engine: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["directory", "import", str(write(tmp_path, GOOD))]) == 0
    renamed = GOOD.replace("Pat Police", "Pat Renamed").replace("Police,", "POLICE,")
    assert await marat(["directory", "import", str(write(tmp_path, renamed))]) == 0
    assert "0 new agencies, 0 new people, 2 updated" in capsys.readouterr().out
    assert await count(engine, AgencyRow) == 3
    assert await count(engine, PersonRow) == 2
    assert await count(engine, MembershipRow) == 3
    async with engine.connect() as connection:
        names = (await connection.execute(select(PersonRow.name).order_by(PersonRow.name))).all()
    assert [n[0] for n in names] == ["Casey Coordinator", "Pat Renamed"]


async def test_a_bad_row_rejects_the_whole_file_and_names_its_line(
    db_env: str, engine: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = GOOD + "Probation,Someone,,not-a-guid,contact\n"
    assert await marat(["directory", "import", str(write(tmp_path, bad))]) == 2
    error = capsys.readouterr().err
    assert "Line 6: aad_object_id must be an Entra object id" in error
    assert await count(engine, PersonRow) == 0
    assert await count(engine, AgencyRow) == 0


async def test_meetings_add_from_the_cli(
    db_env: str, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await marat(["meetings", "add", "2099-03-05", "--capacity", "12"]) == 0
    assert "Conference Thu 5 Mar 2099 saved with 12 places (0 taken)." in capsys.readouterr().out
    assert await marat(["meetings", "add", "2099-03-07"]) == 2  # a Saturday
    assert "not a working day" in capsys.readouterr().err
    assert await count(engine, MeetingRow) == 1


def test_db_upgrade_on_a_fresh_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert marat_sync(["db", "upgrade"]) == 0
    assert marat_sync(["db", "upgrade"]) == 0
    assert "Database schema is up to date." in capsys.readouterr().out


def test_commands_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert marat_sync(["meetings", "add", "2099-03-05"]) == 2
    assert "run `marat db upgrade` first" in capsys.readouterr().err


def test_a_missing_file_is_reported_plainly(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert marat_sync(["directory", "import", str(tmp_path / "missing.csv")]) == 2
    assert "Cannot read" in capsys.readouterr().err
