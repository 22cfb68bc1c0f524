"""A loopback stand-in for the Bot Connector service: records what the bot sends."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeConnector:
    """Accepts `POST .../activities` (send) and `PUT .../activities/{id}` (update)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> FakeConnector:
        await self.server.start_server()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))

    async def _send(self, request: web.Request) -> web.Response:
        activity = await request.json()
        activity["_conversation"] = request.match_info["conversation"]
        self.sent.append(activity)
        self._arrived.set()
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        activity = await request.json()
        activity["_id"] = request.match_info["activity"]
        self.updated.append(activity)
        self._arrived.set()
        return web.json_response({"id": request.match_info["activity"]})

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait (on an event, not a sleep) until ``count`` activities have been sent."""

        async def arrived() -> None:
            while len(self.sent) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(arrived(), timeout)
        return self.sent
