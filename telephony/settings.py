"""The `[telephony]` and `[twilio]` settings (`[sip]` is read by `telephony.sip.settings`).

Secrets are never kept in the file: set them in the environment as
`VOICEBOT_TWILIO__AUTH_TOKEN` (any key can be overridden as `VOICEBOT_<SECTION>__<KEY>`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from voicebot.config import ConfigError


@dataclass(frozen=True)
class TelephonySettings:
    # The base URL carriers reach this server at (https://bot.example.com): webhook
    # signatures are computed over it and stream URLs are built from it. Empty: the URL
    # of the request as this server saw it (no proxy in front).
    public_url: str = ""
    max_calls: int = 50  # calls beyond this many are refused (busy)
    media_timeout_s: float = 20.0  # a stream silent this long (no message at all) is ended


@dataclass(frozen=True)
class TwilioSettings:
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)  # VOICEBOT_TWILIO__AUTH_TOKEN
    api_base: str = "https://api.twilio.com"  # tests point it at a local fake
    from_number: str = ""  # caller id of outbound calls, a Twilio number (E.164)
    agent_number: str = ""  # <Dial> target for calls that need a human; empty: none
    answer_timeout_s: int = 45  # ring time of an outbound call
    transfer_timeout_s: float = 60.0  # how long the agent's answer is awaited

    @property
    def can_dial(self) -> bool:
        return bool(self.enabled and self.account_sid and self.auth_token and self.from_number)


def telephony_settings(section: Mapping) -> TelephonySettings:
    settings = TelephonySettings(
        public_url=str(section.get("public_url", "")).strip().rstrip("/"),
        max_calls=int(section.get("max_calls", TelephonySettings.max_calls)),
        media_timeout_s=float(section.get("media_timeout_s", TelephonySettings.media_timeout_s)),
    )
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"telephony.public_url: expected an http(s) URL, got {settings.public_url!r}"
        )
    if settings.max_calls < 1 or not settings.media_timeout_s > 0:
        raise ConfigError("telephony.max_calls (>= 1) and media_timeout_s (> 0): out of range")
    return settings


def twilio_settings(section: Mapping) -> TwilioSettings:
    d = TwilioSettings()
    twilio = TwilioSettings(
        enabled=str(section.get("enabled", d.enabled)).strip().lower() in ("true", "1", "yes"),
        account_sid=str(section.get("account_sid", "")).strip(),
        auth_token=str(section.get("auth_token", "")).strip(),
        api_base=str(section.get("api_base", d.api_base)).strip().rstrip("/"),
        from_number=str(section.get("from_number", "")).strip(),
        agent_number=str(section.get("agent_number", "")).strip(),
        answer_timeout_s=int(section.get("answer_timeout_s", d.answer_timeout_s)),
        transfer_timeout_s=float(section.get("transfer_timeout_s", d.transfer_timeout_s)),
    )
    if twilio.enabled and not (twilio.account_sid and twilio.auth_token):
        raise ConfigError(
            "twilio.account_sid and twilio.auth_token: required when twilio.enabled"
            " (set the token in VOICEBOT_TWILIO__AUTH_TOKEN)"
        )
    if twilio.answer_timeout_s < 5 or twilio.transfer_timeout_s <= 0:
        raise ConfigError("twilio.answer_timeout_s (>= 5) / transfer_timeout_s (> 0): out of range")
    return twilio
