"""Rule checks over a finished campaign's attempts table, shared by the campaign tests."""

import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from voicebot.campaigns import scheduler as rules
from voicebot.campaigns.scheduler import Policy
from voicebot.conversation.rules import within_calling_window

SAME_DAY_RETRY = {"no_response": "no_response", "busy": "no_response", "unknown": "no_response"}
NEXT_DAY_RETRY = {
    "unreachable",
    "third_party",
    "right_party_contact",
    "verification_failed",
    "borrower_hung_up",
}
FINAL = {"wrong_number"}


def attempts(db_path: Path, campaign: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "SELECT * FROM campaign_attempts WHERE campaign = ? ORDER BY attempt_id", (campaign,)
    ).fetchall()
    db.close()
    return rows


def stop_requests(db_path: Path) -> dict[str, datetime]:
    """Phone -> the time of the call in which the borrower asked not to be called."""
    db = sqlite3.connect(db_path)
    rows = db.execute(
        "SELECT d.phone, a.at FROM do_not_call d JOIN campaign_attempts a ON a.call_id = d.call_id"
    ).fetchall()
    db.close()
    return {phone: datetime.fromisoformat(at) for phone, at in rows}


def check_rules(
    db_path: Path,
    campaign: str,
    policy: Policy,
    dnc_before: set[str] = frozenset(),  # type: ignore[assignment]
    promised_until: dict[str, date] | None = None,
) -> list[sqlite3.Row]:
    """Assert every rule over the campaign's attempts; returns the placed attempts."""
    rows = attempts(db_path, campaign)
    assert not [r for r in rows if r["status"] in ("planned", "dialing")], "attempts left open"
    placed = [r for r in rows if r["status"] in ("done", "unknown")]
    per_day: dict[tuple[str, date], list[sqlite3.Row]] = defaultdict(list)
    per_account: dict[str, list[sqlite3.Row]] = defaultdict(list)
    stopped = stop_requests(db_path)
    for row in placed:
        at = datetime.fromisoformat(row["at"])
        assert within_calling_window(at, row["timezone"], policy), (
            f"outside the window: {dict(row)}"
        )
        assert row["phone"] not in dnc_before, f"called a do-not-call number: {dict(row)}"
        assert row["phone"] not in stopped or at <= stopped[row["phone"]], "called after stop"
        due = (promised_until or {}).get(row["account_id"])
        assert due is None or rules.local_day(at, row["timezone"]) > due, "promise not yet due"
        if row["outcome"] != "outside_calling_hours":
            per_day[(row["phone"], rules.local_day(at, row["timezone"]))].append(row)
        per_account[row["account_id"]].append(row)
    for (phone, day), calls in per_day.items():
        assert len(calls) <= policy.max_attempts_per_day, f"{phone} {day}: {len(calls)} attempts"
        connected = sum(1 for c in calls if c["outcome"] in rules.CONNECTED)
        assert connected <= policy.max_connected_per_day, f"{phone} {day}: {connected} connected"
    for account_calls in per_account.values():
        _check_retries(account_calls, policy)
    return placed


def _check_retries(calls: list[sqlite3.Row], policy: Policy) -> None:
    for before, after in pairwise(calls):
        outcome = before["outcome"]
        finished = datetime.fromisoformat(before["finished_at"])
        at = datetime.fromisoformat(after["at"])
        assert outcome not in FINAL and not before["promise"], f"called again after {outcome}"
        if outcome in SAME_DAY_RETRY:
            assert at >= finished + policy.retry_no_response, f"retried too soon after {outcome}"
        elif outcome == "voicemail":
            assert at >= finished + policy.retry_voicemail, "retried too soon after voicemail"
        elif outcome in NEXT_DAY_RETRY:
            tz = before["timezone"]
            assert rules.local_day(at, tz) > rules.local_day(finished, tz), f"same day: {outcome}"
        assert at > finished - timedelta(seconds=1)
