"""The life of one attempt in SQLite: planned, claimed, done (or unknown, or skipped).

The scheduler's pure rules (scheduler.py) decide; these functions read what they need,
apply them and write the result in one transaction each.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from voicebot.calls.record import store_summary
from voicebot.campaigns import scheduler as rules
from voicebot.campaigns.scheduler import (
    AttemptOutcome,
    CallResult,
    Closure,
    DayCount,
    Decision,
    Policy,
    Target,
)
from voicebot.campaigns.state import Attempt, CampaignState, stamp, unstamp

_NO_CALLS = DayCount()
# An account with an attempt in flight is not due again until that attempt ends.
OPEN_ATTEMPT = (
    "EXISTS (SELECT 1 FROM campaign_attempts o WHERE o.campaign = a.campaign"
    " AND o.account_id = a.account_id AND o.status IN ('planned', 'dialing'))"
)


@dataclass(frozen=True)
class PlanReport:
    planned: int = 0
    deferred: int = 0
    closed: int = 0


def plan_due(state: CampaignState, name: str, now: datetime, policy: Policy) -> PlanReport:
    """Write a `planned` attempt for each account due at `now` that the rules allow, in
    priority order; refused accounts get their next look-in time or are closed."""
    db = state.db
    rows = db.execute(
        "SELECT account_id, phone, timezone, overdue_days, overdue_amount"
        " FROM campaign_accounts a WHERE campaign = ? AND closed IS NULL AND next_at <= ?"
        f" AND NOT {OPEN_ATTEMPT} ORDER BY overdue_days DESC, amount_cents DESC, account_id",
        (name, stamp(now)),
    ).fetchall()
    if not rows:
        return PlanReport()
    targets = [Target(r[0], r[1], r[2], r[3], Decimal(r[4])) for r in rows]
    days = {tz: rules.local_day(now, tz) for tz in {t.timezone for t in targets}}
    counts = day_counts(state, set(days.values()))
    busy = {
        r[0]
        for r in db.execute(
            "SELECT phone FROM campaign_attempts WHERE status IN ('planned', 'dialing')"
        )
    }
    dnc = {r[0] for r in db.execute("SELECT phone FROM do_not_call")}
    promises = promise_dues(state, name)
    planned: list[tuple[Any, ...]] = []
    moved: list[tuple[str | None, str | None, str, str]] = []
    at = stamp(now)
    for target in targets:
        if target.phone in busy:
            continue  # another account on this number is being dialled: next round
        day = days[target.timezone]
        count = counts.get((target.phone, day), _NO_CALLS)
        promise_due = promises.get(target.account_id)
        why = rules.refusal(target, now, count, target.phone in dnc, promise_due, policy)
        if why is not None:
            decision = rules.deferral(target.timezone, now, why, promise_due, policy)
            moved.append((_at(decision), _closed(decision), name, target.account_id))
            continue
        # Counted as an attempt and as connected until it ends: the cap errs safe.
        counts[(target.phone, day)] = DayCount(count.attempts + 1, count.connected + 1)
        busy.add(target.phone)
        planned.append(
            (name, target.account_id, target.phone, target.timezone, day.isoformat(), at)
        )
    with db:
        db.executemany(
            "INSERT INTO campaign_attempts (campaign, account_id, phone, timezone, local_day,"
            " at, status) VALUES (?,?,?,?,?,?,'planned')",
            planned,
        )
        db.executemany(
            "UPDATE campaign_accounts SET next_at = ?, closed = ?"
            " WHERE campaign = ? AND account_id = ?",
            moved,
        )
    closed = sum(1 for m in moved if m[1] is not None)
    return PlanReport(len(planned), len(moved) - closed, closed)


def day_counts(state: CampaignState, days: Iterable[date]) -> dict[tuple[str, date], DayCount]:
    """Each phone number's attempts and connected calls on the given local days, over
    every campaign: the caps are the borrower's, not the campaign's."""
    by_text = {day.isoformat(): day for day in days}
    marks = ",".join("?" * len(by_text))
    rows = state.db.execute(
        "SELECT phone, local_day, SUM(counted), SUM(connected) FROM campaign_attempts"
        f" WHERE local_day IN ({marks}) GROUP BY phone, local_day",
        tuple(by_text),
    )
    return {(r[0], by_text[r[1]]): DayCount(int(r[2]), int(r[3])) for r in rows}


def promise_dues(state: CampaignState, name: str) -> dict[str, date]:
    """The latest promised payment date on file for each account of the campaign."""
    rows = state.db.execute(
        "SELECT c.account_id, MAX(c.promise_date) FROM calls c JOIN campaign_accounts a"
        " ON a.account_id = c.account_id AND a.campaign = ?"
        " WHERE c.promise_date IS NOT NULL GROUP BY c.account_id",
        (name,),
    )
    return {r[0]: date.fromisoformat(r[1]) for r in rows}


def open_attempts(state: CampaignState, name: str, status: str = "planned") -> list[Attempt]:
    """The campaign's attempts in `status`, in the order they were planned (priority)."""
    rows = state.db.execute(
        "SELECT * FROM campaign_attempts WHERE campaign = ? AND status = ? ORDER BY attempt_id",
        (name, status),
    ).fetchall()
    return [_attempt(row) for row in rows]


def count_open(state: CampaignState, attempt_ids: list[int]) -> int:
    """How many of `attempt_ids` are still planned or dialing."""
    total = 0
    for start in range(0, len(attempt_ids), 500):
        chunk = attempt_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        total += state.db.execute(
            f"SELECT COUNT(*) FROM campaign_attempts WHERE attempt_id IN ({marks})"
            " AND status IN ('planned', 'dialing')",
            chunk,
        ).fetchone()[0]
    return int(total)


def claim(state: CampaignState, attempt_id: int, worker: str, wall_now: datetime) -> Attempt | None:
    """Take the attempt for dialing; None when someone else already has (exactly once)."""
    with state.db:
        cursor = state.db.execute(
            "UPDATE campaign_attempts SET status = 'dialing', worker = ?, claimed_at = ?"
            " WHERE attempt_id = ? AND status = 'planned'",
            (worker, stamp(wall_now), attempt_id),
        )
    if cursor.rowcount != 1:
        return None
    row = state.db.execute(
        "SELECT * FROM campaign_attempts WHERE attempt_id = ?", (attempt_id,)
    ).fetchone()
    return _attempt(row)


def previous_attempts(state: CampaignState, attempt: Attempt) -> int:
    """How many earlier attempts this campaign made on the account."""
    row = state.db.execute(
        "SELECT COUNT(*) FROM campaign_attempts WHERE campaign = ? AND account_id = ?"
        " AND attempt_id < ? AND status IN ('done', 'unknown')",
        (attempt.campaign, attempt.account_id, attempt.attempt_id),
    ).fetchone()
    return int(row[0])


def skip(state: CampaignState, attempt: Attempt, decision: Decision) -> None:
    """The rules refused a claimed attempt at dial time: not a call, not counted."""
    with state.db:
        state.db.execute(
            "UPDATE campaign_attempts SET status = 'skipped', counted = 0, connected = 0"
            " WHERE attempt_id = ?",
            (attempt.attempt_id,),
        )
        _move(state, attempt, decision)


def record(
    state: CampaignState,
    attempt: Attempt,
    result: CallResult,
    summary: dict[str, Any] | None,
    policy: Policy,
) -> Decision | None:
    """Close the attempt with its result and store the call summary, in one transaction.

    None when the attempt was already done (a duplicate report changes nothing).
    """
    finished = unstamp(summary["ended_at"]) if summary else attempt.at
    db = state.db
    # sqlite3 opens the transaction at this first write; Store.save_call's `with` commits
    # it together with the summary and any do-not-call entry.
    cursor = db.execute(
        "UPDATE campaign_attempts SET status = 'done', outcome = ?, counted = ?, connected = ?,"
        " promise = ?, escalation = ?, finished_at = ?, call_id = ?"
        " WHERE attempt_id = ? AND status IN ('dialing', 'unknown')",
        (
            result.outcome.value,
            int(result.outcome not in rules.NOT_COUNTED),
            int(result.outcome in rules.CONNECTED),
            int(result.promise),
            int(result.escalation),
            stamp(finished),
            summary["call_id"] if summary else None,
            attempt.attempt_id,
        ),
    )
    if cursor.rowcount != 1:
        db.rollback()
        return None
    decision = rules.after_attempt(
        result, finished, attempt.timezone, _count_of(state, attempt), policy
    )
    _move(state, attempt, decision)
    if summary is None:
        db.commit()
    elif state.store.get_call(summary["call_id"]) is not None:  # the line stored it
        state.store.tag_campaign(summary["call_id"], attempt.campaign)
    else:
        store_summary(state.store, summary, attempt.phone, "campaign", attempt.campaign)
    return decision


def resolve_lost(state: CampaignState, wall_now: datetime, lease: timedelta, policy: Policy) -> int:
    """Mark `unknown` every attempt left dialing by a dead worker; returns how many."""
    dead = state.dead_workers(wall_now, lease)
    known = {r[0] for r in state.db.execute("SELECT worker_id FROM campaign_workers")}
    rows = state.db.execute("SELECT * FROM campaign_attempts WHERE status = 'dialing'").fetchall()
    lost = [_attempt(r) for r in rows if r["worker"] in dead or r["worker"] not in known]
    for attempt in lost:
        mark_unknown(state, attempt, policy)
    with state.db:
        state.db.executemany(
            "DELETE FROM campaign_workers WHERE worker_id = ?", [(w,) for w in dead]
        )
    return len(lost)


def mark_unknown(state: CampaignState, attempt: Attempt, policy: Policy) -> bool:
    """The attempt's result is lost: count it (attempt and connected) and retry later."""
    with state.db:
        cursor = state.db.execute(
            "UPDATE campaign_attempts SET status = 'unknown', outcome = 'unknown',"
            " counted = 1, connected = 1, finished_at = at"
            " WHERE attempt_id = ? AND status = 'dialing'",
            (attempt.attempt_id,),
        )
        if cursor.rowcount != 1:
            return False
        count = _count_of(state, attempt)
        unknown = CallResult(AttemptOutcome.UNKNOWN)
        _move(
            state,
            attempt,
            rules.after_attempt(unknown, attempt.at, attempt.timezone, count, policy),
        )
    return True


def _count_of(state: CampaignState, attempt: Attempt) -> DayCount:
    """The day's counts of the attempt's phone number, on the attempt's local day."""
    day = rules.local_day(attempt.at, attempt.timezone).isoformat()
    row = state.db.execute(
        "SELECT COUNT(*), SUM(counted), SUM(connected) FROM campaign_attempts"
        " WHERE local_day = ? AND phone = ?",
        (day, attempt.phone),
    ).fetchone()
    return DayCount(int(row[1] or 0), int(row[2] or 0)) if row[0] else _NO_CALLS


def _move(state: CampaignState, attempt: Attempt, decision: Decision) -> None:
    state.db.execute(
        "UPDATE campaign_accounts SET next_at = ?, closed = ?"
        " WHERE campaign = ? AND account_id = ?",
        (_at(decision), _closed(decision), attempt.campaign, attempt.account_id),
    )


@lru_cache(maxsize=4096)  # a round defers many accounts to the same moment
def _at(decision: Decision) -> str | None:
    return stamp(decision.next_at) if decision.next_at is not None else None


def _closed(decision: Decision) -> str | None:
    return decision.closure.value if isinstance(decision.closure, Closure) else None


def _attempt(row: Any) -> Attempt:
    return Attempt(
        attempt_id=row["attempt_id"],
        campaign=row["campaign"],
        account_id=row["account_id"],
        phone=row["phone"],
        timezone=row["timezone"],
        at=unstamp(row["at"]).astimezone(UTC),
        status=row["status"],
    )
