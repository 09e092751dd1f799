"""The off-script answer streams: its first sentence is out before the model has finished."""

import asyncio
from datetime import datetime

from fakes.openai_server import FakeOpenAIServer
from llm_helpers import ACCOUNT, NOW, by_utterance, reading

from voicebot.accounts import parse_account
from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.script import Script
from voicebot.conversation.state import CallState, Direction
from voicebot.llm.driver import LLMDriver, LLMMode

QUESTION = "你们几点下班"


def _verified_conversation(settings: Settings, script: Script) -> Conversation:
    state = CallState(Direction.OUTBOUND, parse_account(ACCOUNT), datetime.fromisoformat(NOW))
    conversation = Conversation(state, script, settings)
    conversation.start()
    conversation.hear("对，我是")
    conversation.hear("1234")
    return conversation


async def test_the_first_sentence_is_yielded_while_the_rest_is_still_coming(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance({QUESTION: reading(off_script_question=True)})
    fake_llm.reply_text = "人工客服的服务时间是每天上午九点到晚上九点。其他时间您可以在App里留言。"
    fake_llm.hold_after_first_sentence = release = asyncio.Event()
    driver = LLMDriver(_verified_conversation(llm_settings, script), mode)

    lines = driver.respond(QUESTION)
    first = await anext(lines)  # the fake holds the second sentence back until released
    assert first == "人工客服的服务时间是每天上午九点到晚上九点。"
    release.set()
    rest = [line async for line in lines]
    assert rest == ["其他时间您可以在App里留言。", script.lines["ask_reason_rephrase"]]


async def test_without_help_needed_the_llm_is_not_asked(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    driver = LLMDriver(_verified_conversation(llm_settings, script), mode)
    reply = await driver.hear("我忘了，下周五还全部")
    assert reply.say[-1].startswith("跟您确认一下")
    assert fake_llm.requests == []
    assert driver.metrics.turns_consulted == 0
