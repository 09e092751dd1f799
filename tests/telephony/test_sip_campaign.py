"""`voicebot campaign run --line sip`: each attempt's outcome from the SIP call."""

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from conftest import needs_baresip

from telephony.sip.campaign import SipCampaignLine, not_connected
from voicebot.accounts import parse_account
from voicebot.campaigns.lines import LineNotConfigured
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import load_settings

NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip


def test_a_refused_call_is_busy_unanswered_or_unreachable_by_its_status() -> None:
    assert not_connected(486) is AttemptOutcome.BUSY
    assert not_connected(603) is AttemptOutcome.BUSY
    assert not_connected(408) is AttemptOutcome.NO_RESPONSE
    assert not_connected(480) is AttemptOutcome.NO_RESPONSE
    assert not_connected(404) is AttemptOutcome.UNREACHABLE


def test_the_sip_line_needs_a_proxy() -> None:
    with pytest.raises(LineNotConfigured, match=r"sip\.proxy"):
        SipCampaignLine(load_settings(environ={}), {"sip": {"proxy": ""}})


@needs_baresip
async def test_an_unanswered_campaign_call_is_no_response(baresip, tmp_path: Path) -> None:
    phone = await baresip("13800138000", answer="manual")
    sections = {"sip": {"proxy": f"127.0.0.1:{phone.port}", "answer_timeout_s": 1.0}}
    line = SipCampaignLine(load_settings(environ={}), sections, clock=lambda: NOW)
    line._models = object()  # the call never connects: no speech models are needed
    result = await asyncio.to_thread(line.dial, parse_account(ACCOUNT), NOW, 0)
    assert (result.outcome, result.summary) == (AttemptOutcome.NO_RESPONSE, None)
    assert (await phone.wait_event("CALL_INCOMING", 5))["type"] == "CALL_INCOMING"
    await phone.wait_event("CALL_CLOSED", 5)  # the CANCEL reached it


def test_campaign_run_line_sip_opens_the_sip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from telephony.carriers import campaign_lines

    monkeypatch.setenv("VOICEBOT_SIP__PROXY", "")
    with pytest.raises(LineNotConfigured, match=r"sip\.proxy"):
        campaign_lines().open("sip", load_settings(environ={}), None)
    monkeypatch.setenv("VOICEBOT_SIP__PROXY", "127.0.0.1:5060")
    line = campaign_lines().open("sip", load_settings(environ={}), None)
    assert isinstance(line, SipCampaignLine)
