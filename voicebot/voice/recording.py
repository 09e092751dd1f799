"""The call recording (stereo WAV: bot left, borrower right) and timing read from it.

Timing comes from what was on the line, as a listener would measure it: voice-to-voice is
the time from the last 20 ms frame of borrower speech to the first frame of bot audio
after it; a barge-in stop time is from the borrower's speech onset to the last bot frame
before the bot went quiet; an output gap is a stretch with no bot audio inside a bot turn.
"""

import re
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicebot.voice.line import FRAME_SECONDS, SAMPLE_RATE, PhoneLine

_SPEECH_RMS = 300.0  # int16 RMS of a 20 ms frame above which the borrower is talking
_TURN_GAP_MAX_S = 3.0  # a longer quiet stretch is a turn boundary, not an output gap


_CALL_ID = re.compile(r"[0-9a-f]{32}")  # our call ids: uuid4().hex, never a carrier's


def recording_path(recordings_dir: Path, call_id: str) -> Path:
    """Where a call's recording goes: built only from our own call id, always inside
    `recordings_dir` (a carrier's Call-ID or callSid never names a file)."""
    if not _CALL_ID.fullmatch(call_id):
        raise ValueError(f"not a call id of ours: {call_id!r}")
    return recordings_dir / f"{call_id}.wav"


def write_recording(line: PhoneLine, path: Path) -> Path:
    """Write both directions of the call as a 16-bit stereo WAV at 8 kHz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bot = np.concatenate(line.bot_frames) if line.bot_frames else np.zeros(0, np.int16)
    borrower = (
        np.concatenate(line.borrower_frames) if line.borrower_frames else np.zeros(0, np.int16)
    )
    stereo = np.stack([bot, borrower], axis=1).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(stereo.tobytes())
    return path


@dataclass
class LineTiming:
    """Per-turn figures measured on the line, in seconds."""

    voice_to_voice: list[float] = field(default_factory=list)
    barge_in_stop: list[float] = field(default_factory=list)
    output_gaps: list[float] = field(default_factory=list)


def borrower_speaking(line: PhoneLine) -> list[bool]:
    """Per 20 ms frame: whether the borrower's channel carries speech."""
    return [
        bool(np.sqrt(np.mean(frame.astype(np.float64) ** 2)) > _SPEECH_RMS)
        for frame in line.borrower_frames
    ]


def measure_line(line: PhoneLine, interruptions: list[float] | None = None) -> LineTiming:
    """Voice-to-voice per borrower turn, barge-in stop times and output gaps."""
    timing = LineTiming()
    talking = borrower_speaking(line)
    bot = line.bot_had_audio
    last_speech: int | None = None  # last borrower frame not yet answered
    quiet_run = 0
    quiet_had_borrower = False
    for tick, (bot_on, borrower_on) in enumerate(zip(bot, talking, strict=False)):
        if borrower_on:
            last_speech = tick
        if bot_on:
            if last_speech is not None and not bot[last_speech]:
                timing.voice_to_voice.append((tick - last_speech) * FRAME_SECONDS)
                last_speech = None
            elif last_speech is not None:
                last_speech = None  # the bot was talking over it: not a turn
            if 0 < quiet_run * FRAME_SECONDS < _TURN_GAP_MAX_S and not quiet_had_borrower:
                timing.output_gaps.append(quiet_run * FRAME_SECONDS)
            quiet_run, quiet_had_borrower = 0, False
        elif quiet_run or (tick and bot[tick - 1]):
            quiet_run += 1
            quiet_had_borrower = quiet_had_borrower or borrower_on
    for at in interruptions or []:
        stop = _barge_in_stop(bot, talking, round(at / FRAME_SECONDS))
        if stop is not None:
            timing.barge_in_stop.append(stop)
    return timing


def _barge_in_stop(bot: list[bool], talking: list[bool], detected: int) -> float | None:
    """From the borrower's onset before `detected` to the bot's last frame after it."""
    onset = min(detected, len(talking))
    while onset > 0 and talking[onset - 1]:
        onset -= 1
    end = detected
    while end < len(bot) and bot[end]:
        end += 1
    if end >= len(bot):
        return None
    return (end - onset) * FRAME_SECONDS
