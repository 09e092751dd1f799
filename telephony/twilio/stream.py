"""The media stream's websocket: one Twilio call, from `start` to the stored summary.

The upgrade request must carry a valid `X-Twilio-Signature` (403 otherwise, before any
call exists). Then `connected` and `start` describe the call; its media runs on a
`TwilioLine` while the call session (`CallSessions.run`) converses. The call ends when the
conversation ends (the bot hangs up through the REST API), on `stop` (the caller hung up),
when the websocket closes or a message cannot be read (the line broke): every way ends
with the summary stored, and the server goes on serving.
"""

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from telephony.keys import SESSIONS, TELEPHONY
from telephony.twilio.keys import TRANSFERS, TWILIO, TWILIO_TASKS
from telephony.twilio.line import StreamError, TwilioLine, parse_message
from telephony.twilio.rest import TwilioError, TwilioRest
from telephony.twilio.signature import verified_params
from telephony.twilio.status import CallStatusLog
from telephony.twilio.transfer import Transfer
from voicebot.calls import ActiveCall, CallSpec, carrier_call_id
from voicebot.conversation.state import Direction
from voicebot.store import Store

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0


async def media_stream(request: web.Request) -> web.StreamResponse:
    app = request.app
    twilio = app[TWILIO]
    await verified_params(request, twilio.auth_token, app[TELEPHONY].public_url)
    runner = app.get(SESSIONS)
    if runner is None:
        raise web.HTTPServiceUnavailable(text="the call runner is not ready")
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    try:
        start = await asyncio.wait_for(_start_message(ws), START_TIMEOUT_S)
    except (StreamError, TimeoutError) as error:
        logger.warning("twilio: stream refused before start: %s", error or "no start message")
        await ws.close()
        return ws
    if start is None:
        return ws
    await _run_call(app, ws, start)
    return ws


async def _start_message(ws: web.WebSocketResponse) -> dict[str, Any] | None:
    """`connected`, then `start`; None when the socket closes first."""
    async for message in ws:
        if message.type is not WSMsgType.TEXT:
            raise StreamError(f"a {message.type.name} message before start")
        event = parse_message(message.data)
        if event["event"] == "start":
            start = event.get("start")
            if not isinstance(start, dict) or not event.get("streamSid"):
                raise StreamError("start without streamSid")
            return {**start, "streamSid": str(event["streamSid"])}
    return None


async def _run_call(app: web.Application, ws: web.WebSocketResponse, start: dict[str, Any]) -> None:
    twilio, rest = app[TWILIO], TwilioRest(app[TWILIO])
    call_sid = str(start.get("callSid", ""))

    def hang_up_call() -> None:  # the bot ended the call: Twilio hangs up
        task = asyncio.get_running_loop().create_task(_hang_up(rest, call_sid))
        app[TWILIO_TASKS].add(task)
        task.add_done_callback(app[TWILIO_TASKS].discard)

    line = TwilioLine(
        ws,
        start["streamSid"],
        on_bot_hang_up=hang_up_call,
        media_timeout_s=app[TELEPHONY].media_timeout_s,
    )
    try:
        spec = _spec(app, call_sid, line)
    except LookupError as error:
        logger.warning("twilio: stream for %r refused: %s", call_sid, error)
        await ws.close()
        return
    registry, cap = app[SESSIONS].calls, app[TELEPHONY].max_calls
    active = ActiveCall(
        spec.call_id, spec.direction.value, "twilio", spec.number, app[SESSIONS].clock()
    )
    if not registry.reserve(active, cap):
        logger.warning("twilio: stream for %r refused: %d calls in progress", call_sid, cap)
        line.hang_up("bot")
        await ws.close()
        return
    if twilio.agent_number:
        transfer = Transfer(app, rest, call_sid, spec.call_id, line)
        spec.transfer = transfer.run
    clock = asyncio.create_task(line.run())
    reader = asyncio.create_task(_read(ws, line))
    call = asyncio.create_task(app[SESSIONS].run(line, spec))
    try:  # a client gone away cancels this handler, never the call and its summary
        await asyncio.shield(call)
    finally:
        line.hang_up("bot")
        for task in (clock, reader):
            task.cancel()
        await asyncio.gather(clock, reader, return_exceptions=True)
        await ws.close()
        app[TRANSFERS].pop(spec.call_id, None)


def _spec(app: web.Application, call_sid: str, line: TwilioLine) -> CallSpec:
    """Who the call is for: what the server noted when it answered or created the call
    (never the stream's own parameters, which anyone holding one signature could set)."""
    store_path = app[SESSIONS].settings.store_path
    log = CallStatusLog(store_path)
    try:
        expected = log.claim_stream(call_sid) if call_sid else None
    finally:
        log.close()
    if expected is None:
        raise LookupError("not a call this server answered or placed, or streamed already")
    if expected.direction == "outbound":
        store = Store(store_path)
        try:
            account = store.get_account(expected.account_id)
        finally:
            store.close()
        if account is None:
            raise LookupError(f"outbound stream for unknown account {expected.account_id!r}")
        spec = CallSpec("twilio", Direction.OUTBOUND, account.phone, account)
    else:
        spec = CallSpec("twilio", Direction.INBOUND, expected.number)
    spec.call_id = expected.call_id
    spec.carrier_call_id = carrier_call_id(call_sid)
    spec.line_metrics = line.figures
    return spec


async def _read(ws: web.WebSocketResponse, line: TwilioLine) -> None:
    """Feed Twilio's messages to the line until the stream ends, one way or another."""
    try:
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                raise StreamError(f"unexpected {message.type.name} message")
            if not await line.receive(message.data):
                line.end_reason = "stop"
                line.hang_up("transfer" if line.transferring else "borrower")
                return
    except StreamError as error:
        logger.warning("twilio: stream %r broken: %s", line.stream_sid, error)
        line.end_reason = f"bad message: {error}"
        line.hang_up("line")
        return
    except Exception:  # whatever else a message does, the call ends and is summarised
        logger.exception("twilio: stream %r failed", line.stream_sid)
        line.end_reason = "unreadable message"
        line.hang_up("line")
        return
    line.end_reason = line.end_reason or "websocket closed"
    line.hang_up("line")


async def _hang_up(rest: TwilioRest, call_sid: str) -> None:
    if not call_sid:
        return
    try:
        await rest.hang_up(call_sid)
    except TwilioError as error:
        logger.error("twilio: hang-up of %s failed: %s", call_sid, error)
