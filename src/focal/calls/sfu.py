"""The SFU: every app's sessions, the lookups between them, and the rules of time.

Sessions live in this process (a fleet routes an app's sessions to one SFU); an app sees only
its own sessions: another app's session id is unknown here. A sweep, once a second, closes
pushed tracks without media for `track_idle_seconds` and sessions that lost connectivity
more than `reconnect_seconds` ago. Its clock can be given, so tests need not wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from focal.calls.forwarding import Clock
from focal.calls.sessions import CallSession, Egress, LocalTrack, PublishedChannel, bad_request
from focal.errors import ErrorKind, FocalError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallsLimits:
    ice_addresses: tuple[str, ...] = ()
    max_tracks_per_request: int = 64
    track_idle_seconds: float = 30.0
    reconnect_seconds: float = 30.0


class Sfu:
    def __init__(self, limits: CallsLimits, egress: Egress, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.egress = egress
        self.clock = clock
        self._apps: dict[str, dict[str, CallSession]] = {}

    def sessions_of(self, app_id: str) -> dict[str, CallSession]:
        return self._apps.setdefault(app_id, {})

    def now(self) -> float:
        """The clock's time; read through `self.clock` so a test may swap the clock."""
        return self.clock()

    def new_session(self, app_id: str) -> CallSession:
        session = CallSession(app_id, self.limits.ice_addresses, self.egress, self.now)
        self.sessions_of(app_id)[session.id] = session
        return session

    def session(self, app_id: str, session_id: str) -> CallSession:
        """The app's session, if it is still usable; any other app's is unknown here."""
        session = self._apps.get(app_id, {}).get(session_id)
        if session is None or not session.usable(self.clock(), self.limits.reconnect_seconds):
            raise FocalError(
                ErrorKind.NOT_FOUND,
                f"no session {session_id!r} in this app: it never was, or it was closed after "
                f"{self.limits.reconnect_seconds:g} s without connectivity",
            )
        return session

    def find_track(self, app_id: str, session_id: str, name: str) -> LocalTrack | None:
        session = self._apps.get(app_id, {}).get(session_id)
        if session is None or session.closed:
            return None
        return session.find_local(name)

    def find_channel(self, app_id: str, session_id: str, name: str) -> PublishedChannel | None:
        session = self._apps.get(app_id, {}).get(session_id)
        if session is None or session.closed:
            return None
        return session.channels.get(name)

    def check_track_count(self, tracks: Sequence[Any]) -> None:
        limit = self.limits.max_tracks_per_request
        if not tracks:
            raise bad_request("tracks is empty: name at least one track")
        if len(tracks) > limit:
            raise bad_request(
                f"{len(tracks)} tracks in one request: at most {limit} "
                "(FOCAL_CALLS_MAX_TRACKS_PER_REQUEST)"
            )

    async def drop_app(self, app_id: str) -> None:
        for session in self._apps.pop(app_id, {}).values():
            await session.close()

    async def sweep(self) -> None:
        """Close idle pushed tracks and sessions past their time to reconnect."""
        now = self.clock()
        for sessions in list(self._apps.values()):
            for session_id, session in list(sessions.items()):
                if not session.usable(now, self.limits.reconnect_seconds):
                    del sessions[session_id]
                    await session.close()
                    continue
                for track in session.local.values():
                    idle_since = track.publication.last_media or now
                    if (
                        track.status == "active"
                        and now - idle_since > self.limits.track_idle_seconds
                    ):
                        session.close_local(track)

    async def sweep_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.sweep()
            except Exception:  # pragma: no cover - a sweep must not stop the next ones
                log.exception("calls: sweep failed")

    async def aclose(self) -> None:
        for app_id in list(self._apps):
            await self.drop_app(app_id)
