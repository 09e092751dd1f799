"""`voicebot call ACCOUNT_ID --line NAME`: place one call now, from the command line.

The carrier named (`telephony.carriers`) dials and prints what happened; a carrier that
places calls from `voicebot serve` only says so.
"""

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from telephony.carrier import Carrier
from telephony.carriers import CARRIERS, carrier_named
from voicebot.config import Settings, load_sections


def dial_from_cli(
    settings: Settings,
    account_id: str,
    line: str,
    carriers: Iterable[Carrier] = CARRIERS,
    sections: Mapping[str, Any] | None = None,
) -> int:
    """Dial `account_id` on the carrier named `line`; the command's exit status."""
    carrier = carrier_named(line, carriers)
    if carrier is None or carrier.call is None:
        print(f"voicebot: the {line} line places calls from `voicebot serve`", file=sys.stderr)
        return 2
    return carrier.call(settings, load_sections() if sections is None else sections, account_id)
