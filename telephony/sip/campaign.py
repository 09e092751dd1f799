"""Campaign calls over SIP: `voicebot campaign run --line sip`.

Each dial runs in one of the campaign runner's worker threads: it opens its own SIP
endpoint (a free port, no REGISTER: `voicebot serve` keeps the binding), places the call
through `sip.proxy` and runs it in that thread's event loop with the process's one set
of speech models, loaded at the first dial. A call that never connects becomes the
attempt's outcome from its SIP status; a connected one, the summary's.
"""

import asyncio
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from telephony.sip.endpoint import SipEndpoint
from telephony.sip.outbound import CallFailed
from telephony.sip.service import SipCalls
from telephony.sip.settings import SipSettings, sip_settings
from voicebot.accounts import Account
from voicebot.calls import CallSessions
from voicebot.campaigns.lines import DialResult, LineNotConfigured
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import Settings

BUSY = {486, 600, 603}  # Busy Here, Busy Everywhere, Decline
NO_ANSWER = {408, 480, 487}  # no answer, temporarily unavailable, cancelled


def not_connected(status: int) -> AttemptOutcome:
    """The attempt's outcome for a call refused with `status` (or never answered)."""
    if status in BUSY:
        return AttemptOutcome.BUSY
    if status in NO_ANSWER:
        return AttemptOutcome.NO_RESPONSE
    return AttemptOutcome.UNREACHABLE  # 404, 484, 503...: the number cannot be reached


class SipCampaignLine:
    """Places each campaign call through the `[sip]` proxy and runs it here."""

    virtual_time = False

    def __init__(
        self,
        settings: Settings,
        sections: Mapping[str, Any],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`sections`: the config file's, overrides applied; `clock` decides the calling
        window (default: now), tests fix it."""
        self.clock = clock
        sip = sip_settings(sections.get("sip", {}), os.environ)
        if not sip.proxy:
            raise LineNotConfigured("the sip line is not configured: set sip.proxy (host:port)")
        self.settings = settings
        self.sip: SipSettings = replace(sip, port=0, register=False)
        self._models: Any = None
        self._loading = threading.Lock()

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult:
        try:
            summary = asyncio.run(self._call(account))
        except CallFailed as failed:
            return DialResult(not_connected(failed.status), None)
        return DialResult(AttemptOutcome(summary["outcome"]), summary)

    async def _call(self, account: Account) -> dict[str, Any]:
        runner = CallSessions(self.settings, self._voice_models(), clock=self.clock)
        calls = SipCalls(runner, SipEndpoint(self.sip))
        await calls.endpoint.start()
        try:
            return await calls.dial(account)
        finally:
            await calls.endpoint.stop()

    def _voice_models(self) -> Any:
        with self._loading:
            if self._models is None:
                from voicebot.voice.pipeline import VoiceModels  # only once a call is placed

                self._models = VoiceModels(self.settings.voice)
                self._models.warm_up()
            return self._models
