"""A scripted fake line and campaign fixtures: accounts whose answers depend on who they
are and how many times they have been called, so a week runs in seconds."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from voicebot.accounts import Account
from voicebot.campaigns.lines import DialResult
from voicebot.campaigns.scheduler import AttemptOutcome, Target
from voicebot.config import Settings, load_settings

ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi", "America/New_York", "Europe/London")
CALL_S = 40


def settings_for(store_path: Path, **campaigns: str) -> Settings:
    environ = {"VOICEBOT_STORE__PATH": str(store_path), "VOICEBOT_CAMPAIGNS__SMS_PROVIDER": "log"}
    environ.update({f"VOICEBOT_CAMPAIGNS__{k.upper()}": v for k, v in campaigns.items()})
    return load_settings(environ=environ)


def make_accounts(count: int, shared_every: int = 50) -> list[Account]:
    """`count` accounts over several time zones; every `shared_every`-th pair shares a phone
    (two loans of one borrower) so the caps are tested per number, not per account."""
    accounts = []
    for index in range(count):
        phone_index = (
            index - count // 2 if index >= count // 2 and index % shared_every == 0 else index
        )
        accounts.append(
            Account(
                account_id=f"A{index:05d}",
                name="张伟" if index % 2 else "李娜",
                gender="M" if index % 2 else "F",
                phone=f"139{phone_index:08d}",
                id_number=f"11010119900307{index % 10000:04d}",
                product="个人消费贷款",
                overdue_amount=Decimal(100 + (index * 37) % 9000),
                overdue_days=1 + (index * 13) % 90,
                due_date=date(2026, 11, 1),
                timezone=ZONES[index % len(ZONES)],
            )
        )
    return accounts


def target(account: Account) -> Target:
    return Target(
        account.account_id,
        account.phone,
        account.timezone,
        account.overdue_days,
        account.overdue_amount,
    )


def behaviour(account_id: str) -> int:
    return int(account_id[1:]) % 10


class ScriptedLine:
    """Outcomes by account kind (index % 10) and attempt number; records every dial."""

    virtual_time = True

    def __init__(self) -> None:
        self.dials: list[tuple[str, datetime]] = []

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult:
        self.dials.append((account.account_id, at))
        kind = behaviour(account.account_id)
        if kind == 0:
            return _result(account, at, "no_response")
        if kind == 1:
            return (
                DialResult(AttemptOutcome.BUSY, None)
                if attempt_no < 3
                else _result(account, at, "no_response")
            )
        if kind == 2:
            return _result(account, at, "voicemail")
        if kind == 3:
            if attempt_no < 2:
                return _result(account, at, "unreachable")
            return _result(account, at, "right_party_contact", promise=True)
        if kind == 4:
            return _result(account, at, "third_party")
        if kind == 5:
            return _result(account, at, "wrong_number", next_action="update_contact")
        if kind == 6:
            if attempt_no < 2:
                return _result(account, at, "no_response")
            return _result(account, at, "right_party_contact", next_action="do_not_call", stop=True)
        if kind == 7:
            return _result(account, at, "right_party_contact")
        if kind == 8:
            if attempt_no < 1:
                return _result(account, at, "no_response")
            return _result(account, at, "right_party_contact", promise=True)
        return _result(account, at, "verification_failed")


def _result(
    account: Account,
    at: datetime,
    outcome: str,
    next_action: str = "callback",
    promise: bool = False,
    stop: bool = False,
) -> DialResult:
    return DialResult(
        AttemptOutcome(outcome),
        fake_summary(account, at, outcome, next_action, promise, stop),
    )


def fake_summary(
    account: Account,
    at: datetime,
    outcome: str,
    next_action: str = "callback",
    promise: bool = False,
    stop: bool = False,
) -> dict[str, Any]:
    """A contract-shaped summary with just what the campaign and the store read."""
    promised = {"amount": float(account.overdue_amount), "date": (at + timedelta(days=3)).date()}
    return {
        "schema_version": 1,
        "call_id": uuid.uuid4().hex,
        "account_id": account.account_id,
        "direction": "outbound",
        "started_at": at.isoformat(),
        "ended_at": (at + timedelta(seconds=CALL_S)).isoformat(),
        "duration_s": CALL_S,
        "outcome": outcome,
        "identity_verified": outcome == "right_party_contact",
        "disclosed": None,
        "reason": None,
        "promise_to_pay": {**promised, "date": promised["date"].isoformat()} if promise else None,
        "requests": ["stop_calling"] if stop else [],
        "installment_periods": None,
        "intent": None,
        "sentiment": "calm",
        "escalation": {"required": False, "reasons": [], "priority": "normal"},
        "next_action": "await_payment" if promise else next_action,
        "notes": "",
        "transcript": [],
        "compliance": {},
        "recording": None,
        "metrics": {},
    }
