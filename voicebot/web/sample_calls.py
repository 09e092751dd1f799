"""Made-up call summaries in the contract's shape, for the review page's tests and benchmark.

Deterministic for a given random generator; the transcripts read like real reminder calls
(masked the way the engine masks them) so that search and layout are exercised honestly.
"""

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from voicebot.accounts import Account
from voicebot.masking import mask_text
from voicebot.notes import PACKAGED_PROMPTS_DIR, labels, write_notes

CHINA = timezone(timedelta(hours=8))
_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明"]
_REASONS = {
    "job_loss": "公司裁员了，我现在没有工作",
    "income_drop": "这两个月生意不好，收入少了很多",
    "illness": "家里人生病住院了，钱都拿去看病了",
    "forgot": "不好意思，我忘记还款日了",
    "already_paid": "我昨天已经还过了啊",
    "dispute": "这个金额不对吧，我觉得多算了利息",
    "refuse": "我不想还，你们爱怎么样就怎么样",
    "other": "最近手头有点紧",
}
_ESCALATION = {
    "job_loss": (["installment_request"], ["installment"]),
    "illness": (["extension_request", "vulnerable"], ["extension"]),
    "already_paid": (["already_paid"], []),
    "dispute": (["dispute"], ["human_agent"]),
    "refuse": (["refuse_to_pay", "hostile"], ["stop_calling"]),
}
_OTHER_OUTCOMES = [
    "third_party",
    "wrong_number",
    "verification_failed",
    "no_response",
    "voicemail",
    "unreachable",
    "borrower_hung_up",
]


def sample_account(rng: random.Random, index: int) -> Account:
    return Account(
        account_id=f"A{index:06d}",
        name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(["", *_GIVEN]),
        gender=rng.choice("MF"),
        phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
        id_number=f"11010119{rng.randint(70, 99)}0307{rng.randint(1000, 9999)}",
        product="个人消费贷款",
        overdue_amount=Decimal(rng.randint(500, 30_000)) + Decimal("0.60"),
        overdue_days=rng.randint(1, 60),
        due_date=date(2026, 11, 10),
    )


def sample_summary(
    rng: random.Random, index: int, today: date, *, reason: str | None = None
) -> tuple[dict[str, Any], Account]:
    """One call summary and the account it was about (one account per 5 calls)."""
    account = sample_account(random.Random(index // 5), index // 5)
    day = today - timedelta(days=rng.randint(0, 89))
    started = datetime.combine(day, time(9), CHINA) + timedelta(minutes=rng.randint(0, 11 * 60))
    reached = reason is not None or rng.random() < 0.6
    outcome = "right_party_contact" if reached else rng.choice(_OTHER_OUTCOMES)
    category = reason or (rng.choice(list(_REASONS)) if reached else None)
    lines = _transcript(account, category, rng)
    reasons, requests = _ESCALATION.get(category or "", ([], []))
    promise = None
    if category in ("forgot", "income_drop", "other", "job_loss") and rng.random() < 0.7:
        promise = {
            "amount": float(account.overdue_amount),
            "date": (today + timedelta(days=rng.randint(-10, 10))).isoformat(),
        }
    summary: dict[str, Any] = {
        "schema_version": 1,
        "call_id": f"C{index:07d}",
        "account_id": account.account_id,
        "direction": "outbound",
        "started_at": started.isoformat(timespec="seconds"),
        "ended_at": (started + timedelta(seconds=lines[-1]["t"] + 3)).isoformat(timespec="seconds"),
        "duration_s": lines[-1]["t"] + 3,
        "outcome": outcome,
        "identity_verified": reached,
        "disclosed": (
            {"amount": float(account.overdue_amount), "overdue_days": account.overdue_days}
            if reached
            else None
        ),
        "reason": {"category": category, "text": _REASONS[category]} if category else None,
        "promise_to_pay": promise,
        "requests": requests,
        "installment_periods": 6 if "installment" in requests else None,
        "intent": None,
        "sentiment": "distressed" if "vulnerable" in reasons else "calm",
        "escalation": {
            "required": bool(reasons),
            "reasons": reasons,
            "priority": "high" if "vulnerable" in reasons else "normal",
        },
        "next_action": "human_followup"
        if reasons
        else ("await_payment" if promise else "callback"),
        "notes": "",
        "transcript": lines,
        "compliance": {
            "ai_disclosed": True,
            "recording_notice": True,
            "within_calling_hours": True,
            "identity_checked_before_disclosure": True,
        },
        "recording": None,
        "metrics": {},
    }
    summary["notes"] = write_notes(summary, labels(PACKAGED_PROMPTS_DIR))
    return summary, account


def _transcript(account: Account, category: str | None, rng: random.Random) -> list[dict[str, Any]]:
    said = [
        (
            "bot",
            f"您好，这里是安信消费金融，我是智能语音助手，本次通话将被录音。"
            f"请问您是{account.honorific}吗？",
        ),
    ]
    if category:
        said += [
            ("borrower", "对，是我"),
            ("bot", "为了确认是您本人，请说一下您身份证号码的最后四位。"),
            ("borrower", account.id_number[-4:]),
            (
                "bot",
                f"谢谢。您的个人消费贷款逾期{account.overdue_amount}元，已经逾期"
                f"{account.overdue_days}天。请问是什么原因没有按时还款呢？",
            ),
            ("borrower", _REASONS[category]),
            ("bot", "明白了。请问您大概什么时候可以还款？"),
            ("borrower", rng.choice(["发工资以后吧", "下周五", "月底之前", "我想申请分期"])),
            ("borrower", f"我换号码了，新号是{account.phone}"),
            ("bot", "好的，已记录。感谢您的接听，再见。"),
        ]
    else:
        said.append(("borrower", rng.choice(["你打错了", "他不在", "<silence>"])))
    t, lines = 0.0, []
    for speaker, text in said:
        lines.append({"speaker": speaker, "text": mask_text(text), "t": round(t, 2)})
        t += 1.0 + len(text) / 4.5
    return lines
