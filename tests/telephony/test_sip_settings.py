"""The `[sip]` section: defaults from config/default.toml, one clear error per bad value."""

import re
import tomllib

import pytest

from telephony.sip.settings import sip_settings
from voicebot.config import DEFAULT_CONFIG, ConfigError


def section(**changes: object) -> dict:
    raw = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))["sip"]
    return {**raw, **changes}


def test_the_default_section_is_valid_and_the_password_comes_from_the_environment() -> None:
    sip = sip_settings(section(), {"VOICEBOT_SIP_PASSWORD": "s3cret"})
    assert (sip.enabled, sip.port, sip.codecs, sip.password) == (False, 5060, (0, 8), "s3cret")
    assert "s3cret" not in repr(sip)
    assert sip_settings(section(codecs="pcma"), {}).codecs == (8,)


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"codecs": "PCMU,G729"}, "sip.codecs: 'G729'"),
        ({"register": "true"}, "sip.register: needs sip.proxy"),
        ({"proxy": "pbx.example.com:port"}, "sip.proxy: expected host:port"),
        ({"agent_uri": "agent@pbx"}, "sip.agent_uri: expected a sip: URI"),
        ({"rtp_port_min": 30000, "rtp_port_max": 20000}, "sip.rtp_port_min/rtp_port_max"),
    ],
)
def test_a_bad_value_is_named_in_the_error(changes: dict, names: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(names)):
        sip_settings(section(**changes), {})
