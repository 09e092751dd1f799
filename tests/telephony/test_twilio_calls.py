"""Twilio media streams end to end on loopback: `voicebot serve`'s server, a websocket
client speaking the media-streams protocol with a borrower's synthesised answers, and a
fake Twilio REST API.

The calls run in real time, so they are placed once for the module: first the broken
ones (unknown event, truncated base64, a websocket dropped mid-call) and the forged
requests, then an inbound and an outbound promise together (the server must still
serve), then a complaint that is transferred to an agent.
"""

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from baresip_peer import free_port
from live_env import live_settings, stored_summaries
from twilio_peer import (
    ACCOUNT_SID,
    FakeTwilioApi,
    TwilioStream,
    signed,
    stream_parameters,
    twilio_section,
)

from telephony.server import create_server
from voicebot.calls import CallSessions
from voicebot.config import Settings
from voicebot.review_store import ReviewStore
from voicebot.voice.pipeline import VoiceModels

CALLER = "+8613800138000"
AGENT = "+8610086"
NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
PASSWORD = "correct horse 9"
INBOUND_PROMISE = ["我想查一下还欠多少钱", "幺二三四", "下周五全部还上", "对的"]
OUTBOUND_PROMISE = ["对，我是", "1234#", "我最近失业了", "这周五发工资，全部还上", "对"]
TRANSFER = ["我要投诉你们的催收员", "幺二三四"]
Results = dict[str, Any]


@pytest.fixture(scope="module")
def twilio_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, VoiceModels]:
    settings = live_settings(tmp_path_factory.mktemp("twilio"))
    review = ReviewStore(settings.store_path)
    review.add_user("alice", "agent", PASSWORD, datetime.now(UTC))
    review.add_user("boss", "supervisor", PASSWORD, datetime.now(UTC))
    review.close()
    models = VoiceModels(settings.voice)
    models.warm_up()
    return settings, models


@pytest.fixture(scope="module")
def twilio_calls(twilio_env: tuple[Settings, VoiceModels]) -> Results:
    return asyncio.run(_place_all(*twilio_env))


class Call:
    """Drives one call from Twilio's side against the server at `base`."""

    def __init__(self, base: str, client: TestClient, api: FakeTwilioApi) -> None:
        self.base, self.client, self.api = base, client, api

    async def webhook(self, path: str, params: dict[str, str], **headers: str) -> Any:
        url = self.base + path
        return await self.client.post(
            path, data=params, headers=headers or signed(url, params.items())
        )

    async def inbound(self, **stream_options: Any) -> TwilioStream:
        stream = TwilioStream(**stream_options)
        params = {"CallSid": stream.call_sid, "AccountSid": ACCOUNT_SID, "From": CALLER}
        response = await self.webhook("/telephony/twilio/voice", params)
        assert response.status == 200, await response.text()
        url, parameters = stream_parameters(await response.text())
        await stream.connect(url, parameters)
        return stream


async def _place_all(settings: Settings, models: VoiceModels) -> Results:
    def speak(lines: list[str]) -> list[np.ndarray | str]:
        return [
            line if line.endswith("#") else np.asarray(models.tts_cache.speak(line)[0], np.int16)
            for line in lines
        ]

    api = await FakeTwilioApi().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sections = {
        "telephony": {"public_url": base},
        "twilio": twilio_section(api.url, agent_number=AGENT),
    }
    runner = CallSessions(settings, models, clock=lambda: NOW)
    app = create_server(settings, sections=sections, runner=runner, clock=lambda: NOW)
    results: Results = {"runner": runner}
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        call = Call(base, client, api)
        try:
            await _broken_calls(call, results, settings)
            await _forgeries(call, results, settings)
            inbound, outbound = speak(INBOUND_PROMISE), speak(OUTBOUND_PROMISE)
            await asyncio.gather(
                _inbound_promise(call, inbound, results), _outbound_promise(call, outbound, results)
            )
            await _transfer(call, speak(TRANSFER), results)
        finally:
            await api.stop()
    results["summaries"] = {  # by our call id and by Twilio's callSid
        key: s for s in stored_summaries(settings) for key in (s["call_id"], _call_sid(s))
    }
    return results


async def _until_stored(settings: Settings, call_id: str, timeout_s: float = 30) -> dict:
    async with asyncio.timeout(timeout_s):
        while True:
            found = [
                s for s in stored_summaries(settings) if call_id in (s["call_id"], _call_sid(s))
            ]
            if found:
                return found[0]
            await asyncio.sleep(0.1)


async def _broken_calls(call: Call, results: Results, settings: Settings) -> None:
    """Three calls the stream breaks, one after the other; each must leave a summary."""
    unknown = await call.inbound()
    await unknown.bot_turn_ended()
    await unknown.send({"event": "transcription", "streamSid": unknown.stream_sid})
    await unknown.stop()
    await unknown.wait_closed()
    await unknown.close()

    truncated = await call.inbound()
    await truncated.bot_turn_ended()
    await truncated.send(
        {"event": "media", "streamSid": truncated.stream_sid, "media": {"payload": "f/9/f3"}}
    )
    await truncated.wait_closed()
    await truncated.close()

    dropped = await call.inbound()
    await dropped.bot_turn_ended()
    await dropped.close()  # no `stop`: the connection just goes
    results["broken"] = {
        name: await _until_stored(settings, stream.call_sid)
        for name, stream in (("unknown", unknown), ("truncated", truncated), ("dropped", dropped))
    }


async def _forgeries(call: Call, results: Results, settings: Settings) -> None:
    before = len(stored_summaries(settings))
    params = {"CallSid": "CAforged", "From": CALLER}
    statuses = [
        (
            await call.webhook("/telephony/twilio/voice", params, **{"X-Twilio-Signature": "x"})
        ).status,
        (await call.client.post("/telephony/twilio/voice", data=params)).status,
        (
            await call.webhook(
                "/telephony/twilio/status",
                {"CallSid": "CAforged", "CallStatus": "completed"},
                **signed(call.base + "/telephony/twilio/voice", params.items()),
            )
        ).status,
    ]
    url = call.base.replace("http", "ws") + "/telephony/twilio/stream"
    async with aiohttp.ClientSession() as session:
        try:
            await session.ws_connect(url, headers={"X-Twilio-Signature": "forged"})
            statuses.append(101)
        except aiohttp.WSServerHandshakeError as error:
            statuses.append(error.status)
    results["forged"] = {
        "statuses": statuses,
        "active": results["runner"].calls.active(),
        "new_summaries": len(stored_summaries(settings)) - before,
        "created": call.api.created.qsize(),
    }


async def _inbound_promise(call: Call, answers: list[Any], results: Results) -> None:
    stream = await call.inbound()
    talking = asyncio.create_task(stream.converse(answers))
    async with asyncio.timeout(30):
        while not results["runner"].calls.active():
            await asyncio.sleep(0.05)
    async with aiohttp.ClientSession() as anonymous:
        unsigned = await anonymous.get(call.base + "/calls/active", allow_redirects=False)
        results["active_unsigned"] = (unsigned.status, unsigned.headers.get("Location"))
    await _sign_in(call.client.session, call.base, "alice")
    response = await call.client.get("/calls/active")
    results["active"] = (response.status, await response.json())
    await asyncio.wait_for(talking, 240)
    await stream.wait_closed(120)
    await stream.close()
    results["inbound"] = {
        "call_sid": stream.call_sid,
        "hang_up": await call.api.wait_update(stream.call_sid, "Status", 30),
        "bot_audio_s": len(stream.bot_audio()) / 8000,
    }


async def _outbound_promise(call: Call, answers: list[Any], results: Results) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as supervisor:
        token = await _sign_in(supervisor, call.base, "boss")
        placed = await supervisor.post(
            call.base + "/api/calls/outbound",
            json={"account_id": "A1001", "line": "twilio"},
            headers={"X-CSRF-Token": token},
        )
        body = await placed.json()
    created = await asyncio.wait_for(call.api.created.get(), 10)
    url, parameters = stream_parameters(created["Twiml"])
    status_path = created["StatusCallback"].removeprefix(call.base)
    ringing = {"CallSid": created["sid"], "CallStatus": "ringing", "AccountSid": ACCOUNT_SID}
    await call.webhook(status_path, ringing)
    stream = TwilioStream(call_sid=created["sid"])
    await stream.connect(url, parameters)
    await asyncio.wait_for(stream.converse(answers), 240)
    await stream.wait_closed(120)
    await stream.close()
    hang_up = await call.api.wait_update(created["sid"], "Status", 30)
    done = {**ringing, "CallStatus": "completed", "CallDuration": "41"}
    status = await call.webhook(status_path, done)
    results["outbound"] = {
        "placed": (placed.status, body),
        "created": created,
        "hang_up": hang_up,
        "status": status.status,
    }


async def _transfer(call: Call, answers: list[Any], results: Results) -> None:
    stream = await call.inbound()
    talking = asyncio.create_task(stream.converse(answers))
    update = await call.api.wait_update(stream.call_sid, "Twiml", 240)
    action = re.search(r'action="([^"]+)"', update["Twiml"])
    assert action, update
    await stream.stop()  # Twilio leaves <Connect> for <Dial>: the stream ends
    path = action.group(1).replace("&amp;", "&").removeprefix(call.base)
    dialled = {"CallSid": stream.call_sid, "DialCallStatus": "completed", "DialCallDuration": "30"}
    result = await call.webhook(path, dialled)
    await stream.wait_closed(60)
    talking.cancel()
    await stream.close()
    results["transfer"] = {
        "call_sid": stream.call_sid,
        "twiml": update["Twiml"],
        "result": (result.status, await result.text()),
        "hang_ups": [u for u in call.api.updates.get(stream.call_sid, []) if "Status" in u],
    }


async def _sign_in(session: aiohttp.ClientSession, base: str, username: str) -> str:
    page = await (await session.get(base + "/login")).text()
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    data = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    response = await session.post(base + "/login", data=data)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', await response.text())
    assert response.status == 200 and found, "sign-in failed"
    return found.group(1)


def _call_sid(summary: dict[str, Any]) -> str:
    return str((summary.get("metrics") or {}).get("carrier_call_id", ""))


def _dialogue(summary: dict[str, Any]) -> str:
    return "\n".join(f"{x['t']:6.1f} {x['speaker']}: {x['text']}" for x in summary["transcript"])


def test_an_inbound_call_found_by_the_caller_number_ends_with_the_stored_promise(
    twilio_calls: Results,
) -> None:
    call_sid = twilio_calls["inbound"]["call_sid"]
    summary = twilio_calls["summaries"][call_sid]
    # Our own id names the call and its recording; Twilio's callSid is kept as data.
    assert re.fullmatch("[0-9a-f]{32}", summary["call_id"]) and summary["call_id"] != call_sid
    assert summary["metrics"]["carrier_call_id"] == call_sid
    assert Path(summary["recording"]).name == summary["call_id"] + ".wav"
    assert summary["direction"] == "inbound" and summary["account_id"] == "A1001"
    assert summary["identity_verified"], _dialogue(summary)
    assert summary["promise_to_pay"] == {
        "amount": 3250.6,
        "date": "2026-12-04",
        "confirmed": True,
    }, _dialogue(summary)
    assert summary["outcome"] == "right_party_contact"
    assert summary["metrics"]["line"] == "twilio"
    assert summary["metrics"]["twilio"]["media_messages"] > 100
    assert summary["metrics"]["twilio"]["end"] == "bot hung up"
    assert Path(summary["recording"]).exists()
    assert twilio_calls["inbound"]["hang_up"] == {"Status": "completed"}  # the bot hung up
    assert twilio_calls["inbound"]["bot_audio_s"] > 10


def test_an_outbound_call_placed_over_http_dials_through_the_rest_api_and_keys_the_id(
    twilio_calls: Results,
) -> None:
    outbound = twilio_calls["outbound"]
    status, body = outbound["placed"]
    assert status == 202 and body["call_sid"] == outbound["created"]["sid"]
    assert outbound["created"]["To"] == CALLER and outbound["created"]["From"] == "+861012345"
    summary = twilio_calls["summaries"][body["call_id"]]
    assert summary["direction"] == "outbound" and summary["account_id"] == "A1001"
    assert summary["identity_verified"], _dialogue(summary)  # keyed: 1234#
    assert summary["metrics"]["twilio"]["digits"] == "1234#"
    keyed = next(x for x in summary["transcript"] if x["text"] == "1234")
    asked = next(x for x in summary["transcript"] if "最后四位" in x["text"])
    assert keyed["t"] > asked["t"], _dialogue(summary)  # stamped when keyed
    assert summary["promise_to_pay"] == {
        "amount": 3250.6,
        "date": "2026-11-27",
        "confirmed": True,
    }, _dialogue(summary)
    assert outbound["hang_up"] == {"Status": "completed"}
    assert outbound["status"] == 204


def test_a_status_callback_is_recorded(twilio_calls: Results, twilio_env: Any) -> None:
    settings, _ = twilio_env
    from telephony.twilio.status import CallStatusLog

    log = CallStatusLog(settings.store_path)
    try:
        assert log.status(twilio_calls["outbound"]["created"]["sid"]) == "completed"
        assert log.status("CAforged") is None
    finally:
        log.close()


def test_forged_or_unsigned_requests_get_403_and_start_nothing(twilio_calls: Results) -> None:
    forged = twilio_calls["forged"]
    assert forged["statuses"] == [403, 403, 403, 403]
    assert forged["active"] == [] and forged["new_summaries"] == 0 and forged["created"] == 0


def test_a_broken_stream_ends_only_its_call_with_a_summary(twilio_calls: Results) -> None:
    broken = twilio_calls["broken"]
    unknown = broken["unknown"]["metrics"]
    assert unknown["twilio"]["unknown_events"] == ["transcription"]
    assert unknown["hung_up_by"] == "borrower" and unknown["twilio"]["end"] == "stop"
    truncated = broken["truncated"]["metrics"]
    assert truncated["hung_up_by"] == "line"
    assert truncated["twilio"]["end"].startswith("bad message")
    dropped = broken["dropped"]["metrics"]
    assert dropped["hung_up_by"] == "line" and dropped["twilio"]["end"] == "websocket closed"
    for summary in broken.values():
        assert summary["direction"] == "inbound" and summary["outcome"] == "borrower_hung_up"
        assert summary["transcript"][0]["speaker"] == "bot"  # the opening was played
        assert Path(summary["recording"]).exists()
    # ...and the server went on to carry the promise calls after them
    assert twilio_calls["summaries"][twilio_calls["inbound"]["call_sid"]]["promise_to_pay"]


def test_operators_see_the_live_call_masked_after_signing_in(twilio_calls: Results) -> None:
    status, location = twilio_calls["active_unsigned"]
    assert status == 303 and location == "/login"
    status, body = twilio_calls["active"]
    assert status == 200
    live = [c for c in body["calls"] if c["direction"] == "inbound"]
    assert live and live[0]["number"] == "+86****8000" and live[0]["line"] == "twilio"
    assert "13800138000" not in json.dumps(body)


def test_a_complaint_is_transferred_to_the_agent_and_the_result_recorded(
    twilio_calls: Results,
) -> None:
    transfer = twilio_calls["transfer"]
    summary = twilio_calls["summaries"][transfer["call_sid"]]
    assert summary["escalation"]["required"], _dialogue(summary)
    assert f">{AGENT}</Dial>" in transfer["twiml"]
    assert summary["transfer"]["ok"] is True and summary["transfer"]["status"] == "completed"
    assert summary["transcript"][-1]["text"] == "正在为您转接人工客服，请稍候。"
    assert transfer["result"][0] == 200 and "<Hangup" in transfer["result"][1]
    assert transfer["hang_ups"] == []  # a transferred call is not hung up by the bot
