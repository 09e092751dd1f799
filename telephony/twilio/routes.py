"""Twilio's webhooks on `voicebot serve`, every one checked against `X-Twilio-Signature`.

- `POST /telephony/twilio/voice`: a call to the lender's Twilio number (the hotline);
  answers with TwiML that connects the media stream (busy when the server is full).
- `GET /telephony/twilio/stream`: the media stream's websocket (`stream.py`).
- `POST /telephony/twilio/status`: call status callbacks, kept in the store.
- `POST /telephony/twilio/dial-result`: the result of a transfer's <Dial>.
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from telephony.carrier import StartupHook
from telephony.keys import CALLS, DIALERS, TELEPHONY
from telephony.settings import TwilioSettings
from telephony.twilio.keys import TRANSFERS, TWILIO, TWILIO_TASKS
from telephony.twilio.outbound import STATUS_PATH, STREAM_PATH, place_call, stream_url
from telephony.twilio.signature import verified_params
from telephony.twilio.status import CallStatusLog, ExpectedCall, parse_duration
from telephony.twilio.stream import media_stream
from telephony.twilio.transfer import DIAL_RESULT_PATH
from telephony.twilio.twiml import connect_stream, hang_up, reject_busy
from voicebot.masking import mask_phone
from voicebot.web.keys import CLOCK, SETTINGS

logger = logging.getLogger(__name__)

LINE = "twilio"
VOICE_PATH = "/telephony/twilio/voice"


def add_twilio(app: web.Application, twilio: TwilioSettings) -> StartupHook:
    """`[twilio]` is enabled: add its routes and dialler; the hook awaits the hang-ups
    still in flight at shutdown."""
    app[TWILIO] = twilio
    app[TRANSFERS] = {}
    app[TWILIO_TASKS] = set()
    app.router.add_post(VOICE_PATH, answer)
    app.router.add_get(STREAM_PATH, media_stream)
    app.router.add_post(STATUS_PATH, call_status)
    app.router.add_post(DIAL_RESULT_PATH, dial_result)

    async def dial(account_id: str) -> dict[str, Any]:
        now = app[CLOCK]()  # the review app's clock: tests fix it
        return await place_call(app[SETTINGS], app[TELEPHONY], twilio, account_id, now)

    app[DIALERS][LINE] = dial

    async def hook(app: web.Application) -> AsyncIterator[None]:
        yield
        await asyncio.gather(*app[TWILIO_TASKS], return_exceptions=True)

    return hook


async def _verified(request: web.Request) -> dict[str, str]:
    app = request.app
    return await verified_params(request, app[TWILIO].auth_token, app[TELEPHONY].public_url)


async def answer(request: web.Request) -> web.Response:
    """An inbound call: connect its media stream, the caller's number as a parameter."""
    params = await _verified(request)
    caller, call_sid = params.get("From", ""), params.get("CallSid", "")
    if not call_sid:
        raise web.HTTPBadRequest(text="CallSid is required")
    if len(request.app[CALLS]) >= request.app[TELEPHONY].max_calls:
        logger.warning("twilio: call from %s refused: server full", mask_phone(caller))
        return _twiml(reject_busy())
    log = CallStatusLog(request.app[SETTINGS].store_path)
    try:  # the stream that follows is accepted for this call only, once
        expected = ExpectedCall(call_sid, uuid.uuid4().hex, "inbound", "", caller)
        call_id = log.expect(expected, params.get("CallStatus", "") or "ringing")
    finally:
        log.close()
    base = request.app[TELEPHONY].public_url or f"{request.scheme}://{request.host}"
    logger.info("twilio: inbound %r (call %s) from %s", call_sid, call_id, mask_phone(caller))
    return _twiml(connect_stream(stream_url(base), {"call_id": call_id}))


async def call_status(request: web.Request) -> web.Response:
    """A status callback: the call's latest status goes to the store."""
    params = await _verified(request)
    call_sid, status = params.get("CallSid", ""), params.get("CallStatus", "")
    if not call_sid or not status:
        raise web.HTTPBadRequest(text="CallSid and CallStatus are required")
    duration = parse_duration(params.get("CallDuration", ""))
    log = CallStatusLog(request.app[SETTINGS].store_path)
    try:
        log.record(call_sid, request.query.get("call_id", ""), status, duration)
    finally:
        log.close()
    logger.info("twilio: %r is %r", call_sid, status)
    return web.Response(status=204)


async def dial_result(request: web.Request) -> web.Response:
    """A transfer's <Dial> finished: hand its status to the waiting call; then hang up."""
    params = await _verified(request)
    waiting = request.app[TRANSFERS].get(request.query.get("call_id", ""))
    if waiting is not None and not waiting.done():
        waiting.set_result(params.get("DialCallStatus", "unknown"))
    return _twiml(hang_up())


def _twiml(document: str) -> web.Response:
    return web.Response(text=document, content_type="text/xml")
