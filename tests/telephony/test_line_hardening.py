"""What a stranger or a broken peer sends to the phone lines: it never names a file, holds
a line, passes the call cap or replaces a stored call."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from baresip_peer import free_port
from conftest import sip_settings
from live_env import live_settings, stored_summaries
from test_sip_signalling import RawSip, request
from twilio_peer import ACCOUNT_SID, FakeTwilioApi, TwilioStream, signed, twilio_section

from telephony.server import create_server
from telephony.sip.endpoint import SipCall, SipEndpoint
from telephony.sip.service import SipCalls
from telephony.twilio.status import CallStatusLog
from voicebot.calls import CallSessions, CallSpec, find_account
from voicebot.config import Settings
from voicebot.voice.line import PhoneLine
from voicebot.voice.pipeline import VoiceModels


def sdp(address: str = "127.0.0.1", port: int | str = 40000, family: str = "IP4") -> str:
    return (
        f"v=0\r\no=- 1 1 IN {family} {address}\r\ns=-\r\nc=IN {family} {address}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )


async def raw_peer() -> tuple[asyncio.DatagramTransport, RawSip]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(RawSip, local_addr=("127.0.0.1", 0))
    peer.port = transport.get_extra_info("sockname")[1]
    return transport, peer


async def final_replies(peer: RawSip, count: int, timeout_s: float = 10) -> list[str]:
    """The next `count` final (non-1xx) status lines, retransmissions of a 200 included."""
    finals: list[str] = []
    async with asyncio.timeout(timeout_s):
        while len(finals) < count:
            line = await peer.replies.get()
            if line.startswith("SIP/2.0 ") and not line.startswith("SIP/2.0 1"):
                finals.append(line)
    return finals


# --- SIP: the endpoint -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (sdp(port=99999), "a port RTP cannot be sent to"),
        (sdp(port=0), "media switched off"),
        (sdp(port="abc"), "a port that is not a number"),
        (sdp("::1", family="IP6"), "IPv6: our sockets are IPv4"),
        (sdp("nohost.invalid"), "a name we do not resolve"),
        (sdp("127.0.0.2"), "media to a host other than the caller's"),
    ],
)
async def test_an_offer_rtp_cannot_go_to_is_refused_before_a_line_is_held(
    endpoint_with, body: str, why: str
) -> None:
    answered: list[SipCall] = []

    async def handler(call: SipCall) -> None:
        answered.append(call)

    endpoint = await endpoint_with(handler)
    transport, peer = await raw_peer()
    try:
        transport.sendto(request("INVITE", peer.port, "bad-sdp", body), endpoint.local_addr)
        (reply,) = await final_replies(peer, 1)
    finally:
        transport.close()
    assert reply.split()[1] in ("400", "488"), (why, reply)
    assert not answered and not endpoint.calls and not endpoint._slots, why


async def test_media_networks_let_a_pbx_send_media_from_another_host(endpoint_with) -> None:
    held = asyncio.Event()

    async def handler(call: SipCall) -> None:
        held.set()

    endpoint = await endpoint_with(handler, media_networks=("127.0.0.0/8",))
    transport, peer = await raw_peer()
    try:
        transport.sendto(request("INVITE", peer.port, "pbx", sdp("127.0.0.2")), endpoint.local_addr)
        (reply,) = await final_replies(peer, 1)
        assert reply.startswith("SIP/2.0 200")
        await asyncio.wait_for(held.wait(), 5)
    finally:
        transport.close()


async def test_a_burst_of_invites_answers_no_more_than_max_calls(endpoint_with) -> None:
    release = asyncio.Event()

    async def handler(call: SipCall) -> None:
        await release.wait()

    endpoint = await endpoint_with(handler, max_calls=2)
    transport, peer = await raw_peer()
    media = free_port()
    try:
        for n in range(8):  # all sent before the endpoint can answer any
            transport.sendto(
                request("INVITE", peer.port, f"burst-{n}", sdp(port=media)), endpoint.local_addr
            )
        replies = await final_replies(peer, 8)
        codes = sorted(r.split()[1] for r in replies)
        assert codes.count("486") == 6, codes
        assert len(endpoint.calls) == 2
    finally:
        release.set()
        transport.close()


async def test_a_call_whose_media_never_flows_ends_and_frees_its_slot(endpoint_with) -> None:
    ended: list[str | None] = []

    async def handler(call: SipCall) -> None:
        await call.line.wait_closed()
        ended.append(call.line.hung_up_by)

    endpoint = await endpoint_with(handler, max_calls=1, rtp_timeout_s=0.5)
    transport, peer = await raw_peer()
    media = free_port()  # nothing is ever sent from here: no RTP flows
    try:
        transport.sendto(
            request("INVITE", peer.port, "silent-1", sdp(port=media)), endpoint.local_addr
        )
        assert (await final_replies(peer, 1))[0].startswith("SIP/2.0 200")
        async with asyncio.timeout(10):
            while endpoint.calls or endpoint._slots:
                await asyncio.sleep(0.05)  # polling a condition: the call ending
        assert ended == ["line"]
        # the slot is free again: the next caller is answered, not told busy
        transport.sendto(
            request("INVITE", peer.port, "silent-2", sdp(port=media)), endpoint.local_addr
        )
        line = ""
        while not line.startswith(("SIP/2.0 200", "SIP/2.0 486")):
            line = await peer.reply()
        assert line.startswith("SIP/2.0 200"), line
    finally:
        transport.close()


# --- SIP: the whole call, summary included ---------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> VoiceModels:
    settings = live_settings(tmp_path_factory.mktemp("models"))
    loaded = VoiceModels(settings.voice)
    loaded.warm_up()
    return loaded


async def test_a_hostile_call_id_names_no_file_and_the_call_is_stored_once(
    tmp_path: Path, models: VoiceModels
) -> None:
    settings = live_settings(tmp_path / "work")
    target = tmp_path / "outside"
    hostile = [f"../../../..{target}/pwned", "nul\x00byte@host", "used-twice"]
    endpoint = SipEndpoint(sip_settings(rtp_timeout_s=1.0))
    SipCalls(CallSessions(settings, models), endpoint)
    await endpoint.start()
    transport, peer = await raw_peer()
    media = free_port()
    try:
        for n, call_id in enumerate([*hostile, hostile[-1]]):  # the last one sent twice
            raw = request("INVITE", peer.port, f"h{n}", sdp(port=media)).replace(
                f"Call-ID: h{n}".encode(), b"Call-ID: " + call_id.encode()
            )
            transport.sendto(raw, endpoint.local_addr)
        async with asyncio.timeout(60):
            while len(stored_summaries(settings)) < len(hostile) or endpoint.calls:
                await asyncio.sleep(0.1)  # polling a condition: the calls ending on no RTP
    finally:
        transport.close()
        await endpoint.stop()
    summaries = stored_summaries(settings)
    assert len(summaries) == len(hostile)
    assert not target.exists()
    carrier_ids = sorted(s["metrics"]["carrier_call_id"] for s in summaries)
    assert carrier_ids == sorted(h.replace("\x00", "?") for h in hostile)
    for summary in summaries:
        assert re.fullmatch("[0-9a-f]{32}", summary["call_id"])
        recording = Path(summary["recording"])
        assert recording.parent == settings.voice.recordings_dir and recording.exists()
        assert summary["metrics"]["hung_up_by"] == "line"


# --- Twilio ------------------------------------------------------------------------------


class HoldingRunner(CallSessions):
    """The call runner with the conversation replaced: each call stays up until its line
    closes, and the specs are kept."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, models=None)  # type: ignore[arg-type]
        self.specs: list[CallSpec] = []

    async def run(self, line: PhoneLine, spec: CallSpec) -> dict[str, Any]:
        self.specs.append(spec)
        try:
            await line.wait_closed()
        finally:
            self.calls.remove(spec.call_id)
        return {"call_id": spec.call_id}


class Twilio:
    def __init__(self, base: str, client: TestClient, runner: HoldingRunner) -> None:
        self.base, self.client, self.runner = base, client, runner
        self.streams: list[TwilioStream] = []

    async def webhook(self, path: str, params: dict[str, str]) -> Any:
        return await self.client.post(
            path, data=params, headers=signed(self.base + path, params.items())
        )

    async def answered(self, call_sid: str) -> None:
        params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": "+8613800138000"}
        response = await self.webhook("/telephony/twilio/voice", params)
        assert response.status == 200, await response.text()

    async def stream(self, call_sid: str, parameters: dict[str, str] | None = None) -> TwilioStream:
        stream = TwilioStream(call_sid=call_sid)
        url = self.base.replace("http", "ws") + "/telephony/twilio/stream"
        await stream.connect(url, parameters or {})
        self.streams.append(stream)
        return stream


@pytest.fixture
async def twilio(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = live_settings(tmp_path)
    api = await FakeTwilioApi().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sections = {
        "telephony": {"public_url": base, "max_calls": "2", "media_timeout_s": "1"},
        "twilio": twilio_section(api.url),
    }
    runner = HoldingRunner(settings)
    app = create_server(settings, sections=sections, runner=runner)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        peer = Twilio(base, client, runner)
        try:
            yield peer
        finally:
            for stream in peer.streams:
                await stream.close()
            await api.stop()


async def _closed_by_server(stream: TwilioStream) -> bool:
    try:
        await stream.wait_closed(5)
    except TimeoutError:
        return False
    return True


async def test_a_stream_for_a_call_the_server_never_answered_is_refused(twilio) -> None:  # type: ignore[no-untyped-def]
    stream = await twilio.stream("CAnever", {"call_id": "0" * 32, "direction": "inbound"})
    assert await _closed_by_server(stream)
    assert twilio.runner.specs == []


async def test_a_replayed_stream_is_refused_and_its_parameters_name_nothing(twilio) -> None:  # type: ignore[no-untyped-def]
    await twilio.answered("CAfirst")
    first = await twilio.stream("CAfirst", {"call_id": "victim", "number": "13900000000"})
    async with asyncio.timeout(5):
        while not twilio.runner.specs:
            await asyncio.sleep(0.02)  # polling a condition: the call starting
    (spec,) = twilio.runner.specs
    assert re.fullmatch("[0-9a-f]{32}", spec.call_id)  # ours, not the stream's "victim"
    assert spec.number == "+8613800138000" and spec.carrier_call_id == "CAfirst"
    replay = await twilio.stream("CAfirst", {"call_id": spec.call_id})
    assert await _closed_by_server(replay)
    assert len(twilio.runner.specs) == 1 and not first.closed.is_set()


@pytest.mark.parametrize(
    "message",
    [
        {"event": "media", "media": None},
        {"event": "media", "media": {"payload": 12345}},
        {"event": "dtmf", "dtmf": None},
        "[" * 50_000 + "]" * 50_000,
    ],
)
async def test_a_message_the_line_cannot_read_ends_the_call(twilio, message: Any) -> None:  # type: ignore[no-untyped-def]
    await twilio.answered("CAbroken")
    stream = await twilio.stream("CAbroken")
    async with asyncio.timeout(5):
        while not twilio.runner.specs:
            await asyncio.sleep(0.02)  # polling a condition: the call starting
    await stream.send(message)
    assert await _closed_by_server(stream)  # the call ended (its slot and summary follow)
    assert len(twilio.runner.calls) == 0


async def test_a_stream_that_goes_silent_is_ended_and_frees_its_slot(twilio) -> None:  # type: ignore[no-untyped-def]
    await twilio.answered("CAquiet")
    stream = await twilio.stream("CAquiet")
    async with asyncio.timeout(5):
        while not twilio.runner.specs:
            await asyncio.sleep(0.02)  # polling a condition: the call starting
    stream.pause()  # the socket stays open, no message flows
    assert await _closed_by_server(stream)
    assert len(twilio.runner.calls) == 0


async def test_streams_beyond_max_calls_are_refused_and_active_calls_lists_the_rest(
    twilio,  # type: ignore[no-untyped-def]
) -> None:
    sids = [f"CAcap{n}" for n in range(4)]
    for sid in sids:  # all answered while no stream had started
        await twilio.answered(sid)
    streams = await asyncio.gather(*(twilio.stream(sid) for sid in sids))
    closed = await asyncio.gather(*(_closed_by_server(s) for s in streams))
    assert sorted(closed) == [False, False, True, True]
    assert len(twilio.runner.calls) == 2 and len(twilio.runner.specs) == 2


async def test_a_status_callback_with_an_absurd_duration_is_kept_without_it(twilio) -> None:  # type: ignore[no-untyped-def]
    for duration in ("9" * 40, "1e99", "٣", "-5", "12"):
        params = {"CallSid": "CAstatus", "CallStatus": "completed", "CallDuration": duration}
        response = await twilio.webhook("/telephony/twilio/status", params)
        assert response.status == 204, (duration, await response.text())
    log = CallStatusLog(twilio.runner.settings.store_path)
    try:
        row = log.db.execute("SELECT duration_s FROM twilio_calls WHERE call_sid = 'CAstatus'")
        assert row.fetchone()[0] == 12
    finally:
        log.close()


def test_an_unknown_account_is_named_without_the_store_path(tmp_path: Path) -> None:
    settings = live_settings(tmp_path)
    with pytest.raises(LookupError) as missing:
        find_account(settings, "NOPE")
    assert str(settings.store_path) not in str(missing.value)
    assert "NOPE" in json.dumps(str(missing.value))


def test_a_store_from_before_stream_admission_is_upgraded_by_any_process(tmp_path: Path) -> None:
    import sqlite3

    from telephony.twilio.status import _add_column

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # the table as the first release made it
        old.execute(
            "CREATE TABLE twilio_calls (call_sid TEXT PRIMARY KEY, call_id TEXT,"
            " status TEXT NOT NULL, duration_s INTEGER, updated_at TEXT NOT NULL)"
        )
        old.execute("INSERT INTO twilio_calls VALUES ('CAold', 'x', 'completed', 5, 'then')")
    log = CallStatusLog(path)
    try:
        assert log.status("CAold") == "completed" and log.claim_stream("CAold") is None
        _add_column(log.db, "direction", "TEXT")  # a second process racing: no error
    finally:
        log.close()
