"""A call's media: SDP offer/answer for G.711 and the aiortp RTP session that carries it.

Only PCMU (payload type 0) and PCMA (8) are offered and accepted, at 20 ms a packet,
with RFC 4733 telephone-events for DTMF. Receiving goes through aiortp's jitter buffer
(reordering, loss concealment); sending is clocked by the line (`telephony.sip.line`).
"""

import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiortp
from aiortp.port_allocator import PortAllocator
from aiosipua import (
    SdpMessage,
    SdpNegotiationError,
    build_sdp,
    negotiate_sdp,
    parse_sdp,
    serialize_sdp,
)

logger = logging.getLogger(__name__)

PCMU, PCMA = 0, 8
CODECS = {PCMU: "PCMU", PCMA: "PCMA"}
DEFAULT_DTMF_PT = 101
PTIME_MS = 20


class MediaError(ValueError):
    """The peer's SDP cannot be used (no G.711, no audio address); the message says why."""


@dataclass(frozen=True)
class MediaPlan:
    """What both sides agreed: where to send, which codec, which DTMF payload type."""

    local_port: int
    remote: tuple[str, int]
    payload_type: int
    dtmf_payload_type: int

    @property
    def codec(self) -> str:
        return CODECS[self.payload_type]


def answer_offer(
    offer: SdpMessage | None, sdp_ip: str, local_port: int, codecs: list[int]
) -> tuple[SdpMessage, MediaPlan]:
    """The SDP answer to an INVITE's offer and the media plan it sets up."""
    if offer is None:
        raise MediaError("the INVITE carries no SDP offer")
    remote = offer.rtp_address
    if remote is None:
        raise MediaError("the SDP offer has no audio address")
    remote = rtp_destination(*remote)
    dtmf_pt = _telephone_event_pt(offer) or DEFAULT_DTMF_PT
    try:
        answer, chosen = negotiate_sdp(
            offer, sdp_ip, local_port, supported_codecs=codecs, dtmf_payload_type=dtmf_pt
        )
    except SdpNegotiationError as error:
        raise MediaError(str(error)) from None
    audio = answer.audio
    if audio is not None:  # we send 20 ms packets whatever the offer's ptime was
        audio.attributes["ptime"] = [str(PTIME_MS)]
    return answer, MediaPlan(local_port, remote, chosen, dtmf_pt)


def build_offer(sdp_ip: str, local_port: int, codecs: list[int]) -> SdpMessage:
    """An SDP offer of the configured G.711 codecs (in preference order) and DTMF."""
    first, *rest = codecs
    offer = build_sdp(sdp_ip, local_port, first, CODECS[first], dtmf_payload_type=DEFAULT_DTMF_PT)
    audio = offer.audio
    assert audio is not None
    for pt in rest:
        audio.formats.insert(len(audio.formats) - 1, str(pt))  # before telephone-event
        audio.attributes["rtpmap"].insert(-1, f"{pt} {CODECS[pt]}/8000")
    return parse_sdp(serialize_sdp(offer))  # re-parsed, so its codec list has them all


def plan_from_answer(answer: SdpMessage | None, local_port: int, codecs: list[int]) -> MediaPlan:
    """The media plan an answer to our offer sets up."""
    if answer is None or answer.audio is None or answer.rtp_address is None:
        raise MediaError("the answer carries no audio SDP")
    chosen = next((c.payload_type for c in answer.audio.codecs if c.payload_type in codecs), None)
    if chosen is None:
        offered = [c.encoding_name or str(c.payload_type) for c in answer.audio.codecs]
        raise MediaError(f"the answer chose no G.711 codec: {offered}")
    dtmf_pt = _telephone_event_pt(answer) or DEFAULT_DTMF_PT
    return MediaPlan(local_port, rtp_destination(*answer.rtp_address), chosen, dtmf_pt)


def rtp_destination(address: str, port: int) -> tuple[str, int]:
    """The SDP's audio address as somewhere RTP can go: an IPv4 address (our sockets are
    IPv4; hostnames are not resolved) and a port RTP can be sent to."""
    try:
        ip = ipaddress.IPv4Address(address.strip())
    except ValueError:
        raise MediaError(f"audio address {address[:64]!r} is not an IPv4 address") from None
    if not 0 < port < 65536:
        raise MediaError(f"audio port {port} is not one RTP can be sent to")
    if ip.is_multicast or ip.is_unspecified or ip == ipaddress.IPv4Address("255.255.255.255"):
        raise MediaError(f"audio address {ip} is not a host")
    return str(ip), port


def check_media_host(address: str, signalling_host: str, networks: Sequence[str]) -> None:
    """Raise MediaError unless RTP may go to `address`: the host the call's signalling came
    from, or inside one of the configured media networks (`sip.media_networks`). Stops a
    peer from pointing our media at a third party."""
    ip = ipaddress.ip_address(address)
    if address == signalling_host or any(ip in ipaddress.ip_network(n) for n in networks):
        return
    raise MediaError(f"media to {address} refused: not the signalling host or a media network")


def _telephone_event_pt(sdp: SdpMessage) -> int | None:
    audio = sdp.audio
    if audio is None:
        return None
    for codec in audio.codecs:
        if codec.encoding_name.lower() == "telephone-event":
            return codec.payload_type
    return None


class RtpPorts:
    """Even RTP ports (RTCP on the next one) from a configured range."""

    def __init__(self, bind_ip: str, first: int, last: int) -> None:
        self.bind_ip = bind_ip
        self._allocator = PortAllocator((first, last))

    async def take(self) -> int:
        port, _rtcp = await self._allocator.allocate()
        return port

    async def give_back(self, port: int) -> None:
        await self._allocator.release(port)


class GuardedRtpSession(aiortp.RTPSession):
    """aiortp's session whose symmetric-RTP latch (following the peer's packets, for NAT)
    moves our media only to hosts the endpoint's media policy allows."""

    may_send_to: Callable[[str], bool] = staticmethod(lambda _host: True)

    def _latch_rtp_addr(self, addr: tuple[str, int]) -> None:
        if self.may_send_to(addr[0]):
            super()._latch_rtp_addr(addr)

    def _latch_rtcp_addr(self, addr: tuple[str, int]) -> None:
        if self.may_send_to(addr[0]):
            super()._latch_rtcp_addr(addr)


async def open_rtp(
    bind_ip: str, plan: MediaPlan, may_send_to: Callable[[str], bool]
) -> GuardedRtpSession:
    """Bind the call's RTP/RTCP sockets and start receiving."""
    session = await GuardedRtpSession.create(
        local_addr=(bind_ip, plan.local_port),
        remote_addr=plan.remote,
        payload_type=plan.payload_type,
        dtmf_payload_type=plan.dtmf_payload_type,
        # Every frame is delivered as it completes, in order: no time-stretching (aiortp's
        # adaptive playout drops and inserts 20 ms frames to track jitter, which cost the
        # recogniser short answers). The line's clock absorbs arrival jitter.
        jitter_prefetch=2,  # reorder window: two frames (40 ms)
        skip_audio_gaps=True,  # a lost packet is concealed once a later one arrives
        plc=True,
        symmetric_rtp=True,  # send to where the peer's packets come from (NAT)
    )
    assert isinstance(session, GuardedRtpSession)  # aiortp's factory builds `cls`
    session.may_send_to = may_send_to
    return session
