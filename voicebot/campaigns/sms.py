"""SMS reminders after campaign calls: templates in prompts/sms.yaml, a provider seam.

Which call gets which message is decided here once: a confirmed promise gets a
confirmation of its date; the first unanswered attempt of an account in a campaign gets a
neutral request to call the hotline. Nothing is sent after a wrong number, a do-not-call
request or any other outcome. Sending happens after the attempt is committed, so a crash
can lose an SMS but never send one for a call that was not recorded.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import LenderSettings
from voicebot.masking import mask_phone

log = logging.getLogger("voicebot.sms")
TEMPLATES = ("promise_confirmation", "callback_request")
_UNANSWERED = frozenset(
    {
        AttemptOutcome.NO_RESPONSE,
        AttemptOutcome.VOICEMAIL,
        AttemptOutcome.UNREACHABLE,
        AttemptOutcome.BUSY,
    }
)


class SmsProvider(Protocol):
    """Sends one text message to a phone number (digits, without +86)."""

    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsProvider:
    """The default provider: logs the message with the phone number masked."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (masked phone, text), for the final report

    def send(self, phone: str, text: str) -> None:
        self.sent.append((mask_phone(phone), text))
        log.info("SMS to %s: %s", mask_phone(phone), text)


class NoSms:
    """SMS reminders switched off (`campaigns.sms_provider = "none"`)."""

    def send(self, phone: str, text: str) -> None:
        return None


def load_sms_templates(prompts_dir: Path) -> dict[str, str]:
    """The reviewed SMS templates; every one of TEMPLATES must be there."""
    path = prompts_dir / "sms.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [name for name in TEMPLATES if not isinstance(raw.get(name), str)]
    if missing:
        raise ValueError(f"{path}: missing template {missing[0]}")
    return {name: raw[name] for name in TEMPLATES}


def sms_after_call(
    outcome: AttemptOutcome,
    summary: Mapping[str, Any] | None,
    attempt_no: int,
    templates: Mapping[str, str],
    lender: LenderSettings,
) -> str | None:
    """The message to send after an attempt, or None."""
    slots = {"lender": lender.name, "hotline": lender.hotline}
    promise = summary.get("promise_to_pay") if summary else None
    if promise and summary and summary.get("identity_verified"):
        return templates["promise_confirmation"].format(date=promise["date"], **slots)
    if outcome in _UNANSWERED and attempt_no == 0:
        return templates["callback_request"].format(date="", **slots)
    return None


def sms_provider(name: str) -> SmsProvider:
    """The provider named in `campaigns.sms_provider`."""
    return NoSms() if name == "none" else LoggingSmsProvider()
