"""What `voicebot serve`'s app keeps for its carriers: the server sets these, carriers read
them. Its own module so that neither imports the other."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from telephony.carrier import Dialer
from telephony.settings import TelephonySettings
from voicebot.calls.registry import CallRegistry

if TYPE_CHECKING:
    from voicebot.calls.session import CallSessions

SECTIONS: web.AppKey[Mapping[str, Any]] = web.AppKey("config_sections")  # the config file's
TELEPHONY = web.AppKey("telephony", TelephonySettings)
CALLS = web.AppKey("active_calls", CallRegistry)
SESSIONS: web.AppKey["CallSessions"] = web.AppKey("call_sessions")  # runs every call
DIALERS: web.AppKey[dict[str, Dialer]] = web.AppKey("dialers")  # line name -> its dialer
