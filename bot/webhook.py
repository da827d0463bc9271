"""Webhook mode: Telegram posts updates to an aiohttp server instead of the bot polling.

* ``POST <path of SUPOLKA_WEBHOOK_URL>`` takes one update. Telegram sends the secret given to
  ``setWebhook`` in a header; a request without it is refused with 401 and one log line.
  The update is handled before the answer goes back, so an update cut short by a crash is sent
  again by Telegram (and a repeated one is recognised by the redelivery guard).
* ``GET /healthz`` answers 200 when the database is reachable and its migrations are current
  (and Redis answers, when configured), else 503 with the reasons. No one's data is in it.
* On SIGTERM or SIGINT the server stops taking updates (503, which Telegram retries later),
  finishes the ones in flight, then closes.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.db import Database, current_version, latest_version

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
#: How long shutdown waits for updates in flight before it closes anyway.
DRAIN_SECONDS = 25.0
#: Refused requests are logged at most once a minute, with how many there were: a scanner
#: must not fill the journal.
REFUSAL_LOG_SECONDS = 60.0

#: Extra health checks (Redis): each returns a problem in a few words, or None.
HealthCheck = Callable[[], Awaitable[str | None]]


class UpdateReceiver:
    """Takes updates from Telegram and feeds them to the dispatcher, counting those in flight."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._secret = secret.encode()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._refused = 0
        self._refusal_logged_at: float | None = None
        self.accepting = True

    async def handle(self, request: web.Request) -> web.Response:
        """One update from Telegram: checked, handled, then answered."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._note_refusal()
            return web.Response(status=401, text="unauthorized")
        if not self.accepting:
            return web.Response(status=503, text="shutting down")
        # Counted from here, body and all, so that a drain waits for it.
        self._in_flight += 1
        self._idle.clear()
        try:
            try:
                update = Update.model_validate(await request.json(), context={"bot": self._bot})
            except (ValueError, ValidationError):
                log.warning("webhook: refused a request that is not an update (400)")
                return web.Response(status=400, text="not an update")
            await self._dispatcher.feed_update(self._bot, update)
        except Exception as error:  # as polling does: log, and go on
            # Answering 200 all the same: an update that fails every time must not come back
            # for ever. The error router has told the user; here only the kind is logged.
            log.error("webhook: an update failed with %s", type(error).__name__)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
        return web.Response(status=200)

    def _note_refusal(self) -> None:
        """Someone other than Telegram found the address. Only the fact is logged: the request
        carries nothing of ours, and its origin is not our data."""
        self._refused += 1
        now = time.monotonic()
        if self._refusal_logged_at is None or now - self._refusal_logged_at >= REFUSAL_LOG_SECONDS:
            log.warning(
                "webhook: refused %d request(s) without the right secret token (401)",
                self._refused,
            )
            self._refused = 0
            self._refusal_logged_at = now

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def drain(self, within: float = DRAIN_SECONDS) -> bool:
        """Stop taking updates and wait for those in flight; False if time ran out."""
        self.accepting = False
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


async def health_problems(db: Database, extra: Sequence[HealthCheck] = ()) -> list[str]:
    """What keeps the bot from serving, in a few words each; empty when healthy."""
    problems = []
    try:
        version = await current_version(db)
    except sqlite3.Error:
        problems.append("database unreachable")
    else:
        if version != latest_version():
            problems.append(f"database schema {version}, expected {latest_version()}")
    for check in extra:
        problem = await check()
        if problem:
            problems.append(problem)
    return problems


def create_webhook_app(
    receiver: UpdateReceiver, path: str, db: Database, extra: list[HealthCheck] | None = None
) -> web.Application:
    """The aiohttp application: the update endpoint and the health check."""

    async def healthz(request: web.Request) -> web.Response:
        problems = await health_problems(db, extra or [])
        if not receiver.accepting:
            problems.insert(0, "shutting down")
        body: dict[str, Any] = {"status": "unavailable" if problems else "ok"}
        if problems:
            body["problems"] = problems
        return web.json_response(body, status=503 if problems else 200)

    app = web.Application()
    app.router.add_post(path, receiver.handle)
    app.router.add_get(HEALTH_PATH, healthz)
    return app


async def serve(
    app: web.Application,
    receiver: UpdateReceiver,
    host: str,
    port: int,
    stop: asyncio.Event,
    listening: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve until ``stop`` is set, then drain the updates in flight and close the server.

    ``listening`` runs once the port is open (``setWebhook``: Telegram's first posts must find
    the server there).
    """
    runner = web.AppRunner(app, access_log=None)  # the access log would hold client addresses
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
        log.info("webhook server listening on %s:%s", host, port)
        if listening is not None:
            await listening()
        await stop.wait()
    finally:
        if not await receiver.drain():
            log.warning("webhook: %s update(s) still in flight at shutdown", receiver.in_flight)
        await runner.cleanup()


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) ask for a graceful stop."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
