"""One call in LLM mode: the pure engine stays in charge, the LLM helps within a budget.

Per borrower turn: the rules read the utterance; only when the engine says that reading
makes no progress (`Conversation.needs_help`) is the LLM asked, first to read it again,
then, for a question outside the script, to answer it. Everything the LLM returns is
validated; whatever is late, failing or blocked is replaced by the rules' answer (a
rephrase of the current question), and the metrics say so.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2

from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.script import Script
from voicebot.conversation.state import Direction, Reply
from voicebot.llm.client import LLMClient, LLMError, LLMMetrics
from voicebot.llm.guard import ReplyGuard
from voicebot.llm.notes import with_llm_notes
from voicebot.llm.prompts import LLMPrompts, load_llm_prompts
from voicebot.llm.replies import (
    ReplyBlocked,
    account_facts,
    off_script_messages,
    off_script_sentences,
)
from voicebot.llm.understanding import LLMReading, TurnContext, merge, read_with_llm
from voicebot.understanding.meaning import Meaning


@dataclass(frozen=True)
class LLMMode:
    """What LLM mode needs for any number of calls: the endpoint, its texts, the budget."""

    client: LLMClient
    prompts: LLMPrompts
    budget_s: float
    notes_timeout_s: float

    @classmethod
    def from_settings(
        cls, settings: Settings, script: Script, http_client: httpx2.AsyncClient | None = None
    ) -> "LLMMode":
        """Build from `settings.llm` (which must name an endpoint)."""
        return cls(
            client=LLMClient(settings.llm, http_client),
            prompts=load_llm_prompts(settings.prompts_dir, settings.lender, script),
            budget_s=settings.llm.budget_s,
            notes_timeout_s=settings.llm.notes_timeout_s,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


class LLMDriver:
    """Drives a `Conversation` turn by turn, asking the LLM only where the rules are stuck."""

    def __init__(self, conversation: Conversation, mode: LLMMode) -> None:
        self.conversation = conversation
        self.mode = mode
        self.metrics = LLMMetrics(model=mode.client.model)
        self.turn = 0
        self.last_wait_s = 0.0  # LLM time in the latest turn, for the caller's clock

    async def hear(self, text: str | None) -> Reply:
        """Like `Conversation.hear`, with the LLM's help when the rules are stuck."""
        said = [line async for line in self.respond(text)]
        return Reply(tuple(said), self.conversation.state.ended)

    async def respond(self, text: str | None) -> AsyncIterator[str]:
        """The bot's lines for this turn, each yielded as soon as it may be spoken."""
        self.last_wait_s = 0.0
        conversation = self.conversation
        if not text or not text.strip() or conversation.state.ended:
            for line in conversation.hear(text).say:
                yield line
            return
        self.turn += 1
        rules = conversation.read(text)  # the rules, then the embedding reader
        if not conversation.needs_help(rules):
            for line in conversation.hear(text, rules).say:
                yield line
            return
        self.metrics.turns_consulted += 1
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + self.mode.budget_s
        try:
            reading = await self._read(text, deadline)
            meaning = rules if reading is None else merge(rules, reading)
            if reading and reading.off_script_question and conversation.needs_help(meaning):
                async for line in self._answer_off_script(text, meaning, deadline):
                    yield line
                return
            for line in conversation.hear(text, meaning).say:
                yield line
        finally:
            self.last_wait_s = time.perf_counter() - started
            self.metrics.wait_s.append(self.last_wait_s)

    async def _read(self, text: str, deadline: float) -> LLMReading | None:
        state = self.conversation.state
        bot_lines = [line.text for line in state.lines if line.speaker == "bot"]
        context = TurnContext(
            bot_question=bot_lines[-1] if bot_lines else "",
            today=state.now.date(),
            inbound=state.direction is Direction.INBOUND,
        )
        instructions = self.mode.prompts.understanding
        try:
            async with asyncio.timeout_at(deadline):
                reading = await read_with_llm(
                    self.mode.client, self.metrics, instructions, text, context
                )
        except TimeoutError:
            self.metrics.fallback(self.turn, "understanding", "timeout")
            return None
        except LLMError as error:
            self.metrics.fallback(self.turn, "understanding", error.kind)
            return None
        self.metrics.slots_rejected.extend(reading.rejected)
        return reading

    async def _answer_off_script(
        self, text: str, meaning: Meaning, deadline: float
    ) -> AsyncIterator[str]:
        state = self.conversation.state
        verified = state.identity_verified
        guard = ReplyGuard(
            self.conversation.script,
            state.account,
            verified,
            [*self.mode.prompts.grounding_texts(), self.conversation.settings.lender.hotline],
        )
        messages = off_script_messages(
            self.mode.prompts, text, account_facts(state.account, verified)
        )
        sentences = off_script_sentences(self.mode.client, self.metrics, messages, guard)
        spoken: list[str] = []
        try:
            # The first sentence must come within the turn's budget; each later one gets a
            # full budget of its own, since the borrower is already hearing the answer.
            # (Timeouts wrap only the waits: the generator never yields inside one.)
            async with asyncio.timeout_at(deadline):
                first = await anext(sentences)
            spoken.append(first)
            yield first
            while True:
                async with asyncio.timeout(self.mode.budget_s):
                    sentence = await anext(sentences)
                spoken.append(sentence)
                yield sentence
        except StopAsyncIteration:
            pass
        except TimeoutError:
            self.metrics.fallback(self.turn, "reply", "timeout")
        except ReplyBlocked as blocked:
            self.metrics.fallback(self.turn, "reply", f"blocked: {blocked.problems[0]}")
        except LLMError as error:
            self.metrics.fallback(self.turn, "reply", error.kind)
        finally:
            await sentences.aclose()
        if not spoken:  # nothing safe to say: the rules' rephrase of the question
            for line in self.conversation.hear(text, meaning).say:
                yield line
            return
        self.metrics.off_script_answers += 1
        reply = self.conversation.answer_off_script(text, "".join(spoken), meaning)
        for line in reply.say[1:]:  # the answer itself was already yielded
            yield line

    async def finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary with the LLM's notes (or the rules' on failure) and the metrics."""
        try:
            async with asyncio.timeout(self.mode.notes_timeout_s):
                summary = await with_llm_notes(
                    summary, self.mode.client, self.metrics, self.mode.prompts.notes
                )
            self.metrics.notes_source = "llm"
        except TimeoutError:
            self.metrics.fallback(self.turn, "notes", "timeout")
        except LLMError as error:
            self.metrics.fallback(self.turn, "notes", error.kind)
        except ValueError as error:
            self.metrics.fallback(self.turn, "notes", f"rejected: {error}")
        return summary | {"metrics": summary["metrics"] | {"llm": self.metrics.as_dict()}}
