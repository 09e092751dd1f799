"""The scripted other party of a simulated call, speaking scenario entries on the line.

It behaves like a patient person: it waits until the bot has finished its turn (the bot
has spoken and then been quiet for `reply_gap_s`), then says the next entry: text through
the offline voice, an audio clip as given, keys for `{dtmf: "1234#"}` (pressed one by one,
`KEY_GAP_S` apart), nothing for `<silence>`, or hangs up for `<hangup>`. A cue can
instead make an entry start `after_s` seconds into the bot's turn: that is how tests talk
over the bot (barge-in) or hang up mid-sentence.
"""

import asyncio
import wave
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from voicebot.scenario import HANGUP, SILENCE, AudioEntry, DtmfEntry, Entry
from voicebot.speech.audio import float_to_pcm16, pcm16_to_float, resample
from voicebot.voice.line import FRAME_SECONDS, SAMPLE_RATE, PhoneLine

#: Speaks text as 8 kHz int16 audio (the offline voice, usually through the cache).
Speaker = Callable[[str], Awaitable[np.ndarray]]

KEY_GAP_S = 0.2  # between two keys the counterpart presses: a quick person on a keypad


def read_clip(path: Path) -> np.ndarray:
    """A WAV file (16-bit, any rate, mono or stereo) as 8 kHz mono int16."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    mono = samples.reshape(-1, channels).mean(axis=1) / 32768.0
    return float_to_pcm16(resample(mono.astype(np.float32), rate, SAMPLE_RATE))


class ScriptedCounterpart:
    """Plays the borrower's scenario entries, one per bot turn."""

    def __init__(
        self,
        line: PhoneLine,
        entries: Sequence[Entry],
        speak: Speaker,
        *,
        reply_gap_s: float = 0.6,
        cues: Mapping[int, float] | None = None,
        noise_level: float = 0.0,
        key_gap_s: float = KEY_GAP_S,
    ) -> None:
        """`cues` maps an entry index to seconds into the bot's turn to start it at;
        `key_gap_s` is the time between two keys (a slow keyer takes over a second)."""
        self._line = line
        self._entries = list(entries)
        self._speak = speak
        self._reply_gap_s = reply_gap_s
        self._cues = dict(cues or {})
        self._noise_level = noise_level
        self._key_gap_s = key_gap_s
        self._heard_upto = 0  # line tick up to which bot turns were answered

    async def run(self) -> None:
        """Answer bot turns until the line is closed or the borrower hangs up."""
        index = 0
        while not self._line.closed:
            entry: Entry = self._entries[index] if index < len(self._entries) else SILENCE
            cue = self._cues.get(index)
            if cue is None:
                await self._wait_turn_end()
            else:
                await self._wait_into_turn(cue)
            if self._line.closed:
                return
            index += 1
            if entry == HANGUP:
                self._line.hang_up("borrower")
                return
            if isinstance(entry, DtmfEntry):
                await self._press(entry.digits)
            elif entry != SILENCE:
                await self._say(entry)
            self._heard_upto = self._line.ticks

    async def _audio(self, entry: str | AudioEntry) -> np.ndarray:
        if isinstance(entry, AudioEntry):
            return await asyncio.to_thread(read_clip, entry.path)
        return await self._speak(entry)

    async def _press(self, keys: str) -> None:
        for position, key in enumerate(keys):
            if position:
                await self._line.wait(self._key_gap_s)
            self._line.press(key)

    async def _say(self, entry: str | AudioEntry) -> None:
        audio = await self._audio(entry)
        if self._noise_level:
            noise = np.random.default_rng(len(audio)).normal(0, self._noise_level, audio.size)
            audio = float_to_pcm16(pcm16_to_float(audio) + noise.astype(np.float32))
        self._line.send_from_borrower(audio)
        while self._line.borrower_audio_pending and not self._line.closed:
            await self._line.next_tick()

    def _bot_spoke_since(self, tick: int) -> int | None:
        """First tick at or after `tick` with bot audio, if any."""
        flags = self._line.bot_had_audio
        for i in range(tick, len(flags)):
            if flags[i]:
                return i
        return None

    async def _wait_turn_end(self) -> None:
        """Until the bot has spoken since our last entry and then paused for the gap."""
        while not self._line.closed:
            if self._bot_spoke_since(self._heard_upto) is not None and self._line.bot_is_silent_for(
                self._reply_gap_s
            ):
                return
            await self._line.next_tick()

    async def _wait_into_turn(self, after_s: float) -> None:
        """Until the bot's next turn has been playing for `after_s` seconds."""
        frames = round(after_s / FRAME_SECONDS)
        while not self._line.closed:
            started = self._bot_spoke_since(self._heard_upto)
            if started is not None and self._line.ticks - started >= frames:
                return
            await self._line.next_tick()
