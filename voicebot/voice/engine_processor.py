"""The conversation engine as a pipecat processor: transcripts in, script lines out.

The processor owns the turn-taking rules of a phone call around the pure engine:
- the opening (AI and recording notice) cannot be interrupted; later lines can, when the
  VAD hears the borrower start to speak over them (barge-in);
- a disclosure of the debt that was cut off is said again before the next reply;
- a borrower who says nothing for `no_input_timeout_s` after the bot's turn is a silent
  turn (`hear(None)`); each key pressed starts that wait again (`on_key_pressed`), so a
  slow keyer is not asked whether they are there mid-entry;
- keyed groups are heard as keys (`hear_keys`), speech the recogniser doubts as unclear
  (`hear_unclear`: the question again, not a silent turn);
- the transcript holds what was actually played, stamped with line time.

The engine is heard asynchronously (`TurnEngine.hear`): in LLM mode a turn may wait for
the LLM (`voicebot.calls.engine.CallEngine`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pipecat.frames.frames import (
    DataFrame,
    Frame,
    StartFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from voicebot.conversation.state import CallState, Reply, Step
from voicebot.speech.asr import HINT_DATE_AMOUNT, HINT_DIGITS, HINT_YES_NO, Transcription
from voicebot.summary import TimedLine
from voicebot.voice.tts_service import split_sentences

_STEP_HINTS = {
    Step.CONFIRM_IDENTITY: HINT_YES_NO,
    Step.ASK_KNOWS_BORROWER: HINT_YES_NO,
    Step.CONFIRM_PROMISE: HINT_YES_NO,
    Step.VERIFY_ID: HINT_DIGITS,
    Step.ASK_PLAN: HINT_DATE_AMOUNT,
}
_DISCLOSURE_WORDS = ("逾期",)
#: `user_id` of a transcription that carries DTMF digits the caller keyed (telephony/)
KEYED_DIGITS = "dtmf"  # every disclosure line names the overdue amount or days


class TurnEngine(Protocol):
    """The conversation as the processor drives it: started once, then heard turn by turn."""

    @property
    def state(self) -> CallState: ...

    def start(self) -> Reply: ...

    async def hear(self, text: str | None) -> Reply:
        """The bot's reply to `text` (None: the borrower said nothing)."""
        ...

    async def hear_keys(self, keys: str) -> Reply:
        """The bot's reply to keys pressed on the keypad (`*` read as X)."""
        ...

    async def hear_unclear(self) -> Reply:
        """The bot's reply to speech the recogniser doubts."""
        ...


@dataclass
class LineMarker(DataFrame):
    """Travels behind (or ahead of) a line's audio; the output reports it once reached."""

    index: int = 0
    starts: bool = True


def is_disclosure(text: str) -> bool:
    """Whether a bot line tells the borrower about the debt."""
    return any(word in text for word in _DISCLOSURE_WORDS)


class ConversationProcessor(FrameProcessor):
    """Drives one call's conversation from transcripts, VAD events and playback."""

    def __init__(
        self,
        engine: TurnEngine,
        *,
        line_time: Callable[[], float],
        no_input_timeout_s: float,
        on_line: Callable[[TimedLine], None],
        on_call_ended: Callable[[], None],
        vad_start_secs: float = 0.0,
        wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.engine = engine
        self._line_time = line_time
        self._no_input_timeout_s = no_input_timeout_s
        self._on_line = on_line
        self._on_call_ended = on_call_ended
        self._vad_start_secs = vad_start_secs
        self._wait = wait  # waits in line time, which lags the wall clock under load
        self._lines: list[str] = []
        self._protected: set[int] = set()  # indexes of lines that cannot be interrupted
        self._playing: int | None = None
        self._played = 0  # lines fully played
        self._ending = False
        self._user_speaking = False
        self._speech_started_at = 0.0
        self._cut_off: str | None = None
        self._silence_task: asyncio.Task | None = None
        self._keys_started_at: float | None = None  # line time of a group's first key
        self.interruptions: list[float] = []  # line time of each barge-in

    # --- hints for the recogniser ------------------------------------------------------

    def hint(self) -> str | None:
        """What the bot just asked, to bias recognition of the answer."""
        step = self.engine.state.step
        if step in _STEP_HINTS:
            return _STEP_HINTS[step]
        if not self._lines:
            return None
        sentences = split_sentences(self._lines[-1])
        return sentences[-1] if sentences else None  # the question itself, not the preamble

    def names(self) -> tuple[str, ...]:
        """The borrower's name once the call knows whose account it is about."""
        account = self.engine.state.account
        return (account.name,) if account else ()

    # --- frames ------------------------------------------------------------------------

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if direction is not FrameDirection.DOWNSTREAM:
            return
        if isinstance(frame, StartFrame):
            await self._say(self.engine.start(), protected=True)
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            await self._on_speech_started()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._user_speaking = False
        elif isinstance(frame, TranscriptionFrame):
            keyed = frame.user_id == KEYED_DIGITS
            if keyed:  # keyed, not spoken: from the group's first key, else heard now
                started = self._keys_started_at
                self._speech_started_at = self._line_time() if started is None else started
            self._keys_started_at = None
            result = frame.result if isinstance(frame.result, Transcription) else None
            if result is not None and result.unclear:
                await self._answer(await self.engine.hear_unclear())
                return
            await self._on_transcript(frame.text.strip(), keyed=keyed)

    async def _on_speech_started(self) -> None:
        self._user_speaking = True
        self._speech_started_at = max(0.0, self._line_time() - self._vad_start_secs)
        await self._cancel_silence_timer()
        speaking = self._played < len(self._lines)
        if not speaking or self._ending:
            return
        current = self._playing if self._playing is not None else self._played
        if current in self._protected:
            return  # the opening notice is always heard in full
        unplayed = self._lines[current:]
        self._cut_off = next((text for text in unplayed if is_disclosure(text)), None)
        self.interruptions.append(self._line_time())
        # Lines not yet started are dropped; the one cut off counts as said.
        del self._lines[current + (1 if self._playing is not None else 0) :]
        self._played = len(self._lines)
        self._playing = None
        await self.broadcast_interruption()

    async def on_key_pressed(self, key: str) -> None:
        """A key was pressed (before its group is complete): the no-input wait starts
        again from this key, so a slow keyer is not asked whether they are there."""
        if self._keys_started_at is None:
            self._keys_started_at = self._line_time()
        if self._silence_task is not None:
            await self._cancel_silence_timer()
            self._start_silence_timer()

    async def _on_transcript(self, text: str, *, keyed: bool = False) -> None:
        if not text:
            if not self._user_speaking and self._played >= len(self._lines):
                self._start_silence_timer()
            return
        line = TimedLine("borrower", text, self._speech_started_at)
        self._on_line(line)
        await self._answer(await (self.engine.hear_keys(text) if keyed else self.engine.hear(text)))

    async def _answer(self, reply: Reply) -> None:
        """Say the reply to a borrower's turn, after a disclosure they cut off."""
        if self._cut_off and not any(is_disclosure(t) for t in reply.say):
            reply = Reply((self._cut_off, *reply.say), reply.ended)
        self._cut_off = None
        await self._say(reply)

    async def _say(self, reply: Reply, *, protected: bool = False) -> None:
        await self._cancel_silence_timer()
        for text in reply.say:
            index = len(self._lines)
            self._lines.append(text)
            if protected:
                self._protected.add(index)
            speak = TTSSpeakFrame(text, append_to_context=False)
            start, end = LineMarker(index=index, starts=True), LineMarker(index=index, starts=False)
            for frame in (start, speak, end):
                frame.interruptible = not protected
                await self.push_frame(frame)
        if reply.ended:
            self._ending = True
            if not reply.say:
                self._on_call_ended()

    # --- playback, reported by the output transport ------------------------------------

    def on_played(self, frame: Frame) -> None:
        """Called by the output transport when a marker's place in the audio is reached."""
        if not isinstance(frame, LineMarker) or frame.index >= len(self._lines):
            return
        if frame.starts:
            self._playing = frame.index
            self._on_line(TimedLine("bot", self._lines[frame.index], self._line_time()))
            return
        self._playing = None
        self._played = max(self._played, frame.index + 1)
        if self._played < len(self._lines):
            return
        if self._ending:
            self._on_call_ended()
        elif not self._user_speaking:
            self._start_silence_timer()

    # --- silence -----------------------------------------------------------------------

    def _start_silence_timer(self) -> None:
        if self._silence_task is None or self._silence_task.done():
            self._silence_task = self.create_task(self._silence_timer(), "no-input-timer")

    async def _cancel_silence_timer(self) -> None:
        task, self._silence_task = self._silence_task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            await self.cancel_task(task)

    async def _silence_timer(self) -> None:
        await self._wait(self._no_input_timeout_s)
        self._silence_task = None
        await self._say(await self.engine.hear(None))
