"""The voice bot on SIP calls: the simulator's engine and voice pipeline over a `SipLine`.

`SipBot.answer` is the endpoint's inbound handler (the caller's number finds the
account); `SipBot.call_account` dials a borrower. Either way the call ends with the
summary (recording and line figures included) stored, whoever hung up and however: a
dropped call is summarised like any other. When the summary needs a human and
`sip.agent_uri` is set, the bot says so and transfers the caller by REFER; the summary's
`transfer` records the target and the result.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from telephony.sip.endpoint import SipCall, SipEndpoint
from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.rules import escalation_reasons, within_calling_window
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import CallState, Direction, Outcome
from voicebot.masking import mask_phone
from voicebot.speech.audio import mulaw_encode
from voicebot.store import Store
from voicebot.summary import TimedLine, build_summary
from voicebot.voice.driver import _Figures, _metrics, start_worker  # the simulator's figures
from voicebot.voice.engine_processor import ConversationProcessor
from voicebot.voice.pipeline import CallHooks, VoiceModels, build_pipeline, tuned_profile
from voicebot.voice.recording import write_recording

logger = logging.getLogger(__name__)

MAX_CALL_S = 600.0
DRAIN_S = 1.0  # the last words queued on the line are played before BYE


class SipBot:
    """Runs conversations on SIP calls; one per process, its models shared by every call."""

    def __init__(
        self,
        settings: Settings,
        models: VoiceModels,
        script: Script | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock` gives a call's start time (default: now); tests fix it."""
        self.settings = settings
        self.clock = clock or _now
        self.models = models
        self.script = script or load_script(settings.prompts_dir)
        self.endpoint: SipEndpoint | None = None  # set by `attach`: transfers need it
        self.summaries: list[dict[str, Any]] = []  # this process's calls, newest last

    def attach(self, endpoint: SipEndpoint) -> SipEndpoint:
        self.endpoint = endpoint
        endpoint.on_inbound = self.answer
        return endpoint

    async def answer(self, call: SipCall) -> dict[str, Any]:
        """An inbound call: the caller's number looks up the account in the store."""
        store = Store(self.settings.store_path)
        try:
            state = CallState(direction=Direction.INBOUND, account=None, now=self.clock())
            conversation = Conversation(
                state, self.script, self.settings, store, call.remote_number
            )
            return await self._converse(call, state, conversation, store)
        finally:
            store.close()

    async def call_account(self, account: Account, now: datetime | None = None) -> dict[str, Any]:
        """Dial the account's phone and run the call; outside calling hours nothing is dialled."""
        assert self.endpoint is not None, "attach() the endpoint first"
        now = now or self.clock()
        state = CallState(direction=Direction.OUTBOUND, account=account, now=now)
        if not within_calling_window(now, account.timezone, self.settings.rules):
            state.within_calling_hours = False
            state.outcome = Outcome.OUTSIDE_CALLING_HOURS
            summary = build_summary(
                state, call_id=uuid.uuid4().hex, started_at=now, ended_at=now, transcript=[]
            )
            self._store(summary, account.phone)
            return summary

        async def run(call: SipCall) -> dict[str, Any]:
            conversation = Conversation(state, self.script, self.settings)
            return await self._converse(call, state, conversation)

        return await self.endpoint.place_call(account.phone, run)

    async def _converse(
        self,
        call: SipCall,
        state: CallState,
        conversation: Conversation,
        store: Store | None = None,
    ) -> dict[str, Any]:
        line, voice = call.line, self.settings.voice
        started = state.now
        transcript: list[TimedLine] = []
        figures = _Figures()
        ended = asyncio.Event()
        processor = ConversationProcessor(
            conversation,
            line_time=lambda: line.now,
            no_input_timeout_s=voice.no_input_timeout_s,
            on_line=transcript.append,
            on_call_ended=ended.set,
            vad_start_secs=voice.vad_start_secs,
            wait=line.wait,
        )
        hooks = CallHooks(processor.hint, figures.on_transcription, figures.on_synthesis)
        profile = tuned_profile(voice)
        pipeline = build_pipeline(line, processor, self.models, profile, hooks, processor.on_played)
        try:
            await _run_pipeline(line, pipeline, ended)
        except Exception:  # a failing pipeline still leaves a summary of what was said
            logger.exception("sip: call %s: the voice pipeline failed", call.call_id)
        if line.hung_up_by == "borrower":
            conversation.hang_up()
        transfer = await self._transfer_if_needed(call, state, transcript)
        await _drain(line)
        line.hang_up("bot")
        recording = write_recording(line, voice.recordings_dir / f"{call.call_id}.wav")
        metrics = _metrics(line, processor, figures, profile)
        metrics["sip"] = sip_figures(call)
        summary = build_summary(
            state,
            call_id=call.call_id,
            started_at=started,
            ended_at=started + timedelta(seconds=line.now),
            transcript=sorted(transcript, key=lambda x: x.t),
            recording=str(recording),
            metrics=metrics,
        )
        summary["transfer"] = transfer
        self._store(summary, state.account.phone if state.account else call.remote_number, store)
        return summary

    async def _transfer_if_needed(
        self, call: SipCall, state: CallState, transcript: list[TimedLine]
    ) -> dict[str, Any] | None:
        endpoint = self.endpoint
        if endpoint is None or not endpoint.settings.agent_uri or call.line.closed:
            return None
        if not escalation_reasons(state):
            return None
        text = self.script.render("transfer_to_agent", {})
        pcm, _ = await asyncio.to_thread(self.models.tts_cache.speak, text)
        transcript.append(TimedLine("bot", text, call.line.now))
        await call.line.send_from_bot(mulaw_encode(np.asarray(pcm, dtype=np.int16)))
        await _drain(call.line)
        result = await endpoint.transfer(call)
        return result.as_dict()

    def _store(self, summary: dict[str, Any], phone: str, store: Store | None = None) -> None:
        self.summaries.append(summary)
        own = store is None
        store = store or Store(self.settings.store_path)
        try:
            store.save_call(summary, phone=phone)
        finally:
            if own:
                store.close()
        call_id, outcome = summary["call_id"], summary["outcome"]
        logger.info("sip: call %s with %s stored: %s", call_id, mask_phone(phone), outcome)


def sip_figures(call: SipCall) -> dict[str, Any]:
    """The codec and the incoming stream's health, for the summary's metrics."""
    stats = call.line.rtp.stats
    return {
        "codec": call.codec,
        "packets_received": stats.get("packets_received", 0),
        "packets_lost": stats.get("packets_lost", 0),
        "concealed_frames": stats.get("concealed_frames", 0),
        "dropped_inbound_frames": call.line.dropped_inbound_frames,
        "digits": "".join(call.line.digits),
    }


async def _run_pipeline(line: Any, pipeline: Any, ended: asyncio.Event) -> None:
    """Run the call's pipeline until the conversation ends or the far end hangs up."""
    worker, running = await start_worker(pipeline)
    waits = [asyncio.create_task(ended.wait()), asyncio.create_task(line.wait_closed())]
    try:
        await asyncio.wait(
            [*waits, running], timeout=MAX_CALL_S, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        await worker.cancel(reason="call ended")
        for task in waits:
            task.cancel()
        await asyncio.gather(running, *waits, return_exceptions=True)


async def _drain(line: Any) -> None:
    """Let the bot's last queued audio play (bounded), so BYE does not cut the goodbye."""
    for _ in range(round(DRAIN_S / 0.02)):
        if line.closed or not line.bot_audio_pending:
            return
        await line.next_tick()


def _now() -> datetime:
    return datetime.now(UTC).astimezone()
