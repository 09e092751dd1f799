"""SIP signalling against real peers: malformed input, outbound calls, REFER, REGISTER."""

import asyncio
import shutil
from pathlib import Path

import pytest
from conftest import needs_baresip
from test_sip_line import call_goes_on_then_ends, loud, talking_call, tone, until

from telephony.sip.endpoint import SipCall
from telephony.sip.outbound import CallFailed
from voicebot.speech.audio import mulaw_encode

pytestmark = needs_baresip
SIPP_REGISTRAR = Path(__file__).parent / "sipp" / "registrar.xml"


class RawSip(asyncio.DatagramProtocol):
    """A UDP socket that sends hand-written SIP and collects the status lines it gets back."""

    def __init__(self) -> None:
        self.replies: asyncio.Queue[str] = asyncio.Queue()
        self.port = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.replies.put_nowait(data.decode(errors="replace").split("\r\n", 1)[0])

    async def reply(self) -> str:
        return await asyncio.wait_for(self.replies.get(), 5)


def request(method: str, port: int, call_id: str, body: str = "", *, headers: str = "") -> bytes:
    lines = [
        f"{method} sip:voicebot@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}",
        f"From: <sip:13800138000@127.0.0.1>;tag=t{call_id}",
        "To: <sip:voicebot@127.0.0.1>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        "Max-Forwards: 70",
        f"Contact: <sip:13800138000@127.0.0.1:{port}>",
    ]
    if headers:
        lines.append(headers)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


VIDEO_ONLY_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
VIDEO_ONLY_SDP += "m=video 40000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
GSM_ONLY_SDP = VIDEO_ONLY_SDP.replace(
    "m=video 40000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000", "m=audio 40000 RTP/AVP 3"
)


async def test_malformed_messages_are_answered_or_dropped_and_a_live_call_is_untouched(
    endpoint_with, baresip
) -> None:
    endpoint, peer = await talking_call(endpoint_with, baresip)
    loop = asyncio.get_running_loop()
    transport, raw = await loop.create_datagram_endpoint(RawSip, local_addr=("127.0.0.1", 0))
    me = transport.get_extra_info("sockname")[1]
    send = lambda data: transport.sendto(data, endpoint.local_addr)  # noqa: E731
    try:
        send(b"\x00\xff\x13 not SIP at all")
        send(b"INVITE sip:voicebot@127.0.0.1 SIP/2.0\r\nContent-Length: 9000\r\n\r\nv=0")
        send(request("OPTIONS", me, "probe1"))
        assert await raw.reply() == "SIP/2.0 200 OK"  # nothing came back for the garbage
        via = f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKm"
        send(f"INVITE sip:x@127.0.0.1 SIP/2.0\r\n{via}\r\n\r\n".encode())  # no From, To...
        assert await raw.reply() == "SIP/2.0 400 Missing Required Header"
        send(request("INVITE", me, "nosdp"))
        assert (await raw.reply()).startswith("SIP/2.0 100")
        assert await raw.reply() == "SIP/2.0 488 Not Acceptable Here"
        for call_id, sdp in (("video", VIDEO_ONLY_SDP), ("gsm", GSM_ONLY_SDP)):
            send(request("INVITE", me, call_id, sdp))
            assert (await raw.reply()).startswith("SIP/2.0 100")
            assert await raw.reply() == "SIP/2.0 488 Not Acceptable Here"
        send(request("BYE", me, "no-such-call"))
        assert (await raw.reply()).startswith("SIP/2.0 481")
        send(request("PUBLISH", me, "unknown-method"))
        assert (await raw.reply()).startswith("SIP/2.0 405")
    finally:
        transport.close()

    await call_goes_on_then_ends(endpoint, peer)  # the call in progress was untouched


async def test_the_bot_calls_a_baresip_account_and_hangs_up_with_bye(endpoint_with, baresip):
    endpoint = await endpoint_with()
    peer = await baresip("borrower", codecs="pcma")

    async def bot(call: SipCall) -> str:
        await call.line.send_from_bot(mulaw_encode(tone(300, 1.0)))
        await until(lambda: len(loud(peer.heard())) >= 0.8 * 8000, 10, call.line)
        return call.codec

    assert await endpoint.place_call(peer.uri, bot) == "PCMA"
    assert (await peer.wait_event("CALL_ESTABLISHED", 5))["direction"] == "incoming"
    await peer.wait_event("CALL_CLOSED", 10)  # our BYE
    assert not endpoint.calls


async def test_an_invite_lost_on_the_way_is_sent_again(endpoint_with, tmp_path: Path) -> None:
    from baresip_peer import Baresip

    endpoint = await endpoint_with()
    phone = Baresip(tmp_path / "late", "borrower")  # its port is chosen, nobody listens yet

    async def bot(call: SipCall) -> str:
        return call.codec

    dialling = asyncio.create_task(endpoint.place_call(phone.uri, bot))
    await asyncio.sleep(0)  # the first INVITE goes out to a closed port
    await phone.start()
    try:
        assert await asyncio.wait_for(dialling, 20) == "PCMU"  # a resent INVITE was answered
    finally:
        await phone.stop()


async def test_an_unanswered_outbound_call_is_cancelled_and_a_refused_one_reported(
    endpoint_with, baresip
) -> None:
    endpoint = await endpoint_with(answer_timeout_s=1.0)
    peer = await baresip("borrower", answer="manual")

    async def never(_call: SipCall) -> None:
        raise AssertionError("the call was not answered: the handler must not run")

    with pytest.raises(CallFailed) as unanswered:
        await endpoint.place_call(peer.uri, never)
    assert unanswered.value.status == 408
    await peer.wait_event("CALL_CLOSED", 5)  # our CANCEL reached it

    peer.events.clear()
    dialling = asyncio.create_task(endpoint.place_call(peer.uri, never))
    await peer.wait_event("CALL_INCOMING", 5)
    await peer.command("hangup")  # the borrower refuses the call
    with pytest.raises(CallFailed) as refused:
        await dialling
    assert refused.value.status >= 400 and refused.value.status != 408


async def test_a_call_is_transferred_to_the_agent_by_refer(endpoint_with, baresip) -> None:
    results = []

    async def bot(call: SipCall) -> None:
        results.append(await endpoint.transfer(call))

    agent = await baresip("agent")
    endpoint = await endpoint_with(bot, agent_uri=agent.uri)
    borrower = await baresip("borrower")
    host, port = endpoint.local_addr
    await borrower.command("dial", f"sip:voicebot@{host}:{port}")

    established = await agent.wait_event("CALL_ESTABLISHED", 15)
    assert "borrower" in established.get("peeruri", "")
    await until(lambda: bool(results), 15)
    assert results[0].ok and results[0].status == 200, results[0]
    assert results[0].target == agent.uri
    await until(lambda: not endpoint.calls, 10)  # our leg ended after the transfer


needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")


@needs_sipp
@pytest.mark.parametrize(("password", "registered"), [("s3cret", True), ("wrong", False)])
async def test_register_answers_a_digest_challenge_and_resends_an_unanswered_register(
    endpoint_with, tmp_path: Path, password: str, registered: bool
) -> None:
    from baresip_peer import free_port

    port = free_port()
    # The registrar is not up yet: the first REGISTER is lost and must be sent again.
    endpoint = await endpoint_with(
        register=True, proxy=f"127.0.0.1:{port}", username="voicebot", password=password
    )
    sipp = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(SIPP_REGISTRAR), "-i", "127.0.0.1", "-p", str(port), "-m", "1",
        "-nostdin", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        reg = endpoint._registration
        assert reg is not None
        await until(lambda: reg.state.value in ("registered", "failed"), 15)
        assert endpoint.registered is registered
        if registered:
            assert reg.granted_expires == 120
        await asyncio.wait_for(sipp.wait(), 10)
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
