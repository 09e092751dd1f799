"""A seeded review database, the app over it, and signed-in clients for the web tests."""

import random
import re
import struct
import wave
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from voicebot.config import Settings, WebSettings, load_settings
from voicebot.review_store import ReviewStore
from voicebot.store import Store
from voicebot.summary import validate_summary
from voicebot.web.app import create_app
from voicebot.web.sample_calls import sample_summary

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
PASSWORD = "correct horse 9"
ESCALATED = "C9000001"  # a distressed borrower, high priority, with a recording
# Personal data that must never be shown unmasked (planted raw, as a faulty upstream might).
RAW_PHONE = "13912345678"
RAW_ID = "110101199003071234"
RAW_CARD = "6222021234567890123"


class Clock:
    """A settable clock, so tests can let sessions expire."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """A 40-second 8 kHz mono WAV (a quiet tone), long enough to seek in."""
    path = tmp_path / "recordings" / f"{ESCALATED}.wav"
    path.parent.mkdir()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        tone = [int(800 * ((i // 9) % 2 * 2 - 1)) for i in range(8000 * 40)]
        out.writeframes(struct.pack(f"<{len(tone)}h", *tone))
    return path


@pytest.fixture
def settings(tmp_path: Path, recording: Path) -> Settings:
    """Settings over a fresh database holding 120 sample calls and two users."""
    base = load_settings(environ={})
    settings = replace(
        base,
        store_path=tmp_path / "review.sqlite3",
        web=WebSettings(session_minutes=30, secret="test-secret"),
    )
    seed(settings.store_path, recording)
    return settings


def seed(path: Path, recording: Path) -> None:
    store = Store(path)
    rng = random.Random(7)
    for i in range(120):
        summary, account = sample_summary(rng, i, TODAY)
        store.upsert_account(account)
        store.save_call(summary, campaign=["M1-2026-11", "M2-2026-11"][i % 2])
    summary, account = sample_summary(rng, 9_000_001, TODAY, reason="illness")
    summary["call_id"] = ESCALATED
    summary["recording"] = str(recording)
    summary["transcript"].append(
        {
            "speaker": "borrower",
            "text": f"我卡号{RAW_CARD}，身份证{RAW_ID}，电话{RAW_PHONE}",
            "t": 30.0,
        }
    )
    summary["reason"]["text"] = f"住院了，打我电话{RAW_PHONE}"
    validate_summary(summary)
    store.upsert_account(replace(account, phone=RAW_PHONE))
    store.save_call(summary, campaign="M9-special")
    store.close()
    review = ReviewStore(path)
    review.add_user("alice", "agent", PASSWORD, NOW)
    review.add_user("boss", "supervisor", PASSWORD, NOW)
    review.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[TestClient]:
    """A client of the app, not signed in."""
    async with TestClient(TestServer(create_app(settings, clock=clock))) as test_client:
        yield test_client


async def sign_in(client: TestClient, username: str = "alice") -> str:
    """Sign in through the form; the CSRF token for this session's forms."""
    page = await (await client.get("/login")).text()
    token = _csrf(page)
    response = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status == 200, await response.text()
    return _csrf(await response.text())


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
async def agent(client: TestClient) -> str:
    """Signs `client` in as an agent; its CSRF token."""
    return await sign_in(client, "alice")
