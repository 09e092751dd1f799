"""Running a campaign: the round loop, the embedded dialer, and one attempt's execution.

A round: plan the attempts due now (attempts.plan_due), have them dialled (in-process
here, or by `voicebot worker`s through Redis, queue.py), wait until each is done, then
move the clock to the next due time. The simulated line runs on a virtual clock, so a
week of retries takes seconds; its position is stored, and a rerun resumes from it.
The Redis scale-out (queue.py) builds on this module, never the other way round.
"""

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voicebot.campaigns import attempts as log
from voicebot.campaigns import scheduler as rules
from voicebot.campaigns.lines import CampaignDialer
from voicebot.campaigns.scheduler import CallResult, Policy, result_from_summary
from voicebot.campaigns.sms import SmsProvider, load_sms_templates, sms_after_call, sms_provider
from voicebot.campaigns.state import Attempt, CampaignState, Progress
from voicebot.config import Settings
from voicebot.conversation.rules import within_calling_window
from voicebot.store import Store

logger = logging.getLogger("voicebot.campaigns")
PROGRESS_EVERY_S = 0.5
WallClock = Callable[[], datetime]
Dispatch = Callable[[list[Attempt], Callable[[], None]], Awaitable[None]]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def new_worker_id(role: str) -> str:
    """host:pid:role:random: unique per process start, readable in the attempts table."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:6]}"


class CampaignClock:
    """The campaign's time: virtual (jumps to the next due time) or the wall clock."""

    def __init__(self, start: datetime, virtual: bool, wall: WallClock = wall_clock) -> None:
        self.virtual = virtual
        self.wall = wall
        self._now = start

    def now(self) -> datetime:
        return self._now if self.virtual else self.wall()

    async def wait_until(self, moment: datetime) -> None:
        if self.virtual:
            self._now = max(self._now, moment)
            return
        await asyncio.sleep(max(0.0, (moment - self.wall()).total_seconds()))


class AttemptExecutor:
    """Claims, dials, records one attempt, and sends the after-call SMS: shared by the
    embedded runner and the Redis workers."""

    def __init__(
        self,
        state: CampaignState,
        settings: Settings,
        lines: Callable[[str], CampaignDialer],  # campaign name -> its line
        sms: SmsProvider,
        worker_id: str,
        wall: WallClock = wall_clock,
    ) -> None:
        self.state = state
        self.settings = settings
        self.policy = Policy.from_settings(settings.rules, settings.campaigns)
        self.lines = lines
        self.sms = sms
        self.sms_templates = load_sms_templates(settings.prompts_dir)
        self.worker_id = worker_id
        self.wall = wall

    async def execute(self, attempt_id: int) -> str:
        """Place the call of `attempt_id` unless another dialer has it; returns its status."""
        attempt = log.claim(self.state, attempt_id, self.worker_id, self.wall())
        if attempt is None:
            return "taken"
        line = self.lines(attempt.campaign)
        at = attempt.at if line.virtual_time else self.wall()
        if self._refused(attempt, at):
            return "skipped"
        account = self.state.store.get_account(attempt.account_id)
        attempt_no = log.previous_attempts(self.state, attempt)
        try:
            if account is None:
                raise LookupError(f"account {attempt.account_id} is not in the store")
            dialled = await asyncio.to_thread(line.dial, account, at, attempt_no)
        except Exception:
            # The call may or may not have happened: the same doubt as a crash.
            logger.exception("attempt %s failed while dialing", attempt_id)
            log.mark_unknown(self.state, attempt, self.policy)
            return "unknown"
        summary = dialled.summary
        result = result_from_summary(summary) if summary else CallResult(dialled.outcome)
        if log.record(self.state, attempt, result, summary, self.policy) is None:
            return "taken"
        text = sms_after_call(
            result.outcome, summary, attempt_no, self.sms_templates, self.settings.lender
        )
        if text:
            self.sms.send(attempt.phone, text)
        return "done"

    def _refused(self, attempt: Attempt, at: datetime) -> bool:
        # Planned earlier (before a restart, or a slow queue): the rules are asked again.
        on_dnc = self.state.store.is_do_not_call(attempt.phone)
        if not on_dnc and within_calling_window(at, attempt.timezone, self.policy):
            return False
        why = rules.Refusal.DO_NOT_CALL if on_dnc else rules.Refusal.OUTSIDE_WINDOW
        log.skip(self.state, attempt, rules.deferral(attempt.timezone, at, why, None, self.policy))
        return True


def embedded_dispatch(executor: AttemptExecutor, concurrency: int) -> Dispatch:
    """Dial the round's attempts in this process, at most `concurrency` at a time."""

    async def dispatch(round_attempts: list[Attempt], on_done: Callable[[], None]) -> None:
        queue: asyncio.Queue[Attempt] = asyncio.Queue()
        for attempt in round_attempts:
            queue.put_nowait(attempt)

        async def dialer() -> None:
            while not queue.empty():
                attempt = queue.get_nowait()
                await executor.execute(attempt.attempt_id)
                on_done()

        await asyncio.gather(*(dialer() for _ in range(min(concurrency, len(round_attempts)))))

    return dispatch


@dataclass
class RunOptions:
    name: str
    start: datetime
    until: datetime
    virtual: bool = True


async def run_rounds(
    state: CampaignState,
    settings: Settings,
    options: RunOptions,
    dispatch: Dispatch,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    wall: WallClock = wall_clock,
) -> Progress:
    """Plan and dial round after round until nothing is due before `options.until`."""
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    lease = timedelta(seconds=settings.campaigns.dial_lease_seconds)
    name = options.name
    log.resolve_lost(state, wall(), lease, policy)
    clock = CampaignClock(max(options.start, state.clock(name) or options.start), options.virtual)

    shown_at = 0.0

    def tick() -> None:
        nonlocal shown_at
        if time.monotonic() - shown_at >= PROGRESS_EVERY_S:  # a display, not a log
            shown_at = time.monotonic()
            on_progress(state.progress(name))

    while clock.now() < options.until:
        now = clock.now()
        log.plan_due(state, name, now, policy)
        planned = log.open_attempts(state, name)
        if planned:
            await dispatch(planned, tick)
            state.save_clock(name, now)
            tick()
            continue
        due = state.next_due(name)
        if due is None or due >= options.until:
            break
        # Due but not plannable now (its number is busy in another campaign): look again soon.
        await clock.wait_until(due if due > now else now + timedelta(minutes=1))
    state.save_clock(name, min(clock.now(), options.until))
    return state.progress(name)


def run_embedded(
    settings: Settings,
    options: RunOptions,
    line: CampaignDialer,
    line_kind: str,
    personas: Path | None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
) -> Progress:
    """`voicebot campaign run` without Redis: this process dials `line` (named `line_kind`,
    opened with `personas`: both are stored with the campaign)."""
    store = Store(settings.store_path)
    state = CampaignState(store)
    try:
        state.set_line(options.name, line_kind, stored_personas(personas))
        worker_id = new_worker_id("runner")
        state.register_worker(worker_id, wall_clock())
        executor = AttemptExecutor(
            state,
            settings,
            lambda _: line,
            sms_provider(settings.campaigns.sms_provider),
            worker_id,
        )
        dispatch = embedded_dispatch(executor, settings.campaigns.concurrency)
        return asyncio.run(run_rounds(state, settings, options, dispatch, on_progress))
    finally:
        store.close()


def stored_personas(personas: Path | None) -> str | None:
    """The personas file as the campaign stores it: absolute, for workers elsewhere."""
    return str(personas.resolve()) if personas else None
