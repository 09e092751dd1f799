"""Twilio's side of a call, on loopback: a fake REST API and a media-stream client.

`FakeTwilioApi` answers the REST calls the bot makes (create a call, update it) as
Twilio does, checking the account's basic auth. `TwilioStream` is what Twilio's media
servers do on a `<Connect><Stream>`: a signed websocket upgrade, `connected`, `start`
with the TwiML's parameters, then the caller's audio as base64 mu-law `media` every
20 ms (silence between answers), `dtmf` for keyed digits, `stop` at the end. It listens
like a patient person: each answer is said once the bot has spoken and then paused.
"""

import asyncio
import base64
import contextlib
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import numpy as np
from aiohttp import web

from telephony.twilio.signature import HEADER, signature
from voicebot.speech.audio import mulaw_decode, mulaw_encode

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FRAME = 160  # 20 ms of 8 kHz mu-law
SILENCE = mulaw_encode(np.zeros(FRAME, dtype=np.int16))


def twilio_section(api_url: str, **extra: str) -> dict[str, str]:
    """The `[twilio]` settings of a server that talks to the fake REST API at `api_url`."""
    return {
        "enabled": "true",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "api_base": api_url,
        "from_number": "+861012345",
        **extra,
    }


def signed(url: str, params: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    return {HEADER: signature(AUTH_TOKEN, url, list(params))}


class FakeTwilioApi:
    """POST /2010-04-01/Accounts/{sid}/Calls.json and .../Calls/{call_sid}.json."""

    def __init__(self) -> None:
        self.created: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.updates: dict[str, list[dict[str, str]]] = {}
        self.updated = asyncio.Event()
        app = web.Application()
        base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls"
        app.router.add_post(base + ".json", self._create)
        app.router.add_post(base + "/{sid}.json", self._update)
        self.runner = web.AppRunner(app)
        self.url = ""

    async def start(self) -> "FakeTwilioApi":
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    def _authorised(self, request: web.Request) -> bool:
        expected = aiohttp.encode_basic_auth(ACCOUNT_SID, AUTH_TOKEN)
        return request.headers.get("Authorization") == expected

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        params = dict(parse_qsl(await request.text()))
        params["sid"] = "CA" + uuid.uuid4().hex
        await self.created.put(params)
        return web.json_response({"sid": params["sid"], "status": "queued"}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        sid = request.match_info["sid"]
        self.updates.setdefault(sid, []).append(dict(parse_qsl(await request.text())))
        self.updated.set()
        return web.json_response({"sid": sid, "status": "in-progress"})

    async def wait_update(self, sid: str, key: str, timeout_s: float = 60) -> dict[str, str]:
        async with asyncio.timeout(timeout_s):
            while True:
                for update in self.updates.get(sid, []):
                    if key in update:
                        return update
                self.updated.clear()
                await self.updated.wait()


def stream_parameters(twiml: str) -> tuple[str, dict[str, str]]:
    """The stream URL and parameters of a <Connect><Stream> document."""
    url = re.search(r'<Stream url="([^"]+)"', twiml)
    assert url, f"no <Stream> in {twiml}"
    params = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]*)"', twiml))
    return url.group(1), params


class TwilioStream:
    """One media stream to the bot, as Twilio's media servers speak it."""

    def __init__(self, call_sid: str | None = None, gap_s: float = 2.0) -> None:
        self.call_sid = call_sid or "CA" + uuid.uuid4().hex
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.gap_s = gap_s
        self.heard: list[np.ndarray] = []  # the bot's audio, per media message
        self.events: list[dict[str, Any]] = []  # everything but media
        self._last_heard = 0.0
        self._heard_since_answer = False
        self._outbox = bytearray()
        self._session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.closed = asyncio.Event()

    async def connect(self, url: str, parameters: dict[str, str]) -> None:
        self._session = aiohttp.ClientSession()
        self.ws = await self._session.ws_connect(url, headers=signed(url))
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self.stream_sid,
                "start": {
                    "accountSid": ACCOUNT_SID,
                    "callSid": self.call_sid,
                    "streamSid": self.stream_sid,
                    "tracks": ["inbound"],
                    "customParameters": parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )
        loop = asyncio.get_running_loop()
        self._last_heard = loop.time()
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._pace())]

    async def send(self, message: dict[str, Any] | str) -> None:
        assert self.ws is not None
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError):  # the bot closed the stream meanwhile
            await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def _receive(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            event = json.loads(message.data)
            if event.get("event") == "media":
                payload = base64.b64decode(event["media"]["payload"])
                self.heard.append(mulaw_decode(payload))
                self._last_heard = asyncio.get_running_loop().time()
                self._heard_since_answer = True
            else:
                self.events.append(event)
        self.closed.set()

    async def _pace(self) -> None:
        """Send a 20 ms media message every 20 ms: the caller's words, or silence."""
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0
        while self.ws is not None and not self.ws.closed:
            chunk = bytes(self._outbox[:FRAME]) or SILENCE
            del self._outbox[:FRAME]
            chunk = chunk.ljust(FRAME, SILENCE[:1])
            media = {"payload": base64.b64encode(chunk).decode(), "track": "inbound"}
            await self.send({"event": "media", "streamSid": self.stream_sid, "media": media})
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * 0.02 - loop.time()))

    def pause(self) -> None:
        """Stop sending media (the socket stays open): a stream gone silent."""
        self._tasks[1].cancel()  # _pace

    async def bot_turn_ended(self, timeout_s: float = 60) -> bool:
        """Until the bot has spoken since our last answer and paused `gap_s`; False if closed."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            while not self.closed.is_set():
                if self._heard_since_answer and loop.time() - self._last_heard >= self.gap_s:
                    return True
                await asyncio.sleep(0.05)
        return False

    async def say(self, pcm: np.ndarray) -> None:
        """Queue an answer and wait until it has been sent."""
        self._heard_since_answer = False
        self._outbox += mulaw_encode(pcm)
        while self._outbox and not self.closed.is_set():
            await asyncio.sleep(0.02)

    async def key(self, digits: str) -> None:
        self._heard_since_answer = False
        for digit in digits:
            await self.send(
                {"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": digit}}
            )

    async def converse(self, answers: list[np.ndarray | str]) -> None:
        """Each answer after the bot's turn: audio is said, a str is keyed as DTMF."""
        for answer in answers:
            if not await self.bot_turn_ended():
                return
            if isinstance(answer, str):
                await self.key(answer)
            else:
                await self.say(answer)

    async def stop(self) -> None:
        await self.send({"event": "stop", "streamSid": self.stream_sid, "stop": {}})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()
        if self._session is not None:
            await self._session.close()

    async def wait_closed(self, timeout_s: float = 60) -> None:
        await asyncio.wait_for(self.closed.wait(), timeout_s)

    def bot_audio(self) -> np.ndarray:
        return np.concatenate(self.heard) if self.heard else np.zeros(0, np.int16)
