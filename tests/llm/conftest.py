"""LLM-mode fixtures: the real openai SDK over HTTP against a loopback fake endpoint."""

from collections.abc import AsyncIterator

import pytest
from fakes.openai_server import FakeOpenAIServer

from voicebot.config import Settings, load_settings
from voicebot.conversation.script import Script, load_script
from voicebot.llm.driver import LLMMode


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeOpenAIServer]:
    server = FakeOpenAIServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def llm_settings(fake_llm: FakeOpenAIServer) -> Settings:
    return load_settings(
        environ={
            "VOICEBOT_LLM__BASE_URL": fake_llm.base_url,
            "VOICEBOT_LLM__MODEL": "fake-model",
            "VOICEBOT_LLM__BUDGET_S": "1.2",
            "VOICEBOT_LLM_API_KEY": "sk-test",
            # What the LLM does when consulted; the embedding reader, which decides before
            # it, is measured on its own (scripts/bench_understanding.py) and on live calls.
            "VOICEBOT_UNDERSTANDING__READER": "rules",
        }
    )


@pytest.fixture
def script(llm_settings: Settings) -> Script:
    return load_script(llm_settings.prompts_dir)


@pytest.fixture
async def mode(llm_settings: Settings, script: Script) -> AsyncIterator[LLMMode]:
    llm_mode = LLMMode.from_settings(llm_settings, script)
    yield llm_mode
    await llm_mode.aclose()
