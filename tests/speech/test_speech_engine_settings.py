"""Speech engines as configuration: `voice.asr`, `voice.tts` and their servers' sections."""

import pytest

from voicebot.config import ConfigError, load_settings


def test_the_offline_engines_are_the_default() -> None:
    voice = load_settings(environ={}).voice
    assert (voice.asr, voice.tts, voice.edge_voice) == (
        "offline",
        "offline",
        "zh-CN-XiaoxiaoNeural",
    )
    assert voice.asr_server.timeout_s == voice.tts_server.timeout_s == voice.edge_timeout_s == 1.0


def test_a_speech_server_is_configured_with_its_key_from_the_environment() -> None:
    voice = load_settings(
        environ={
            "VOICEBOT_VOICE__ASR": "remote",
            "VOICEBOT_ASR_SERVER__BASE_URL": "http://asr.internal:8000/v1",
            "VOICEBOT_ASR_SERVER__MODEL": "sensevoice-small",
            "VOICEBOT_ASR_SERVER__TIMEOUT_S": "0.8",
            "VOICEBOT_ASR_SERVER_API_KEY": "secret",
            "VOICEBOT_VOICE__TTS": "edge",
        }
    ).voice
    assert (voice.asr, voice.tts) == ("remote", "edge")
    server = voice.asr_server
    assert (server.base_url, server.model, server.timeout_s) == (
        "http://asr.internal:8000/v1",
        "sensevoice-small",
        0.8,
    )
    assert server.api_key == "secret" and "secret" not in repr(server)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VOICEBOT_VOICE__ASR": "cloud"}, "voice.asr"),
        ({"VOICEBOT_VOICE__TTS": "espeak"}, "voice.tts"),
        ({"VOICEBOT_VOICE__ASR": "remote"}, "asr_server.base_url"),
        (
            {
                "VOICEBOT_VOICE__TTS": "remote",
                "VOICEBOT_TTS_SERVER__BASE_URL": "http://tts/v1",
                "VOICEBOT_TTS_SERVER__MODEL": "cosyvoice",
            },
            "tts_server.base_url, model and voice",
        ),
        ({"VOICEBOT_TTS_SERVER__RESPONSE_FORMAT": "mp3"}, "tts_server.response_format"),
        ({"VOICEBOT_ASR_SERVER__TIMEOUT_S": "0"}, "asr_server.timeout_s"),
    ],
)
def test_a_wrong_engine_setting_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=environ)
