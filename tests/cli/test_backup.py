"""``marat backup FILE`` (issue 12, point 7): a consistent online copy of the SQLite database
while the bot runs and writes, which restores to a working bot.

A real ``marat serve`` on a SQLite file takes referrals over HTTP, one after another, while
``marat backup`` runs as its own process. The copy is moved into a fresh directory and served
by a second ``marat serve``: its ``cases`` list shows every case the copy holds, and the copy
holds every referral confirmed before the backup started, each one whole (case, referral,
its three information requests). Everything is synthetic.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ops.cli import main as marat
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.replicas import (
    COORDINATOR,
    CountingConnector,
    Replicas,
    Seeder,
    eventually,
)
from tests.support.teams_users import TeamsUser, card_of, refer_case

REFERENCE = re.compile(r"MARAT-\d{4}-\d{4}")


@pytest.fixture
async def connector() -> AsyncIterator[CountingConnector]:
    running = CountingConnector()
    async with running:
        yield running


@pytest.fixture
async def database(tmp_path: Path, connector: CountingConnector) -> AsyncIterator[Path]:
    """A migrated SQLite file with a directory of three agencies whose chats are at the
    fake connector."""
    path = tmp_path / "live" / "marat.sqlite3"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    seeder = Seeder(SqlUnitOfWorkFactory(session_factory(engine)), connector.url)
    await seeder.directory(agencies=3)
    await engine.dispose()
    yield path


def backup(url: str, target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = Replicas(url, cwd).environment(Replicas(url, cwd).clock_now())
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.cli", "backup", str(target)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_backup_taken_under_load_restores_to_a_bot_that_shows_every_case(
    database: Path, connector: CountingConnector, tmp_path: Path
) -> None:
    url = f"sqlite:///{database}"
    live = Replicas(url, tmp_path / "live-bot")
    live.workdir.mkdir()
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    try:
        [bot] = await live.start(1, live.clock_now())
        coordinator = TeamsUser(
            COORDINATOR, "29:synthetic-user-0", "a:synthetic-chat-0", connector.url
        )
        agencies = [agency for agency in _agency_keys(database)]
        confirmed: list[str] = []
        stop = asyncio.Event()

        async def keep_referring() -> None:
            while not stop.is_set() and len(confirmed) < 60:
                confirmed.append(
                    await refer_case(coordinator, bot, connector.sent, agencies, "2027-01-04")
                )

        writer = asyncio.create_task(keep_referring())
        await eventually(lambda: _at_least(confirmed, 4), 60, "the first referrals")
        before_backup = list(confirmed)
        copy = tmp_path / "marat-backup.sqlite3"
        done = await asyncio.to_thread(backup, url, copy, tmp_path)
        after_backup = list(confirmed)
        await eventually(lambda: _at_least(confirmed, len(after_backup) + 2), 60, "more writes")
        stop.set()
        await writer
    finally:
        await live.stop_all()

    assert done.returncode == 0, done.stderr
    assert "integrity checked" in done.stdout
    shutil.move(copy, restored_dir / "marat.sqlite3")
    held = _cases_in(restored_dir / "marat.sqlite3")
    assert set(before_backup) <= set(held), "every referral confirmed before the backup"
    assert set(held) <= set(confirmed), "nothing that was never confirmed"
    assert len(held) < len(confirmed), "the bot went on writing after the copy was taken"
    assert _requests_per_case(restored_dir / "marat.sqlite3") == dict.fromkeys(held, 3), (
        "each case whole"
    )

    restored = Replicas(f"sqlite:///{restored_dir / 'marat.sqlite3'}", tmp_path / "restored-bot")
    restored.workdir.mkdir()
    try:
        [again] = await restored.start(1, restored.clock_now())
        sent_before = len(connector.sent)
        assert await coordinator.say(again, "cases") is not None

        def case_list() -> dict[str, object] | None:
            # The restored bot may deliver other messages meanwhile (reminders due now):
            # the answer is the card that lists the open cases.
            cards = [card_of(a) for a in connector.sent[sent_before:]]
            return next((c for c in cards if c and "Open cases" in str(c)), None)

        async def answered() -> bool:
            return case_list() is not None

        await eventually(answered, 30, "the restored bot answers `cases`")
        listed = set(REFERENCE.findall(str(case_list())))
    finally:
        await restored.stop_all()
    assert listed == set(held), "marat serve on the copy shows every case it holds"


def _agency_keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [key for (key,) in connection.execute("SELECT key FROM agencies ORDER BY id")]


def _cases_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [ref for (ref,) in connection.execute("SELECT reference FROM cases ORDER BY id")]


def _requests_per_case(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return dict(
            connection.execute(
                "SELECT c.reference, count(r.id) FROM cases c "
                "LEFT JOIN information_requests r ON r.case_id = c.id GROUP BY c.reference"
            ).fetchall()
        )


async def _at_least(items: list[str], count: int) -> bool:
    return len(items) >= count


def test_backup_of_postgresql_points_to_pg_dump(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    assert marat(["backup", "copy.sqlite3"]) == 2
    error = capsys.readouterr().err
    assert "pg_dump" in error and "Traceback" not in error


def test_backup_never_overwrites_a_file(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"keep me")
    assert marat(["backup", str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    fresh = tmp_path / "fresh.sqlite3"
    assert marat(["backup", str(fresh)]) == 0
    with sqlite3.connect(fresh) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
