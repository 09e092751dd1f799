"""Measure the recogniser's own scores on line noise and on real short answers.

Prints, under the yes/no hint, each clip's no-speech probability, mean token
log-probability and what was heard: pure noise (white, brown, hum, crackle, bursts, breath;
0.6-1.6 s, seeded) and the offline voice's short answers (three noise levels, three
tempos) through the 8 kHz mu-law line. The doubt thresholds of `voicebot.speech.asr`
(`DOUBT_NO_SPEECH_PROB`, `DOUBT_AVG_LOGPROB`) were read from this table.

    python scripts/measure_doubt.py
"""

from collections.abc import Iterator

import numpy as np

from voicebot.config import load_settings
from voicebot.speech.asr import (
    DOMAIN_PROMPT,
    HINT_YES_NO,
    WHISPER_SAMPLE_RATE,
    Transcriber,
    bias_for,
    is_doubted,
)
from voicebot.speech.asr_model import ensure_whisper_base
from voicebot.speech.audio import mulaw_decode, mulaw_encode, phone_line, resample
from voicebot.speech.offline_tts import OfflineVoice

ANSWERS = ["是的", "嗯", "对", "是我", "对，我是", "好的", "不是", "没错", "嗯嗯", "是", "对的"]
ANSWERS += ["没问题", "我是", "不对", "是本人"]


def on_line(samples: np.ndarray) -> np.ndarray:
    return mulaw_decode(mulaw_encode(np.clip(samples, -32768, 32767).astype(np.int16)))


def noise_clips(rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray]]:
    for secs in (0.6, 1.0, 1.6):
        n = int(secs * 8000)
        t = np.arange(n) / 8000
        for level in (60, 200, 600, 2000):
            yield f"white{level}/{secs}s", rng.normal(0, level, n)
            brown = np.cumsum(rng.normal(0, 1, n))
            brown -= np.convolve(brown, np.ones(200) / 200, "same")
            yield f"brown{level}/{secs}s", brown / (brown.std() + 1e-9) * level
        hum = 800 * np.sin(2 * np.pi * 50 * t) + 400 * np.sin(2 * np.pi * 150 * t)
        yield f"hum/{secs}s", hum + rng.normal(0, 100, n)
        crackle = rng.normal(0, 80, n)
        crackle[rng.integers(0, n, 40)] += rng.normal(0, 8000, 40)
        yield f"crackle/{secs}s", crackle
        bursts = np.repeat(rng.random(int(secs * 10) + 1) > 0.5, 800)[:n]
        yield f"bursts/{secs}s", rng.normal(0, 1500, n) * bursts
        yield f"breath/{secs}s", np.convolve(rng.normal(0, 3000, n), np.hanning(40) / 20, "same")


def main() -> None:
    voice = load_settings().voice
    transcriber = Transcriber(ensure_whisper_base(voice.cache_dir), cpu_threads=2)
    offline = OfflineVoice(voice.cache_dir)
    bias = bias_for(HINT_YES_NO, DOMAIN_PROMPT, 96)
    pad = np.zeros(int(bias.pad_seconds * WHISPER_SAMPLE_RATE), dtype=np.float32)
    rng = np.random.default_rng(7)

    def score(kind: str, name: str, pcm16: np.ndarray) -> None:
        audio = resample(pcm16.astype(np.float32) / 32768, 8000, WHISPER_SAMPLE_RATE)
        decoded = transcriber._window.decode(
            np.concatenate([pad, audio, pad]), bias.prompt, bias.hotwords, bias.max_new_tokens
        )
        doubt = is_doubted(decoded.text, decoded.no_speech_prob, decoded.avg_logprob)
        print(
            f"{kind}\t{name}\t{decoded.no_speech_prob:.3f}\t{decoded.avg_logprob:.3f}"
            f"\t{'doubt' if doubt else '-'}\t{decoded.text}"
        )

    print("kind\tclip\tno_speech\tavg_logprob\tdoubted\theard")
    for name, samples in noise_clips(rng):
        score("noise", name, on_line(samples))
    for text in ANSWERS:
        speech, rate = offline.synthesize(text)
        narrow, _ = phone_line(speech, rate)
        for level in (0, 200, 600):
            noisy = narrow.astype(np.float64) + (rng.normal(0, level, narrow.size) if level else 0)
            for tempo in (1.0, 1.2, 0.85):
                sped = resample((noisy / 32768).astype(np.float32), int(8000 * tempo), 8000)
                score("answer", f"{text}/noise{level}/x{tempo}", on_line(sped * 32768))


if __name__ == "__main__":
    main()
