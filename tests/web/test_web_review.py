"""The review pages and API as an agent uses them: queue, filters, call page, follow-up."""

import csv
import io
import random
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import ESCALATED, NOW, TODAY, sign_in
from voicebot.cli import main
from voicebot.config import Settings
from voicebot.notes import PACKAGED_PROMPTS_DIR, labels
from voicebot.review_store import ReviewStore, match_query, search_terms
from voicebot.store import DuplicateCall, Store
from voicebot.web.queries import find_calls, parse_filters
from voicebot.web.sample_calls import sample_summary


async def test_queue_puts_high_priority_escalations_first(client: TestClient, agent: str) -> None:
    body = await (await client.get("/api/calls")).json()
    ranks = [item["followup"] for item in body["items"]]
    assert body["items"][0]["escalation_priority"] == "high"
    order = ["高优先级升级", "需人工跟进", "今日到期承诺", "承诺已逾期"]
    assert [order.index(r) for r in ranks] == sorted(order.index(r) for r in ranks)
    assert all(item["status"] == "open" for item in body["items"])


async def test_filters_find_the_escalated_call(client: TestClient, agent: str) -> None:
    query = {
        "scope": "all",
        "reason": "illness",
        "q": "住院",
        "campaign": "M9-special",
        "from": "2026-08-01",
        "to": "2026-11-25",
        "outcome": "right_party_contact",
    }
    body = await (await client.get("/api/calls", params=query)).json()
    assert [item["call_id"] for item in body["items"]] == [ESCALATED]
    assert body["items"][0]["reason_label"] == "疾病"


async def test_search_matches_substrings_of_any_length(settings: Settings) -> None:
    review = ReviewStore(settings.store_path)
    try:
        for q, expected in [("住", True), ("住院", True), ("住院了打我", False), ("院了", True)]:
            params = {"scope": "all", "q": q, "campaign": "M9-special"}
            filters = parse_filters(params, labels(settings.prompts_dir))
            page = find_calls(review.db, filters, TODAY)
            assert ([r["call_id"] for r in page.rows] == [ESCALATED]) is expected, q
    finally:
        review.close()
    assert search_terms("住院了，打我") == "住院 院了 了 打我 我"
    assert match_query("住院了") == '"住院 院了"'
    assert match_query('" OR 1=1 --') == '"or" AND "1"* AND "1"*'


async def test_new_calls_become_searchable_and_are_never_replaced(settings: Settings) -> None:
    review = ReviewStore(settings.store_path)
    store = Store(settings.store_path)
    summary, _ = sample_summary(random.Random(1), 5000, TODAY)
    summary["transcript"][0]["text"] = "独一无二的蓝鲸"
    store.save_call(summary)
    review.sync_search()
    assert _found(review, "蓝鲸") == [summary["call_id"]]
    summary["transcript"][0]["text"] = "改成了红狐狸"
    with pytest.raises(DuplicateCall):
        store.save_call(summary)  # a second summary for the same call is refused
    review.sync_search()
    assert _found(review, "蓝鲸") == [summary["call_id"]]
    assert _found(review, "红狐狸") == []
    store.close()
    review.close()


def _found(review: ReviewStore, q: str) -> list[str]:
    filters = parse_filters({"scope": "all", "q": q}, labels(PACKAGED_PROMPTS_DIR))
    page = find_calls(review.db, filters, TODAY)
    return [row["call_id"] for row in page.rows]


async def test_pagination_walks_every_call_once(client: TestClient, agent: str) -> None:
    seen: list[str] = []
    body = await (await client.get("/api/calls", params={"scope": "all"})).json()
    for page in range(1, body["pages"] + 1):
        got = await (await client.get("/api/calls", params={"scope": "all", "page": page})).json()
        seen += [item["call_id"] for item in got["items"]]
    assert len(seen) == len(set(seen)) == body["total"] == 121


async def test_call_page_lays_out_the_summary(client: TestClient, agent: str) -> None:
    page = await (await client.get(f"/calls/{ESCALATED}")).text()
    for shown in [
        "疾病",
        "高优先级",
        "弱势或有风险",
        "已告知逾期",
        "通话记录",
        "<audio",
        "data-t=",
    ]:
        assert shown in page, shown


async def test_marking_handled_keeps_history_and_leaves_queue(
    client: TestClient, agent: str
) -> None:
    form = {"csrf_token": agent, "action": "handled", "outcome": "contacted", "note": "已回电安抚"}
    response = await client.post(f"/calls/{ESCALATED}/followup", data=form)
    assert response.status == 200
    page = await response.text()
    assert "alice" in page and "已联系客户" in page and "已回电安抚" in page and "已处理" in page
    queue = await (await client.get("/api/calls", params={"q": "住院"})).json()
    assert ESCALATED not in [item["call_id"] for item in queue["items"]]
    form = {"csrf_token": agent, "action": "reopened", "outcome": "", "note": "客户又来电"}
    await client.post(f"/calls/{ESCALATED}/followup", data=form)
    queue = await (await client.get("/api/calls", params={"q": "住院"})).json()
    assert ESCALATED in [item["call_id"] for item in queue["items"]]
    detail = await (await client.get(f"/api/calls/{ESCALATED}")).json()
    assert [f["action"] for f in detail["followups"]] == ["handled", "reopened"]


async def test_handled_needs_an_outcome(client: TestClient, agent: str) -> None:
    form = {"csrf_token": agent, "action": "handled", "outcome": "", "note": ""}
    assert (await client.post(f"/calls/{ESCALATED}/followup", data=form)).status == 400


async def test_overview_counts_and_charts(client: TestClient, agent: str) -> None:
    figures = await (await client.get("/api/overview", params={"from": "2026-08-01"})).json()
    assert figures["calls"] == 121
    assert sum(figures["by_outcome"].values()) == 121
    assert figures["open_followups"] > 0 and figures["promised_amount"] > 0
    page = await (await client.get("/overview")).text()
    assert "<svg" in page and "<rect" in page and "本人接通" in page


async def test_csv_export_has_the_filtered_rows(client: TestClient, agent: str) -> None:
    response = await client.get("/export.csv", params={"scope": "all", "reason": "illness"})
    rows = list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))
    assert rows[0][:3] == ["通话编号", "通话时间", "账户"]
    assert ESCALATED in {row[0] for row in rows[1:]}
    assert all(row[5] == "疾病" for row in rows[1:])


async def test_recording_streams_with_ranges(client: TestClient, agent: str) -> None:
    response = await client.get(f"/calls/{ESCALATED}/recording", headers={"Range": "bytes=0-99"})
    assert response.status == 206 and len(await response.read()) == 100


def test_user_add_reads_the_password_from_stdin(
    settings: Settings, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("VOICEBOT_STORE__PATH", str(settings.store_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["user", "add", "carol", "--role", "supervisor"]) == 0
    review = ReviewStore(settings.store_path)
    user = review.authenticate("carol", "a-long-password")
    stored = review.db.execute("SELECT password_hash FROM users WHERE username='carol'").fetchone()
    review.close()
    assert user is not None and user.is_supervisor
    assert stored[0].startswith("scrypt$") and "a-long-password" not in stored[0]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "dave", "--role", "agent"]) == 2
    assert "at least 8" in capsys.readouterr().err


async def test_supervisor_and_agent_see_their_role(client: TestClient) -> None:
    await sign_in(client, "boss")
    page = await (await client.get(f"/calls/{ESCALATED}")).text()
    assert "boss（主管）" in page and 'id="reveal"' in page
    assert NOW.year == 2026
