"""A borrower on a baresip phone: recorded answers (or keyed digits), each given when the
bot has finished.

Like the simulator's scripted counterpart, it listens: what baresip hears (the bot) is
read from its recording as the call goes; once the bot has spoken and then been quiet
for `gap_s`, the next answer's WAV becomes baresip's microphone.
"""

import asyncio
from pathlib import Path

import numpy as np
from baresip_peer import SAMPLE_RATE, Baresip, write_wav

FRAME = 160  # 20 ms at 8 kHz
SPEECH_RMS = 300.0
ANSWER_PAD_S = 300.0  # the microphone file must not end: its end hangs baresip up


def speaking(pcm: np.ndarray) -> np.ndarray:
    """Per 20 ms frame of `pcm`: whether it carries speech."""
    frames = pcm[: len(pcm) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return np.sqrt((frames**2).mean(axis=1)) > SPEECH_RMS


Answer = tuple[Path, float] | str  # a WAV and its speech length, or keys to press (DTMF)


def answer_files(directory: Path, answers: list[np.ndarray | str]) -> list[Answer]:
    """Each spoken answer as a padded WAV for baresip with its length; keys stay keys."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        answer
        if isinstance(answer, str)
        else (
            write_wav(directory / f"answer{i}.wav", answer, pad_s=ANSWER_PAD_S),
            len(answer) / SAMPLE_RATE,
        )
        for i, answer in enumerate(answers)
    ]


class ListeningBorrower:
    def __init__(self, phone: Baresip, answers: list[Answer], gap_s: float = 1.2):
        self.phone = phone
        self.answers = answers
        self.gap_frames = round(gap_s * SAMPLE_RATE / FRAME)
        self.said = 0

    def _call_closed(self) -> bool:
        return any(e.get("type") == "CALL_CLOSED" for e in self.phone.events)

    async def _bot_turn_ended(self, since_frame: int) -> bool:
        """Until the bot has spoken after `since_frame` and then paused; False if hung up."""
        while not self._call_closed():
            heard = speaking(self.phone.heard())[since_frame:]
            spoke = np.flatnonzero(heard)
            if spoke.size and len(heard) - 1 - spoke[-1] >= self.gap_frames:
                return True
            await asyncio.sleep(0.1)  # baresip's recording grows by 5 frames meanwhile
        return False

    async def run(self, hang_up_after: int | None = None, hang_up_into_s: float = 1.0) -> None:
        """Say every answer in turn; with `hang_up_after`, hang up that many answers in,
        `hang_up_into_s` seconds into the bot's next sentence."""
        since = 0
        for index, answer in enumerate(self.answers):
            if index == hang_up_after:
                break
            if not await self._bot_turn_ended(since):
                return
            if isinstance(answer, str):
                await self.phone.command("sndcode", answer)  # RFC 4733 telephone-events
                seconds = 0.2 * len(answer)
            else:
                await self.phone.play(answer[0])
                seconds = answer[1]
            self.said += 1
            since = len(self.phone.heard()) // FRAME + round(seconds * SAMPLE_RATE / FRAME)
        if hang_up_after is not None:
            await self._hang_up_into_next_sentence(since, hang_up_into_s)

    async def _hang_up_into_next_sentence(self, since_frame: int, into_s: float) -> None:
        into = round(into_s * SAMPLE_RATE / FRAME)
        while not self._call_closed():
            heard = speaking(self.phone.heard())[since_frame:]
            spoke = np.flatnonzero(heard)
            if spoke.size and len(heard) - spoke[0] >= into and heard[-1]:
                await self.phone.command("hangup")
                return
            await asyncio.sleep(0.02)
