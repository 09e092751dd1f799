"""The scheduler's pure rules, one at a time, with a fixed clock."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from voicebot.campaigns import scheduler as rules
from voicebot.campaigns.scheduler import (
    AttemptOutcome,
    CallResult,
    Closure,
    DayCount,
    Policy,
    Refusal,
    Target,
)
from voicebot.conversation.rules import within_calling_window

POLICY = Policy(
    calling_window_start=time(8),
    calling_window_end=time(21),
    max_attempts_per_day=6,
    max_connected_per_day=3,
    retry_no_response=timedelta(hours=2),
    retry_voicemail=timedelta(hours=4),
)
SH = "Asia/Shanghai"
NY = "America/New_York"
TARGET = Target("A1", "13800138000", SH, 15, Decimal("3250.60"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_window_is_the_borrowers_own() -> None:
    moment = at("2026-11-25T10:00:00+08:00")  # 21:00 the day before in New York
    assert within_calling_window(moment, SH, POLICY)
    assert not within_calling_window(moment, NY, POLICY)
    assert rules.next_window_start(moment, NY, POLICY) == at("2026-11-25T08:00:00-05:00")
    early = at("2026-11-25T07:59:00+08:00")
    assert rules.next_window_start(early, SH, POLICY) == at("2026-11-25T08:00:00+08:00")


def test_refusals_in_order_of_weight() -> None:
    now = at("2026-11-25T10:00:00+08:00")
    ok = DayCount(5, 2)
    assert rules.refusal(TARGET, now, ok, False, None, POLICY) is None
    assert rules.refusal(TARGET, now, ok, True, None, POLICY) is Refusal.DO_NOT_CALL
    promise = date(2026, 11, 25)
    assert rules.refusal(TARGET, now, ok, False, promise, POLICY) is Refusal.PROMISE_PENDING
    past = date(2026, 11, 24)
    assert rules.refusal(TARGET, now, ok, False, past, POLICY) is None
    assert rules.refusal(TARGET, now, DayCount(6, 0), False, None, POLICY) is Refusal.ATTEMPT_CAP
    capped = DayCount(4, 3)
    assert rules.refusal(TARGET, now, capped, False, None, POLICY) is Refusal.CONNECTED_CAP
    night = at("2026-11-25T21:00:00+08:00")
    assert rules.refusal(TARGET, night, ok, False, None, POLICY) is Refusal.OUTSIDE_WINDOW


def test_deferrals() -> None:
    now = at("2026-11-25T10:00:00+08:00")
    assert rules.deferral(SH, now, Refusal.DO_NOT_CALL, None, POLICY).closure is Closure.DO_NOT_CALL
    capped = rules.deferral(SH, now, Refusal.CONNECTED_CAP, None, POLICY)
    assert capped.next_at == at("2026-11-26T08:00:00+08:00")
    promised = rules.deferral(SH, now, Refusal.PROMISE_PENDING, date(2026, 11, 28), POLICY)
    assert promised.next_at == at("2026-11-29T08:00:00+08:00")


FIRST = DayCount(1, 0)


def retry(outcome: AttemptOutcome, finished: str, day: DayCount = FIRST) -> datetime:
    decision = rules.after_attempt(CallResult(outcome), at(finished), SH, day, POLICY)
    assert decision.closure is None and decision.next_at is not None
    return decision.next_at


def test_retries_by_outcome() -> None:
    assert retry(AttemptOutcome.NO_RESPONSE, "2026-11-25T10:00:00+08:00") == at(
        "2026-11-25T12:00:00+08:00"
    )
    assert retry(AttemptOutcome.BUSY, "2026-11-25T10:00:00+08:00") == at(
        "2026-11-25T12:00:00+08:00"
    )
    assert retry(AttemptOutcome.VOICEMAIL, "2026-11-25T10:00:00+08:00") == at(
        "2026-11-25T14:00:00+08:00"
    )
    assert retry(AttemptOutcome.UNREACHABLE, "2026-11-25T10:00:00+08:00") == at(
        "2026-11-26T08:00:00+08:00"
    )
    # +2h past the window's end: the next window
    assert retry(AttemptOutcome.NO_RESPONSE, "2026-11-25T19:30:00+08:00") == at(
        "2026-11-26T08:00:00+08:00"
    )
    # the sixth attempt of the day: tomorrow, whatever the outcome
    assert retry(AttemptOutcome.NO_RESPONSE, "2026-11-25T10:00:00+08:00", DayCount(6, 0)) == at(
        "2026-11-26T08:00:00+08:00"
    )


def test_final_outcomes_never_retry() -> None:
    now = at("2026-11-25T10:00:00+08:00")
    day = DayCount(1, 1)
    cases = {
        CallResult(AttemptOutcome.WRONG_NUMBER, "update_contact"): Closure.WRONG_NUMBER,
        CallResult(AttemptOutcome.RIGHT_PARTY_CONTACT, "await_payment", promise=True): (
            Closure.PROMISED
        ),
        CallResult(AttemptOutcome.RIGHT_PARTY_CONTACT, "do_not_call", stop_calling=True): (
            Closure.DO_NOT_CALL
        ),
        CallResult(AttemptOutcome.RIGHT_PARTY_CONTACT, "human_followup"): Closure.ESCALATED,
    }
    for result, closure in cases.items():
        assert rules.after_attempt(result, now, SH, day, POLICY).closure is closure


def test_priority_days_overdue_then_amount() -> None:
    targets = [
        Target("A", "1", SH, 10, Decimal(5000)),
        Target("B", "2", SH, 30, Decimal(100)),
        Target("C", "3", SH, 10, Decimal(9000)),
    ]
    assert [t.account_id for t in sorted(targets, key=rules.priority_key)] == ["B", "C", "A"]


def test_day_counts() -> None:
    day = rules.count_attempt(DayCount(), AttemptOutcome.THIRD_PARTY)
    day = rules.count_attempt(day, AttemptOutcome.NO_RESPONSE)
    day = rules.count_attempt(day, AttemptOutcome.OUTSIDE_CALLING_HOURS)
    assert day == DayCount(2, 1)
    assert rules.local_day(datetime(2026, 11, 25, 17, tzinfo=UTC), SH) == date(2026, 11, 26)
