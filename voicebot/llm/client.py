"""The OpenAI-compatible endpoint, through the openai SDK, and what each call cost.

Any server that speaks `/v1/chat/completions` works (DeepSeek, Qwen/DashScope, vLLM,
Ollama). The SDK's errors are translated here into `LLMError`, so the rest of the LLM mode
knows one exception; retries are off because a retry never fits in a turn's budget.
"""

import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from voicebot.config import LLMSettings

Messages = list[dict[str, Any]]


class LLMError(Exception):
    """The endpoint failed or answered something unusable; `kind` names which."""

    def __init__(self, kind: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retryable = retryable


@dataclass(frozen=True)
class CallRecord:
    """One request to the endpoint."""

    purpose: str  # understanding / reply / notes
    seconds: float
    ok: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class LLMMetrics:
    """What the LLM did in one call, reported in the summary's `metrics.llm`."""

    model: str
    calls: list[CallRecord] = field(default_factory=list)
    fallbacks: list[dict[str, Any]] = field(default_factory=list)
    turns_consulted: int = 0
    wait_s: list[float] = field(default_factory=list)  # per consulted turn, LLM time
    slots_rejected: list[str] = field(default_factory=list)
    off_script_answers: int = 0
    notes_source: str = "rules"

    def fallback(self, turn: int, stage: str, why: str) -> None:
        """Record that the rules' answer (or a safe rephrase) replaced the LLM's."""
        self.fallbacks.append({"turn": turn, "stage": stage, "why": why})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the summary's `metrics`."""
        return {
            "model": self.model,
            "calls": len(self.calls),
            "prompt_tokens": sum(c.prompt_tokens for c in self.calls),
            "completion_tokens": sum(c.completion_tokens for c in self.calls),
            "call_s": [
                {"purpose": c.purpose, "s": round(c.seconds, 3), "ok": c.ok} for c in self.calls
            ],
            "fallbacks": len(self.fallbacks),
            "fallback_events": list(self.fallbacks),
            "turns_consulted": self.turns_consulted,
            "wait_s": [round(s, 3) for s in self.wait_s],
            "slots_rejected": list(self.slots_rejected),
            "off_script_answers": self.off_script_answers,
            "notes_source": self.notes_source,
        }


class LLMClient:
    """Chat completions with tool calls, streaming and usage accounting."""

    def __init__(self, settings: LLMSettings, http_client: httpx2.AsyncClient | None = None):
        self.model = settings.model
        self._sdk = openai.AsyncOpenAI(
            base_url=settings.base_url,
            # Local servers (vLLM, Ollama) take any key; the SDK insists on one.
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=max(settings.budget_s, settings.notes_timeout_s) * 2,
            http_client=http_client,
        )

    @property
    def _create(self) -> Any:
        # Typed loosely: the SDK's overloads cannot follow messages built as plain dicts.
        return self._sdk.chat.completions.create

    async def aclose(self) -> None:
        await self._sdk.close()

    async def call_tool(
        self, metrics: LLMMetrics, purpose: str, messages: Messages, tool: dict[str, Any]
    ) -> dict[str, Any]:
        """Force one call of `tool` (a function definition) and return its arguments."""
        name = tool["function"]["name"]
        start, usage, ok = time.perf_counter(), None, False
        try:
            response = await self._create(
                model=self.model,
                messages=messages,
                tools=[tool],
                tool_choice={"type": "function", "function": {"name": name}},
                temperature=0,
                max_tokens=300,
            )
            usage = response.usage
            arguments = _tool_arguments(response, name)
            ok = True
            return arguments
        except openai.OpenAIError as error:
            raise _translate(error) from error
        finally:
            _record(metrics, purpose, start, ok, usage)

    async def stream_text(
        self, metrics: LLMMetrics, purpose: str, messages: Messages, max_tokens: int = 200
    ) -> AsyncGenerator[str, None]:
        """The reply's text as it arrives, piece by piece."""
        start, usage, ok = time.perf_counter(), None, False
        stream = None
        try:
            stream = await self._create(
                model=self.model,
                messages=messages,
                temperature=0.3,
                max_tokens=max_tokens,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in stream:
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield choice.delta.content
            ok = True
        except openai.OpenAIError as error:
            raise _translate(error) from error
        finally:
            if stream is not None:
                await stream.close()
            _record(metrics, purpose, start, ok, usage)

    async def complete_text(
        self, metrics: LLMMetrics, purpose: str, messages: Messages, max_tokens: int = 400
    ) -> str:
        """The whole reply text at once."""
        start, usage, ok = time.perf_counter(), None, False
        try:
            response = await self._create(
                model=self.model,
                messages=messages,
                temperature=0.3,
                max_tokens=max_tokens,
            )
            usage = response.usage
            if not response.choices or not response.choices[0].message.content:
                raise LLMError("invalid", "empty reply", retryable=False)
            ok = True
            return response.choices[0].message.content
        except openai.OpenAIError as error:
            raise _translate(error) from error
        finally:
            _record(metrics, purpose, start, ok, usage)


def _tool_arguments(response: Any, name: str) -> dict[str, Any]:
    if not response.choices:
        raise LLMError("invalid", "no choices in the response", retryable=False)
    message = response.choices[0].message
    calls = [c for c in (message.tool_calls or []) if getattr(c, "function", None)]
    named = [c for c in calls if c.function.name == name]
    # Servers that ignore tool_choice may answer with the JSON as plain content.
    raw = named[0].function.arguments if named else (message.content or "")
    raw = raw.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError:
        raise LLMError("invalid", f"{name}: arguments are not JSON", retryable=False) from None
    if not isinstance(arguments, dict):
        raise LLMError("invalid", f"{name}: arguments are not an object", retryable=False)
    return arguments


def _record(metrics: LLMMetrics, purpose: str, start: float, ok: bool, usage: Any) -> None:
    metrics.calls.append(
        CallRecord(
            purpose=purpose,
            seconds=time.perf_counter() - start,
            ok=ok,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )
    )


def _translate(error: openai.OpenAIError) -> LLMError:
    if isinstance(error, openai.APITimeoutError):
        return LLMError("timeout", str(error), retryable=True)
    if isinstance(error, openai.APIConnectionError):
        return LLMError("connection", str(error), retryable=True)
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        return LLMError(f"http_{status}", error.message, retryable=status == 429 or status >= 500)
    return LLMError("error", str(error), retryable=False)
