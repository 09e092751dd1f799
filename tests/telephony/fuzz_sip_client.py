"""The fuzzer's SIP side: a UDP socket that sends the generated datagrams, answers the
bot's requests and plays each answered dialog on (ACK, then BYE, CANCEL or silence)."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from aiosipua import SipMessage, SipRequest, SipResponse
from fuzz_sip_gen import Datagram, Invite, SipFuzzer


class SipClient(asyncio.DatagramProtocol):
    """The fuzzer's SIP socket: sends datagrams, answers the bot, plays each dialog on."""

    def __init__(self, fuzzer: SipFuzzer | None = None) -> None:
        self.fuzzer = fuzzer
        self.transport: asyncio.DatagramTransport | None = None
        self.sent = 0
        self.follow_ups = 0
        self.kinds: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.by_branch: dict[str, Invite] = {}
        self.answered: dict[tuple[str, str], Invite] = {}  # (Call-ID, from tag): answered 200
        self.bot_byes = 0
        self.options_ok = asyncio.Event()
        self._timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, target: tuple[str, int], follow_up: bool = False) -> None:
        assert self.transport is not None
        self.transport.sendto(data, target)
        if follow_up:
            self.follow_ups += 1
        else:
            self.sent += 1

    def figures(self) -> dict[str, Any]:
        return {
            "sip_messages_sent": self.sent,
            "sip_follow_ups_sent": self.follow_ups,
            "sip_message_kinds": dict(self.kinds.most_common()),
            "sip_responses": dict(sorted(self.statuses.items())),
            "sip_calls_answered": len(self.answered),
            "sip_byes_from_bot": self.bot_byes,
        }

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            message = SipMessage.parse(data)
        except Exception:
            self.statuses["unparseable"] += 1
            return
        if isinstance(message, SipRequest):
            self._bot_request(message, (addr[0], addr[1]))
        elif isinstance(message, SipResponse):
            self._response(message, (addr[0], addr[1]))

    def _bot_request(self, request: SipRequest, addr: tuple[str, int]) -> None:
        if request.method == "BYE":
            self.bot_byes += 1
        if request.method == "ACK":
            return
        lines = ["SIP/2.0 200 OK"]
        for name in ("via", "from", "to", "call-id", "cseq"):
            lines += [f"{name}: {v}" for v in request.headers.get(name)]
        assert self.transport is not None
        self.transport.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), addr)

    def _response(self, response: SipResponse, addr: tuple[str, int]) -> None:
        code = response.status_code
        cseq = response.headers.get_first("cseq") or ""
        method = cseq.split()[-1] if cseq.split() else "?"
        self.statuses[f"{code} {method}"] += 1
        if method == "OPTIONS" and code == 200:
            self.options_ok.set()
        vias = response.via
        invite = self.by_branch.get(vias[0].branch or "") if vias else None
        if method != "INVITE" or invite is None or self.fuzzer is None:
            return
        fuzzer, loop = self.fuzzer, asyncio.get_running_loop()
        if code == 100 and invite.follow_up == "cancel":
            self.send(fuzzer.cancel(invite), addr, follow_up=True)
            invite.follow_up = "cancel_sent"
        if not 200 <= code < 300:
            return
        first = invite.to_tag == ""
        to = response.headers.get_first("to") or ""
        invite.to_tag = to.partition(";tag=")[2].split(";")[0]
        if invite.follow_up == "no_ack":
            return
        self.send(fuzzer.ack(invite), addr, follow_up=True)
        if not first:
            return
        self.answered.setdefault((invite.call_id, invite.from_tag), invite)
        fuzzer.answered.append(invite)
        if invite.follow_up != "hold":
            bye = fuzzer.bye(invite)
            self._timers.append(loop.call_later(invite.bye_after_s, self.send, bye, addr, True))


@contextlib.asynccontextmanager
async def sip_client() -> AsyncIterator[SipClient]:
    """A `SipClient` on a fresh loopback port, closed after."""
    loop = asyncio.get_running_loop()
    udp, client = await loop.create_datagram_endpoint(SipClient, local_addr=("127.0.0.1", 0))
    try:
        yield client
    finally:
        udp.close()


async def send_sip(client: SipClient, fuzzer: SipFuzzer, target: tuple[str, int], n: int) -> None:
    """`n` generated datagrams to `target`, one burst over the cap halfway through."""
    groups = fuzzer.groups()
    burst_at = n // 2
    while client.sent < n:
        group: list[Datagram] = fuzzer._g_burst() if client.sent >= burst_at > 0 else next(groups)
        if group[0].kind == "invite_burst":
            burst_at = 0
        for d in group[: max(1, n - client.sent)] if group[0].kind != "invite_burst" else group:
            if d.invite is not None and d.invite.branch:
                client.by_branch[d.invite.branch] = d.invite
            client.kinds[d.kind] += 1
            client.send(d.data, target)
        await asyncio.sleep(0.004 if len(group) == 1 and len(group[0].data) < 4000 else 0.03)
