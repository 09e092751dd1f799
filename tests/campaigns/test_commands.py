"""`voicebot campaign create|run` end to end on the simulated line, and the HTTP routes."""

from pathlib import Path

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from voicebot.campaigns.create import campaign_routes
from voicebot.cli import main
from voicebot.store import Store

from .fakes import settings_for

HEADER = "account_id,name,gender,phone,id_number,product,overdue_amount,overdue_days,due_date\n"
ROWS = (
    "A1,张伟,M,13800138000,110101199003071234,个人消费贷款,3250.60,15,2026-11-10\n"
    "A2,王芳,F,13912345678,320102198805162468,信用卡分期,12800,32,2026-10-24\n"
    "BAD,x,Q,123,1,p,abc,1,2026-01-01\n"
    "A3,刘洋,M,13700001234,440301199201019876,个人消费贷款,5600,8,2026-11-17\n"
)


def test_create_and_run_on_the_simulated_line(tmp_path: Path, store_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(HEADER + ROWS, encoding="utf-8")
    assert main(["campaign", "create", "nov", "--accounts", str(accounts)]) == 1
    out = capsys.readouterr()
    assert "accounts.csv:4: skipped: gender" in out.err
    assert "3 accounts added, 3 in all, 1 rows rejected" in out.out

    personas = tmp_path / "personas.yaml"
    lines = {"A1": ["对，我是", "幺二三四", "我失业了", "这周五发工资，全部还上", "对"]}
    lines["A3"] = ["不是", "不认识，你打错了"]
    personas.write_text(yaml.safe_dump(lines, allow_unicode=True), encoding="utf-8")
    run = ["campaign", "run", "nov", "--line", "simulated", "--personas", str(personas)]
    assert main([*run, "--now", "2026-11-25T07:00:00+08:00", "--days", "1"]) == 0
    report = capsys.readouterr().out
    assert "campaign nov: 3 accounts" in report
    assert "promised 1" in report and "wrong_number 1" in report
    store = Store(store_env)
    campaigns = {row[0] for row in store.db.execute("SELECT campaign FROM calls")}
    store.close()
    assert campaigns == {"nov"}


def test_real_lines_are_not_configured(tmp_path: Path, store_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(HEADER + ROWS.splitlines()[0] + "\n", encoding="utf-8")
    main(["campaign", "create", "c", "--accounts", str(accounts)])
    capsys.readouterr()
    assert main(["campaign", "run", "c", "--line", "twilio"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("voicebot: the twilio line is not configured: set twilio.enabled")
    assert main(["campaign", "run", "nope", "--line", "simulated"]) == 2


async def test_http_routes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "calls.sqlite3")
    app = web.Application()
    app.add_routes(campaign_routes(settings))
    async with TestClient(TestServer(app)) as client:
        created = await client.post("/api/campaigns/web1", data=(HEADER + ROWS).encode())
        body = await created.json()
        assert created.status == 200
        assert body["added"] == 3 and body["rejected"][0]["line"] == 4
        progress = await client.get("/api/campaigns/web1")
        assert (await progress.json())["accounts"] == 3
        assert (await client.get("/api/campaigns/none")).status == 404
        bad = await client.post("/api/campaigns/web1", data=b"x,y\n1,2\n")
        assert bad.status == 400
