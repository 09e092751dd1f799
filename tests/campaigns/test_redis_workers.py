"""Scale-out: a real Redis server, two `voicebot worker` processes, one killed mid-run.

200 accounts run on the simulated line through the real conversation engine. Afterwards
every account has been called exactly as the rules allow, no attempt twice, none lost.
"""

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import yaml

from voicebot.campaigns.queue import redis_dispatch
from voicebot.campaigns.runner import RunOptions, run_rounds
from voicebot.campaigns.scheduler import Policy
from voicebot.campaigns.state import CampaignState, Progress
from voicebot.store import Store

from .checks import check_rules
from .fakes import make_accounts, settings_for, target

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="redis-server is not installed (./dev test installs it)"
)
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
READY_S = 30  # a generous bound on start-up, never a measured expectation


def persona(kind: int, last4: str) -> list:
    """What each kind of borrower says; index % 8 picks the kind."""
    promise = ["对，我是", last4, "上个月公司裁员，我失业了", "这周五发工资，全部还上", "对"]
    return [
        [],  # silence: no response every time
        promise,
        ["喂，我是她老公，她在上班"],
        ["不是", "不认识，你打错了"],
        ["您好，您拨打的用户暂时无法接听，请在提示音后留言"],
        [["<busy>"], ["您拨打的电话已关机"], promise],
        ["对，我是", last4, "别再打了"],
        [[], promise],
    ][kind]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + READY_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            *(str(REDIS), "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _until(up, "redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


def _workers_registered(db_path: Path, count: int) -> bool:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT COUNT(*) FROM campaign_workers").fetchone()[0] >= count
    except sqlite3.OperationalError:
        return False
    finally:
        db.close()


def test_two_workers_one_killed(tmp_path: Path, redis_url: str) -> None:
    db_path = tmp_path / "calls.sqlite3"
    settings = settings_for(db_path, redis_url=redis_url, concurrency="4")
    accounts = make_accounts(200, shared_every=10**9)
    personas = {a.account_id: persona(i % 8, a.id_last4) for i, a in enumerate(accounts)}
    personas_path = tmp_path / "personas.yaml"
    personas_path.write_text(yaml.safe_dump(personas, allow_unicode=True), encoding="utf-8")
    store = Store(db_path)
    for account in accounts:
        store.upsert_account(account)
    state = CampaignState(store)
    state.create("scale", [target(a) for a in accounts], START)
    state.set_line("scale", "simulated", str(personas_path))

    env = {
        **os.environ,
        "VOICEBOT_STORE__PATH": str(db_path),
        "VOICEBOT_CAMPAIGNS__REDIS_URL": redis_url,
        "VOICEBOT_CAMPAIGNS__CONCURRENCY": "4",
    }
    command = [sys.executable, "-m", "voicebot.cli", "worker"]
    workers = [
        subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        for _ in range(2)
    ]
    killed: list[Progress] = []

    def kill_first_worker(progress: Progress) -> None:
        if not killed and progress.placed >= 100:
            workers[0].kill()
            workers[0].wait()  # reaped, so its pid is seen as dead
            killed.append(progress)

    try:
        _until(lambda: _workers_registered(db_path, 2), "workers did not start")
        options = RunOptions("scale", START, START + timedelta(days=3))
        dispatch = redis_dispatch(settings, state)
        final = asyncio.run(run_rounds(state, settings, options, dispatch, kill_first_worker))
        assert workers[1].poll() is None, "the surviving worker stopped"
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()

    assert killed and killed[0].placed < final.placed, "the kill did not happen mid-run"
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    placed = check_rules(db_path, "scale", policy)
    # none twice: each stored call belongs to exactly one attempt, and the other way round
    calls = store.db.execute(
        "SELECT call_id, account_id FROM calls WHERE campaign = 'scale'"
    ).fetchall()
    attempt_calls = [r["call_id"] for r in placed if r["call_id"]]
    assert sorted(c[0] for c in calls) == sorted(attempt_calls)
    assert len(set(attempt_calls)) == len(attempt_calls)
    # none lost: every account was called, and each ended as its persona leads it to
    assert {r["account_id"] for r in placed} == {a.account_id for a in accounts}
    closed = dict(store.db.execute("SELECT account_id, closed FROM campaign_accounts"))
    expected = {1: "promised", 3: "wrong_number", 5: "promised", 6: "do_not_call", 7: "promised"}
    for index, account in enumerate(accounts):
        if index % 8 in expected:
            assert closed[account.account_id] == expected[index % 8], account.account_id
    store.close()
