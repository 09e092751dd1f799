"""The bot's SIP endpoint: answers INVITEs, places calls, registers, transfers by REFER.

One UDP socket carries every dialog (aiosipua's UAS and UAC share it); each call gets its
own RTP port pair and `SipLine`. A call is run by a handler, `async (SipCall) -> T`: the
endpoint answers (or dials), starts the line's clock, awaits the handler and then always
ends the call (BYE if it is still up) and frees its ports, whatever the handler did. A
malformed message, a failing handler or a peer that vanishes ends at most that one call.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiosipua import IncomingCall, Registration, SipDigestAuth, SipRequest, SipUAS
from aiosipua.dialog import Dialog, DialogState
from aiosipua.headers import parse_address

from telephony.sip.line import SipLine
from telephony.sip.media import (
    MediaError,
    MediaPlan,
    RtpPorts,
    answer_offer,
    check_media_host,
    open_rtp,
)
from telephony.sip.outbound import CallFailed, dial
from telephony.sip.settings import SipSettings
from telephony.sip.transfer import TransferResult, Transfers, Uac
from telephony.sip.transport import UdpTransport
from voicebot.masking import mask_text

logger = logging.getLogger(__name__)

USER_AGENT = "voicebot"
RETRANSMIT_T1_S = 0.5  # RFC 3261 T1: first resend of an unanswered REGISTER
RETRANSMIT_MAX_S = 16.0  # after 0.5+1+...+16 s without an answer, wait for the next round
REREGISTER_AFTER_S = 60.0
T = TypeVar("T")


@dataclass
class SipCall:
    """One live call as the bot's code sees it."""

    call_id: str
    direction: str  # "inbound" or "outbound"
    remote_number: str  # the caller's number (inbound) or the dialled one
    line: SipLine
    dialog: Dialog = field(repr=False)
    signal_addr: tuple[str, int] = field(repr=False)
    transfer_result: TransferResult | None = None

    @property
    def codec(self) -> str:
        return self.line.plan.codec


CallHandler = Callable[[SipCall], Awaitable[Any]]


class SipEndpoint:
    """A SIP user agent on UDP; `on_inbound` runs every call it answers."""

    def __init__(self, settings: SipSettings, on_inbound: CallHandler | None = None) -> None:
        self.settings = settings
        self.on_inbound = on_inbound
        self.calls: dict[str, SipCall] = {}
        self._transport = UdpTransport(local_addr=(settings.host, settings.port))
        self._uac = Uac(self._transport)
        self._uas = SipUAS(self._transport, user_agent=USER_AGENT, uac=self._uac)
        self._ports = RtpPorts(settings.host, settings.rtp_port_min, settings.rtp_port_max)
        self._transfers = Transfers(self._uac, self._uas)
        self._registration: Registration | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # Call-IDs holding a slot: taken when an INVITE is let in, before any await, so a
        # burst cannot answer more than max_calls; given back when the call is over.
        self._slots: set[str] = set()

    @property
    def local_addr(self) -> tuple[str, int]:
        """Where the endpoint listens (the bound port, when the settings asked for 0)."""
        return self._transport.local_addr

    @property
    def uri(self) -> str:
        host, port = self.local_addr
        return f"sip:{self.settings.user}@{self.settings.public_host or host}:{port}"

    @property
    def registered(self) -> bool:
        reg = self._registration
        return reg is not None and reg.state.value == "registered"

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket, start answering, and REGISTER when the settings ask for it."""
        self._uas.on_invite = self._on_invite
        self._uas.on_reinvite = self._on_reinvite
        self._uas.on_bye = self._on_bye
        await self._uas.start()
        self._transport.on_bad_request = self._refuse_bad_request
        if self.settings.public_host:  # Via and Contact name the address peers reach
            advertised = (self.settings.public_host, self.local_addr[1])
            self._uas.advertised_addr = self._uac.advertised_addr = advertised
        logger.info("sip: listening on %s:%d", *self.local_addr)
        if self.settings.register:
            self._register()

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Hang up every live call (BYE), wait for their summaries, unregister, close."""
        self._stopping = True
        if self._keeper is not None:
            self._keeper.cancel()
        for call in list(self.calls.values()):
            call.line.hang_up("bot")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)
        if self._registration is not None:
            self._registration.unregister()
        await self._uas.stop()

    def _register(self) -> None:
        s = self.settings
        proxy = s.proxy_addr
        assert proxy is not None  # settings validation: register needs a proxy
        auth = SipDigestAuth(s.username or s.user, s.password) if s.password else None
        reg = Registration(
            self._uac,
            f"sip:{s.user}@{s.aor_domain}",
            proxy,
            expires=s.register_expires,
            auth=auth,
            user_agent=USER_AGENT,
        )
        reg.on_registered = lambda r: logger.info(
            "sip: registered at %s:%d for %d s", *proxy, r.granted_expires
        )
        reg.on_failed = lambda _r, code, reason: logger.warning(
            "sip: REGISTER at %s:%d failed: %d %s", *proxy, code, reason
        )
        self._registration = reg
        reg.register()
        self._keeper = asyncio.get_running_loop().create_task(self._keep_registered(reg))

    async def _keep_registered(self, reg: Registration) -> None:
        """Resend an unanswered REGISTER (UDP loses datagrams; aiosipua does not resend)
        with T1 doubling, and register again a minute after a refusal or an expiry."""
        delay = RETRANSMIT_T1_S
        while not self._stopping:
            await asyncio.sleep(delay)
            state = reg.state.value
            if state == "registering" and delay < RETRANSMIT_MAX_S:
                delay *= 2
            elif state in ("registering", "failed", "expired"):
                delay = REREGISTER_AFTER_S
            else:
                delay = RETRANSMIT_T1_S
                continue
            if not self._stopping:
                reg.register()

    # --- inbound ---------------------------------------------------------------------

    def _on_invite(self, invite: IncomingCall) -> None:
        caller = caller_number(invite.invite)
        if self._stopping or self.on_inbound is None:
            invite.reject(480, "Temporarily Unavailable")
        elif invite.call_id in self._slots:  # a second INVITE reusing a live call's Call-ID
            logger.warning("sip: INVITE %r refused (400): its Call-ID is in use", invite.call_id)
            invite.reject(400, "Call-ID In Use")
        elif len(self._slots | self.calls.keys()) >= self.settings.max_calls:
            invite.reject(486, "Busy Here")
        else:
            self._slots.add(invite.call_id)
            self._spawn(self._answer(invite, caller, self.on_inbound), slot=invite.call_id)

    async def _answer(self, invite: IncomingCall, caller: str, handler: CallHandler) -> None:
        try:
            port = await self._ports.take()
        except Exception as error:  # every RTP port in use
            logger.warning("sip: call from %s refused (503): %s", mask_text(caller), error)
            invite.reject(503, "Service Unavailable")
            return
        try:
            answer, plan = answer_offer(
                invite.sdp_offer, self.settings.sdp_host, port, list(self.settings.codecs)
            )
            self._check_media(plan.remote[0], invite.source_addr[0])
        except MediaError as error:
            logger.warning("sip: call from %s refused (488): %s", mask_text(caller), error)
            invite.reject(488, "Not Acceptable Here")
            await self._ports.give_back(port)
            return
        if invite.dialog.state is DialogState.TERMINATED:  # CANCELled while we prepared
            await self._ports.give_back(port)
            return
        line = await self._open_line(plan, invite.source_addr[0], bye=invite.hangup)
        invite.accept(answer)
        call = SipCall(invite.call_id, "inbound", caller, line, invite.dialog, invite.source_addr)
        logger.info("sip: answered %r from %s (%s)", call.call_id, mask_text(caller), plan.codec)
        await self._run(call, handler)

    def _check_media(self, address: str, signalling_host: str) -> None:
        if self.settings.restrict_media:
            check_media_host(address, signalling_host, self.settings.media_networks)

    def _may_send_to(self, signalling_host: str) -> Callable[[str], bool]:
        def allowed(address: str) -> bool:
            try:
                self._check_media(address, signalling_host)
            except (MediaError, ValueError):
                return False
            return True

        return allowed

    def _refuse_bad_request(self, request: SipRequest, error: Exception) -> None:
        """A request the endpoint cannot read (a broken SDP body, ...): 400, one log line."""
        logger.warning("sip: %s %r refused (400): %s", request.method, request.call_id, error)
        if request.method != "ACK":
            self._uas._send_error(request, 400, "Bad Request")

    def _on_reinvite(self, invite: IncomingCall) -> None:
        """A re-INVITE (hold, resume, media moved, session refresh): the call goes on with
        its port and codec, sending to wherever the new offer says."""
        live = self.calls.get(invite.call_id)
        if live is None:
            invite.reject(481, "Call/Transaction Does Not Exist")
            return
        plan = live.line.plan
        try:
            answer, moved = answer_offer(
                invite.sdp_offer, self.settings.sdp_host, plan.local_port, [plan.payload_type]
            )
            self._check_media(moved.remote[0], invite.source_addr[0])
        except MediaError as error:
            logger.warning("sip: %s re-INVITE refused (488): %s", invite.call_id, error)
            invite.reject(488, "Not Acceptable Here")
            return
        live.line.rtp.update_remote(moved.remote)
        invite.accept(answer)

    def _on_bye(self, call: IncomingCall, _request: SipRequest) -> None:
        live = self.calls.get(call.call_id)
        if live is not None:
            logger.info("sip: %s hung up by the far end", call.call_id)
            live.line.hang_up("borrower")

    # --- outbound --------------------------------------------------------------------

    async def place_call(self, number: str, handler: Callable[[SipCall], Awaitable[T]]) -> T:
        """Dial `number` (digits via the proxy, or a sip: URI) and run `handler` on the call.

        Raises `CallFailed` (rejected, busy, unanswered) before the handler runs.
        """
        if self._stopping:
            raise CallFailed(0, "the endpoint is stopping")
        port = await self._ports.take()
        try:
            outgoing, plan = await dial(self._uac, self.settings, number, port, USER_AGENT)
        except BaseException:
            await self._ports.give_back(port)
            raise
        signalling_host = outgoing.remote_addr[0]
        try:
            self._check_media(plan.remote[0], signalling_host)
        except MediaError as error:
            outgoing.hangup(self._uac)
            await self._ports.give_back(port)
            raise CallFailed(488, str(error)) from None
        line = await self._open_line(plan, signalling_host, bye=lambda: outgoing.hangup(self._uac))
        call = SipCall(
            outgoing.call_id, "outbound", number, line, outgoing.dialog, outgoing.remote_addr
        )
        logger.info("sip: %s answered by %s (%s)", call.call_id, mask_text(number), plan.codec)
        return await self._run(call, handler)

    # --- transfer --------------------------------------------------------------------

    async def transfer(self, call: SipCall, target: str | None = None) -> TransferResult:
        """Blind-transfer the caller (REFER) to `target` or the configured agent URI.

        The result is also kept on the call. A successful transfer ends our leg.
        """
        target = target or self.settings.agent_uri
        if not target:
            raise ValueError("no transfer target: set sip.agent_uri")
        result = await self._transfers.refer(call.call_id, call.dialog, call.signal_addr, target)
        call.transfer_result = result
        logger.info("sip: %s transfer to %s: %s", call.call_id, target, result.describe())
        if result.ok:
            call.line.hang_up("bot")
        return result

    # --- shared ----------------------------------------------------------------------

    async def _open_line(
        self, plan: MediaPlan, signalling_host: str, bye: Callable[[], Any]
    ) -> SipLine:
        try:
            rtp = await open_rtp(self._ports.bind_ip, plan, self._may_send_to(signalling_host))
        except BaseException:
            await self._ports.give_back(plan.local_port)
            raise
        return SipLine(rtp, plan, on_bot_hang_up=bye, rtp_timeout_s=self.settings.rtp_timeout_s)

    async def _run(self, call: SipCall, handler: Callable[[SipCall], Awaitable[T]]) -> T:
        self.calls[call.call_id] = call
        clock = asyncio.create_task(call.line.run())
        try:
            return await handler(call)
        finally:
            call.line.hang_up("bot")  # BYE, unless the far end hung up first
            clock.cancel()
            await asyncio.gather(clock, return_exceptions=True)
            await call.line.close_media()
            await self._ports.give_back(call.line.plan.local_port)
            self.calls.pop(call.call_id, None)

    def _spawn(self, coro: Awaitable[None], slot: str | None = None) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception:  # one call's failure never reaches the endpoint
                logger.exception("sip: call failed")
            finally:
                self._slots.discard(slot or "")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def caller_number(invite: SipRequest) -> str:
    """The caller's number: P-Asserted-Identity (set by trunks) or else From's user part."""
    for header in ("p-asserted-identity", "from"):
        value = invite.get_header(header)
        if not value:
            continue
        try:
            uri = parse_address(value).uri
        except ValueError:
            continue
        if uri.user:
            return uri.user
    return ""
