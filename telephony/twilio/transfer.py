"""Hand-off to a human on Twilio: the call is updated to <Dial> the agent's number.

The media stream ends when Twilio leaves <Connect> for <Dial>; the <Dial> result
(`DialCallStatus`) arrives at `/telephony/twilio/dial-result` and is what the summary's
`transfer` records. `ok` means the agent answered.
"""

import asyncio
import logging
from typing import Any

from aiohttp import web

from telephony.keys import TELEPHONY
from telephony.twilio.keys import TRANSFERS, TWILIO
from telephony.twilio.line import TwilioLine
from telephony.twilio.rest import TwilioError, TwilioRest
from telephony.twilio.twiml import dial

logger = logging.getLogger(__name__)

DIAL_RESULT_PATH = "/telephony/twilio/dial-result"
RING_S = 30
ANSWERED = frozenset({"completed", "answered"})


class Transfer:
    def __init__(
        self, app: web.Application, rest: TwilioRest, call_sid: str, call_id: str, line: TwilioLine
    ) -> None:
        self.app, self.rest, self.call_sid, self.call_id, self.line = (
            app,
            rest,
            call_sid,
            call_id,
            line,
        )

    async def run(self) -> dict[str, Any]:
        target = self.app[TWILIO].agent_number
        result = asyncio.get_running_loop().create_future()
        self.app[TRANSFERS][self.call_id] = result
        base = self.app[TELEPHONY].public_url
        action = f"{base}{DIAL_RESULT_PATH}?call_id={self.call_id}"
        self.line.transferring = True
        try:
            await self.rest.update_call(self.call_sid, Twiml=dial(target, action, RING_S))
        except TwilioError as error:
            self.line.transferring = False
            logger.error("twilio: call %s: transfer refused: %s", self.call_id, error)
            return {"target": target, "ok": False, "status": "failed", "reason": str(error)}
        try:
            status = await asyncio.wait_for(result, self.app[TWILIO].transfer_timeout_s)
        except TimeoutError:
            status = "unknown"
        finally:
            self.app[TRANSFERS].pop(self.call_id, None)
        reason = f"DialCallStatus {status}" if status != "unknown" else "no <Dial> result in time"
        return {"target": target, "ok": status in ANSWERED, "status": status, "reason": reason}
