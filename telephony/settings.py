"""The `[telephony]` and `[twilio]` settings (`[sip]` is read by `telephony.sip.settings`).

Secrets are never kept in the file: set them in the environment as
`VOICEBOT_TWILIO__AUTH_TOKEN` (any key can be overridden as `VOICEBOT_<SECTION>__<KEY>`).
Defaults are config/default.toml's; the dataclasses repeat them for tests that build
settings by hand (tests/test_settings_defaults.py holds the two equal).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from voicebot.config import ConfigError, with_defaults


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
    """Read and validate `[telephony]`; a missing key takes config/default.toml's value."""
    s = with_defaults("telephony", section)
    settings = TelephonySettings(
        public_url=str(s["public_url"]).strip().rstrip("/"),
        max_calls=int(s["max_calls"]),
        media_timeout_s=float(s["media_timeout_s"]),
    )
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"telephony.public_url: expected an http(s) URL, got {settings.public_url!r}"
        )
    if settings.max_calls < 1 or not settings.media_timeout_s > 0:
        raise ConfigError("telephony.max_calls (>= 1) and media_timeout_s (> 0): out of range")
    return settings


def twilio_settings(section: Mapping) -> TwilioSettings:
    """Read and validate `[twilio]`; a missing key takes config/default.toml's value."""
    s = with_defaults("twilio", section)
    twilio = TwilioSettings(
        enabled=str(s["enabled"]).strip().lower() in ("true", "1", "yes"),
        account_sid=str(s["account_sid"]).strip(),
        auth_token=str(s["auth_token"]).strip(),
        api_base=str(s["api_base"]).strip().rstrip("/"),
        from_number=str(s["from_number"]).strip(),
        agent_number=str(s["agent_number"]).strip(),
        answer_timeout_s=int(s["answer_timeout_s"]),
        transfer_timeout_s=float(s["transfer_timeout_s"]),
    )
    if twilio.enabled and not (twilio.account_sid and twilio.auth_token):
        raise ConfigError(
            "twilio.account_sid and twilio.auth_token: required when twilio.enabled"
            " (set the token in VOICEBOT_TWILIO__AUTH_TOKEN)"
        )
    if twilio.answer_timeout_s < 5 or twilio.transfer_timeout_s <= 0:
        raise ConfigError("twilio.answer_timeout_s (>= 5) / transfer_timeout_s (> 0): out of range")
    return twilio
