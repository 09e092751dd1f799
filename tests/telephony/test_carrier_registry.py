"""A carrier plugs in through one `Carrier` object: a toy carrier defined here places calls
from `POST /api/calls/outbound`, `voicebot call` and a campaign run, without a line of
the bot changed; the CLI offers exactly the registered lines."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from telephony.carrier import Carrier, StartupHook
from telephony.carriers import CARRIERS
from telephony.keys import DIALERS, SECTIONS
from telephony.server import create_server
from tests.web.conftest import PASSWORD, sign_in
from voicebot.accounts import Account, parse_account
from voicebot.calls import find_account
from voicebot.campaigns.lines import DialResult, LineNotConfigured
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.cli import main
from voicebot.config import Settings, WebSettings, load_settings
from voicebot.review_store import ReviewStore
from voicebot.store import Store
from voicebot.web.keys import SETTINGS

HEADER = "account_id,name,gender,phone,id_number,product,overdue_amount,overdue_days,due_date\n"
ROW = "A1,张伟,M,13800138000,110101199003071234,个人消费贷款,3250.60,15,2026-11-10\n"


@dataclass
class ToyNetwork:
    """The toy carrier's phone network: every number it was asked to ring."""

    rang: list[str] = field(default_factory=list)

    def ring(self, settings: Settings, account_id: str) -> str:
        phone = find_account(settings, account_id).phone
        self.rang.append(phone)
        return phone


class ToyCampaignLine:
    """Rings the borrower; nobody ever answers. Runs on the campaign's clock."""

    virtual_time = True

    def __init__(self, network: ToyNetwork) -> None:
        self.network = network

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult:
        self.network.rang.append(account.phone)
        return DialResult(AttemptOutcome.BUSY, None)


def toy_carrier(network: ToyNetwork) -> Carrier:
    """All a carrier writes to plug in: what it does on `voicebot serve`, on `voicebot
    call`, and as a campaign's line."""

    def serve(app: web.Application) -> StartupHook | None:
        if app[SECTIONS].get("toy", {}).get("enabled") != "true":
            return None
        settings = app[SETTINGS]

        async def dial(account_id: str) -> dict[str, Any]:
            network.ring(settings, account_id)
            return {"line": "toy", "account_id": account_id, "status": "ringing"}

        app[DIALERS]["toy"] = dial
        return None

    def call(settings: Settings, sections: Mapping[str, Any], account_id: str) -> int:
        network.ring(settings, account_id)
        print(f"toy: ringing account {account_id}")
        return 0

    def campaign_line(settings: Settings, sections: Mapping[str, Any]) -> ToyCampaignLine:
        if sections.get("toy", {}).get("enabled") != "true":
            raise LineNotConfigured("the toy line is not configured: set toy.enabled")
        return ToyCampaignLine(network)

    return Carrier(name="toy", section="toy", serve=serve, call=call, campaign_line=campaign_line)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A store holding account A1 and a supervisor, boss."""
    base = load_settings(environ={})
    settings = replace(
        base, store_path=tmp_path / "calls.sqlite3", web=WebSettings(secret="test-secret")
    )
    store = Store(settings.store_path)
    row = zip(HEADER.strip().split(","), ROW.strip().split(","), strict=True)
    store.upsert_account(parse_account(dict(row)))
    store.close()
    review = ReviewStore(settings.store_path)
    review.add_user("boss", "supervisor", PASSWORD, datetime.now().astimezone())
    review.close()
    return settings


async def test_the_outbound_api_dials_through_a_registered_carrier(settings: Settings) -> None:
    network = ToyNetwork()
    carriers = (*CARRIERS, toy_carrier(network))
    app = create_server(settings, sections={"toy": {"enabled": "true"}}, carriers=carriers)
    async with TestClient(TestServer(app)) as client:
        token = await sign_in(client, "boss")
        headers = {"X-CSRF-Token": token}
        placed = await client.post(
            "/api/calls/outbound", json={"account_id": "A1", "line": "toy"}, headers=headers
        )
        assert placed.status == 202
        assert await placed.json() == {"line": "toy", "account_id": "A1", "status": "ringing"}
        # the only line configured: `line` may be left out
        again = await client.post("/api/calls/outbound", json={"account_id": "A1"}, headers=headers)
        assert again.status == 202
        twilio = await client.post(
            "/api/calls/outbound", json={"account_id": "A1", "line": "twilio"}, headers=headers
        )
        assert twilio.status == 409  # registered, not enabled
        missing = await client.post(
            "/api/calls/outbound", json={"account_id": "A9", "line": "toy"}, headers=headers
        )
        assert missing.status == 404
    assert network.rang == ["13800138000", "13800138000"]


def test_voicebot_call_and_a_campaign_run_on_a_registered_carrier(
    tmp_path: Path, store_env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    network = ToyNetwork()
    carriers = (*CARRIERS, toy_carrier(network))
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(HEADER + ROW, encoding="utf-8")
    assert main(["campaign", "create", "nov", "--accounts", str(accounts)], carriers) == 0

    assert main(["call", "A1", "--line", "toy"], carriers) == 0
    assert "toy: ringing account A1" in capsys.readouterr().out

    run = ["campaign", "run", "nov", "--line", "toy", "--now", "2026-11-25T10:00:00+08:00"]
    assert main([*run, "--days", "1"], carriers) == 2  # the carrier's own settings check
    assert "the toy line is not configured" in capsys.readouterr().err
    monkeypatch.setenv("VOICEBOT_TOY__ENABLED", "true")
    assert main([*run, "--days", "1"], carriers) == 0
    assert "campaign nov: 1 accounts" in capsys.readouterr().out
    assert len(network.rang) >= 2 and set(network.rang) == {"13800138000"}  # busy: retried


def test_the_cli_offers_the_registered_lines(store_env: Path) -> None:
    for command in (["call", "A1", "--line", "toy"], ["campaign", "run", "c", "--line", "toy"]):
        with pytest.raises(SystemExit) as refused:
            main(command)  # no toy carrier registered
        assert refused.value.code == 2
