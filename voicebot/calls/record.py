"""What a call leaves behind: its summary, built and stored here and nowhere else.

`summarise` is the one caller of `build_summary`; `store_summary` the one place a call's
summary is saved; `outside_hours_summary` the calling-window gate's summary of a call that
was never placed.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.rules import within_calling_window
from voicebot.conversation.state import CallState, Direction, Outcome
from voicebot.masking import mask_phone
from voicebot.store import DuplicateCall, Store
from voicebot.summary import TimedLine, build_summary

logger = logging.getLogger(__name__)


def summarise(
    state: CallState,
    call_id: str,
    started_at: datetime,
    duration_s: float,
    transcript: Sequence[TimedLine],
    prompts_dir: Path,
    *,
    recording: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The call summary of the contract: what the conversation's state says happened."""
    return build_summary(
        state,
        call_id=call_id,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=duration_s),
        transcript=sorted(transcript, key=lambda line: line.t),
        recording=recording,
        metrics=metrics,
        prompts_dir=prompts_dir,
    )


def outside_hours_summary(
    settings: Settings, account: Account, now: datetime, call_id: str | None = None
) -> dict[str, Any] | None:
    """The calling-window gate: the `outside_calling_hours` summary of an outbound call to
    `account` at `now`, or None when the account may be called. A refused call never
    started: no transcript, no time on the clock."""
    if within_calling_window(now, account.timezone, settings.rules):
        return None
    state = CallState(direction=Direction.OUTBOUND, account=account, now=now)
    state.within_calling_hours = False
    state.outcome = Outcome.OUTSIDE_CALLING_HOURS
    return summarise(state, call_id or uuid.uuid4().hex, now, 0.0, [], settings.prompts_dir)


def outside_hours(
    settings: Settings, account: Account, now: datetime, line_kind: str
) -> dict[str, Any] | None:
    """The gate before a carrier dials: the stored refusal, or None (dial)."""
    summary = outside_hours_summary(settings, account, now)
    if summary is not None:
        store = Store(settings.store_path)
        try:
            store_summary(store, summary, account.phone, line_kind)
        finally:
            store.close()
    return summary


def store_summary(
    store: Store,
    summary: dict[str, Any],
    phone: str,
    line_kind: str,
    campaign: str | None = None,
) -> None:
    """The one place a call summary is stored: saved in `store` (with its campaign, for a
    campaign's attempt) and logged masked.

    A second summary for a call already stored is refused by the store (and logged
    there); the first one stands.
    """
    try:
        store.save_call(summary, phone=phone, campaign=campaign)
    except DuplicateCall:
        return
    logger.info(
        "%s: call %s with %s stored: %s",
        line_kind,
        summary["call_id"],
        mask_phone(phone) if phone else "(no number)",
        summary["outcome"],
    )


def find_account(settings: Settings, account_id: str) -> Account:
    """The stored account to dial; LookupError names the id."""
    store = Store(settings.store_path)
    try:
        account = store.get_account(account_id)
    finally:
        store.close()
    if account is None:
        raise LookupError(f"no account {account_id!r}")
    return account
