"""The review page refuses strangers, forged requests and hostile input, and never shows
personal data unmasked."""

import re
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.web.conftest import ESCALATED, PASSWORD, RAW_CARD, RAW_ID, RAW_PHONE, Clock, sign_in
from voicebot.config import Settings
from voicebot.review_store import ReviewStore
from voicebot.web.app import create_app

RAW_VALUES = (RAW_PHONE, RAW_ID, RAW_CARD)


def _concrete(path: str) -> str:
    return path.replace("{call_id}", ESCALATED)


def _routes(app: web.Application) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path and route.method != "HEAD" and not path.startswith("/static"):
            found.append((route.method, _concrete(path)))
    return found


async def test_every_route_refuses_a_request_without_sign_in(client: TestClient) -> None:
    routes = _routes(client.app)
    assert len(routes) >= 12
    for method, path in routes:
        if (method, path) == ("GET", "/login"):
            continue
        response = await client.request(method, path, allow_redirects=False)
        body = await response.text()
        if (method, path) == ("POST", "/login"):
            assert response.status == 403, path  # no CSRF token: refused before anything
        elif path.startswith("/api/") or path.endswith(".csv"):
            assert response.status == 401, path
        else:
            assert response.status == 303 and response.headers["Location"] == "/login", path
        assert ESCALATED not in body and "住院" not in body, path


async def test_a_forged_or_foreign_csrf_token_is_refused(
    client: TestClient, agent: str, settings: Settings, clock: Clock
) -> None:
    async with TestClient(TestServer(create_app(settings, clock=clock))) as other:
        foreign = await sign_in(other, "boss")
    altered = agent[:-1] + ("1" if agent.endswith("0") else "0")
    for token in ["0" * 64, "", foreign, altered]:
        form = {"csrf_token": token, "action": "handled", "outcome": "contacted", "note": "x"}
        response = await client.post(f"/calls/{ESCALATED}/followup", data=form)
        assert response.status == 403, token
    detail = await (await client.get(f"/api/calls/{ESCALATED}")).json()
    assert detail["followups"] == [] and detail["status"] == "open"


async def test_sign_in_needs_the_form_token(client: TestClient) -> None:
    form = {"username": "alice", "password": PASSWORD, "csrf_token": "f" * 64}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/api/calls")).status == 401


@pytest.mark.parametrize(
    "query",
    [
        {"q": "' OR 1=1 --"},
        {"q": '住院" OR "1'},
        {"q": "住院'); DROP TABLE calls; --"},
        {"q": "NEAR(住院 病) OR *"},
        {"outcome": "x' OR '1'='1"},
        {"campaign": "' OR 1=1 --", "scope": "all"},
        {"from": "2026-01-01' OR 1=1 --", "page": "1; DROP TABLE users"},
    ],
)
async def test_sql_injection_in_filters_is_inert(
    client: TestClient, agent: str, settings: Settings, query: dict[str, str]
) -> None:
    response = await client.get("/api/calls", params={"scope": "all", **query})
    body = await response.json()
    if response.status == 400:  # a value the filters cannot use is refused by name
        assert body["invalid_parameters"] and "无效的查询参数" in body["error"]
    else:
        assert body["total"] <= 1
    assert (await client.get("/", params=query)).status in (200, 400)
    review = ReviewStore(settings.store_path)
    assert review.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 121
    assert review.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 2
    review.close()


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>'


async def test_xss_in_search_and_notes_is_shown_as_text(client: TestClient, agent: str) -> None:
    page = await (await client.get("/", params={"q": XSS})).text()
    form = {"csrf_token": agent, "action": "note", "outcome": "", "note": XSS}
    call_page = await (await client.post(f"/calls/{ESCALATED}/followup", data=form)).text()
    for html in (page, call_page):
        assert (
            "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
        )
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = await client.get(f"/calls/{ESCALATED}")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_personal_data_is_masked_in_html_csv_and_json(client: TestClient, agent: str) -> None:
    form = {"csrf_token": agent, "action": "note", "outcome": "", "note": f"客户新号{RAW_PHONE}"}
    await client.post(f"/calls/{ESCALATED}/followup", data=form)
    outputs = {}
    for path in [
        f"/calls/{ESCALATED}",
        f"/api/calls/{ESCALATED}",
        "/?scope=all&q=住院",
        "/api/calls?scope=all&reason=illness",
        "/export.csv?scope=all",
        "/overview",
        "/api/overview",
    ]:
        response = await client.get(path)
        assert response.status == 200, path
        outputs[path] = await response.text()
    for path, text in outputs.items():
        for raw in RAW_VALUES:
            assert raw not in text, (path, raw)
    call_page = outputs[f"/calls/{ESCALATED}"]
    assert "139****5678" in call_page and "**************1234" in call_page
    assert "***************0123" in call_page  # the bank card: last four only
    assert "139****5678" in outputs[f"/api/calls/{ESCALATED}"]


async def test_only_a_supervisor_reveals_a_phone_and_it_is_audited(
    client: TestClient, settings: Settings
) -> None:
    token = await sign_in(client, "alice")
    response = await client.post(f"/calls/{ESCALATED}/reveal-phone", data={"csrf_token": token})
    assert response.status == 403 and RAW_PHONE not in await response.text()
    await client.post("/logout", data={"csrf_token": token})
    token = await sign_in(client, "boss")
    response = await client.post(f"/calls/{ESCALATED}/reveal-phone", data={"csrf_token": token})
    page = await response.text()
    assert response.status == 200
    assert re.search(rf'id="phone">{RAW_PHONE}<', page)
    assert "查看完整电话" in page and "boss" in page  # the audit entry is shown
    assert RAW_PHONE not in await (await client.get(f"/calls/{ESCALATED}")).text()
    review = ReviewStore(settings.store_path)
    entries = review.audit_entries(ESCALATED)
    review.close()
    assert [(e["username"], e["action"]) for e in entries] == [("boss", "reveal_phone")]


async def test_sessions_expire_when_idle_and_end_at_sign_out(
    client: TestClient, agent: str, clock: Clock
) -> None:
    assert (await client.get("/api/calls")).status == 200
    clock.now += timedelta(minutes=29)
    assert (await client.get("/api/calls")).status == 200  # activity extends the session
    clock.now += timedelta(minutes=31)
    assert (await client.get("/api/calls")).status == 401
    clock.now += timedelta(minutes=1)
    token = await sign_in(client, "alice")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["vb_session"].value
    await client.post("/logout", data={"csrf_token": token})
    response = await client.get("/api/calls", cookies={"vb_session": cookie})
    assert response.status == 401


async def test_repeated_wrong_passwords_lock_the_name_for_a_while(client: TestClient) -> None:
    for _ in range(5):
        page = await (await client.get("/login")).text()
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert token
        form = {"username": "alice", "password": "wrong-password", "csrf_token": token.group(1)}
        assert (await client.post("/login", data=form)).status == 401
    page = await (await client.get("/login")).text()
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)}
    response = await client.post("/login", data=form)
    assert response.status == 429 and "尝试次数过多" in await response.text()


async def test_campaigns_are_created_by_supervisors_only(client: TestClient) -> None:
    csv = "account_id,name,gender,phone,id_number,product,overdue_amount,overdue_days,due_date\n"
    csv += "C1,张伟,M,13800138000,110101199003071234,个人消费贷款,3250.60,15,2026-11-10\n"
    agent_token = await sign_in(client, "alice")
    refused = await client.post(
        "/api/campaigns/m1", data=csv.encode(), headers={"X-CSRF-Token": agent_token}
    )
    assert refused.status == 403
    assert (await client.get("/api/campaigns/m1")).status == 403
    await client.post("/logout", data={"csrf_token": agent_token})
    boss_token = await sign_in(client, "boss")
    forged = await client.post("/api/campaigns/m1", data=csv.encode())
    assert forged.status == 403  # no CSRF token
    created = await client.post(
        "/api/campaigns/m1", data=csv.encode(), headers={"X-CSRF-Token": boss_token}
    )
    assert created.status == 200, await created.text()
    assert (await created.json())["added"] == 1
    progress = await (await client.get("/api/campaigns/m1")).json()
    assert progress["accounts"] == 1
