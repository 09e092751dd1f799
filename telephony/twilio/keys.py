"""What the Twilio routes keep on the server app."""

import asyncio
from typing import Any

from aiohttp import web

from telephony.settings import TwilioSettings

TWILIO = web.AppKey("twilio", TwilioSettings)
# call id -> the future a transfer's <Dial> result resolves
TRANSFERS: web.AppKey[dict[str, asyncio.Future[str]]] = web.AppKey("twilio_transfers")
# hang-ups in flight, awaited at shutdown
TWILIO_TASKS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("twilio_tasks")
