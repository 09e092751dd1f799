"""Measure the offline speech blocks: model assembly, ASR and TTS latency.

Run: ``HF_HUB_OFFLINE=1 python -m voicebot.speech.measure [CACHE_DIR]`` (a fresh
temporary cache by default, so assembly is measured cold).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from voicebot.speech.asr import HINT_DATE_AMOUNT, HINT_DIGITS, HINT_YES_NO, Transcriber
from voicebot.speech.asr_model import ensure_whisper_base
from voicebot.speech.audio import phone_line
from voicebot.speech.offline_tts import OfflineVoice

SENTENCES = [
    ("对，我是张伟", HINT_YES_NO),
    ("我下周五还三千块", HINT_DATE_AMOUNT),
    ("一二三四", HINT_DIGITS),
    ("请问您什么时候能把逾期的款项还上？", None),
]


def _timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main(cache_dir: Path) -> None:
    """Print timings for assembly, model loads, and per-sentence TTS and ASR."""
    model_dir, cold = _timed(lambda: ensure_whisper_base(cache_dir))
    _, warm = _timed(lambda: ensure_whisper_base(cache_dir))
    print(f"whisper base assembly: cold {cold:.2f} s, reuse {warm * 1000:.1f} ms")
    voice, tts_load = _timed(lambda: OfflineVoice(cache_dir))
    transcriber, asr_load = _timed(lambda: Transcriber(model_dir))
    print(f"load: offline voice {tts_load:.2f} s (incl. patch), whisper {asr_load:.2f} s")
    tts_times, asr_times = [], []
    for text, hint in SENTENCES:
        (audio, rate), tts_s = _timed(lambda t=text: voice.synthesize(t))
        narrow, narrow_rate = phone_line(audio, rate)
        result, asr_s = _timed(
            lambda a=narrow, r=narrow_rate, h=hint: transcriber.transcribe(a, r, h)
        )
        tts_times.append(tts_s)
        asr_times.append(asr_s)
        print(
            f"{text}: audio {audio.size / rate:.2f} s, TTS {tts_s:.3f} s, "
            f"ASR(8 kHz, hint={hint}) {asr_s:.2f} s -> {result!r}"
        )
    print(
        f"median TTS {statistics.median(tts_times):.3f} s, ASR {statistics.median(asr_times):.2f} s"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="speech-")))
