"""The summary's `notes`: a short Chinese paragraph for the reviewing agent.

Written from the structured summary only, so it can never disagree with its fields. (The
LLM mode may replace it with a colleague-style note; the fields stay the engine's.)
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from voicebot.config import PROJECT_ROOT

# Group ("outcome", "reason", ...) -> enum value -> its Chinese name.
Labels = dict[str, dict[str, str]]
# The repository's own prompts: sample data, and callers not yet given settings.prompts_dir.
PACKAGED_PROMPTS_DIR = PROJECT_ROOT / "prompts"


@lru_cache(maxsize=4)
def labels(prompts_dir: Path) -> Labels:
    """Chinese names of every enum value of the summary, from `prompts_dir`/labels.yaml."""
    text = (prompts_dir / "labels.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def write_notes(summary: dict[str, Any], names: Labels) -> str:
    """The notes paragraph for `summary`, naming its values with `names` (see labels)."""
    parts = [f"结果：{names['outcome'][summary['outcome']]}。"]
    if summary["intent"]:
        parts.append(f"来电目的：{names['intent'][summary['intent']]}。")
    if summary["disclosed"]:
        disclosed = summary["disclosed"]
        parts.append(f"已告知逾期{disclosed['amount']:.2f}元、{disclosed['overdue_days']}天。")
    if summary["reason"]:
        reason = summary["reason"]
        parts.append(f"未还原因：{names['reason'][reason['category']]}（“{reason['text']}”）。")
    if summary["promise_to_pay"]:
        promise = summary["promise_to_pay"]
        parts.append(f"承诺{promise['date']}还款{promise['amount']:.2f}元。")
    if summary["requests"]:
        asked = "、".join(names["request"][r] for r in summary["requests"])
        periods = summary["installment_periods"]
        parts.append(f"客户诉求：{asked}" + (f"（{periods}期）。" if periods else "。"))
    if summary["sentiment"] != "calm":
        parts.append(f"情绪：{names['sentiment'][summary['sentiment']]}。")
    escalation = summary["escalation"]
    if escalation["required"]:
        why = "、".join(names["escalation"][r] for r in escalation["reasons"])
        urgent = "，高优先级" if escalation["priority"] == "high" else ""
        parts.append(f"需人工跟进：{why}{urgent}。")
    parts.append(f"下一步：{names['next_action'][summary['next_action']]}。")
    return "".join(parts)
