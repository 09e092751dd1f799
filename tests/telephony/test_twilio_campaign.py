"""Campaign calls over Twilio: placed through the REST API, the attempt's outcome read
from the summary the server stores, or from the status of a call nobody answered."""

import asyncio
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from live_env import ACCOUNT, live_settings
from twilio_peer import FakeTwilioApi, stream_parameters, twilio_section

from telephony.carriers import campaign_lines
from telephony.twilio.campaign import TwilioCampaignLine
from telephony.twilio.status import CallStatusLog
from voicebot.accounts import parse_account
from voicebot.campaigns.lines import LineNotConfigured
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import Settings
from voicebot.store import Store
from voicebot.summary import validate_summary
from voicebot.web.sample_calls import sample_summary

NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
NIGHT = datetime.fromisoformat("2026-11-25T22:30:00+08:00")


def sections(api_url: str) -> dict[str, Any]:
    return {
        "telephony": {"public_url": "https://bot.example.com"},
        "twilio": twilio_section(api_url),
    }


async def _dial(settings: Settings, answer: Any) -> tuple[Any, dict[str, str]]:
    """Dial in a worker thread (as the campaign runner does); `answer` plays the server."""
    api = await FakeTwilioApi().start()
    try:
        line = TwilioCampaignLine(settings, sections(api.url))
        dialling = asyncio.create_task(asyncio.to_thread(line.dial, parse_account(ACCOUNT), NOW, 0))
        created = await asyncio.wait_for(api.created.get(), 10)
        answer(created)
        return await asyncio.wait_for(dialling, 30), created
    finally:
        await api.stop()


async def test_a_busy_line_is_reported_from_the_status_callback(tmp_path: Path) -> None:
    settings = live_settings(tmp_path)

    def busy(created: dict[str, str]) -> None:
        log = CallStatusLog(settings.store_path)
        log.record(created["sid"], "", "busy", None)
        log.close()

    result, created = await _dial(settings, busy)
    assert result.outcome is AttemptOutcome.BUSY and result.summary is None
    assert created["To"] == "+8613800138000"


async def test_a_connected_call_reports_the_summary_the_server_stored(tmp_path: Path) -> None:
    settings = live_settings(tmp_path)

    def converse(created: dict[str, str]) -> None:
        _, parameters = stream_parameters(created["Twiml"])
        summary, _ = sample_summary(random.Random(1), 1, NOW.date())
        summary["call_id"] = parameters["call_id"]
        validate_summary(summary)
        store = Store(settings.store_path)
        store.save_call(summary)
        store.close()

    result, created = await _dial(settings, converse)
    assert result.summary is not None
    assert result.outcome is AttemptOutcome(result.summary["outcome"])
    assert json.loads(json.dumps(result.summary))["call_id"] in created["Twiml"]


def test_outside_calling_hours_nothing_is_dialled(tmp_path: Path) -> None:
    settings = live_settings(tmp_path)
    line = TwilioCampaignLine(settings, sections("http://127.0.0.1:9"))  # never reached
    result = line.dial(parse_account(ACCOUNT), NIGHT, 0)
    assert result.outcome is AttemptOutcome.OUTSIDE_CALLING_HOURS
    assert result.summary is not None and result.summary["transcript"] == []


def test_an_unconfigured_twilio_line_is_refused_before_any_call(tmp_path: Path) -> None:
    with pytest.raises(LineNotConfigured, match=r"twilio\.enabled"):
        campaign_lines(sections={}).open("twilio", live_settings(tmp_path), None)


def test_voicebot_call_without_twilio_settings_says_what_is_missing(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voicebot.cli import main

    assert main(["call", "A1001"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("voicebot: twilio.enabled, account_sid, from_number") and "\n" not in err


async def test_voicebot_call_places_the_call_through_the_rest_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voicebot.cli import main

    settings = live_settings(tmp_path)
    api = await FakeTwilioApi().start()
    env = {
        "VOICEBOT_STORE__PATH": str(settings.store_path),
        "VOICEBOT_TELEPHONY__PUBLIC_URL": "https://bot.example.com",
        # the command dials at the wall clock: a window open all day keeps this test from
        # depending on the hour it runs at
        "VOICEBOT_RULES__CALLING_WINDOW_START": "00:00",
        "VOICEBOT_RULES__CALLING_WINDOW_END": "23:59:59.999999",
        **{f"VOICEBOT_TWILIO__{k.upper()}": v for k, v in sections(api.url)["twilio"].items()},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = await asyncio.to_thread(main, ["call", "A1001"])
        created = api.created.get_nowait() if code == 0 else {}
    finally:
        await api.stop()
    out = capsys.readouterr()
    assert code == 0, out.err
    placed = json.loads(out.out)
    assert placed["call_sid"] == created["sid"] and created["To"] == "+8613800138000"
    url, parameters = stream_parameters(created["Twiml"])
    assert url == "wss://bot.example.com/telephony/twilio/stream"
    assert parameters == {
        "direction": "outbound",
        "account_id": "A1001",
        "call_id": placed["call_id"],
    }
