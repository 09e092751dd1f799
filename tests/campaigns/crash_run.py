"""Run the week campaign in this process and die abruptly at a chosen point.

`python -m tests.campaigns.crash_run DB N WHERE`: the process exits with os._exit (no
clean-up, like a kill -9) during the N-th dial (WHERE=dial) or right after the N-th
result is committed, before its SMS (WHERE=sms).
"""

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.campaigns.fakes import ScriptedLine, settings_for
from voicebot.campaigns.runner import (
    AttemptExecutor,
    RunOptions,
    embedded_dispatch,
    new_worker_id,
    run_rounds,
)
from voicebot.campaigns.sms import LoggingSmsProvider
from voicebot.campaigns.state import CampaignState
from voicebot.store import Store

START = datetime(2026, 11, 23, tzinfo=UTC)


class DyingLine(ScriptedLine):
    def __init__(self, die_at: int) -> None:
        super().__init__()
        self.die_at = die_at

    def dial(self, account, at, attempt_no):  # type: ignore[no-untyped-def]
        if len(self.dials) + 1 == self.die_at:
            os._exit(9)
        return super().dial(account, at, attempt_no)


class DyingSms(LoggingSmsProvider):
    def __init__(self, die_at: int) -> None:
        super().__init__()
        self.die_at = die_at
        self.count = 0

    def send(self, phone: str, text: str) -> None:
        self.count += 1
        if self.count == self.die_at:
            os._exit(9)
        super().send(phone, text)


def run(db_path: Path, die_at: int | None, where: str, days: float) -> None:
    settings = settings_for(db_path)
    store = Store(db_path)
    state = CampaignState(store)
    line = DyingLine(die_at if where == "dial" and die_at else 0)
    sms = DyingSms(die_at if where == "sms" and die_at else 0)
    worker = new_worker_id("runner")
    state.register_worker(worker, datetime.now(UTC))
    executor = AttemptExecutor(state, settings, lambda _: line, sms, worker)
    options = RunOptions("crash", START, START + timedelta(days=days))
    asyncio.run(run_rounds(state, settings, options, embedded_dispatch(executor, 8)))
    store.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]) or None, sys.argv[3], float(sys.argv[4]))
