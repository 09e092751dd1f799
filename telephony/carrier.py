"""What a carrier offers the rest of the bot, in one object: `Carrier`.

Each carrier's folder (`telephony/twilio/`, `telephony/sip/`) defines one `Carrier` in its
`carrier.py`; `telephony.carriers` lists them. Everything that picks a line by name (the
server, `voicebot call`, campaigns, the CLI's `--line` choices) asks that list, so adding
a carrier is its folder and one line there. A carrier module keeps its heavy imports
(pipecat, the SIP stack) inside the functions it names here: the CLI reads the list on
every start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from voicebot.campaigns.lines import CampaignDialer
    from voicebot.config import Settings

# An aiohttp cleanup context: runs after the server's call runner is ready, stops before it.
StartupHook = Callable[["web.Application"], AsyncIterator[None]]
# Places an outbound call to an account id; returns what the carrier answered (JSON).
Dialer = Callable[[str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Carrier:
    """One carrier: its name and the three places it plugs in.

    - `serve(app)`: on `voicebot serve`, when its section enables it, add its routes, put
      its dialer in `app[DIALERS][name]` (`POST /api/calls/outbound`), and return its
      startup hook (or None when it needs none); return None, adding nothing, when disabled.
      The config sections are in `app[SECTIONS]` (`telephony.keys`).
    - `call(settings, sections, account_id)`: `voicebot call ACCOUNT_ID --line NAME`;
      prints the result and returns the exit status. None: the line dials from
      `voicebot serve` only.
    - `campaign_line(settings, sections)`: the campaign dialer for `--line NAME`; raises
      `voicebot.campaigns.lines.LineNotConfigured` when its settings are missing.
    """

    name: str  # `--line NAME`, `{"line": NAME}`; the summaries' line
    section: str  # its config section (`[twilio]`), for help texts and messages
    serve: Callable[[web.Application], StartupHook | None]
    call: Callable[[Settings, Mapping[str, Any], str], int] | None
    campaign_line: Callable[[Settings, Mapping[str, Any]], CampaignDialer]
