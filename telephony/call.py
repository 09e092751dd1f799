"""One live call on a real phone line: the place every carrier's call meets the voice bot.

How a carrier adapter plugs in
------------------------------
1. **The line.** Subclass `voicebot.voice.line.SimulatedLine` (the 8 kHz mu-law line with
   a 20 ms clock that records both directions; see `telephony.sip.line.SipLine` and
   `telephony.twilio.line.TwilioLine`): feed the caller's audio with
   `send_from_borrower(pcm16)`, override `_tick` to hand the bot's frame of each tick
   (`self.bot_frames[-1]`) to the carrier, and call `hang_up("borrower")` when the far end
   hangs up or `hang_up("line")` when the media stream breaks. `hang_up("bot")` is called
   by this module at the end of the call: make it end the carrier's call (BYE, REST).
   Optionally `attach_digits(listener)`: DTMF digits, which reach the conversation as
   text (the borrower keying the ID digits). The adapter starts the clock (`line.run()`)
   when media flows and stops it after `CallRunner.run` returns.
2. **The call.** Describe it in a `CallSpec`: line kind, direction, the borrower's number
   (dialled, or the caller's: an inbound caller's number finds the account in the store),
   the account of an outbound call, and optionally `transfer` (a coroutine handing the
   caller to a human; it returns the result dict stored as the summary's `transfer`) and
   `line_metrics` (the carrier's figures, stored under `metrics[<line kind>]`).
3. **Run it.** `summary = await runner.run(line, spec)` with the process's one
   `CallRunner` (speech models shared by all calls). It lists the call in `runner.calls`
   (`GET /calls/active`), runs the engine and voice pipeline until the conversation ends
   or the line closes, says `transfer_to_agent` and transfers when the summary requires
   escalation and `spec.transfer` is set, writes the stereo recording, stores the summary
   in SQLite and returns it. It never raises for a failing call: whatever goes wrong, the
   summary of what was said is written. Outbound adapters call `outside_hours` before
   dialling: outside the calling window nothing is dialled (and that is stored).
4. **Serve it.** `telephony.server` builds `voicebot serve`'s app; an adapter adds its
   web routes and a startup hook there (`carrier_routes`, `startup_hooks`).

Logs name the call id; numbers only masked.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from telephony.digits import DigitCollector
from telephony.registry import ActiveCall, CallRegistry
from telephony.worker import run_until_ended
from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.rules import escalation_reasons, within_calling_window
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import CallState, Direction, Outcome
from voicebot.masking import mask_phone
from voicebot.speech.audio import mulaw_encode
from voicebot.store import DuplicateCall, Store
from voicebot.summary import TimedLine, build_summary
from voicebot.understanding.embedding import reader_for
from voicebot.voice.driver import CallFigures, call_metrics
from voicebot.voice.engine_processor import ConversationProcessor
from voicebot.voice.line import SimulatedLine
from voicebot.voice.pipeline import CallHooks, VoiceModels, build_pipeline, tuned_profile
from voicebot.voice.recording import recording_path, write_recording

logger = logging.getLogger(__name__)

MAX_CALL_S = 600.0
DRAIN_S = 1.5  # the last queued words are played before the carrier hangs up
TRANSFER_LINE = "transfer_to_agent"  # prompts/script.yaml

Transfer = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class CallSpec:
    """What an adapter knows about a call when it connects."""

    line_kind: str  # "twilio", "sip"
    direction: Direction
    number: str  # the borrower's: dialled (outbound) or calling (inbound)
    account: Account | None = None  # outbound calls
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # ours, never the carrier's
    carrier_call_id: str = ""  # the carrier's Call-ID / callSid: data, never a path or a key
    transfer: Transfer | None = None
    line_metrics: Callable[[], dict[str, Any]] | None = None


def carrier_call_id(raw: object) -> str:
    """A carrier's call identifier as we keep it: printable, at most 128 characters.
    It is data for the summary and the logs, never a file name or a key of ours."""
    text = "".join(c if c.isprintable() else "?" for c in str(raw))
    return text[:128]


def national_number(number: str) -> str:
    """A Chinese E.164 number as the store keeps it: +8613800138000 -> 13800138000."""
    number = number.strip()
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            return number[len(prefix) :]
    return number


def find_account(settings: Settings, account_id: str) -> Account:
    """The stored account to dial; LookupError names the id and the store."""
    store = Store(settings.store_path)
    try:
        account = store.get_account(account_id)
    finally:
        store.close()
    if account is None:
        raise LookupError(f"no account {account_id!r}")
    return account


def outside_hours(
    settings: Settings, account: Account, now: datetime, line_kind: str
) -> dict[str, Any] | None:
    """The stored `outside_calling_hours` summary when the account may not be called now."""
    if within_calling_window(now, account.timezone, settings.rules):
        return None
    state = CallState(direction=Direction.OUTBOUND, account=account, now=now)
    state.within_calling_hours = False
    state.outcome = Outcome.OUTSIDE_CALLING_HOURS
    summary = build_summary(
        state, call_id=uuid.uuid4().hex, started_at=now, ended_at=now, transcript=[]
    )
    store_summary(settings, summary, account.phone, line_kind)
    return summary


def store_summary(
    settings: Settings,
    summary: dict[str, Any],
    phone: str,
    line_kind: str,
    store: Store | None = None,
) -> None:
    """Save the summary (the caller's `store`, or one opened for it) and log it masked."""
    own = store is None
    store = store or Store(settings.store_path)
    try:
        store.save_call(summary, phone=phone)
    except DuplicateCall:  # logged by the store; the first summary stands
        return
    finally:
        if own:
            store.close()
    logger.info(
        "%s: call %s with %s stored: %s",
        line_kind,
        summary["call_id"],
        mask_phone(phone) if phone else "(no number)",
        summary["outcome"],
    )


class CallRunner:
    """Runs every live call of a process: one set of speech models, one registry."""

    def __init__(
        self,
        settings: Settings,
        models: VoiceModels,
        script: Script | None = None,
        clock: Callable[[], datetime] | None = None,
        calls: CallRegistry | None = None,
    ) -> None:
        """`clock` gives a call's start time (default: now); tests fix it."""
        self.settings = settings
        self.models = models
        self.script = script or load_script(settings.prompts_dir)
        self.clock = clock or (lambda: datetime.now(UTC).astimezone())
        self.calls = calls if calls is not None else CallRegistry()  # empty is falsy

    def outside_hours(self, account: Account, line_kind: str) -> dict[str, Any] | None:
        """`outside_hours` at this runner's clock."""
        return outside_hours(self.settings, account, self.clock(), line_kind)

    async def run(self, line: SimulatedLine, spec: CallSpec) -> dict[str, Any]:
        """Converse on `line` until the call ends; store and return the summary."""
        started = self.clock()
        if spec.call_id not in self.calls:  # adapters that cap their calls reserved it
            self.calls.add(
                ActiveCall(spec.call_id, spec.direction.value, spec.line_kind, spec.number, started)
            )
        logger.info(
            "%s: call %s %s %s",
            spec.line_kind,
            spec.call_id,
            spec.direction.value,
            mask_phone(spec.number) if spec.number else "(no number)",
        )
        state = CallState(direction=spec.direction, account=spec.account, now=started)
        store = Store(self.settings.store_path)
        call = _Call(self, line, spec, state, store)
        try:
            return await call.run()
        finally:
            store.close()
            self.calls.remove(spec.call_id)


class _Call:
    """One call's conversation, pipeline and figures; `run` always ends with a summary."""

    def __init__(
        self,
        runner: CallRunner,
        line: SimulatedLine,
        spec: CallSpec,
        state: CallState,
        store: Store,
    ) -> None:
        self.runner, self.line, self.spec, self.state, self.store = runner, line, spec, state, store
        self.started = state.now
        self.transcript: list[TimedLine] = []
        self.figures = CallFigures()
        self.processor: ConversationProcessor | None = None
        self.transfer: dict[str, Any] | None = None
        self.failure: str | None = None
        caller = national_number(spec.number) if spec.direction is Direction.INBOUND else None
        settings, script = runner.settings, runner.script
        self.conversation = Conversation(
            state, script, settings, store, caller, reader_for(settings)
        )

    async def run(self) -> dict[str, Any]:
        try:
            await self._converse()
        except asyncio.CancelledError:  # the server is stopping: summarise, then stop
            self.failure = "cancelled"
            self._end()
            raise
        except Exception as error:  # the summary of what was said is still written
            self.failure = f"{type(error).__name__}: {error}"
            logger.exception("%s: call %s failed", self.spec.line_kind, self.spec.call_id)
        return self._end()

    def _end(self) -> dict[str, Any]:
        if self.line.hung_up_by in ("borrower", "line"):
            self.conversation.hang_up()
        self.line.hang_up("bot")  # the carrier ends the call, unless the far end did
        return self._summarise()

    async def _converse(self) -> None:
        line, runner, voice = self.line, self.runner, self.runner.settings.voice
        ended = asyncio.Event()
        self.processor = processor = ConversationProcessor(
            self.conversation,
            line_time=lambda: line.now,
            no_input_timeout_s=voice.no_input_timeout_s,
            on_line=self.transcript.append,
            on_call_ended=ended.set,
            vad_start_secs=voice.vad_start_secs,
            wait=line.wait,
        )
        figures = self.figures
        hooks = CallHooks(
            processor.hint, figures.on_transcription, figures.on_synthesis, processor.names
        )
        self.profile = tuned_profile(voice)
        # Built off the event loop: loading the VAD model takes 0.1-0.3 s, a stall that every
        # other call's audio would hear when many calls start together.
        pipeline = await asyncio.to_thread(
            build_pipeline, line, processor, runner.models, self.profile, hooks, processor.on_played
        )
        runner.calls.set_state(self.spec.call_id, "in_conversation")
        digits = DigitCollector(line)
        await run_until_ended(pipeline, line, ended, digits, MAX_CALL_S)
        if self.spec.transfer is not None and escalation_reasons(self.state) and not line.closed:
            await self._transfer(self.spec.transfer)
        await drain(line)

    async def _transfer(self, transfer: Transfer) -> None:
        """Tell the caller, then hand the call to the adapter's transfer."""
        self.runner.calls.set_state(self.spec.call_id, "transferring")
        text = self.runner.script.render(TRANSFER_LINE, {})
        pcm, _ = await asyncio.to_thread(self.runner.models.tts_cache.speak, text)
        self.transcript.append(TimedLine("bot", text, self.line.now))
        await self.line.send_from_bot(mulaw_encode(np.asarray(pcm, dtype=np.int16)))
        await drain(self.line)
        self.transfer = await transfer()
        logger.info(
            "%s: call %s transfer: %s", self.spec.line_kind, self.spec.call_id, self.transfer
        )

    def _summarise(self) -> dict[str, Any]:
        spec, line, voice = self.spec, self.line, self.runner.settings.voice
        self.runner.calls.set_state(spec.call_id, "ending")
        recording: str | None = None
        try:
            recording = str(
                write_recording(line, recording_path(voice.recordings_dir, spec.call_id))
            )
        except OSError as error:
            logger.error(
                "%s: call %s: recording not written: %s", spec.line_kind, spec.call_id, error
            )
        metrics = self._metrics()
        summary = build_summary(
            self.state,
            call_id=spec.call_id,
            started_at=self.started,
            ended_at=self.started + timedelta(seconds=line.now),
            transcript=sorted(self.transcript, key=lambda x: x.t),
            recording=recording,
            metrics=metrics,
        )
        if spec.transfer is not None:
            summary["transfer"] = self.transfer
        account = self.state.account
        phone = account.phone if account else national_number(spec.number)
        store_summary(self.runner.settings, summary, phone, spec.line_kind, self.store)
        return summary

    def _metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {"line": self.spec.line_kind}
        if self.spec.carrier_call_id:
            metrics["carrier_call_id"] = self.spec.carrier_call_id
        if self.processor is not None:
            metrics.update(call_metrics(self.line, self.processor, self.figures, self.profile))
        else:
            metrics["hung_up_by"] = self.line.hung_up_by
        if self.failure:
            metrics["failure"] = self.failure
        if self.spec.line_metrics is not None:
            try:
                metrics[self.spec.line_kind] = self.spec.line_metrics()
            except Exception:  # figures are a nicety; the summary is not
                logger.exception("%s: line figures failed", self.spec.line_kind)
        return metrics


async def drain(line: SimulatedLine) -> None:
    """Let the bot's last queued audio play (bounded), so the hang-up does not cut it."""
    for _ in range(round(DRAIN_S / 0.02)):
        if line.closed or not line.bot_audio_pending:
            return
        await line.next_tick()
