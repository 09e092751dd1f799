"""One call, on any line: the session every call goes through, from connect to summary.

`CallSessions` holds what a process's calls share (settings, script, speech models, the
registry of active calls); `CallSessions.run(line, spec)` runs one `CallSession`:

1. the calling-window gate (an outbound call outside it is refused, and summarised);
2. the engine (`CallEngine`: the rules, and the LLM in LLM mode);
3. the conversation over the line: a `TextLine` turn by turn, or an audio line through
   the voice pipeline (`voicebot.calls.voice`);
4. the transfer to a human when the call needs one and the line can;
5. the recording, the metrics, the summary (`summarise`), the LLM's notes; stored once
   (`store_summary`), then the spec's completion callback.

A session never raises for a failing call: whatever goes wrong, the summary of what was
said is written (a cancelled call is summarised, stored, and the cancellation goes on).
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from voicebot.calls.engine import CallEngine, llm_mode, open_engine
from voicebot.calls.record import outside_hours, outside_hours_summary, store_summary, summarise
from voicebot.calls.registry import ActiveCall, CallRegistry
from voicebot.calls.spec import CallSpec, national_number
from voicebot.calls.text import TextLine, converse_in_text
from voicebot.config import Settings
from voicebot.conversation.rules import escalation_reasons
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import CallState, Direction
from voicebot.masking import mask_phone
from voicebot.store import Store
from voicebot.summary import TimedLine

if TYPE_CHECKING:
    from voicebot.calls.voice import AudioConversation, AudioOptions
    from voicebot.llm.driver import LLMMode
    from voicebot.voice.line import PhoneLine
    from voicebot.voice.pipeline import VoiceModels

    Line = TextLine | PhoneLine
else:
    Line = Any

logger = logging.getLogger(__name__)

SIMULATED = "simulated"  # the line kind of simulations: their metrics name no line
TRANSFER_LINE = "transfer_to_agent"  # prompts/script.yaml


class CallSessions:
    """What every call of a process shares; `run` runs one call on a line."""

    def __init__(
        self,
        settings: Settings,
        models: "VoiceModels | None" = None,
        script: Script | None = None,
        clock: Callable[[], datetime] | None = None,
        calls: CallRegistry | None = None,
        *,
        store_calls: bool = True,
        llm: "LLMMode | None" = None,
    ) -> None:
        """`models`: the speech models (audio lines only). `clock` gives a call's start time
        (default: now). `store_calls=False` leaves storing to the caller (a campaign stores
        the summary with its attempt). `llm`: a shared LLM mode (default: one per call when
        `settings.llm` names an endpoint)."""
        self.settings = settings
        self.models = models
        self.script = script or load_script(settings.prompts_dir)
        self.clock = clock or (lambda: datetime.now(UTC).astimezone())
        self.calls = calls if calls is not None else CallRegistry()  # empty is falsy
        self.store_calls = store_calls
        self.llm = llm

    def outside_hours(self, account: Any, line_kind: str) -> dict[str, Any] | None:
        """The gate before a carrier dials, at this process's clock: the stored refusal, or
        None (dial)."""
        return outside_hours(self.settings, account, self.clock(), line_kind)

    async def run(
        self,
        line: Line,
        spec: CallSpec,
        *,
        now: datetime | None = None,
        on_line: Callable[[TimedLine], None] | None = None,
        audio: "AudioOptions | None" = None,
    ) -> dict[str, Any]:
        """Converse on `line` until the call ends; store (unless told not to) and return
        the summary. `now` is the call's start (default: the clock's)."""
        session = CallSession(self, line, spec, now or self.clock(), on_line, audio)
        return await session.run()


class CallSession:
    """One call: its engine, transcript and figures; `run` always ends with a summary."""

    def __init__(
        self,
        sessions: CallSessions,
        line: Line,
        spec: CallSpec,
        started: datetime,
        on_line: Callable[[TimedLine], None] | None,
        audio: "AudioOptions | None",
    ) -> None:
        self.sessions, self.line, self.spec, self.started = sessions, line, spec, started
        self.state = CallState(direction=spec.direction, account=spec.account, now=started)
        self.on_line = on_line
        self.audio_options = audio
        self.transcript: list[TimedLine] = []
        self.audio: AudioConversation | None = None
        self.transfer: dict[str, Any] | None = None
        self.failure: str | None = None
        self.store: Store | None = None

    def record(self, line: TimedLine) -> None:
        self.transcript.append(line)
        if self.on_line is not None:
            self.on_line(line)

    async def run(self) -> dict[str, Any]:
        spec, sessions = self.spec, self.sessions
        if spec.call_id not in sessions.calls:  # lines that cap their calls reserved it
            sessions.calls.add(
                ActiveCall(
                    spec.call_id, spec.direction.value, spec.line_kind, spec.number, self.started
                )
            )
        try:
            refused = self._outside_calling_hours()
            if refused is not None:
                self.line.hang_up("bot")
                return self._keep(refused)
            self._log_start()
            if spec.directory is None or sessions.store_calls:
                self.store = Store(sessions.settings.store_path)
            directory = spec.directory or self.store
            assert directory is not None
            async with llm_mode(sessions.settings, sessions.script, sessions.llm) as mode:
                engine = open_engine(
                    self.state, sessions.settings, sessions.script, directory, spec.caller, mode
                )
                return await self._converse_and_end(engine)
        finally:
            if self.store is not None:
                self.store.close()
            sessions.calls.remove(spec.call_id)

    def _outside_calling_hours(self) -> dict[str, Any] | None:
        """The gate: an outbound call outside the calling window is never placed."""
        account = self.spec.account
        if self.spec.direction is not Direction.OUTBOUND or account is None:
            return None
        return outside_hours_summary(
            self.sessions.settings, account, self.started, self.spec.call_id
        )

    async def _converse_and_end(self, engine: CallEngine) -> dict[str, Any]:
        try:
            await self._converse(engine)
        except asyncio.CancelledError:  # the process is stopping: summarise, then stop
            self.failure = "cancelled"
            self._keep(self._end(engine))
            raise
        except Exception as error:  # the summary of what was said is still written
            self.failure = f"{type(error).__name__}: {error}"
            logger.exception("%s: call %s failed", self.spec.line_kind, self.spec.call_id)
        return self._keep(await engine.finish(self._end(engine)))

    async def _converse(self, engine: CallEngine) -> None:
        if isinstance(self.line, TextLine):
            self.sessions.calls.set_state(self.spec.call_id, "in_conversation")
            await converse_in_text(self.line, engine, self.record)
            return
        from voicebot.calls.voice import AudioConversation, AudioOptions, drain

        sessions, line, call_id = self.sessions, self.line, self.spec.call_id
        if sessions.models is None:
            raise RuntimeError("an audio line needs the speech models")
        options = self.audio_options or AudioOptions()
        self.audio = AudioConversation(line, engine, sessions.settings.voice, self.record, options)
        await self.audio.run(
            sessions.models, lambda: sessions.calls.set_state(call_id, "in_conversation")
        )
        if self.spec.transfer is not None and escalation_reasons(self.state) and not line.closed:
            await self._transfer()
        await drain(line)

    async def _transfer(self) -> None:
        """Tell the caller, then hand the call to the line's transfer."""
        from voicebot.calls.voice import say_on_line

        sessions, spec = self.sessions, self.spec
        assert spec.transfer is not None and sessions.models is not None
        sessions.calls.set_state(spec.call_id, "transferring")
        text = sessions.script.render(TRANSFER_LINE, {})
        self.record(TimedLine("bot", text, self.line.now))
        await say_on_line(self.line, sessions.models, text)  # type: ignore[arg-type]
        self.transfer = await spec.transfer()
        logger.info("%s: call %s transfer: %s", spec.line_kind, spec.call_id, self.transfer)

    def _end(self, engine: CallEngine) -> dict[str, Any]:
        """Hang up (the line ends the carrier's call unless the far end did) and summarise."""
        line, spec = self.line, self.spec
        if line.hung_up_by in ("borrower", "line"):
            engine.hang_up()
        line.hang_up("bot")
        self.sessions.calls.set_state(spec.call_id, "ending")
        summary = summarise(
            self.state,
            spec.call_id,
            self.started,
            line.now,
            self.transcript,
            self.sessions.settings.prompts_dir,
            recording=self._recording(),
            metrics=self._metrics() or None,
        )
        if spec.transfer is not None:
            summary["transfer"] = self.transfer
        return summary

    def _keep(self, summary: dict[str, Any]) -> dict[str, Any]:
        """Store the summary (unless the caller stores it) and report the call complete."""
        spec, sessions = self.spec, self.sessions
        if sessions.store_calls:
            account = self.state.account
            phone = account.phone if account else national_number(spec.number)
            if self.store is None:  # refused by the gate before the call opened its store
                self.store = Store(sessions.settings.store_path)
            store_summary(self.store, summary, phone, spec.line_kind)
        if spec.on_complete is not None:
            spec.on_complete(summary)
        return summary

    def _recording(self) -> str | None:
        if self.audio is None:
            return None
        from voicebot.voice.recording import recording_path, write_recording

        voice, spec = self.sessions.settings.voice, self.spec
        path = recording_path(voice.recordings_dir, spec.call_id)
        try:
            return str(write_recording(self.audio.line, path))
        except OSError as error:
            logger.error(
                "%s: call %s: recording not written: %s", spec.line_kind, spec.call_id, error
            )
            return None

    def _metrics(self) -> dict[str, Any]:
        spec = self.spec
        metrics: dict[str, Any] = {}
        if spec.line_kind != SIMULATED:
            metrics["line"] = spec.line_kind
        if spec.carrier_call_id:
            metrics["carrier_call_id"] = spec.carrier_call_id
        if self.audio is not None:
            metrics.update(self.audio.metrics())
        elif spec.line_kind != SIMULATED:
            metrics["hung_up_by"] = self.line.hung_up_by
        if self.failure:
            metrics["failure"] = self.failure
        if spec.line_metrics is not None:
            try:
                metrics[spec.line_kind] = spec.line_metrics()
            except Exception:  # figures are a nicety; the summary is not
                logger.exception("%s: line figures failed", spec.line_kind)
        return metrics

    def _log_start(self) -> None:
        spec = self.spec
        number = mask_phone(spec.number) if spec.number else "(no number)"
        logger.info("%s: call %s %s %s", spec.line_kind, spec.call_id, spec.direction.value, number)
