"""Short answers to questions outside the script, grounded in the account and the FAQ.

`off_script_sentences` streams the answer and yields each sentence as soon as it is
complete and has passed the guard, so the voice pipeline can start speaking before the
model has finished. A sentence that fails the guard stops the answer (`ReplyBlocked`).
"""

import json
import re
from collections.abc import AsyncGenerator

from voicebot.accounts import Account
from voicebot.llm.client import LLMClient, LLMMetrics
from voicebot.llm.guard import ReplyGuard
from voicebot.llm.prompts import LLMPrompts
from voicebot.understanding.dates import speak_date
from voicebot.understanding.numbers import speak_amount, speak_number

MAX_SENTENCES = 3
MAX_CHARS = 150
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_NOT_SPOKEN = re.compile(r"[*#`>|_~\[\]]")  # markdown a phone voice must not read out


class ReplyBlocked(Exception):
    """A sentence of the answer failed the guard; `problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def account_facts(account: Account | None, verified: bool) -> dict[str, str]:
    """What an answer may say about the borrower's account: nothing before verification."""
    if account is None or not verified:
        return {}
    return {
        "产品": account.product,
        "逾期金额": speak_amount(account.overdue_amount),
        "逾期天数": f"{speak_number(account.overdue_days)}天",
        "原定还款日": speak_date(account.due_date),
    }


def off_script_messages(
    prompts: LLMPrompts, question: str, facts: dict[str, str]
) -> list[dict[str, str]]:
    """The request for one answer: instructions, grounding, then the borrower's words."""
    grounding = {
        "账户信息": facts or "（身份尚未核实，不能提及任何账户或欠款信息）",
        "常见问题": [{"问": e.question, "答": e.answer} for e in prompts.faq],
    }
    return [
        {"role": "system", "content": prompts.off_script},
        {"role": "system", "content": json.dumps(grounding, ensure_ascii=False)},
        {"role": "user", "content": question},
    ]


async def off_script_sentences(
    client: LLMClient,
    metrics: LLMMetrics,
    messages: list[dict[str, str]],
    guard: ReplyGuard,
) -> AsyncGenerator[str, None]:
    """Vetted sentences of the answer, each yielded as soon as it is complete.

    Raises ReplyBlocked at the first sentence that must not be spoken, LLMError when the
    endpoint fails. Stops quietly after MAX_SENTENCES or MAX_CHARS: answers stay short.
    """
    pending, spoken_chars, sentences = "", 0, 0
    stream = client.stream_text(metrics, "reply", messages)
    try:
        async for piece in stream:
            pending += _NOT_SPOKEN.sub("", piece)
            while (end := _SENTENCE_END.search(pending)) is not None:
                sentence, pending = pending[: end.end()].strip(), pending[end.end() :]
                if not sentence.strip("。！？!?；;"):
                    continue
                yield _vetted(sentence, guard)
                sentences, spoken_chars = sentences + 1, spoken_chars + len(sentence)
                if sentences >= MAX_SENTENCES or spoken_chars >= MAX_CHARS:
                    return
        if pending.strip():
            yield _vetted(pending.strip(), guard)
    finally:
        await stream.aclose()


def _vetted(sentence: str, guard: ReplyGuard) -> str:
    problems = guard.problems(sentence)
    if problems:
        raise ReplyBlocked(problems)
    return sentence
