"""Scale-out on Redis with arq: the runner enqueues attempts, `voicebot worker`s dial them.

Redis only carries "dial attempt N"; the truth stays in SQLite. A job may be delivered
twice (a re-enqueue after a worker died, arq's own retry): the claim in SQLite lets exactly
one dialer have the attempt, and the others return without dialing.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker, func

from voicebot.campaigns import attempts as log
from voicebot.campaigns.lines import CampaignDialer, CampaignLines
from voicebot.campaigns.runner import (
    AttemptExecutor,
    Dispatch,
    RunOptions,
    WallClock,
    new_worker_id,
    run_rounds,
    stored_personas,
    wall_clock,
)
from voicebot.campaigns.scheduler import Policy
from voicebot.campaigns.sms import sms_provider
from voicebot.campaigns.state import Attempt, CampaignState, Progress
from voicebot.config import Settings
from voicebot.store import Store

QUEUE = "voicebot:campaign-calls"
POLL_S = 0.02  # how often the runner looks at SQLite and a worker at the queue
logger = logging.getLogger("voicebot.campaigns")


def run_on_workers(
    settings: Settings,
    options: RunOptions,
    line_kind: str,
    personas: Path | None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
) -> Progress:
    """`voicebot campaign run` with `campaigns.redis_url` set: `voicebot worker`s dial,
    each opening the line the campaign stores (`line_kind`, `personas`)."""
    store = Store(settings.store_path)
    state = CampaignState(store)
    try:
        state.set_line(options.name, line_kind, stored_personas(personas))
        dispatch = redis_dispatch(settings, state)
        return asyncio.run(run_rounds(state, settings, options, dispatch, on_progress))
    finally:
        store.close()


def redis_dispatch(
    settings: Settings, state: CampaignState, wall: WallClock = wall_clock
) -> Dispatch:
    """Enqueue the round's attempts and wait until every one is done, unknown or skipped.

    While waiting it resolves attempts left dialing by dead workers and re-enqueues the
    planned ones, whose jobs a dead worker may have taken with it.
    """
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    lease = timedelta(seconds=settings.campaigns.dial_lease_seconds)
    run_id = uuid.uuid4().hex[:8]  # job ids never collide with an earlier run's results

    async def dispatch(round_attempts: list[Attempt], on_change: Callable[[], None]) -> None:
        pool = await create_pool(RedisSettings.from_dsn(settings.campaigns.redis_url))
        try:
            ids = [attempt.attempt_id for attempt in round_attempts]
            generation = 0
            await _enqueue(pool, ids, f"{run_id}-{generation}")
            left = log.count_open(state, ids)
            quiet_since = wall()
            while left:
                await asyncio.sleep(POLL_S)
                lost = log.resolve_lost(state, wall(), lease, policy)
                now_left = log.count_open(state, ids)
                if now_left != left or lost:
                    on_change()
                    quiet_since = wall()
                stalled = wall() - quiet_since > lease
                if lost or stalled:
                    generation += 1
                    planned = _still_planned(state, ids)
                    await _enqueue(pool, planned, f"{run_id}-{generation}")
                    quiet_since = wall()
                left = now_left
        finally:
            await pool.aclose()

    return dispatch


async def _enqueue(pool: ArqRedis, attempt_ids: list[int], tag: str) -> None:
    for attempt_id in attempt_ids:
        await pool.enqueue_job(
            "place_call", attempt_id, _job_id=f"attempt-{attempt_id}-{tag}", _queue_name=QUEUE
        )


def _still_planned(state: CampaignState, ids: list[int]) -> list[int]:
    wanted = set(ids)
    rows = state.db.execute("SELECT attempt_id FROM campaign_attempts WHERE status = 'planned'")
    return [row[0] for row in rows if row[0] in wanted]


# --- the worker -------------------------------------------------------------------------


async def place_call(ctx: dict[str, Any], attempt_id: int) -> str:
    """The arq job: dial one attempt unless another dialer already has it."""
    executor: AttemptExecutor = ctx["executor"]
    return await executor.execute(attempt_id)


def worker(settings: Settings, lines: CampaignLines, burst: bool = False) -> Worker:
    """An arq worker over `settings.campaigns.redis_url`, dialing up to `concurrency` calls
    on the `lines` each campaign names."""
    if not settings.campaigns.redis_url:
        raise ValueError("campaigns.redis_url is empty: set it to run workers")
    lease = settings.campaigns.dial_lease_seconds

    async def startup(ctx: dict[str, Any]) -> None:
        store = Store(settings.store_path)
        state = CampaignState(store)
        worker_id = new_worker_id("worker")
        state.register_worker(worker_id, wall_clock())
        ctx["store"] = store
        ctx["executor"] = AttemptExecutor(
            state,
            settings,
            _line_cache(settings, lines, state),
            sms_provider(settings.campaigns.sms_provider),
            worker_id,
        )
        ctx["heartbeat"] = asyncio.create_task(_heartbeat(state, worker_id, max(1, lease // 3)))
        logger.info("worker %s ready", worker_id)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "heartbeat" in ctx:
            ctx["heartbeat"].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ctx["heartbeat"]
        if "store" in ctx:
            ctx["store"].close()

    return Worker(
        functions=[func(place_call, name="place_call")],  # type: ignore[list-item]
        queue_name=QUEUE,
        redis_settings=RedisSettings.from_dsn(settings.campaigns.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=settings.campaigns.concurrency,
        job_timeout=lease,
        poll_delay=POLL_S,
        max_tries=1,  # a failed dial is recorded as unknown, never retried blindly
        burst=burst,
        keep_result=3600,
    )


def _line_cache(
    settings: Settings, lines: CampaignLines, state: CampaignState
) -> Callable[[str], CampaignDialer]:
    opened: dict[str, CampaignDialer] = {}

    def line_for(campaign: str) -> CampaignDialer:
        if campaign not in opened:
            kind, personas = state.line_of(campaign)
            opened[campaign] = lines.open(kind, settings, Path(personas) if personas else None)
        return opened[campaign]

    return line_for


async def _heartbeat(state: CampaignState, worker_id: str, every_s: int) -> None:
    while True:
        await asyncio.sleep(every_s)
        state.heartbeat(worker_id, wall_clock())


def run_worker(settings: Settings, lines: CampaignLines) -> None:
    """`voicebot worker`: take calls from the queue until interrupted."""
    worker(settings, lines).run()
