"""End to end: a borrower says phone, card and ID numbers in every written form during a
`voicebot simulate` call; none of them is printed, stored, searchable or shown raw."""

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import NOW, PASSWORD
from voicebot.cli import main
from voicebot.config import Settings, WebSettings, load_settings
from voicebot.review_store import ReviewStore

# What the borrower says, and the same numbers in ASCII digits.
SAID = {
    "+86 139 9999 0001": "13999990001",
    "139-9999-0002": "13999990002",
    "一三九 九九九九 零零零三": "13999990003",
    "幺三九九九九九洞洞洞四": "13999990004",
    "１３９９９９９０００５": "13999990005",
    "008613999990006": "13999990006",
    "6222 0212 3456 7890 123": "6222021234567890123",
    "3501 0219 9003 0712 34": "350102199003071234",
    "110101 19900307 123X": "11010119900307123X",
    "110101900307123": "110101900307123",
}
SCENARIO = """\
now: "2026-11-25T10:00:00+08:00"
direction: outbound
account:
  account_id: A1001
  name: 张伟
  gender: M
  phone: "13800138000"
  id_number: "110101199003071234"
  product: 个人消费贷款
  overdue_amount: 3250.60
  overdue_days: 15
  due_date: "2026-11-10"
borrower:
  - 对，我是
  - 幺二三四
  - 上个月公司裁员，我失业了，以后打我新号码 {0} 或者 {1}，也可以打 {2} 或 {3}
  - 这周五发工资，全部还上
  - 对。我卡号是 {6}，身份证 {7}，老身份证 {9}，电话 {4} 和 {5}，我朋友身份证 {8}
"""


@pytest.fixture
def simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str]:
    """The store after the call was simulated twice (readable and --json), and stdout."""
    scenario = tmp_path / "numbers.yaml"
    scenario.write_text(SCENARIO.format(*SAID), encoding="utf-8")
    path = tmp_path / "calls.sqlite3"
    monkeypatch.setenv("VOICEBOT_STORE__PATH", str(path))
    assert main(["simulate", str(scenario)]) == 0
    assert main(["simulate", str(scenario), "--json"]) == 0
    return path, capsys.readouterr().out


@pytest.fixture
def settings(simulated: tuple[Path, str]) -> Settings:
    """The review app's settings over the simulated calls (replaces the seeded database)."""
    path, _ = simulated
    review = ReviewStore(path)
    review.add_user("alice", "agent", PASSWORD, NOW)
    review.close()
    base = load_settings(environ={})
    return replace(base, store_path=path, web=WebSettings(session_minutes=30, secret="test-secret"))


def assert_nothing_raw(where: str, text: str) -> None:
    for said, digits in SAID.items():
        for raw in (said, digits, quote_plus(said)):  # URL-encoded: a search in the audit log
            assert raw not in text, (where, raw)


def every_text_cell(path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [
            (table, cell)
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
            for cell in row
            if isinstance(cell, str)
        ]
    finally:
        db.close()


async def test_numbers_said_in_a_call_are_masked_everywhere(
    simulated: tuple[Path, str], client: TestClient, agent: str
) -> None:
    path, stdout = simulated
    for shown in ("+86 139****0001", "139****0005", "***************0123", "*************123X"):
        assert shown in stdout  # masked, not dropped: every line was said
    assert "3250.60" in stdout  # amounts are left alone
    assert_nothing_raw("stdout", stdout)
    call_ids = [r[0] for r in sqlite3.connect(path).execute("SELECT call_id FROM calls")]
    assert len(call_ids) == 2
    call_id = call_ids[0]

    note = "客户又说了 " + " ".join(SAID)
    form = {"csrf_token": agent, "action": "note", "outcome": "", "note": note}
    assert (await client.post(f"/calls/{call_id}/followup", data=form)).status == 200
    outputs = {}
    for page in [
        f"/calls/{call_id}",
        f"/api/calls/{call_id}",
        "/?scope=all",
        "/api/calls?scope=all",
        "/export.csv?scope=all",
        f"/export.csv?scope=all&q={quote('110101 19900307 123X')}",
    ]:
        response = await client.get(page)
        assert response.status == 200, page
        text = await response.text()
        if page.startswith("/api/"):  # the JSON with its Chinese unescaped
            text = json.dumps(json.loads(text), ensure_ascii=False)
        outputs[page] = text
    for page, text in outputs.items():
        assert_nothing_raw(page, text)
    assert "139****0003" in outputs[f"/calls/{call_id}"]

    for said, digits in SAID.items():  # stored transcripts are masked: nothing to find
        for term in (said, digits):
            found = await (
                await client.get("/api/calls", params={"scope": "all", "q": term})
            ).json()
            assert found["total"] == 0, term
    found = await (await client.get("/api/calls", params={"scope": "all", "q": "裁员"})).json()
    assert found["total"] == 2  # the search itself works

    cells = every_text_cell(path)
    assert any("139****0002" in cell for _, cell in cells)
    for table, cell in cells:
        assert_nothing_raw(table, cell)
