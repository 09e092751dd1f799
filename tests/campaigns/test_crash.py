"""Killing the runner at any moment and running it again loses no result and places no
call twice; an attempt left dialing by the crash becomes `unknown`, never redialled at once."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voicebot.campaigns.scheduler import Policy
from voicebot.campaigns.state import CampaignState
from voicebot.config import PROJECT_ROOT
from voicebot.store import Store

from .checks import check_rules
from .fakes import make_accounts, settings_for, target


def _campaign(db_path: Path, count: int) -> None:
    store = Store(db_path)
    for account in make_accounts(count):
        store.upsert_account(account)
    CampaignState(store).create(
        "crash", [target(a) for a in make_accounts(count)], datetime(2026, 11, 1, tzinfo=UTC)
    )
    store.close()


def _run(db_path: Path, die_at: int, where: str, days: float = 2) -> int:
    command = [sys.executable, "-m", "tests.campaigns.crash_run", str(db_path), str(die_at)]
    done = subprocess.run([*command, where, str(days)], cwd=PROJECT_ROOT, check=False)
    return done.returncode


@pytest.mark.parametrize(("die_at", "where"), [(37, "dial"), (150, "dial"), (20, "sms")])
def test_crash_and_rerun(tmp_path: Path, die_at: int, where: str) -> None:
    db_path = tmp_path / "calls.sqlite3"
    _campaign(db_path, 60)
    assert _run(db_path, die_at, where) == 9  # died as asked
    db = sqlite3.connect(db_path)
    dialing = db.execute("SELECT COUNT(*) FROM campaign_attempts WHERE status = 'dialing'")
    left_dialing = dialing.fetchone()[0]
    done_before = set(
        db.execute("SELECT attempt_id, call_id FROM campaign_attempts WHERE status = 'done'")
    )
    db.close()
    # the dialers running beside the one that died may be mid-call too (concurrency 8)
    assert (1 if where == "dial" else 0) <= left_dialing <= 8
    assert done_before

    assert _run(db_path, 0, "none") == 0  # runs to the end of the two days
    settings = settings_for(db_path)
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    placed = check_rules(db_path, "crash", policy)
    # every result from before the crash is still there, unchanged
    after = {(r["attempt_id"], r["call_id"]) for r in placed if r["status"] == "done"}
    assert done_before <= after
    unknown = [r for r in placed if r["status"] == "unknown"]
    assert len(unknown) == left_dialing
    db = sqlite3.connect(db_path)
    calls = [r[0] for r in db.execute("SELECT call_id FROM calls WHERE campaign = 'crash'")]
    db.close()
    assert sorted(calls) == sorted(r["call_id"] for r in placed if r["call_id"])
