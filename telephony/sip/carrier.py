"""SIP as a carrier (`telephony.carrier`): the bot's own endpoint on `voicebot serve`,
calls placed through `sip.proxy`. Imports stay inside the functions: the SIP stack and
pipecat only when used."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from telephony.carrier import Carrier, StartupHook
from telephony.sip.settings import sip_settings
from voicebot.campaigns.lines import CampaignDialer
from voicebot.config import Settings

if TYPE_CHECKING:
    from aiohttp import web


def serve(app: web.Application) -> StartupHook | None:
    """With `[sip] enabled`: the endpoint, started and stopped with the server."""
    from telephony.keys import SECTIONS  # aiohttp: the server has it loaded

    sip = sip_settings(app[SECTIONS].get("sip", {}), os.environ)
    if not sip.enabled:
        return None
    from telephony.sip.service import sip_hook  # the SIP stack only when the line is on

    return sip_hook(sip)


def call(settings: Settings, sections: Mapping[str, Any], account_id: str) -> int:
    from telephony.sip.service import dial_from_cli

    return dial_from_cli(settings, sections, account_id)


def campaign_line(settings: Settings, sections: Mapping[str, Any]) -> CampaignDialer:
    from telephony.sip.campaign import SipCampaignLine

    return SipCampaignLine(settings, sections)


SIP = Carrier(name="sip", section="sip", serve=serve, call=call, campaign_line=campaign_line)
