"""`voicebot simulate` switches to LLM mode when an endpoint is configured."""

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAIServer

from voicebot.cli import main

EXAMPLE = Path("examples/01_promise_to_pay.yaml")


@pytest.fixture
def fake_in_thread() -> Iterator[FakeOpenAIServer]:
    """The fake on its own event loop: the CLI runs its own with asyncio.run."""
    server = FakeOpenAIServer(notes_text="客户配合，已承诺还款。")
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait()
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def test_simulate_uses_the_configured_endpoint(
    fake_in_thread: FakeOpenAIServer,
    store_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VOICEBOT_LLM__BASE_URL", fake_in_thread.base_url)
    monkeypatch.setenv("VOICEBOT_LLM__MODEL", "fake-model")
    assert main(["simulate", str(EXAMPLE), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["notes"] == "客户配合，已承诺还款。"
    assert summary["metrics"]["llm"]["model"] == "fake-model"
    assert summary["promise_to_pay"] == {"amount": 3250.6, "date": "2026-11-27", "confirmed": True}


def test_without_an_endpoint_simulate_is_rules_only(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(EXAMPLE), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "llm" not in summary["metrics"] and summary["notes"].startswith("结果：")
