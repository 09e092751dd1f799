"""The carriers this bot can use: ONE list, one line per carrier.

Adding a carrier: give it a folder under `telephony/`, describe it in one `Carrier` there
(`telephony.carrier`), and add it to `CARRIERS` below. The server, `voicebot call`, the
campaign lines and the CLI's `--line` choices all read this list; tests pass their own
(`create_server(carriers=...)`, `main(argv, carriers=...)`).
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from telephony.carrier import Carrier
from telephony.sip.carrier import SIP
from telephony.twilio.carrier import TWILIO
from voicebot.campaigns.lines import CampaignDialer, CampaignLines
from voicebot.config import Settings, load_sections

CARRIERS: tuple[Carrier, ...] = (
    TWILIO,
    SIP,
)


def carrier_named(name: str, carriers: Iterable[Carrier] = CARRIERS) -> Carrier | None:
    """The carrier called `name`, or None."""
    return next((carrier for carrier in carriers if carrier.name == name), None)


def campaign_lines(
    carriers: Iterable[Carrier] = CARRIERS, sections: Mapping[str, Any] | None = None
) -> CampaignLines:
    """The lines a campaign can dial: the text line, and each carrier's. `sections` (the
    config file's, overrides applied) are read when a carrier's line is opened."""

    def opener(carrier: Carrier) -> Callable[[Settings], CampaignDialer]:
        def open_carrier_line(settings: Settings) -> CampaignDialer:
            return carrier.campaign_line(
                settings, load_sections() if sections is None else sections
            )

        return open_carrier_line

    return CampaignLines({carrier.name: opener(carrier) for carrier in carriers})
