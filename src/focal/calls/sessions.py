"""A session: one client's PeerConnection to the SFU, its pushed and pulled tracks and channels.

The client pushes its local tracks with an offer (the SFU answers) and pulls other sessions'
tracks by (sessionId, trackName): the SFU adds a sending transceiver per track, offers, and
the client's answer comes back through `renegotiate`. Signaling on one session is one step
at a time (`lock`); each step's answer is the product's JSON shape.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from focal.calls.forwarding import Clock, Publication, Subscription, is_rtx
from focal.calls.ice import gathering_on, peer_configuration
from focal.errors import ErrorKind, FocalError

log = logging.getLogger(__name__)

FIRST_CHANNEL_ID = 512  # negotiated channel ids start here: clear of those a client opens itself
Egress = Callable[[str, int], None]  # (app id, bytes sent to a client)


def bad_request(message: str) -> FocalError:
    return FocalError(ErrorKind.BAD_REQUEST, message)


@dataclass
class LocalTrack:
    """A track this session pushes: others pull it by (this session's id, name)."""

    mid: str
    name: str
    kind: str
    publication: Publication
    transceiver: RTCRtpTransceiver
    status: str = "active"  # active | inactive (no media for a while) | closed

    def shown(self) -> dict[str, Any]:
        return {"location": "local", "mid": self.mid, "trackName": self.name, "status": self.status}


@dataclass
class RemoteTrack:
    """A track this session pulls from another one."""

    name: str
    session_id: str
    subscription: Subscription
    transceiver: RTCRtpTransceiver
    status: str = "active"

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid

    def shown(self) -> dict[str, Any]:
        return {
            "location": "remote",
            "mid": self.mid,
            "trackName": self.name,
            "sessionId": self.session_id,
            "status": self.status,
        }


@dataclass
class PublishedChannel:
    """A data channel this session writes; its messages go to every subscribed channel."""

    name: str
    channel: RTCDataChannel
    subscribers: list[RTCDataChannel] = field(default_factory=list)

    def relay(self, message: str | bytes) -> None:
        for subscriber in tuple(self.subscribers):
            if subscriber.readyState == "open":
                subscriber.send(message)


def _track_error(track: dict[str, Any], code: str, description: str) -> dict[str, Any]:
    return {**track, "errorCode": code, "errorDescription": description}


def _preferred_codecs(kind: str, publication: Publication) -> list[RTCRtpCodecCapability]:
    """The publisher's own codec (and RTX), so a subscriber gets its packets unchanged."""
    negotiated = [codec for codec in publication.negotiated if not is_rtx(codec)]
    if not negotiated:
        return []
    main = negotiated[0]
    chosen = []
    for capability in RTCRtpSender.getCapabilities(kind).codecs:
        if capability.mimeType.lower() == main.mimeType.lower():
            if main.mimeType.lower() == "video/h264" and any(
                capability.parameters.get(key) != main.parameters.get(key)
                for key in ("profile-level-id", "packetization-mode")
            ):
                continue
            chosen.append(capability)
    rtx = [c for c in RTCRtpSender.getCapabilities(kind).codecs if is_rtx(c)]  # type: ignore[arg-type]
    return chosen[:1] + rtx[:1] if chosen else []


class CallSession:
    def __init__(
        self,
        app_id: str,
        ice_addresses: Sequence[str],
        egress: Egress,
        clock: Clock = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.id = uuid.uuid4().hex
        self.ice_addresses = tuple(ice_addresses)
        self.clock = clock
        self.egress = egress
        self.pc = RTCPeerConnection(peer_configuration())
        self.lock = asyncio.Lock()
        self.local: dict[str, LocalTrack] = {}  # by mid
        self.remote: list[RemoteTrack] = []
        self.channels: dict[str, PublishedChannel] = {}  # by name
        self.channel_ids = FIRST_CHANNEL_ID
        self.connected = False
        self.last_connected = clock()  # created, or last seen connected
        self.closed = False
        self._metered: set[int] = set()
        self.pc.on("connectionstatechange", self._on_connection_state)

    def _on_connection_state(self) -> None:
        self.connected = self.pc.connectionState == "connected"
        self.last_connected = self.clock()

    def usable(self, now: float, reconnect_seconds: float) -> bool:
        """Connected, or not for at most `reconnect_seconds` (since made or last connected)."""
        return not self.closed and (
            self.connected or now - self.last_connected <= reconnect_seconds
        )

    # --- what the client sees -----------------------------------------------------------

    def shown(self) -> dict[str, Any]:
        tracks = [track.shown() for track in self.local.values()]
        tracks += [track.shown() for track in self.remote]
        return {
            "sessionId": self.id,
            "tracks": tracks,
            "dataChannels": [
                {"location": "local", "dataChannelName": name, "id": published.channel.id}
                for name, published in self.channels.items()
            ],
            "connectionState": self.pc.connectionState,
        }

    def find_local(self, name: str) -> LocalTrack | None:
        for track in self.local.values():
            if track.name == name and track.status != "closed":
                return track
        return None

    # --- signaling ----------------------------------------------------------------------

    async def _apply_remote(self, sdp: str, kind: str) -> None:
        if not any(line.startswith("m=") for line in sdp.splitlines()):
            raise bad_request(
                f"the session description ({kind}) has no media section: send the SDP of "
                "the PeerConnection's createOffer() or createAnswer()"
            )
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
        except FocalError:
            raise
        except Exception as error:  # aiortc refuses bad SDP with ValueError and its own errors
            raise bad_request(
                f"the session description is not usable: {error or type(error).__name__}"
            ) from None
        self._meter_transports()

    async def _local_description(self, kind: str) -> dict[str, str]:
        made = await (self.pc.createAnswer() if kind == "answer" else self.pc.createOffer())
        with gathering_on(self.ice_addresses):
            await self.pc.setLocalDescription(made)
        self._meter_transports()
        description = self.pc.localDescription
        return {"sdp": description.sdp, "type": description.type}

    def _meter_transports(self) -> None:
        """Count every datagram sent to the client (RTP, RTCP, DTLS with the data channels)."""
        transports = [t.sender.transport for t in self.pc.getTransceivers()]
        if self.pc.sctp is not None:
            transports.append(self.pc.sctp.transport)
        for dtls in transports:
            ice = dtls.transport
            if id(ice) not in self._metered:
                self._metered.add(id(ice))
                ice._send = self._metered_send(ice._send)  # type: ignore[assignment]

    def _metered_send(
        self, original: Callable[[bytes], Awaitable[None]]
    ) -> Callable[[bytes], Coroutine[Any, Any, None]]:
        app_id, egress = self.app_id, self.egress

        async def send(data: bytes) -> None:
            await original(data)
            egress(app_id, len(data))

        return send

    def _require_stable(self) -> None:
        if self.pc.signalingState != "stable":
            raise FocalError(
                ErrorKind.CONFLICT,
                "this session waits for the answer to the SFU's offer: send it with "
                "PUT .../renegotiate first",
            )

    async def push(self, offer: dict[str, Any], tracks: list[dict[str, Any]]) -> dict[str, Any]:
        """Local tracks, by the mids of the client's offer; the answer to it."""
        self._require_stable()
        if offer.get("type") != "offer":
            raise bad_request(
                "pushing local tracks needs the client's offer: sessionDescription.type 'offer'"
            )
        await self._apply_remote(str(offer.get("sdp", "")), "offer")
        by_mid = {t.mid: t for t in self.pc.getTransceivers() if t.mid is not None}
        answered = []
        for track in tracks:
            mid, name = str(track.get("mid", "")), str(track.get("trackName", ""))
            transceiver = by_mid.get(mid)
            shown = {"location": "local", "mid": mid, "trackName": name}
            if not name:
                answered.append(
                    _track_error(shown, "invalid_request", "a local track needs a trackName")
                )
            elif transceiver is None:
                answered.append(
                    _track_error(
                        shown, "not_found", f"the offer has no media section with mid {mid!r}"
                    )
                )
            elif mid in self.local or self.find_local(name) is not None:
                answered.append(
                    _track_error(
                        shown, "conflict", "this session already pushes this mid or track name"
                    )
                )
            else:
                publication = Publication(transceiver.kind, self.clock)
                publication.negotiated = list(transceiver._codecs)
                publication.attach(transceiver.receiver)
                publication.last_media = self.clock()  # the idle timer starts now
                self.local[mid] = LocalTrack(mid, name, transceiver.kind, publication, transceiver)
                answered.append(shown)
        description = await self._local_description("answer")
        return {
            "requiresImmediateRenegotiation": False,
            "tracks": answered,
            "sessionDescription": description,
        }

    async def pull(
        self, tracks: list[dict[str, Any]], find: Callable[[str, str], LocalTrack | None]
    ) -> dict[str, Any]:
        """Remote tracks by (sessionId, trackName); the SFU's offer carrying them."""
        self._require_stable()
        answered: list[dict[str, Any]] = []
        added: list[tuple[dict[str, Any], RemoteTrack]] = []
        for track in tracks:
            session_id, name = str(track.get("sessionId", "")), str(track.get("trackName", ""))
            shown = {"location": "remote", "sessionId": session_id, "trackName": name}
            source = find(session_id, name)
            if source is None:
                answered.append(
                    _track_error(
                        shown, "not_found", f"no track {name!r} is pushed by session {session_id!r}"
                    )
                )
                continue
            transceiver = self.pc.addTransceiver(source.kind, direction="sendonly")
            preferred = _preferred_codecs(source.kind, source.publication)
            if preferred:
                transceiver.setCodecPreferences(preferred)
            subscription = Subscription(source.publication)
            subscription.attach(transceiver.sender)
            remote = RemoteTrack(name, session_id, subscription, transceiver)
            self.remote.append(remote)
            added.append((shown, remote))
            answered.append(shown)
        if not added:
            return {"requiresImmediateRenegotiation": False, "tracks": answered}
        description = await self._local_description("offer")
        for shown, remote in added:
            shown["mid"] = remote.mid or ""
        return {
            "requiresImmediateRenegotiation": True,
            "tracks": answered,
            "sessionDescription": description,
        }

    async def renegotiate(self, answer: dict[str, Any]) -> dict[str, Any]:
        if self.pc.signalingState != "have-local-offer":
            raise bad_request("there is no offer of the SFU to answer on this session")
        if answer.get("type") != "answer":
            raise bad_request(
                "renegotiate takes the client's answer: sessionDescription.type 'answer'"
            )
        await self._apply_remote(str(answer.get("sdp", "")), "answer")
        return {}

    async def close_tracks(
        self, mids: list[str], offer: dict[str, Any] | None, force: bool
    ) -> dict[str, Any]:
        """Stop forwarding the tracks of `mids` (pushed or pulled). With the client's offer,
        it is answered; without one and without `force`, the SFU offers the change."""
        self._require_stable()
        closed: list[dict[str, Any]] = []
        for mid in mids:
            local = self.local.get(mid)
            remote = next((t for t in self.remote if t.mid == mid and t.status != "closed"), None)
            if local is not None and local.status != "closed":
                self.close_local(local)
                local.transceiver.direction = "inactive"
                closed.append({"mid": mid})
            elif remote is not None:
                remote.subscription.detach()
                remote.status = "closed"
                remote.transceiver.direction = "inactive"
                closed.append({"mid": mid})
            else:
                closed.append(
                    {
                        "mid": mid,
                        "errorCode": "not_found",
                        "errorDescription": f"no open track with mid {mid!r}",
                    }
                )
        result: dict[str, Any] = {"tracks": closed, "requiresImmediateRenegotiation": False}
        if offer is not None:
            if offer.get("type") != "offer":
                raise bad_request(
                    "closing tracks takes the client's offer: sessionDescription.type 'offer'"
                )
            await self._apply_remote(str(offer.get("sdp", "")), "offer")
            result["sessionDescription"] = await self._local_description("answer")
        elif not force:
            result["sessionDescription"] = await self._local_description("offer")
            result["requiresImmediateRenegotiation"] = True
        return result

    def close_local(self, track: LocalTrack, status: str = "closed") -> None:
        track.status = status
        for subscription in tuple(track.publication.subscriptions):
            subscription.detach()

    # --- data channels ------------------------------------------------------------------

    def _negotiated_channel(self, name: str) -> RTCDataChannel:
        if self.pc.sctp is None or self.pc.sctp.mid is None:
            raise bad_request(
                "this session's PeerConnection has no data channel transport: create a data "
                "channel before the first offer (pc.createDataChannel('server-events'))"
            )
        channel_id = self.channel_ids
        self.channel_ids += 1
        return self.pc.createDataChannel(name, negotiated=True, id=channel_id)

    def publish_channel(self, name: str) -> dict[str, Any]:
        if name in self.channels:
            raise FocalError(
                ErrorKind.CONFLICT, f"this session already has a data channel {name!r}"
            )
        published = PublishedChannel(name, self._negotiated_channel(name))
        published.channel.on("message", published.relay)
        self.channels[name] = published
        return {"location": "local", "dataChannelName": name, "id": published.channel.id}

    def subscribe_channel(self, published: PublishedChannel, session_id: str) -> dict[str, Any]:
        channel = self._negotiated_channel(published.name)
        published.subscribers.append(channel)
        return {
            "location": "remote",
            "sessionId": session_id,
            "dataChannelName": published.name,
            "id": channel.id,
        }

    async def close(self) -> None:
        self.closed = True
        for track in self.local.values():
            self.close_local(track)
        for remote in self.remote:
            remote.subscription.detach()
            remote.status = "closed"
        await self.pc.close()
