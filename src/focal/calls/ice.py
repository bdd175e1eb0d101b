"""ICE on the configured addresses only: bound and announced, no STUN server, no other interface.

aioice gathers every non-loopback address of the host (`aioice.ice.get_host_addresses`), so
a server with FOCAL_CALLS_ICE_ADDRESSES, and tests on 127.0.0.1, replace that list. The
replacement is scoped by a context variable set around the gathering (`gathering_on`), so
one process can hold peer connections gathering on different addresses.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import aioice.ice
from aiortc import RTCBundlePolicy, RTCConfiguration

_addresses: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "focal_calls_ice_addresses", default=None
)
_aioice_host_addresses = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _addresses.get()
    if chosen is None:
        return _aioice_host_addresses(use_ipv4, use_ipv6)
    return [
        address
        for address in chosen
        if (":" in address and use_ipv6) or ("." in address and use_ipv4)
    ]


aioice.ice.get_host_addresses = _host_addresses


@contextmanager
def gathering_on(addresses: Sequence[str]) -> Iterator[None]:
    """ICE candidates gathered inside this block are host candidates of `addresses` only
    (empty: aioice's own choice). Tasks started inside inherit it."""
    token = _addresses.set(tuple(addresses) or None)
    try:
        yield
    finally:
        _addresses.reset(token)


def peer_configuration() -> RTCConfiguration:
    """No STUN or TURN server (aiortc would ask Google's otherwise): only host candidates;
    one transport for every track and the data channels."""
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
