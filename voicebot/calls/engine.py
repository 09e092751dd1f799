"""The conversation of one call: the pure engine, with the LLM's help in LLM mode.

Every line drives the same `CallEngine`: the rules (and the embedding reader) read each
utterance; when `settings.llm` names an endpoint, an `LLMDriver` asks the LLM where the
rules are stuck and writes the notes at the end of the call.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from voicebot.config import Settings
from voicebot.conversation.engine import AccountDirectory, Conversation
from voicebot.conversation.script import Script
from voicebot.conversation.state import CallState, Reply
from voicebot.understanding.embedding import reader_for

if TYPE_CHECKING:
    from voicebot.llm.driver import LLMDriver, LLMMode

logger = logging.getLogger(__name__)


class CallEngine:
    """`Conversation` with an asynchronous `hear`: the LLM's help where the rules are stuck."""

    def __init__(self, conversation: Conversation, llm: "LLMDriver | None" = None) -> None:
        self.conversation = conversation
        self.llm = llm
        self.last_wait_s = 0.0  # LLM time in the latest turn, for a modelled clock

    @property
    def state(self) -> CallState:
        return self.conversation.state

    def start(self) -> Reply:
        return self.conversation.start()

    async def hear(self, text: str | None) -> Reply:
        """What the bot says to `text` (None: a silent turn)."""
        if self.llm is None:
            return self.conversation.hear(text)
        reply = await self.llm.hear(text)
        self.last_wait_s = self.llm.last_wait_s
        return reply

    async def hear_keys(self, keys: str) -> Reply:
        """What the bot says to keys pressed on the keypad: never needs the LLM's help."""
        self.last_wait_s = 0.0
        return self.conversation.hear_keys(keys)

    async def hear_unclear(self) -> Reply:
        """What the bot says to speech the recogniser doubts: the question again."""
        self.last_wait_s = 0.0
        return self.conversation.hear_unclear()

    def hang_up(self) -> None:
        self.conversation.hang_up()

    async def finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary, with the LLM's notes and figures in LLM mode."""
        return summary if self.llm is None else await self.llm.finish(summary)


def open_engine(
    state: CallState,
    settings: Settings,
    script: Script,
    directory: AccountDirectory,
    caller: str | None,
    mode: "LLMMode | None",
) -> CallEngine:
    """The engine of one call; in LLM mode when `mode` is given."""
    conversation = Conversation(state, script, settings, directory, caller, reader_for(settings))
    if mode is None:
        return CallEngine(conversation)
    from voicebot.llm.driver import LLMDriver  # the openai SDK only in LLM mode

    return CallEngine(conversation, LLMDriver(conversation, mode))


@asynccontextmanager
async def llm_mode(
    settings: Settings, script: Script, given: "LLMMode | None" = None
) -> AsyncIterator["LLMMode | None"]:
    """`given`, else a mode of its own when `settings.llm` names an endpoint (closed after),
    else None: the rules alone."""
    if given is not None or not settings.llm.enabled:
        yield given
        return
    from voicebot.llm.driver import LLMMode

    try:
        mode = LLMMode.from_settings(settings, script)
    except Exception:  # the call goes on with the rules alone
        logger.exception("llm: LLM mode not available for this call")
        yield None
        return
    try:
        yield mode
    finally:
        await mode.aclose()
