"""Placing a call: INVITE with a G.711 offer, digest auth on 401/407, CANCEL when unanswered."""

import asyncio

from aiosipua import SipDigestAuth
from aiosipua.headers import parse_uri
from aiosipua.outgoing_call import OutgoingCall

from telephony.sip.media import MediaError, MediaPlan, build_offer, plan_from_answer
from telephony.sip.settings import SipSettings
from telephony.sip.transfer import Uac

INVITE_T1_S = 0.5
INVITE_RESENDS = 6  # at 0.5, 1, 2, 4, 8 and 16 s; then the answer timeout decides


class CallFailed(RuntimeError):
    """The call was not connected: rejected, busy or not answered (`status` says which)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"call not connected: {status} {reason}".strip())
        self.status = status
        self.reason = reason


def target_uri(number: str, settings: SipSettings) -> str:
    """A dialled number as a SIP URI at the configured domain (a sip: URI stays as it is)."""
    if number.startswith(("sip:", "sips:")):
        return number
    if not number or not all(c.isdigit() or c in "+*#" for c in number):
        raise CallFailed(484, f"not a phone number or sip: URI: {number!r}")
    return f"sip:{number}@{settings.aor_domain}"


def signalling_addr(uri: str, settings: SipSettings) -> tuple[str, int]:
    """Where the INVITE goes: the configured proxy, else the URI's own host and port."""
    if settings.proxy_addr is not None:
        return settings.proxy_addr
    parsed = parse_uri(uri)
    return parsed.host, parsed.port or 5060


async def dial(
    uac: Uac, settings: SipSettings, number: str, rtp_port: int, user_agent: str
) -> tuple[OutgoingCall, MediaPlan]:
    """Send the INVITE and wait for the answer; returns the call and its media plan."""
    uri = target_uri(number, settings)
    offer = build_offer(settings.sdp_host, rtp_port, list(settings.codecs))
    auth = SipDigestAuth(settings.username or settings.user, settings.password)
    call = uac.send_invite(
        f"sip:{settings.user}@{settings.aor_domain}",
        uri,
        signalling_addr(uri, settings),
        sdp_offer=offer,
        auth=auth if settings.password else None,
        user_agent=user_agent,
    )
    rejected: list[tuple[int, str]] = []
    call.on_rejected = lambda _call, status, reason: rejected.append((status, reason))
    resending = asyncio.get_running_loop().create_task(_resend_until_heard(uac, call))
    try:
        await call.wait_answered(timeout=settings.answer_timeout_s)
    except TimeoutError:
        call.cancel(uac)
        raise CallFailed(408, "no answer") from None
    except RuntimeError:
        status, reason = rejected[0] if rejected else (0, "rejected")
        raise CallFailed(status, reason) from None
    except asyncio.CancelledError:
        call.cancel(uac) or call.hangup(uac)
        raise
    finally:
        resending.cancel()
        uac.invites_heard.discard(call.call_id)
    try:
        return call, plan_from_answer(call.sdp_answer, rtp_port, list(settings.codecs))
    except MediaError as error:
        call.hangup(uac)
        raise CallFailed(488, str(error)) from None


async def _resend_until_heard(uac: Uac, call: OutgoingCall) -> None:
    """RFC 3261 Timer A: resend an INVITE nothing has answered yet (UDP loses datagrams;
    aiosipua sends it once). Any response, even 100 Trying, stops it."""
    interval = INVITE_T1_S
    for _ in range(INVITE_RESENDS):
        await asyncio.sleep(interval)
        if call.call_id in uac.invites_heard:
            return
        uac.transport.send(call.invite, call.remote_addr)  # same branch: a retransmission
        interval *= 2
