"""The business rules that decide what follows a call: window, escalation, next action.

Each rule lives here once; the engine and the summary both ask these functions.
"""

from datetime import datetime, time
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from voicebot.conversation.state import CallState, Direction, EscalationReason, NextAction, Outcome
from voicebot.understanding.meaning import ReasonCategory, Request

_REQUEST_ESCALATIONS = {
    Request.INSTALLMENT: EscalationReason.INSTALLMENT_REQUEST,
    Request.EXTENSION: EscalationReason.EXTENSION_REQUEST,
    Request.FEE_WAIVER: EscalationReason.FEE_WAIVER_REQUEST,
    Request.HUMAN_AGENT: EscalationReason.HUMAN_AGENT_REQUEST,
}
# A person at risk or a formal complaint cannot wait in the normal queue.
HIGH_PRIORITY = frozenset({EscalationReason.VULNERABLE, EscalationReason.COMPLAINT})


class CallingWindow(Protocol):
    """The hours borrowers may be called: the `[rules]` settings or a campaign's policy."""

    @property
    def calling_window_start(self) -> time: ...

    @property
    def calling_window_end(self) -> time: ...


@lru_cache(maxsize=4096)  # a campaign round asks the same (moment, zone) for every account
def within_calling_window(now: datetime, timezone: str, window: CallingWindow) -> bool:
    """Whether `now` falls in the calling window in the borrower's own time zone.

    The one window check: a call asks it before dialling, the campaign scheduler before
    queueing an account.
    """
    local = now.astimezone(ZoneInfo(timezone)).time()
    return window.calling_window_start <= local < window.calling_window_end


def final_outcome(state: CallState) -> Outcome:
    """How the call ended up, from what the engine established."""
    if state.outcome is not None:
        return state.outcome
    if state.hung_up:
        return Outcome.BORROWER_HUNG_UP
    if state.identity_verified:
        return Outcome.RIGHT_PARTY_CONTACT
    if state.id_failures:
        return Outcome.VERIFICATION_FAILED
    return Outcome.NO_RESPONSE


def escalation_reasons(state: CallState) -> list[EscalationReason]:
    reasons = list(state.escalations)
    for request in state.requests:
        reason = _REQUEST_ESCALATIONS.get(request)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons


def next_action(state: CallState, outcome: Outcome) -> NextAction:
    """What should happen next; the most binding action wins."""
    reasons = escalation_reasons(state)
    if Request.STOP_CALLING in state.requests:
        return NextAction.DO_NOT_CALL
    if state.reason is not None and state.reason.category is ReasonCategory.ALREADY_PAID:
        return NextAction.VERIFY_PAYMENT
    if reasons:
        return NextAction.HUMAN_FOLLOWUP
    if state.promise_to_pay is not None:
        return NextAction.AWAIT_PAYMENT
    if outcome is Outcome.WRONG_NUMBER:
        return NextAction.UPDATE_CONTACT
    if outcome is Outcome.RIGHT_PARTY_CONTACT and state.direction is Direction.INBOUND:
        return NextAction.NONE  # the borrower called, asked, and was answered
    return NextAction.CALLBACK
