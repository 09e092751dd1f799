"""The summary's `notes` written by the LLM from the structured summary and transcript.

Only `notes` can change: the LLM sees the summary but its answer is placed into one field
of a copy, after a check that every figure in it is one the summary or the transcript
holds. On any failure the rules' notes (voicebot/notes.py) stay.
"""

import copy
import json
from decimal import Decimal
from typing import Any

from voicebot.llm.client import LLMClient, LLMMetrics
from voicebot.llm.guard import figures_in
from voicebot.masking import mask_text
from voicebot.summary import validate_summary

MAX_NOTES_CHARS = 300
# What the LLM is shown: the structured fields, never the ids or timing.
_HIDDEN = ("call_id", "notes", "transcript", "metrics", "recording")


def notes_messages(instructions: str, summary: dict[str, Any]) -> list[dict[str, str]]:
    """The request: instructions, the structured summary, the (masked) transcript."""
    fields = {k: v for k, v in summary.items() if k not in _HIDDEN}
    transcript = "\n".join(
        f"{'机器人' if line['speaker'] == 'bot' else '对方'}：{line['text']}"
        for line in summary["transcript"]
    )
    return [
        {"role": "system", "content": instructions},
        {
            "role": "user",
            "content": f"结构化小结：{json.dumps(fields, ensure_ascii=False)}\n"
            f"通话记录：\n{transcript}",
        },
    ]


def unsupported_figures(notes: str, summary: dict[str, Any]) -> list[str]:
    """Figures in `notes` that appear nowhere in the summary or its transcript."""
    known: set[Decimal] = set()
    for text in [json.dumps(summary, ensure_ascii=False)] + [
        line["text"] for line in summary["transcript"]
    ]:
        known |= {figure.value for figure in figures_in(text)}
    return [f.text for f in figures_in(notes) if f.value not in known]


async def with_llm_notes(
    summary: dict[str, Any],
    client: LLMClient,
    metrics: LLMMetrics,
    instructions: str,
) -> dict[str, Any]:
    """A copy of `summary` whose `notes` the LLM wrote; raises LLMError or ValueError
    (figures it could not support) so the caller keeps the rules' notes."""
    text = await client.complete_text(metrics, "notes", notes_messages(instructions, summary))
    notes = mask_text(" ".join(text.split()))[:MAX_NOTES_CHARS]
    if bad := unsupported_figures(notes, summary):
        raise ValueError(f"notes state figures not in the call: {', '.join(bad)}")
    updated = copy.deepcopy(summary)
    updated["notes"] = notes
    validate_summary(updated)
    return updated
