"""The `marat` command: serve the bot, migrate the database, import the directory, add
conferences, back up. Errors are one readable line and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.domain.clock import LONDON
from bot.domain.directory import parse_directory_csv
from bot.domain.errors import FieldErrors, MaratError
from bot.domain.referral import criteria_text
from bot.domain.wording import day, moment, plural
from bot.logs import configure_logging
from bot.ops import figures_cli
from bot.ops.demo import seed_demo
from bot.ops.demo_run import run_demo
from bot.ops.launcher import LaunchError
from bot.ops.pack_markdown import pack_markdown
from bot.ops.teams_package import PackageError, PackageOptions, build_package
from bot.services.reminders import PreviewLine, case_reminders, preview
from bot.settings import Settings, SettingsError, load_settings
from bot.teams.app import Runtime, StartupError, build_runtime, serve
from dialogs.base import Dependencies
from storage.backup import BackupError, backup_sqlite
from storage.migrate import upgrade

log = logging.getLogger("marat")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marat", description="marat-bot: the MARAT in Teams.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot (POST /api/messages)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 3978)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="migrate, then seed a demo directory and conference dates",
    )

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every migration (safe to repeat)")

    directory = commands.add_parser("directory", help="agencies, contacts and roles")
    directory_commands = directory.add_subparsers(dest="directory_command", required=True)
    importer = directory_commands.add_parser("import", help="load a CSV (all or nothing)")
    importer.add_argument("file", type=Path)

    meetings = commands.add_parser("meetings", help="the conference calendar")
    meeting_commands = meetings.add_subparsers(dest="meetings_command", required=True)
    add = meeting_commands.add_parser("add", help="add a conference date")
    add.add_argument("date", type=date.fromisoformat, help="YYYY-MM-DD")
    add.add_argument("--capacity", type=int, help="cases it can take (default 18)")
    agenda = commands.add_parser(
        "agenda", help="a conference's agenda, or with --pack its conference pack (offline copy)"
    )
    agenda.add_argument("date", type=_iso_date, help="YYYY-MM-DD: the conference's date")
    agenda.add_argument(
        "--pack",
        action="store_true",
        help="the whole pack: per case the summary, returns, discussion and outstanding actions",
    )
    agenda.add_argument("--format", choices=["md"], default="md", help="output format (md)")
    reminders = commands.add_parser("reminders", help="reminders and escalations")
    reminder_commands = reminders.add_subparsers(dest="reminders_command", required=True)
    preview = reminder_commands.add_parser(
        "preview", help="what would be sent at a moment (Europe/London), without sending"
    )
    preview.add_argument("--at", required=True, type=_london_minute, metavar="YYYY-MM-DDTHH:MM")
    listing = reminder_commands.add_parser("list", help="a case's reminders and their state")
    listing.add_argument("--case", required=True, metavar="REF")

    demo = commands.add_parser(
        "demo", help="the bot with demo data and the Agents Playground together (Ctrl-C stops)"
    )
    demo.add_argument("--port", type=int, default=3978, help="the bot's port (default 3978)")
    demo.add_argument(
        "--playground-port", type=int, default=56150, help="the Playground's (default 56150)"
    )

    backup = commands.add_parser(
        "backup", help="copy the SQLite database consistently while the bot runs"
    )
    backup.add_argument("file", type=Path, help="the new file to write (never overwritten)")
    figures_cli.add_parsers(commands)

    package = commands.add_parser("teams-package", help="build the Teams app package (zip)")
    package.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId)")
    package.add_argument("--developer-name", required=True, help="shown in Teams' app details")
    package.add_argument("--website", required=True, metavar="URL")
    package.add_argument("--privacy", required=True, metavar="URL")
    package.add_argument("--terms", required=True, metavar="URL")
    package.add_argument("--name", default="MARAT", help="the app's short name in Teams")
    package.add_argument("--version", default="1.0.0", help="the package version, e.g. 1.0.0")
    package.add_argument("--out", type=Path, default=Path("marat-teams.zip"))
    return parser


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DD") from None


def _london_minute(value: str) -> datetime:
    try:
        local = datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DDTHH:MM (Europe/London)") from None
    return local.replace(tzinfo=LONDON).astimezone(UTC)


def _recipients(line: PreviewLine) -> str:
    return f" to [{line.to}]" if line.to else ""


def _reminders_preview(settings: Settings, at: datetime) -> str:
    async def run(runtime: Runtime) -> str:
        allowed, lines = await preview(runtime.sweep, at)
        head = f"At {moment(at)} (Europe/London):"
        if not allowed:
            head += (
                " nothing is sent at this time (only 08:00-18:00 on working days); "
                "these would go at the next opening"
            )
        rows = [head]
        rows += [
            f"  {moment(line.due_at)}  {line.kind.value:<20} {line.case_reference or '-':<16} "
            f"{line.verdict}{_recipients(line)} because {line.why}"
            for line in lines
        ]
        if not lines:
            rows.append("  nothing is due")
        return "\n".join(rows)

    return _with_runtime(settings, run)


def _reminders_list(settings: Settings, reference: str) -> str:
    async def run(runtime: Runtime) -> str:
        found, lines = await case_reminders(runtime.sweep, reference)
        rows = [f"Reminders of {found}:"]
        rows += [
            f"  {moment(line.due_at)}  {line.kind.value:<20} {line.verdict:<10}"
            f"{_recipients(line)} because {line.why}"
            for line in lines
        ]
        return "\n".join(rows)

    return _with_runtime(settings, run)


def _agenda(settings: Settings, when: date, full: bool) -> str:
    async def run(runtime: Runtime) -> str:
        ctx = runtime.context
        pack = await runtime.deps.packs.export(when, "pack.export" if full else "agenda.export")
        if full:
            return pack_markdown(pack, ctx.calendar, ctx.today()).rstrip("\n")
        rows = [f"# MARAC conference {day(pack.meeting.date)}", ""]
        rows.append(f"{plural(len(pack.cases), 'case')}, in agenda order:")
        rows += [
            f"{n}. {e.case.reference} ({e.section}): {e.case.referral.victim_initials}, "
            f"{criteria_text(e.case.referral.criteria, e.case.referral.dash_score)}, "
            f"returns {e.case.returns_in}/{e.case.returns_due}"
            for n, e in enumerate(pack.cases, 1)
        ]
        return "\n".join(rows)

    return _with_runtime(settings, run)


def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[str]]) -> str:
    async def run() -> str:
        runtime = build_runtime(settings)
        try:
            if not await runtime.database.schema_is_current():
                raise StartupError(
                    "The database schema is not up to date: run `marat db upgrade` first."
                )
            return await work(runtime)
        finally:
            await runtime.database.dispose()

    return asyncio.run(run())


def _with_deps(settings: Settings, work: Callable[[Dependencies], Awaitable[str]]) -> str:
    return _with_runtime(settings, lambda runtime: work(runtime.deps))


def _serve(settings: Settings, demo: bool) -> None:
    settings.check_can_serve()
    if demo:
        upgrade(settings.database_url)

        async def seed(deps: Dependencies) -> str:
            await seed_demo(deps)
            return "demo directory and conferences ready"

        log.info(_with_deps(settings, seed))
    serve(settings)


def _import_directory(settings: Settings, path: Path) -> str:
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StartupError(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise StartupError(f"{path} is not UTF-8 text.") from None
    rows = parse_directory_csv(content)

    async def apply(deps: Dependencies) -> str:
        s = await deps.directory.import_directory(rows)
        return (
            f"Imported {plural(len(rows), 'row')}: "
            f"{plural(s.agencies_created, 'new agency', 'new agencies')}, "
            f"{s.people_created} new people, {s.people_updated} updated, "
            f"{plural(s.memberships_added, 'new agency contact')}."
        )

    return _with_deps(settings, apply)


def _add_meeting(settings: Settings, when: date, capacity: int | None) -> str:
    async def add(deps: Dependencies) -> str:
        added = await deps.conferences.add_meeting(None, when, capacity)
        text = (
            f"Conference {day(added.meeting.date)} saved with "
            f"{plural(added.meeting.capacity, 'place')} ({added.meeting.listed} taken)."
        )
        if added.newly_listed:
            text += f" Listed waiting cases: {', '.join(added.newly_listed)}."
        return text

    return _with_deps(settings, add)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides: dict[str, object] = {}
        if args.command == "serve":
            if args.host:
                overrides["host"] = args.host
            if args.port:
                overrides["port"] = args.port
        settings = load_settings(**overrides)
        configure_logging(settings.log_level)
        if args.command == "serve":
            _serve(settings, args.demo)
        elif args.command == "demo":
            return run_demo(settings.database_url, args.port, args.playground_port)
        elif args.command == "db":
            upgrade(settings.database_url)
            print("Database schema is up to date.")
        elif args.command == "directory":
            print(_import_directory(settings, args.file))
        elif args.command == "meetings":
            print(_add_meeting(settings, args.date, args.capacity))
        elif args.command == "agenda":
            print(_agenda(settings, args.date, args.pack))
        elif args.command == "reminders" and args.reminders_command == "preview":
            print(_reminders_preview(settings, args.at))
        elif args.command == "reminders":
            print(_reminders_list(settings, args.case))
        elif args.command == "backup":
            made = backup_sqlite(settings.database_url, args.file)
            print(
                f"Backed up {made.source.name} to {made.target} "
                f"({made.size_bytes // 1024} KiB, integrity checked)."
            )
        elif args.command in ("report", "capacity"):
            sys.stdout.write(figures_cli.run(settings, args))
        elif args.command == "teams-package":
            options = PackageOptions(
                args.app_id or settings.app_id,
                args.developer_name,
                args.website,
                args.privacy,
                args.terms,
                args.version,
                args.name,
            )
            args.out.write_bytes(build_package(options))
            print(f"Wrote {args.out}: upload it in Teams (Apps > Manage your apps > Upload).")
    except FieldErrors as error:
        print("marat: " + " ".join(error.errors.values()), file=sys.stderr)
        return 2
    except (
        SettingsError,
        StartupError,
        MaratError,
        PackageError,
        LaunchError,
        BackupError,
    ) as error:
        print(f"marat: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
