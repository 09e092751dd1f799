"""Printing calls for people: a readable transcript and summary (masked, in Chinese)."""

from pathlib import Path
from typing import Any

from voicebot.masking import mask_text
from voicebot.notes import labels
from voicebot.summary import TimedLine

_SPEAKERS = {"bot": "机器人", "borrower": "客户"}


def print_line(line: TimedLine) -> None:
    print(f"[{line.t:6.1f}s] {_SPEAKERS[line.speaker]}：{mask_text(line.text)}", flush=True)


def print_summary(summary: dict[str, Any], prompts_dir: Path) -> None:
    """The summary's fields, one a line; `prompts_dir` (settings.prompts_dir) names values."""
    names = labels(prompts_dir)
    escalation = summary["escalation"]
    promise = summary["promise_to_pay"]
    rows = [
        ("call", summary["call_id"]),
        ("account", summary["account_id"] or "-"),
        ("direction", summary["direction"]),
        ("outcome", f"{summary['outcome']} ({names['outcome'][summary['outcome']]})"),
        ("verified", "yes" if summary["identity_verified"] else "no"),
        ("disclosed", _disclosed(summary["disclosed"])),
        ("reason", _reason(summary["reason"])),
        ("promise", f"{promise['amount']:.2f} on {promise['date']}" if promise else "-"),
        ("requests", ", ".join(summary["requests"]) or "-"),
        ("intent", summary["intent"] or "-"),
        ("sentiment", summary["sentiment"]),
        (
            "escalation",
            f"{escalation['priority']}: {', '.join(escalation['reasons'])}"
            if escalation["required"]
            else "no",
        ),
        ("next action", summary["next_action"]),
        ("notes", mask_text(summary["notes"])),
    ]
    print("--- summary ---")
    for label, value in rows:
        print(f"{label:>11}: {value}")


def _disclosed(disclosed: dict[str, Any] | None) -> str:
    return f"{disclosed['amount']:.2f} yuan, {disclosed['overdue_days']} days" if disclosed else "-"


def _reason(reason: dict[str, Any] | None) -> str:
    return f"{reason['category']}: {mask_text(reason['text'])}" if reason else "-"
