"""`voicebot call ACCOUNT_ID --line twilio|sip`: place one call now, from the command line.

The running `voicebot serve` carries the call (its media stream comes back to the
server); this command only asks the carrier to dial and prints what it answered.
"""

import asyncio
import json
import sys

from telephony.settings import telephony_settings, twilio_settings
from voicebot.config import Settings, load_sections


def dial_from_cli(settings: Settings, account_id: str, line: str) -> int:
    if line == "sip":  # the call runs in this process, through the [sip] proxy
        from telephony.sip.service import dial_from_cli as dial_sip

        return dial_sip(settings, account_id)
    sections = load_sections()
    if line != "twilio":
        print(f"voicebot: the {line} line places calls from `voicebot serve`", file=sys.stderr)
        return 2
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
