"""Speech fixtures: models are assembled and loaded once per test session."""

import io
from pathlib import Path

import av
import numpy as np
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


@pytest.fixture(scope="session")
def edge_mp3() -> bytes:
    """0.6 s of a tone as a real 24 kHz mono MP3, the audio edge-tts sends."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=24000, layout="mono")
        t = np.arange(int(0.6 * 24000)) / 24000
        samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 24000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()
