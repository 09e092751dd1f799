"""Remote ASR against a local fake server: the latency it adds to a turn vs the offline decode.

Run by `scripts/bench_voice.py --asr remote` on its recognition clips. The fake speaks
OpenAI's `/v1/audio/transcriptions` over loopback HTTP (tests/fakes/speech_server.py) and
the client is ours (the openai SDK, our WAV upload, our cleaning). Three paths per clip,
interleaved so outside load hits them alike:

- offline: Whisper base here;
- remote: the fake server decodes the upload with the same Whisper (or, with `delay_s`,
  answers the reference text after that delay: a server of known speed), so the difference
  is what the protocol costs;
- stalled: the server never answers; the turn waits `timeout_s`, then decodes offline.
"""

import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebot.config import SpeechServerSettings
from voicebot.speech.asr import Recognizer
from voicebot.speech.fallback import RemoteFirstRecognizer, RemoteHealth
from voicebot.speech.openai_speech import RemoteTranscriber
from voicebot.voice.pipeline import VoiceModels

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fakes.speech_server import FakeSpeechServer, Upload


@dataclass(frozen=True)
class Clip:
    pcm: np.ndarray  # int16 at `rate`
    rate: int
    text: str  # what was said
    hint: str | None


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def measure(
    models: VoiceModels,
    clips: list[Clip],
    *,
    delay_s: float | None = None,
    timeout_s: float = 1.0,
    stalled_clips: int = 5,
) -> dict[str, list[float]]:
    """Seconds per clip for each path; prints the figures and the remote/offline ratio."""
    server, stalled = FakeSpeechServer(), FakeSpeechServer(stall=True)
    await server.start()
    await stalled.start()
    current = [clips[0]]  # the clip being sent (its reference text, its hint)

    async def decode(upload: Upload) -> str:
        clip = current[0]
        if delay_s is not None:
            await asyncio.sleep(delay_s)
            return clip.text
        heard = await asyncio.to_thread(
            models.transcriber.transcribe_detailed, upload.audio, upload.sample_rate, clip.hint
        )
        return heard.raw_text

    server.transcript = decode

    def recognizer(fake: FakeSpeechServer, timeout_s: float) -> RemoteFirstRecognizer:
        settings = SpeechServerSettings(base_url=fake.base_url, model="whisper-base")
        # Retried at once: every stalled turn waits for the server, as a first one does.
        health = RemoteHealth(f"remote ASR at {fake.base_url}", retry_after_s=0)
        remote = RemoteTranscriber(settings)
        return RemoteFirstRecognizer(remote, models.transcriber, timeout_s, health)

    # The served path's timeout is long enough for the fake's decode under any load.
    remote, slow = recognizer(server, 30.0), recognizer(stalled, timeout_s)
    seconds: dict[str, list[float]] = {"offline": [], "remote": [], "stalled": []}
    engines: list[str] = []
    try:
        await remote.recognize(clips[0].pcm, clips[0].rate, clips[0].hint, ())  # warm
        for index, clip in enumerate(clips):
            current[:] = [clip]
            paths: list[tuple[str, Recognizer]] = [
                ("offline", models.transcriber),
                ("remote", remote),
            ]
            if index < stalled_clips:
                paths.append(("stalled", slow))
            for name, path in paths if index % 2 else paths[::-1]:
                started = time.perf_counter()
                result = await path.recognize(clip.pcm, clip.rate, clip.hint, ())
                seconds[name].append(time.perf_counter() - started)
                if name == "remote":
                    engines.append(result.engine)
    finally:
        await server.stop()
        await stalled.stop()
    _report(seconds, engines, delay_s, timeout_s)
    return seconds


def _report(
    seconds: dict[str, list[float]], engines: list[str], delay_s: float | None, timeout_s: float
) -> None:
    offline, remote, stalled = seconds["offline"], seconds["remote"], seconds["stalled"]
    server = "decoding with Whisper base" if delay_s is None else f"answering after {delay_s} s"
    added = [r - o for r, o in zip(remote, offline, strict=True)]
    print(
        f"[remote ASR] {len(remote)} clips, fake server {server}: offline p50 "
        f"{_p(offline, 50):.3f} s, p95 {_p(offline, 95):.3f} s; remote p50 "
        f"{_p(remote, 50):.3f} s, p95 {_p(remote, 95):.3f} s; added p50 "
        f"{statistics.median(added) * 1000:+.0f} ms; ratio remote/offline p50 "
        f"{_p(remote, 50) / _p(offline, 50):.2f}, mean "
        f"{statistics.mean(remote) / statistics.mean(offline):.2f}; answered by "
        f"{ {e: engines.count(e) for e in sorted(set(engines))} }"
    )
    if stalled:
        print(
            f"[remote ASR] stalled server, timeout {timeout_s:g} s: the turn's transcript "
            f"after p50 {_p(stalled, 50):.3f} s, max {max(stalled):.3f} s (timeout + offline "
            f"decode), all from the offline engine"
        )
