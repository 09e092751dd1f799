"""The fuzzer's Twilio side: plays each generated `StreamPlan` against the server, as
Twilio's media servers would (the voice webhook, then the websocket it names), or posts
its webhook; counts what came back."""

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from fuzz_gen import CALLER
from fuzz_stream_gen import StreamFuzzer, StreamPlan
from twilio_peer import ACCOUNT_SID, AUTH_TOKEN, signed, stream_parameters

from telephony.twilio.signature import HEADER, signature

STREAM_WORKERS = 12
STREAM_PATH = "/telephony/twilio/stream"
VOICE_PATH = "/telephony/twilio/voice"


@dataclass
class StreamFigures:
    sessions: int = 0
    frames: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    client_errors: Counter[str] = field(default_factory=Counter)
    plans: dict[str, str] = field(default_factory=dict)  # callSid -> what was sent

    def figures(self) -> dict[str, Any]:
        return {
            "stream_sessions": self.sessions,
            "stream_frames": self.frames,
            "stream_kinds": dict(self.kinds.most_common()),
            "stream_responses": dict(sorted(self.statuses.items())),
            "stream_client_errors": dict(self.client_errors),
        }


def describe(plan: StreamPlan) -> str:
    """A plan in one line: its kind and each frame's event, for the findings."""
    parts = []
    for what, value in plan.frames:
        if what == "text":
            try:
                event = json.loads(value)
                parts.append(str(event.get("event"))[:12] if isinstance(event, dict) else "json")
            except (ValueError, RecursionError):
                parts.append(f"junk{value[:10]!r}")
        elif what == "start":
            parts.append("start")
        else:
            parts.append(what)
    return f"{plan.kind} answer_first={plan.answer_first} sig={plan.signing}: {' '.join(parts)}"


def _headers(plan: StreamPlan, url: str, base: str, params: dict[str, str]) -> dict[str, str]:
    if plan.signing == "valid":
        return {HEADER: signature(AUTH_TOKEN, url, list(params.items()))}
    if plan.signing == "wrong":
        return {HEADER: "Zm9yZ2Vk"}
    if plan.signing == "other_url":
        return {HEADER: signature(AUTH_TOKEN, base + VOICE_PATH)}
    return {}


async def answer(session: aiohttp.ClientSession, base: str, call_sid: str) -> tuple[int, str]:
    """Twilio's signed voice webhook for an inbound call: (status, TwiML)."""
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "From": "+86" + CALLER}
    url = base + VOICE_PATH
    async with session.post(url, data=form, headers=signed(url, form.items())) as resp:
        return resp.status, await resp.text()


async def play(
    session: aiohttp.ClientSession, plan: StreamPlan, base: str, figs: StreamFigures
) -> None:
    """One plan: its webhook POST, or (after the voice webhook if it says so) its stream."""
    figs.sessions += 1
    figs.kinds[plan.kind] += 1
    if plan.webhook is not None:
        path, form = plan.webhook
        url = base + path + plan.query
        async with session.post(url, data=form, headers=_headers(plan, url, base, form)) as resp:
            figs.statuses[f"{resp.status} {path.rsplit('/', 1)[1]}"] += 1
        return
    twiml: dict[str, str] = {}
    if plan.answer_first:  # as Twilio does: the voice webhook, then the stream it names
        status, document = await answer(session, base, plan.call_sid)
        figs.statuses[f"{status} voice"] += 1
        if status == 200 and "<Stream" in document:  # else busy: <Reject>
            twiml = stream_parameters(document)[1]
    url = base.replace("http://", "ws://") + STREAM_PATH + plan.query
    figs.plans.setdefault(plan.call_sid, describe(plan))  # a replay keeps the first's
    try:
        ws = await session.ws_connect(url, headers=_headers(plan, url, base, {}), max_msg_size=0)
    except aiohttp.WSServerHandshakeError as error:
        figs.statuses[f"{error.status} stream"] += 1
        return
    figs.statuses["101 stream"] += 1
    drain = asyncio.create_task(_drain(ws))
    try:
        await _send_frames(ws, plan, twiml, figs)
    except (ConnectionError, RuntimeError, aiohttp.ClientError) as error:
        figs.client_errors[type(error).__name__] += 1
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 5)
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)


async def _send_frames(
    ws: aiohttp.ClientWebSocketResponse,
    plan: StreamPlan,
    twiml: dict[str, str],
    figs: StreamFigures,
) -> None:
    for what, value in plan.frames:
        if what == "pause":
            await asyncio.sleep(value)
        elif what == "abort":
            conn = ws._conn  # no closing handshake: the connection just goes
            if conn is not None and conn.transport is not None:
                conn.transport.abort()
        elif what == "close":
            await ws.close()
        elif what == "start" and not ws.closed:
            if plan.twiml_parameters and twiml and isinstance(value.get("start"), dict):
                value = {**value, "start": {**value["start"], "customParameters": twiml}}
            await ws.send_str(json.dumps(value))
            figs.frames += 1
        elif not ws.closed:
            await (ws.send_str(value) if what == "text" else ws.send_bytes(value))
            figs.frames += 1


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def send_streams(fuzzer: StreamFuzzer, base: str, n: int, figs: StreamFigures) -> None:
    """`n` generated plans, played by `STREAM_WORKERS` clients at once."""
    plans = iter([fuzzer.plan() for _ in range(n)])  # generated up front: one order per seed

    async def worker() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            for plan in plans:
                try:
                    await play(session, plan, base, figs)
                except (TimeoutError, aiohttp.ClientError, ConnectionError) as error:
                    figs.client_errors[type(error).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(STREAM_WORKERS)))
