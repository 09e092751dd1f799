"""A simulated week of scheduling for 1,000 accounts with a fixed clock: every rule holds."""

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from voicebot.campaigns import scheduler as rules
from voicebot.campaigns.runner import AttemptExecutor, RunOptions, embedded_dispatch, run_rounds
from voicebot.campaigns.scheduler import Policy
from voicebot.campaigns.sms import LoggingSmsProvider
from voicebot.campaigns.state import CampaignState
from voicebot.store import Store

from .checks import check_rules
from .fakes import ScriptedLine, behaviour, fake_summary, make_accounts, settings_for, target

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday, 08:00 in Shanghai
WALL = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One campaign run over a week; the tests below each check one rule on it."""
    path = tmp_path_factory.mktemp("week") / "calls.sqlite3"
    settings = settings_for(path)
    accounts = make_accounts(1000)
    store = Store(path)
    for account in accounts:
        store.upsert_account(account)
    dnc_before = {a.phone for a in accounts[100:120]}
    for phone in dnc_before:
        store.db.execute("INSERT INTO do_not_call VALUES (?, ?, NULL)", (phone, "2026-11-01"))
    promised = {a.account_id: date(2026, 11, 25) for a in accounts[200:230]}
    for account in accounts[200:230]:
        old = fake_summary(account, START - timedelta(days=5), "right_party_contact")
        old["promise_to_pay"] = {"amount": 100.0, "date": "2026-11-25"}
        store.save_call(old, phone=account.phone)
    store.db.commit()
    state = CampaignState(store)
    state.create("week", [target(a) for a in accounts], WALL)
    line = ScriptedLine()
    executor = AttemptExecutor(
        state, settings, lambda _: line, LoggingSmsProvider(), "test-runner", wall=lambda: WALL
    )
    state.register_worker("test-runner", WALL)
    options = RunOptions("week", START, START + timedelta(days=7))
    dispatch = embedded_dispatch(executor, concurrency=16)
    progress = asyncio.run(run_rounds(state, settings, options, dispatch, wall=lambda: WALL))
    policy = Policy.from_settings(settings.rules, settings.campaigns)
    closures = dict(store.db.execute("SELECT account_id, closed FROM campaign_accounts").fetchall())
    store.close()
    return {
        "path": path,
        "policy": policy,
        "accounts": accounts,
        "dnc": dnc_before,
        "promised": promised,
        "line": line,
        "progress": progress,
        "closures": closures,
        "sms": executor.sms,
    }


def test_every_rule_holds_over_the_week(week: dict) -> None:
    placed = check_rules(week["path"], "week", week["policy"], week["dnc"], week["promised"])
    assert len(placed) == len(week["line"].dials) + 0  # one dial per placed attempt
    assert week["progress"].placed > 5000


def test_each_attempt_dialled_once(week: dict) -> None:
    dials = Counter(week["line"].dials)
    assert max(dials.values()) == 1


def test_never_answering_borrowers_get_exactly_six_calls_a_day(week: dict) -> None:
    placed = check_rules(week["path"], "week", week["policy"])
    days: dict[tuple[str, date], int] = defaultdict(int)
    for row in placed:
        at = datetime.fromisoformat(row["at"])
        days[(row["account_id"], rules.local_day(at, row["timezone"]))] += 1
    phones = Counter(a.phone for a in week["accounts"])
    silent = [
        a
        for a in week["accounts"]
        if behaviour(a.account_id) == 0
        and a.timezone == "Asia/Shanghai"
        and phones[a.phone] == 1
        and a.phone not in week["dnc"]
        and a.account_id not in week["promised"]
    ]
    assert silent
    for account in silent:
        counts = [days[(account.account_id, START.date() + timedelta(days=d))] for d in range(7)]
        assert counts == [6] * 7, (account.account_id, counts)


def test_final_outcomes_close_accounts(week: dict) -> None:
    closures = week["closures"]
    by_kind = defaultdict(set)
    for account in week["accounts"]:
        if account.phone in week["dnc"]:
            assert closures[account.account_id] == "do_not_call"
            continue
        by_kind[behaviour(account.account_id)].add(closures[account.account_id])
    assert by_kind[5] == {"wrong_number"}
    assert by_kind[6] == {"do_not_call"}
    assert by_kind[3] == {"promised"}
    assert by_kind[8] == {"promised"}
    assert by_kind[0] == {None}  # still being tried when the week ends


def test_caps_hold_per_number_across_accounts(week: dict) -> None:
    # two never-answering loans on one number share its six attempts a day
    placed = check_rules(week["path"], "week", week["policy"])
    shared = Counter(a.phone for a in week["accounts"])
    per_day = Counter(
        (r["phone"], rules.local_day(datetime.fromisoformat(r["at"]), r["timezone"]))
        for r in placed
        if shared[r["phone"]] == 2
    )
    assert per_day and max(per_day.values()) == 6


def test_connected_cap_per_number(week: dict) -> None:
    # third parties answer every time: three connected calls a day at most, one per day
    # here because a callback after a conversation waits for the next day
    placed = check_rules(week["path"], "week", week["policy"])
    third = [r for r in placed if r["outcome"] == "third_party"]
    assert third
    assert all(r["connected"] for r in third)


def test_promise_pending_accounts_wait_until_the_day_after(week: dict) -> None:
    placed = check_rules(week["path"], "week", week["policy"])
    first = {}
    for row in placed:
        first.setdefault(row["account_id"], datetime.fromisoformat(row["at"]))
    for account_id in week["promised"]:
        if account_id in first:
            tz = next(a.timezone for a in week["accounts"] if a.account_id == account_id)
            assert rules.local_day(first[account_id], tz) == date(2026, 11, 26)


def test_sms_after_first_unanswered_call_and_promises(week: dict) -> None:
    sent = week["sms"].sent
    assert sent
    assert all("****" in phone for phone, _ in sent)
    assert any("约定的还款日期" in text for _, text in sent)
