"""SIP test fixtures: the bot's endpoint on a free loopback port, baresip peers."""

import dataclasses
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from baresip_peer import Baresip, free_port

from telephony.sip.endpoint import SipCall, SipEndpoint
from telephony.sip.settings import SipSettings

needs_baresip = pytest.mark.skipif(
    shutil.which("baresip") is None, reason="baresip is not installed (./dev test installs it)"
)

Handler = Callable[[SipCall], Awaitable[object]]


def sip_settings(**changes: object) -> SipSettings:
    first = free_port() // 2 * 2
    base = SipSettings(enabled=True, port=0, rtp_port_min=first, rtp_port_max=first + 40)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def endpoint_with() -> AsyncIterator[Callable[..., Awaitable[SipEndpoint]]]:
    """Start endpoints: `await endpoint_with(handler, **settings)`; all stopped after."""
    started: list[SipEndpoint] = []

    async def start(handler: Handler | None = None, **changes: object) -> SipEndpoint:
        endpoint = SipEndpoint(sip_settings(**changes), on_inbound=handler)
        await endpoint.start()
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        await endpoint.stop()


@pytest.fixture
async def baresip(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Baresip]]]:
    """Start baresip peers: `await baresip(user, answer=..., codecs=...)`; all stopped after."""
    peers: list[Baresip] = []

    async def start(user: str = "borrower", **options: str) -> Baresip:
        peer = Baresip(tmp_path / f"baresip-{user}-{len(peers)}", user, **options)
        peers.append(peer)
        return await peer.start()

    yield start
    for peer in peers:
        await peer.stop()
