"""The call summary, built from the engine's state and checked by its JSON schema
(schema/call_summary.schema.json).
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from voicebot.conversation import rules
from voicebot.conversation.state import CallState, Promise
from voicebot.masking import mask_text
from voicebot.notes import labels, write_notes

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TimedLine:
    speaker: str  # "bot" or "borrower"
    text: str
    t: float  # seconds from the start of the call


def build_summary(
    state: CallState,
    *,
    call_id: str,
    started_at: datetime,
    ended_at: datetime,
    transcript: Sequence[TimedLine],
    prompts_dir: Path,
    recording: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The call summary as a JSON-ready dict, validated against the schema.

    `prompts_dir` (settings.prompts_dir) holds labels.yaml, which names values in the notes.
    """
    outcome = rules.final_outcome(state)
    reasons = rules.escalation_reasons(state)
    account = state.account
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "call_id": call_id,
        "account_id": account.account_id if account else None,
        "direction": state.direction.value,
        "started_at": started_at.isoformat(timespec="seconds"),
        "ended_at": ended_at.isoformat(timespec="seconds"),
        "duration_s": round((ended_at - started_at).total_seconds(), 2),
        "outcome": outcome.value,
        "identity_verified": state.identity_verified,
        "disclosed": (
            {"amount": _money(account.overdue_amount), "overdue_days": account.overdue_days}
            if state.disclosed and account
            else None
        ),
        "reason": (
            {"category": state.reason.category.value, "text": mask_text(state.reason.text)}
            if state.reason
            else None
        ),
        "promise_to_pay": _promise(state.promise_to_pay),
        "requests": [r.value for r in state.requests],
        "installment_periods": state.installment_periods,
        "intent": state.intent.value if state.intent else None,
        "sentiment": state.sentiment.value,
        "escalation": {
            "required": bool(reasons),
            "reasons": [r.value for r in reasons],
            "priority": "high" if rules.HIGH_PRIORITY & set(reasons) else "normal",
        },
        "next_action": rules.next_action(state, outcome).value,
        "notes": "",
        "transcript": [
            {"speaker": x.speaker, "text": mask_text(x.text), "t": round(x.t, 2)}
            for x in transcript
        ],
        "compliance": {
            "ai_disclosed": state.ai_disclosed,
            "recording_notice": state.recording_notice,
            "within_calling_hours": state.within_calling_hours,
            "identity_checked_before_disclosure": not state.disclosed or state.identity_verified,
        },
        "recording": recording,
        "metrics": (metrics or {}) | {"readers": dict(Counter(state.readers))},
    }
    summary["notes"] = write_notes(summary, labels(prompts_dir))
    validate_summary(summary)
    return summary


@lru_cache(maxsize=1)
def summary_schema() -> dict[str, Any]:
    text = resources.files("voicebot.schema").joinpath("call_summary.schema.json").read_text()
    return json.loads(text)


def validate_summary(summary: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `summary` breaks the contract."""
    jsonschema.validate(summary, summary_schema(), format_checker=jsonschema.FormatChecker())


def _promise(promise: Promise | None) -> dict[str, Any] | None:
    if promise is None:
        return None
    return {
        "amount": _money(promise.amount),
        "date": promise.date.isoformat(),
        "confirmed": promise.confirmed,
    }


def _money(amount: Decimal) -> float:
    return float(amount)
