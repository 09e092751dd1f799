"""Who to call when: the campaign rules as pure functions of the account, its day and the clock.

Nothing here reads a clock, a database or the environment: the time, the borrower's counts
for the day, the do-not-call list and any pending promise are passed in. The state store
(state.py) feeds these functions; the week-long tests drive them with a fixed clock.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.config import CampaignSettings, RuleSettings
from voicebot.conversation.rules import within_calling_window


class AttemptOutcome(StrEnum):
    """How one dial ended: the call summary's outcomes, plus what only the line can tell."""

    RIGHT_PARTY_CONTACT = "right_party_contact"
    THIRD_PARTY = "third_party"
    WRONG_NUMBER = "wrong_number"
    VERIFICATION_FAILED = "verification_failed"
    NO_RESPONSE = "no_response"
    VOICEMAIL = "voicemail"
    UNREACHABLE = "unreachable"  # carrier announcement: powered off, out of service
    BORROWER_HUNG_UP = "borrower_hung_up"
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"
    BUSY = "busy"  # the line was engaged; no call summary exists
    UNKNOWN = "unknown"  # the dialer died mid-call: the result is lost (see state.py)


# A person answered. `unknown` counts too: the call may have connected, and the daily cap
# protects the borrower, so the doubt goes their way.
CONNECTED = frozenset(
    {
        AttemptOutcome.RIGHT_PARTY_CONTACT,
        AttemptOutcome.THIRD_PARTY,
        AttemptOutcome.WRONG_NUMBER,
        AttemptOutcome.VERIFICATION_FAILED,
        AttemptOutcome.BORROWER_HUNG_UP,
        AttemptOutcome.UNKNOWN,
    }
)
# No call was placed, so it is not an attempt against the borrower's daily cap.
NOT_COUNTED = frozenset({AttemptOutcome.OUTSIDE_CALLING_HOURS})


class Closure(StrEnum):
    """Why a campaign stops calling an account."""

    PROMISED = "promised"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    ESCALATED = "escalated"  # a human agent follows up
    VERIFY_PAYMENT = "verify_payment"  # says already paid
    COMPLETED = "completed"  # nothing left to do (next_action none)


class Refusal(StrEnum):
    """Why a due account may not be called right now."""

    OUTSIDE_WINDOW = "outside_window"
    ATTEMPT_CAP = "attempt_cap"
    CONNECTED_CAP = "connected_cap"
    DO_NOT_CALL = "do_not_call"
    PROMISE_PENDING = "promise_pending"


@dataclass(frozen=True, slots=True)
class Target:
    """A campaign account as the scheduler sees it."""

    account_id: str
    phone: str
    timezone: str
    overdue_days: int
    overdue_amount: Decimal


@dataclass(frozen=True, slots=True)
class DayCount:
    """A borrower's (phone number's) attempts and connected calls on one local day."""

    attempts: int = 0
    connected: int = 0


@dataclass(frozen=True)
class Policy:
    """The calling rules in force: window, daily caps and retry delays."""

    calling_window_start: time
    calling_window_end: time
    max_attempts_per_day: int
    max_connected_per_day: int
    retry_no_response: timedelta
    retry_voicemail: timedelta

    @classmethod
    def from_settings(cls, rules: RuleSettings, campaigns: CampaignSettings) -> "Policy":
        return cls(
            calling_window_start=rules.calling_window_start,
            calling_window_end=rules.calling_window_end,
            max_attempts_per_day=rules.max_attempts_per_day,
            max_connected_per_day=rules.max_connected_calls_per_day,
            retry_no_response=timedelta(minutes=campaigns.retry_no_response_minutes),
            retry_voicemail=timedelta(minutes=campaigns.retry_voicemail_minutes),
        )


@dataclass(frozen=True, slots=True)
class CallResult:
    """What the scheduler needs to know about a finished attempt."""

    outcome: AttemptOutcome
    next_action: str | None = None
    promise: bool = False
    stop_calling: bool = False
    escalation: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """After an attempt: call again at `next_at`, or stop for `closure`."""

    next_at: datetime | None
    closure: Closure | None = None


_CLOSING_ACTIONS = {
    "do_not_call": Closure.DO_NOT_CALL,
    "await_payment": Closure.PROMISED,
    "human_followup": Closure.ESCALATED,
    "verify_payment": Closure.VERIFY_PAYMENT,
    "update_contact": Closure.WRONG_NUMBER,
    "none": Closure.COMPLETED,
}


def priority_key(target: Target) -> tuple[int, Decimal, str]:
    """Most days overdue first, then the largest amount; account_id keeps it stable."""
    return (-target.overdue_days, -target.overdue_amount, target.account_id)


@lru_cache(maxsize=4096)  # a round asks the same (moment, zone) for every account
def local_day(moment: datetime, timezone: str) -> date:
    """The borrower's calendar day at `moment`: caps are counted per local day."""
    return moment.astimezone(ZoneInfo(timezone)).date()


@lru_cache(maxsize=4096)
def next_window_start(after: datetime, timezone: str, policy: Policy) -> datetime:
    """The earliest moment at or after `after` that is inside the calling window."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    if local.time() < policy.calling_window_start:
        return datetime.combine(local.date(), policy.calling_window_start, zone)
    if local.time() < policy.calling_window_end:
        return after
    return datetime.combine(local.date() + timedelta(days=1), policy.calling_window_start, zone)


@lru_cache(maxsize=4096)
def next_day_window(after: datetime, timezone: str, policy: Policy) -> datetime:
    """The start of the calling window on the borrower's next local day."""
    zone = ZoneInfo(timezone)
    tomorrow = after.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, policy.calling_window_start, zone)


def refusal(
    target: Target,
    now: datetime,
    day: DayCount,
    do_not_call: bool,
    promise_due: date | None,
    policy: Policy,
) -> Refusal | None:
    """Why `target` may not be called at `now`, or None when the call may be placed."""
    if do_not_call:
        return Refusal.DO_NOT_CALL
    if promise_due is not None and promise_due >= local_day(now, target.timezone):
        return Refusal.PROMISE_PENDING
    if not within_calling_window(now, target.timezone, policy):
        return Refusal.OUTSIDE_WINDOW
    if day.attempts >= policy.max_attempts_per_day:
        return Refusal.ATTEMPT_CAP
    if day.connected >= policy.max_connected_per_day:
        return Refusal.CONNECTED_CAP
    return None


@lru_cache(maxsize=4096)
def deferral(
    timezone: str, now: datetime, why: Refusal, promise_due: date | None, policy: Policy
) -> Decision:
    """When to look at a refused account again; the do-not-call list closes it."""
    if why is Refusal.DO_NOT_CALL:
        return Decision(None, Closure.DO_NOT_CALL)
    if why is Refusal.PROMISE_PENDING and promise_due is not None:
        zone = ZoneInfo(timezone)
        after_due = datetime.combine(
            promise_due + timedelta(days=1), policy.calling_window_start, zone
        )
        return Decision(max(after_due, next_window_start(now, timezone, policy)))
    if why is Refusal.OUTSIDE_WINDOW:
        return Decision(next_window_start(now, timezone, policy))
    return Decision(next_day_window(now, timezone, policy))


def after_attempt(
    result: CallResult, finished_at: datetime, timezone: str, day: DayCount, policy: Policy
) -> Decision:
    """Close the account or say when to retry, from the outcome and the day's counts.

    `day` already includes this attempt. Retries: no response and busy (and a lost
    result) later the same day; voicemail later still; unreachable and any conversation
    that asked for a callback on the next local day. A wrong number, a do-not-call
    request, a promise or a human follow-up end the campaign for the account.
    """
    closure = _closure(result)
    if closure is not None:
        return Decision(None, closure)
    outcome = result.outcome
    if outcome in (AttemptOutcome.NO_RESPONSE, AttemptOutcome.BUSY, AttemptOutcome.UNKNOWN):
        retry = finished_at + policy.retry_no_response
    elif outcome is AttemptOutcome.VOICEMAIL:
        retry = finished_at + policy.retry_voicemail
    elif outcome is AttemptOutcome.OUTSIDE_CALLING_HOURS:
        retry = finished_at
    else:  # unreachable, or someone answered and a callback is due
        retry = next_day_window(finished_at, timezone, policy)
    if day.attempts >= policy.max_attempts_per_day or day.connected >= (
        policy.max_connected_per_day
    ):
        retry = max(retry, next_day_window(finished_at, timezone, policy))
    return Decision(next_window_start(retry, timezone, policy))


def _closure(result: CallResult) -> Closure | None:
    if result.stop_calling:
        return Closure.DO_NOT_CALL
    if result.outcome is AttemptOutcome.WRONG_NUMBER:
        return Closure.WRONG_NUMBER
    if result.promise:
        return Closure.PROMISED
    return _CLOSING_ACTIONS.get(result.next_action or "")


def result_from_summary(summary: Mapping[str, Any]) -> CallResult:
    """The scheduler's view of a call summary (voicebot/schema/call_summary.schema.json)."""
    return CallResult(
        outcome=AttemptOutcome(summary["outcome"]),
        next_action=summary["next_action"],
        promise=summary.get("promise_to_pay") is not None,
        stop_calling="stop_calling" in summary.get("requests", ()),
        escalation=bool(summary["escalation"]["required"]),
    )


def count_attempt(day: DayCount, outcome: AttemptOutcome) -> DayCount:
    """The day's counts with one more finished attempt of `outcome`."""
    if outcome in NOT_COUNTED:
        return day
    return DayCount(day.attempts + 1, day.connected + (outcome in CONNECTED))
