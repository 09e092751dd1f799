"""Campaign calls over Twilio: `voicebot campaign run --line twilio`.

Each dial asks Twilio to call the borrower (as `voicebot call` does); the running
`voicebot serve` carries the call and stores its summary. The dialler waits for that
summary, or for a final status callback of a call that never connected (busy, no
answer, failed), and reports the attempt's outcome. Dials run in the campaign runner's
worker threads, so each one waits on its own.
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telephony.settings import telephony_settings, twilio_settings
from telephony.twilio.outbound import place_call
from telephony.twilio.rest import TwilioError
from telephony.twilio.status import CallStatusLog
from voicebot.accounts import Account
from voicebot.campaigns.lines import DialResult, LineNotConfigured
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import Settings
from voicebot.store import Store

logger = logging.getLogger(__name__)

POLL_S = 0.5
SUMMARY_GRACE_S = 30.0  # after `completed`, the server may still be writing the summary
NOT_CONNECTED = {
    "busy": AttemptOutcome.BUSY,
    "no-answer": AttemptOutcome.NO_RESPONSE,
    "canceled": AttemptOutcome.NO_RESPONSE,
    "failed": AttemptOutcome.UNREACHABLE,
}


class TwilioCampaignLine:
    """Places each campaign call through Twilio's REST API and waits for its result."""

    virtual_time = False

    def __init__(self, settings: Settings, sections: Mapping[str, Any]) -> None:
        """`sections`: the config file's, overrides applied."""
        self.settings = settings
        self.telephony = telephony_settings(sections.get("telephony", {}))
        self.twilio = twilio_settings(sections.get("twilio", {}))
        if not (self.twilio.can_dial and self.telephony.public_url):
            raise LineNotConfigured(
                "the twilio line is not configured: set twilio.enabled, account_sid,"
                " from_number, telephony.public_url and VOICEBOT_TWILIO__AUTH_TOKEN"
            )

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult:
        try:
            placed = asyncio.run(
                place_call(self.settings, self.telephony, self.twilio, account.account_id, at)
            )
        except TwilioError as error:  # counted as a connected call: the doubt goes their way
            logger.error("twilio: campaign call to %s not placed: %s", account.account_id, error)
            return DialResult(AttemptOutcome.UNKNOWN, None)
        if "call_sid" not in placed:  # the calling window is closed: nothing was dialled
            return DialResult(AttemptOutcome(placed["outcome"]), self._summary(placed["call_id"]))
        return self._wait(placed["call_id"], placed["call_sid"])

    def _wait(self, call_id: str, call_sid: str) -> DialResult:
        max_call_s = self.settings.voice.max_call_s
        deadline = time.monotonic() + self.twilio.answer_timeout_s + max_call_s + 60
        completed_at: float | None = None
        while time.monotonic() < deadline:
            summary = self._summary(call_id)
            if summary is not None:
                return DialResult(AttemptOutcome(summary["outcome"]), summary)
            status = self._status(call_sid)
            if status in NOT_CONNECTED:
                return DialResult(NOT_CONNECTED[status], None)
            if status == "completed":
                completed_at = completed_at or time.monotonic()
                if time.monotonic() - completed_at > SUMMARY_GRACE_S:
                    break  # answered, but no stream reached the server
            time.sleep(POLL_S)
        logger.error("twilio: campaign call %s (%s) left no result", call_id, call_sid)
        return DialResult(AttemptOutcome.UNKNOWN, None)

    def _summary(self, call_id: str) -> dict[str, Any] | None:
        store = Store(self.settings.store_path)
        try:
            return store.get_call(call_id)
        finally:
            store.close()

    def _status(self, call_sid: str) -> str | None:
        log = CallStatusLog(self.settings.store_path)
        try:
            return log.status(call_sid)
        finally:
            log.close()
