"""Turning stored calls into what an agent reads: Chinese labels, masked data, chart bars.

Everything personal passes through `voicebot.masking` here, once, for pages, CSV and JSON
alike, so no view can forget it.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from voicebot.masking import mask_id, mask_phone, mask_text
from voicebot.notes import Labels

# What an agent can record when following up a call (not part of the call summary).
FOLLOWUP_OUTCOMES = {
    "contacted": "已联系客户",
    "payment_verified": "已核实还款",
    "plan_arranged": "已安排分期/延期",
    "complaint_resolved": "投诉已处理",
    "unreachable": "无法联系",
    "no_action": "无需处理",
}
FOLLOWUP_ACTIONS = {"handled": "标记已处理", "note": "添加备注", "reopened": "重新打开"}
AUDIT_ACTIONS = {
    "reveal_phone": "查看完整电话",
    "export": "导出CSV",
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
}
RANKS = {0: "高优先级升级", 1: "需人工跟进", 2: "今日到期承诺", 3: "承诺已逾期"}


def clock_text(seconds: float) -> str:
    """03:07 for 187 seconds into the call."""
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def local_time(iso: str, zone: str) -> str:
    """An ISO timestamp as 2026-11-25 10:00 in the lender's time zone."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M")


def money(amount: float | None) -> str:
    return "—" if amount is None else f"¥{amount:,.2f}"


def call_row(row: dict[str, Any], names: Labels) -> dict[str, Any]:
    """A queue/search row for pages, CSV and JSON: Chinese labels, nothing unmasked."""
    return {
        "call_id": row["call_id"],
        "started_at": row["started_at"],
        "account_id": row["account_id"],
        "name": row["name"],
        "outcome": row["outcome"],
        "outcome_label": names["outcome"].get(row["outcome"], row["outcome"]),
        "reason": row["reason"],
        "reason_label": names["reason"].get(row["reason"], "") if row["reason"] else "",
        "escalation_required": bool(row["escalation_required"]),
        "escalation_priority": row["escalation_priority"],
        "promise_date": row["promise_date"],
        "promise_amount": row["promise_amount"],
        "campaign": row["campaign"],
        "status": "handled" if row["handled"] else "open",
        "followup": "" if row["handled"] else RANKS.get(row["rank"], ""),
    }


def masked_account(row: Any | None) -> dict[str, Any] | None:
    """The account on file with its phone and ID number masked."""
    if row is None:
        return None
    return {
        "account_id": row["account_id"],
        "name": row["name"],
        "honorific": row["name"][:1] + ("先生" if row["gender"] == "M" else "女士"),
        "phone": mask_phone(row["phone"]),
        "id_number": mask_id("*" * 14 + row["id_last4"]),
        "product": row["product"],
        "overdue_amount": float(row["overdue_amount"]),
        "overdue_days": row["overdue_days"],
        "due_date": row["due_date"],
    }


def masked_summary(summary_json: str) -> dict[str, Any]:
    """The call summary with every free-text field masked again (defence in depth), and
    the recording's URL in place of its file path (no answer names a file)."""
    summary: dict[str, Any] = json.loads(summary_json)
    if summary.get("recording"):
        summary["recording"] = f"/calls/{quote(str(summary['call_id']))}/recording"
    for line in summary.get("transcript") or []:
        line["text"] = mask_text(line["text"])
    if summary.get("reason"):
        summary["reason"]["text"] = mask_text(summary["reason"]["text"])
    summary["notes"] = mask_text(summary.get("notes") or "")
    return summary


def bars(
    counts: dict[str, int], names: Mapping[str, str], width: int = 300
) -> list[dict[str, Any]]:
    """Horizontal bar geometry for a server-rendered SVG chart, largest first; `names`
    labels the keys (a key without one is shown as is)."""
    top = max(counts.values(), default=0) or 1
    return [
        {
            "key": key,
            "label": names.get(key, key),
            "count": count,
            "width": max(1, round(width * count / top)) if count else 0,
            "y": index * 28,
        }
        for index, (key, count) in enumerate(counts.items())
    ]
