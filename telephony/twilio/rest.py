"""Twilio's REST API, the few calls the bot makes: place a call, update it, hang it up."""

import logging
from typing import Any

import aiohttp

from telephony.settings import TwilioSettings

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)


class TwilioError(RuntimeError):
    """Twilio refused a request or could not be reached; the message says which."""


class TwilioRest:
    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._calls = f"{settings.api_base}/2010-04-01/Accounts/{settings.account_sid}/Calls"

    async def create_call(self, to: str, twiml: str, status_callback: str) -> dict[str, Any]:
        """Place a call that runs `twiml` once answered; returns Twilio's call resource."""
        params = {
            "To": to,
            "From": self.settings.from_number,
            "Twiml": twiml,
            "Timeout": str(self.settings.answer_timeout_s),
            "StatusCallback": status_callback,
            "StatusCallbackMethod": "POST",
        }
        data = list(params.items()) + [
            ("StatusCallbackEvent", event)
            for event in ("initiated", "ringing", "answered", "completed")
        ]
        return await self._post(f"{self._calls}.json", data)

    async def update_call(self, call_sid: str, **params: str) -> dict[str, Any]:
        """Change a live call: new TwiML (`Twiml=`) or `Status="completed"` to hang up."""
        return await self._post(f"{self._calls}/{call_sid}.json", list(params.items()))

    async def hang_up(self, call_sid: str) -> None:
        """End the call; one that has already ended is not an error."""
        try:
            await self.update_call(call_sid, Status="completed")
        except TwilioError as error:
            if "404" not in str(error):
                raise

    async def _post(self, url: str, data: list[tuple[str, str]]) -> dict[str, Any]:
        auth = aiohttp.encode_basic_auth(self.settings.account_sid, self.settings.auth_token)
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.post(url, data=data, headers={"Authorization": auth}) as response,
            ):
                body = await response.json(content_type=None)
                if response.status >= 300:
                    message = body.get("message", "") if isinstance(body, dict) else ""
                    raise TwilioError(f"Twilio answered {response.status}: {message}".strip())
                return body if isinstance(body, dict) else {}
        except (aiohttp.ClientError, TimeoutError) as error:
            why = str(error) or type(error).__name__
            raise TwilioError(
                f"Twilio API unreachable at {self.settings.api_base}: {why}"
            ) from None
        except ValueError:
            raise TwilioError(f"Twilio API at {self.settings.api_base}: not JSON") from None
