"""Bodies of the Calls API (`/calls/v1`), in the product's shapes (camelCase keys)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewApp(Body):
    name: str = Field(description="what the app is, 1 to 100 characters")


class SessionDescription(Body):
    sdp: str
    type: Literal["offer", "answer"]


class TrackObject(Body):
    location: Literal["local", "remote"]
    mid: str | None = None
    trackName: str | None = None
    sessionId: str | None = None


class NewSession(Body):
    sessionDescription: SessionDescription | None = None


class NewTracks(Body):
    sessionDescription: SessionDescription | None = None
    tracks: list[TrackObject]


class Renegotiate(Body):
    sessionDescription: SessionDescription


class ClosedTrack(Body):
    mid: str


class CloseTracks(Body):
    tracks: list[ClosedTrack]
    sessionDescription: SessionDescription | None = None
    force: bool = False


class DataChannelObject(Body):
    location: Literal["local", "remote"]
    dataChannelName: str = Field(min_length=1, max_length=100)
    sessionId: str | None = None


class NewDataChannels(Body):
    dataChannels: list[DataChannelObject]


class CallsError(BaseModel):
    """A refusal of the session API, as the product shapes it."""

    errorCode: str
    errorDescription: str
