"""Campaign benchmarks: scheduling a 100,000-account day, and one worker's call rate.

    .venv/bin/python scripts/bench_campaign.py [--accounts 100000] [--calls 400]

1. Scheduling: a campaign of N accounts over five time zones, with a do-not-call list and
   pending promises; the timed part is the scheduler's first pass of the day (every
   account due at once): the rules for each account, priority order, and the planned
   attempts written to SQLite. The pure rules alone are timed too.
2. Throughput: one `voicebot worker` process (Redis, concurrency from config) dialling a
   single round of calls on the simulated line, through the real conversation engine;
   without redis-server, the in-process runner is measured instead and the line says so.
"""

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.campaigns.fakes import make_accounts, settings_for, target  # noqa: E402
from voicebot.campaigns import attempts, scheduler  # noqa: E402
from voicebot.campaigns.runner import RunOptions, run_rounds  # noqa: E402
from voicebot.campaigns.scheduler import DayCount, Policy  # noqa: E402
from voicebot.campaigns.state import CampaignState  # noqa: E402
from voicebot.store import Store  # noqa: E402

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def bench_scheduling(folder: Path, count: int) -> None:
    db_path = folder / "schedule.sqlite3"
    settings = settings_for(db_path)
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    targets = [target(a) for a in make_accounts(count)]
    store = Store(db_path)
    state = CampaignState(store)
    with store.db:
        store.db.executemany(
            "INSERT INTO do_not_call VALUES (?, '2026-11-01', NULL)",
            [(t.phone,) for t in targets[::97]],
        )
    state.create("bench", targets, START)
    began = time.perf_counter()
    refusals = sum(
        scheduler.refusal(t, START, DayCount(), False, None, policy) is not None for t in targets
    )
    ordered = sorted(targets, key=scheduler.priority_key)
    pure_s = time.perf_counter() - began
    began = time.perf_counter()
    report = attempts.plan_due(state, "bench", START, policy)
    plan_s = time.perf_counter() - began
    store.close()
    print(
        f"scheduling a {count:,}-account campaign's day: {plan_s:.2f} s"
        f" ({report.planned:,} calls planned in priority order, {report.deferred:,} deferred"
        f" to their window, {report.closed:,} closed as do-not-call; SQLite included)"
    )
    print(
        f"  the pure rules alone over {len(ordered):,} accounts: {pure_s:.2f} s"
        f" ({refusals:,} outside their window at {START:%H:%M} UTC)"
    )


def _personas(accounts: list) -> dict:  # type: ignore[type-arg]
    kinds = [
        [],
        ["对，我是", "{id}", "上个月公司裁员，我失业了", "这周五发工资，全部还上", "对"],
        ["喂，我是她老公，她在上班"],
        ["不是", "不认识，你打错了"],
        ["您好，您拨打的用户暂时无法接听，请在提示音后留言"],
    ]
    return {
        a.account_id: [line.replace("{id}", a.id_last4) for line in kinds[i % len(kinds)]]
        for i, a in enumerate(accounts)
    }


def bench_worker(folder: Path, count: int) -> None:
    db_path = folder / "calls.sqlite3"
    accounts = make_accounts(count, shared_every=10**9)
    for index, account in enumerate(accounts):  # one time zone: every call due at once
        accounts[index] = account.__class__(**{**account.__dict__, "timezone": "Asia/Shanghai"})
    personas = folder / "personas.yaml"
    personas.write_text(yaml.safe_dump(_personas(accounts), allow_unicode=True), "utf-8")
    store = Store(db_path)
    for account in accounts:
        store.upsert_account(account)
    state = CampaignState(store)
    state.create("rate", [target(a) for a in accounts], START)
    state.set_line("rate", "simulated", str(personas))
    server = shutil.which("redis-server")
    if server is None:
        _embedded_rate(state, db_path, personas, count)
    else:
        _worker_rate(server, state, db_path, count)
    store.close()


def _embedded_rate(state: CampaignState, db_path: Path, personas: Path, count: int) -> None:
    from voicebot.campaigns.lines import CampaignLines
    from voicebot.campaigns.runner import run_embedded

    settings = settings_for(db_path, sms_provider="none")
    line = CampaignLines().open("simulated", settings, personas)
    began = time.perf_counter()
    options = RunOptions("rate", START, START + timedelta(minutes=1))
    run_embedded(settings, options, line, "simulated", personas)
    _print_rate(count, time.perf_counter() - began, "the in-process runner (no redis-server)")


def _worker_rate(server: str, state: CampaignState, db_path: Path, count: int) -> None:
    from voicebot.campaigns.queue import redis_dispatch

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    settings = settings_for(db_path, redis_url=url, sms_provider="none")
    env = {**os.environ, "VOICEBOT_STORE__PATH": str(db_path)}
    env |= {"VOICEBOT_CAMPAIGNS__REDIS_URL": url, "VOICEBOT_CAMPAIGNS__SMS_PROVIDER": "none"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "voicebot.cli", "worker"], env=env, stderr=subprocess.DEVNULL
    )
    try:
        while state.db.execute("SELECT COUNT(*) FROM campaign_workers").fetchone()[0] < 1:
            time.sleep(0.05)  # start-up, not measured
        began = time.perf_counter()
        options = RunOptions("rate", START, START + timedelta(minutes=1))
        asyncio.run(run_rounds(state, settings, options, redis_dispatch(settings, state)))
        elapsed = time.perf_counter() - began
    finally:
        worker.terminate()
        worker.wait()
        redis.terminate()
        redis.wait()
    concurrency = settings.campaigns.concurrency
    _print_rate(count, elapsed, f"one worker, concurrency {concurrency}, via Redis")


def _print_rate(count: int, elapsed: float, how: str) -> None:
    print(
        f"calls per minute on the simulated line: {count / elapsed * 60:,.0f}"
        f" ({count} calls in {elapsed:.1f} s, {how})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_scheduling(Path(folder), args.accounts)
        bench_worker(Path(folder), args.calls)


if __name__ == "__main__":
    main()
