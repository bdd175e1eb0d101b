"""Live inputs and their videos as the management API shows and changes them.

Synchronous (the HTTP layer runs each call in a thread). A body is checked whole before
anything is stored: an unknown field or a wrong type is a 400 that names it.
"""

from __future__ import annotations

from typing import Any

from focal.catalog.live_streams import LIVE, READY, LiveInput, StreamCatalog, Video
from focal.catalog.times import from_micros, now_micros
from focal.errors import ErrorKind, FocalError
from focal.storage import BlobStore

DAY_SECONDS = 86_400
MODES = ("automatic", "off")
DEFAULTS: dict[str, Any] = {
    "meta": {},
    "enabled": True,
    "recording_mode": "automatic",
    "timeout_seconds": 0,
    "require_signed_urls": False,
    "allowed_origins": [],
    "delete_after_days": None,
}
RECORDING_FIELDS = {
    "mode": "recording_mode",
    "timeoutSeconds": "timeout_seconds",
    "requireSignedURLs": "require_signed_urls",
    "allowedOrigins": "allowed_origins",
}


def _bad(message: str) -> FocalError:
    return FocalError(ErrorKind.BAD_REQUEST, message)


def _integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{name} is a whole number from {low} to {high:,}")
    return value


def input_settings(body: object, current: LiveInput | None = None) -> dict[str, Any]:
    """The stored settings a create (no `current`) or update body asks for."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    settings: dict[str, Any] = dict(DEFAULTS)
    if current is not None:
        settings.update(
            meta=current.meta,
            enabled=current.enabled,
            recording_mode=current.recording_mode,
            timeout_seconds=current.timeout_seconds,
            require_signed_urls=current.require_signed_urls,
            allowed_origins=current.allowed_origins,
            delete_after_days=current.delete_after_days,
        )
    unknown = set(body) - {"meta", "enabled", "recording", "deleteRecordingAfterDays"}
    if unknown:
        raise _bad(
            f"unknown field(s) {', '.join(sorted(unknown))}: a live input has meta, "
            "enabled, recording and deleteRecordingAfterDays"
        )
    if "meta" in body:
        if not isinstance(body["meta"], dict):
            raise _bad("meta must be a JSON object")
        settings["meta"] = body["meta"]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise _bad("enabled must be true or false")
        settings["enabled"] = body["enabled"]
    if "deleteRecordingAfterDays" in body:
        days = body["deleteRecordingAfterDays"]
        settings["delete_after_days"] = (
            None if days is None else _integer(days, "deleteRecordingAfterDays", 1, 36_500)
        )
    recording = body.get("recording", {})
    if not isinstance(recording, dict):
        raise _bad("recording must be a JSON object")
    unknown = set(recording) - set(RECORDING_FIELDS)
    if unknown:
        raise _bad(
            f"unknown recording field(s) {', '.join(sorted(unknown))}: it has "
            + ", ".join(RECORDING_FIELDS)
        )
    if "mode" in recording:
        if recording["mode"] not in MODES:
            raise _bad("recording.mode is 'automatic' or 'off'")
        settings["recording_mode"] = recording["mode"]
    if "timeoutSeconds" in recording:
        settings["timeout_seconds"] = _integer(
            recording["timeoutSeconds"], "recording.timeoutSeconds", 0, 3600
        )
    if "requireSignedURLs" in recording:
        if not isinstance(recording["requireSignedURLs"], bool):
            raise _bad("recording.requireSignedURLs must be true or false")
        settings["require_signed_urls"] = recording["requireSignedURLs"]
    if "allowedOrigins" in recording:
        origins = recording["allowedOrigins"]
        if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
            raise _bad("recording.allowedOrigins must be a list of origins (strings)")
        settings["allowed_origins"] = origins
    return settings


def _time(micros: int | None) -> str | None:
    return None if micros is None else from_micros(micros).isoformat().replace("+00:00", "Z")


def describe_input(live_input: LiveInput, rtmp_url: str) -> dict[str, Any]:
    return {
        "uid": live_input.uid,
        "created": _time(live_input.created),
        "modified": _time(live_input.modified),
        "meta": live_input.meta,
        "enabled": live_input.enabled,
        "recording": {
            "mode": live_input.recording_mode,
            "timeoutSeconds": live_input.timeout_seconds,
            "requireSignedURLs": live_input.require_signed_urls,
            "allowedOrigins": live_input.allowed_origins,
        },
        "deleteRecordingAfterDays": live_input.delete_after_days,
        "status": {
            "current": {
                "state": live_input.state,
                "reason": live_input.reason,
                "statusEnteredAt": _time(live_input.state_at),
            }
        },
        "rtmp": {"url": rtmp_url, "streamKey": live_input.stream_key},
    }


def describe_video(video: Video, base_url: str) -> dict[str, Any]:
    return {
        "uid": video.uid,
        "liveInput": video.live_input,
        "created": _time(video.created),
        "modified": _time(video.modified),
        "status": {"state": video.state},
        "readyToStream": True,
        "duration": round(video.duration, 3),
        "requireSignedURLs": video.require_signed_urls,
        "playback": {"hls": f"{base_url}/stream/{video.uid}/manifest/video.m3u8"},
        "preview": f"{base_url}/stream/{video.uid}/watch",
    }


class StreamInputs:
    def __init__(self, catalog: StreamCatalog, blobs: BlobStore) -> None:
        self.catalog, self.blobs = catalog, blobs

    def get(self, uid: str) -> LiveInput:
        live_input = self.catalog.get_input(uid)
        if live_input is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no live input {uid!r}")
        return live_input

    def create(self, body: object) -> LiveInput:
        return self.catalog.create_input(input_settings(body))

    def update(self, uid: str, body: object) -> LiveInput:
        updated = self.catalog.update_input(uid, input_settings(body, self.get(uid)))
        if updated is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no live input {uid!r}")
        return updated

    def delete(self, uid: str) -> None:
        """The input and every recording of it."""
        self.get(uid)
        for video in self.catalog.videos_of(uid):
            self.delete_video(video.uid)
        self.catalog.delete_input(uid)

    def videos(self, uid: str) -> list[Video]:
        self.get(uid)
        return self.catalog.videos_of(uid)

    def video(self, uid: str) -> Video:
        video = self.catalog.get_video(uid)
        if video is None:
            raise FocalError(ErrorKind.NOT_FOUND, f"no video {uid!r}")
        return video

    def delete_video(self, uid: str) -> None:
        """Out of the index first (no manifest lists it any more), then every segment."""
        if not self.catalog.delete_video(uid):
            raise FocalError(ErrorKind.NOT_FOUND, f"no video {uid!r}")
        self.blobs.delete_prefix(f"stream/{uid}/")

    def sweep(self, now: int | None = None) -> int:
        """Delete recordings past their input's deleteRecordingAfterDays, and finished
        recordings of inputs that record nothing (`off`: kept only while live)."""
        now = now_micros() if now is None else now
        removed = 0
        for video in self.catalog.videos_in_state(READY):
            live_input = self.catalog.get_input(video.live_input)
            if live_input is None or live_input.recording_mode == "off":
                expired = True
            elif live_input.delete_after_days is None or video.ready_at is None:
                expired = False
            else:
                expired = (
                    now - video.ready_at >= live_input.delete_after_days * DAY_SECONDS * 1_000_000
                )
            if expired:
                self.delete_video(video.uid)
                removed += 1
        return removed


__all__ = ["LIVE", "READY", "StreamInputs", "describe_input", "describe_video", "input_settings"]
