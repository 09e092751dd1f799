"""Placing an outbound call through Twilio: `voicebot call`, the HTTP endpoint, campaigns.

The call is created with TwiML that connects its media stream to this server's
`/telephony/twilio/stream`; who the call is for travels as stream parameters, which only
a request signed with the account's auth token can set. The server that receives the
stream runs the conversation, so the placing process needs no speech models.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from telephony.settings import TelephonySettings, TwilioSettings
from telephony.twilio.rest import TwilioError, TwilioRest
from telephony.twilio.status import CallStatusLog, ExpectedCall
from telephony.twilio.twiml import connect_stream
from voicebot.calls import find_account, outside_hours
from voicebot.config import Settings

STREAM_PATH = "/telephony/twilio/stream"
STATUS_PATH = "/telephony/twilio/status"


def e164(number: str) -> str:
    """A number as Twilio dials it: Chinese mobiles (13800138000) get +86."""
    number = number.strip().replace(" ", "").replace("-", "")
    if number.startswith("+"):
        return number
    if len(number) == 11 and number.startswith("1"):
        return "+86" + number
    return number


def stream_url(base_url: str) -> str:
    """The media stream's websocket URL on the server at `base_url` (http(s)://...)."""
    return base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + STREAM_PATH


async def place_call(
    settings: Settings,
    telephony: TelephonySettings,
    twilio: TwilioSettings,
    account_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Dial the account; returns the call id and Twilio's call sid (or the summary's
    outcome when the calling window is closed). LookupError: no such account."""
    if not twilio.can_dial:
        raise TwilioError(
            "twilio.enabled, account_sid, from_number and VOICEBOT_TWILIO__AUTH_TOKEN"
            " are required to place calls"
        )
    if not telephony.public_url:
        raise TwilioError("telephony.public_url: required to place calls (Twilio must reach us)")
    account = find_account(settings, account_id)
    closed = outside_hours(settings, account, now or datetime.now(UTC), "twilio")
    if closed is not None:
        return {
            "call_id": closed["call_id"],
            "account_id": account_id,
            "outcome": closed["outcome"],
        }
    call_id = uuid.uuid4().hex
    twiml = connect_stream(
        stream_url(telephony.public_url),
        {"direction": "outbound", "account_id": account_id, "call_id": call_id},
    )
    status_callback = f"{telephony.public_url}{STATUS_PATH}?call_id={call_id}"
    resource = await TwilioRest(twilio).create_call(e164(account.phone), twiml, status_callback)
    call_sid = str(resource.get("sid", ""))
    log = CallStatusLog(settings.store_path)
    try:  # the call's media stream is accepted for this account only, once
        log.expect(ExpectedCall(call_sid, call_id, "outbound", account_id, ""), "queued")
    finally:
        log.close()
    return {
        "call_id": call_id,
        "call_sid": call_sid,
        "account_id": account_id,
        "status": str(resource.get("status", "")),
    }
