"""Speech fixtures: models are assembled and loaded once per test session."""

from pathlib import Path

import pytest

from voicebot.speech.asr import Transcriber
from voicebot.speech.asr_model import ensure_whisper_base
from voicebot.speech.offline_tts import OfflineVoice


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="session")
def whisper_base_dir(speech_cache: Path) -> Path:
    return ensure_whisper_base(speech_cache)


@pytest.fixture(scope="session")
def transcriber(whisper_base_dir: Path) -> Transcriber:
    return Transcriber(whisper_base_dir)


@pytest.fixture(scope="session")
def offline_voice(speech_cache: Path) -> OfflineVoice:
    return OfflineVoice(speech_cache)
