"""Twilio as a carrier (`telephony.carrier`): media streams on `voicebot serve`, calls
placed through its REST API. Imports stay inside the functions: pipecat only when used."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from telephony.carrier import Carrier, StartupHook
from telephony.settings import telephony_settings, twilio_settings
from voicebot.campaigns.lines import CampaignDialer
from voicebot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web


def serve(app: web.Application) -> StartupHook | None:
    """With `[twilio] enabled`: its webhooks, media stream and dialler."""
    from telephony.keys import SECTIONS  # aiohttp: the server has it loaded

    twilio = twilio_settings(app[SECTIONS].get("twilio", {}))
    if not twilio.enabled:
        return None
    from telephony.twilio.routes import add_twilio  # pipecat only when the line is on

    return add_twilio(app, twilio)


def call(settings: Settings, sections: Mapping[str, Any], account_id: str) -> int:
    """`voicebot call --line twilio`: ask Twilio to dial; the running `voicebot serve`
    carries the call (its media stream comes back there). Prints what Twilio answered."""
    from telephony.twilio.outbound import place_call
    from telephony.twilio.rest import TwilioError

    telephony = telephony_settings(sections.get("telephony", {}))
    twilio = twilio_settings(sections.get("twilio", {}))
    try:
        placed = asyncio.run(place_call(settings, telephony, twilio, account_id))
    except (TwilioError, LookupError) as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    print(json.dumps(placed, ensure_ascii=False))
    return 0


def campaign_line(settings: Settings, sections: Mapping[str, Any]) -> CampaignDialer:
    from telephony.twilio.campaign import TwilioCampaignLine

    return TwilioCampaignLine(settings, sections)


TWILIO = Carrier(
    name="twilio", section="twilio", serve=serve, call=call, campaign_line=campaign_line
)
