"""Extra latency per borrower turn in LLM mode, against rules only.

Runs the real openai SDK over loopback HTTP against the fake endpoint of the tests, with
its response delay set to a hosted model's typical first-token time (0.4 s by default),
and times one turn of each kind from the same point of a verified call (the reason
question):

- understood: the rules understand it; LLM mode only adds the `needs_help` trial run;
- slot fill: the rules are stuck, the LLM reads a reason they missed;
- off-script: a question outside the script, answered by the LLM (first sentence and
  whole answer) before the question is asked again;
- slow endpoint: the LLM does not answer within the budget; the rules' rephrase is used.

    .venv/bin/python scripts/bench_llm.py [--delay 0.4] [--repeat 20]
"""

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.openai_server import FakeOpenAIServer  # noqa: E402

from voicebot.accounts import parse_account  # noqa: E402
from voicebot.config import Settings, load_settings  # noqa: E402
from voicebot.conversation.engine import Conversation  # noqa: E402
from voicebot.conversation.script import Script, load_script  # noqa: E402
from voicebot.conversation.state import CallState, Direction  # noqa: E402
from voicebot.llm.driver import LLMDriver, LLMMode  # noqa: E402

NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
ACCOUNT = parse_account(
    {
        "account_id": "A1001",
        "name": "张伟",
        "gender": "M",
        "phone": "13800138000",
        "id_number": "110101199003071234",
        "product": "个人消费贷款",
        "overdue_amount": 3250.60,
        "overdue_days": 15,
        "due_date": "2026-11-10",
    }
)
UNDERSTOOD = "我忘了，下周五还全部"
SLOT_FILL = "孩子上学花钱多"
OFF_SCRIPT = "逾期了会多收钱吗"
ANSWER = "逾期期间的罚息按照您借款合同的约定计算。具体以App账单上显示的为准。"


def _reading(body: dict) -> dict:
    said = body["messages"][-1]["content"]
    if OFF_SCRIPT in said:
        return {"off_script_question": True, "sentiment": "calm"}
    return {"reason": "income_drop", "sentiment": "calm"}


def _at_reason(settings: Settings, script: Script) -> Conversation:
    conversation = Conversation(CallState(Direction.OUTBOUND, ACCOUNT, NOW), script, settings)
    conversation.start()
    conversation.hear("对，我是")
    conversation.hear("1234")
    return conversation


async def _llm_turn(mode: LLMMode, settings: Settings, script: Script, text: str):
    driver = LLMDriver(_at_reason(settings, script), mode)
    start = time.perf_counter()
    first = None
    async for _ in driver.respond(text):
        first = first if first is not None else time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start, driver.metrics.fallbacks


def _rules_turn(settings: Settings, script: Script, text: str) -> float:
    conversation = _at_reason(settings, script)
    start = time.perf_counter()
    conversation.hear(text)
    return time.perf_counter() - start


def _ms(values: list[float], pick: Callable[[list[float]], float]) -> str:
    return f"{pick(values) * 1000:7.1f}"


def _p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.4, help="fake endpoint delay, s")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    fake = FakeOpenAIServer(tool_arguments=_reading, reply_text=ANSWER, delay_s=args.delay)
    await fake.start()
    settings = load_settings(
        environ={"VOICEBOT_LLM__BASE_URL": fake.base_url, "VOICEBOT_LLM__MODEL": "bench"}
    )
    script = load_script(settings.prompts_dir)
    mode = LLMMode.from_settings(settings, script)
    await _llm_turn(mode, settings, script, SLOT_FILL)  # connect once, as a live call would
    print(f"fake endpoint delay {args.delay:.2f} s, budget {settings.llm.budget_s:.2f} s, "
          f"{args.repeat} turns each; times in ms (median / p90)")  # fmt: skip
    print(f"{'turn':<34}{'rules only':>18}{'LLM first line':>20}{'LLM whole turn':>20}"
          f"{'extra (median)':>16}")  # fmt: skip
    cases = [("understood by the rules", UNDERSTOOD), ("rules stuck, LLM fills reason", SLOT_FILL),
             ("off-script question, LLM answers", OFF_SCRIPT)]  # fmt: skip
    for label, text in cases:
        await _report(label, text, mode, settings, script, args.repeat)
    slow = replace(settings, llm=replace(settings.llm, budget_s=args.delay / 2))
    slow_mode = replace(mode, budget_s=args.delay / 2)
    await _report("endpoint slower than budget", SLOT_FILL, slow_mode, slow, script, args.repeat)
    await mode.aclose()
    await fake.stop()


async def _report(
    label: str, text: str, mode: LLMMode, settings: Settings, script: Script, repeat: int
) -> None:
    rules = [_rules_turn(settings, script, text) for _ in range(repeat)]
    firsts, wholes, fallbacks = [], [], 0
    for _ in range(repeat):
        first, whole, fell_back = await _llm_turn(mode, settings, script, text)
        firsts.append(first)
        wholes.append(whole)
        fallbacks += bool(fell_back)
    extra = statistics.median(wholes) - statistics.median(rules)
    note = f"  ({fallbacks}/{repeat} fell back)" if fallbacks else ""
    print(
        f"{label:<34}{_ms(rules, statistics.median)} /{_ms(rules, _p90)}"
        f"{_ms(firsts, statistics.median)} /{_ms(firsts, _p90)}"
        f"{_ms(wholes, statistics.median)} /{_ms(wholes, _p90)}"
        f"{extra * 1000:13.1f}{note}"
    )


if __name__ == "__main__":
    asyncio.run(main())
