"""A loopback fake of an OpenAI-compatible `/v1/chat/completions` endpoint.

Speaks the wire format the openai SDK reads: a JSON `chat.completion` (with `tool_calls`
when the request carries `tools`), or, for `"stream": true`, server-sent events of
`chat.completion.chunk` objects ending in `data: [DONE]`, with a usage chunk when
`stream_options.include_usage` is set. Behaviour is scripted per test:

- `tool_arguments`: the arguments of the forced tool call (a dict, or a function of the
  request body returning one);
- `reply_text`: the streamed answer; `notes_text`: the non-streamed answer;
- `delay_s`: time before the response starts (a hosted model's first-token time);
  `chunk_delay_s`: time between streamed chunks;
- `error_status`: answer every request with this HTTP status instead;
- `hold_after_first_sentence`: an event the stream waits for once a chunk has ended a
  sentence, so a test can see the first sentence arrive before the rest is sent.

Every request body is kept in `requests`, so tests can see what the client sent.
"""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Body = dict[str, Any]
Scripted = Callable[[Body], Any]


@dataclass
class FakeOpenAIServer:
    tool_arguments: dict[str, Any] | Scripted = field(default_factory=dict)
    reply_text: str | Scripted = "好的。"
    notes_text: str | Scripted = "备注。"
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    chunk_chars: int = 4
    error_status: int | None = None
    hold_after_first_sentence: asyncio.Event | None = None
    requests: list[Body] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        # A client that gave up (its budget ran out) cancels the handler's wait.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def purposes(self) -> list[str]:
        """What each request was for: understanding (tools), reply (stream), notes."""
        return [
            "understanding" if b.get("tools") else "reply" if b.get("stream") else "notes"
            for b in self.requests
        ]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error_status is not None:
            error = {"message": "scripted failure", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=self.error_status)
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            arguments = _resolve(self.tool_arguments, body)
            return web.json_response(_tool_completion(body, name, arguments))
        if body.get("stream"):
            return await self._stream(request, body, _resolve(self.reply_text, body))
        return web.json_response(_text_completion(body, _resolve(self.notes_text, body)))

    async def _stream(self, request: web.Request, body: Body, text: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        size = max(self.chunk_chars, 1)
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        for number, piece in enumerate(pieces):
            if number and self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
            delta = {"content": piece} | ({"role": "assistant"} if number == 0 else {})
            await _event(response, _chunk(body, [{"index": 0, "delta": delta}]))
            if self.hold_after_first_sentence and any(c in piece for c in "。！？"):
                await self.hold_after_first_sentence.wait()
                self.hold_after_first_sentence = None
        finish = [{"index": 0, "delta": {}, "finish_reason": "stop"}]
        await _event(response, _chunk(body, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            await _event(response, _chunk(body, [], usage=_usage(body, text)))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _resolve(scripted: Any, body: Body) -> Any:
    return scripted(body) if callable(scripted) else scripted


def _usage(body: Body, completion: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
    usage = {"prompt_tokens": prompt, "completion_tokens": len(completion)}
    return usage | {"total_tokens": prompt + len(completion)}


def _envelope(body: Body, kind: str) -> Body:
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": body.get("model", "fake"),
    }


def _tool_completion(body: Body, name: str, arguments: dict[str, Any]) -> Body:
    encoded = json.dumps(arguments, ensure_ascii=False)
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": encoded}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    return _envelope(body, "chat.completion") | {
        "choices": [choice],
        "usage": _usage(body, encoded),
    }


def _text_completion(body: Body, text: str) -> Body:
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return _envelope(body, "chat.completion") | {"choices": [choice], "usage": _usage(body, text)}


def _chunk(body: Body, choices: list[Body], usage: Body | None = None) -> Body:
    return _envelope(body, "chat.completion.chunk") | {"choices": choices, "usage": usage}


async def _event(response: web.StreamResponse, payload: Body) -> None:
    await response.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
