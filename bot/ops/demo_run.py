"""`marat demo`: the bot on SQLite with the demo data and the Agents Playground together, so a
newcomer gets from a fresh clone to a working Teams-like chat with one command."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import FrameType

from bot.ops.launcher import LaunchError, Stack, port_is_free, start_stack
from storage.db import sqlite_file

WORKDIR = Path(".marat-demo")


class _Stop(Exception):
    """Ctrl-C or SIGTERM: stop both processes and leave."""


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def run_demo(database_url: str, bot_port: int, playground_port: int) -> int:
    """Start both, print the one address to open, and stop both on Ctrl-C (exit 0), or when
    one of them dies (exit 2, with the tail of its log)."""
    for port, what in ((bot_port, "the bot"), (playground_port, "the Playground")):
        if not port_is_free(port):
            raise LaunchError(f"Port {port} (for {what}) is in use; choose another with --port.")
    # The bot runs in .marat-demo/ (for its logs): a relative SQLite file stays where the user is.
    database = sqlite_file(database_url)
    if database is not None:
        database_url = f"sqlite:///{database}"
    previous = signal.signal(signal.SIGTERM, _stop)
    stack: Stack | None = None
    try:
        print("Starting marat-bot (SQLite, demo data) and the Agents Playground…", flush=True)
        stack = start_stack(
            WORKDIR.resolve(),
            database_url,
            bot_port,
            playground_port,
            timeout=60.0,
            install=True,
            bot_env=dict(os.environ),
        )
        print(
            f"Ready. Open {stack.playground.url} in your browser "
            "(you are Alex Wilber, a coordinator and every agency's contact). "
            "Ctrl-C stops both.",
            flush=True,
        )
        while stack.running():
            time.sleep(0.5)
        dead = next(p for p in stack.processes if p.exited() is not None)
        print(f"{dead.name} stopped unexpectedly; its log ends:\n{dead.tail()}", flush=True)
        return 2
    except (KeyboardInterrupt, _Stop):
        print("Stopping…", flush=True)
        return 0
    finally:
        if stack is not None:
            stack.stop()
        signal.signal(signal.SIGTERM, previous)
