"""Every route of the review app answers hostile query values, bodies and path segments
with a 4xx in Chinese (or ignores the value), never a 500, and never shows a file path."""

import re
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.web.conftest import ESCALATED, sign_in
from voicebot.config import PROJECT_ROOT, Settings
from voicebot.web.errors import INTERNAL_ERROR

PARAMETERS = ("from", "to", "page", "outcome", "reason", "scope", "q", "campaign")
# Values as they travel in the URL (already percent-encoded).
BAD_VALUES = [
    "9999-12-31",
    "0001-01-01",
    "2026-13-45",
    "2026-02-30",
    "abc",
    "-1",
    "0",
    "1e400",
    "9" * 4400,  # beyond int()'s digit limit
    "x" * 3000,
    "%00",
    "a%00b",
    "%ff",  # not UTF-8
    "%ed%a0%80",  # a lone surrogate in UTF-8 form
    "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11-25",  # full-width digits
    quote("' OR 1=1 --"),
    quote("<script>alert(1)</script>"),
]
DATE_PAIRS = [
    ("0001-01-01", "9999-12-31"),
    ("9999-12-31", "0001-01-01"),
    ("1999-12-31", "2100-01-01"),
    ("2026-11-25", "2026-11-01"),
]
PATH_SEGMENTS = ["%ff", "%00", "%ed%a0%80", "x" * 3000, "..%2F..%2Fetc%2Fpasswd", "%2e%2e"]
BAD_BODIES = [
    (b"action=note&note=\xff\xfe", "application/x-www-form-urlencoded"),
    (b"action=note&note=%ff%00", "application/x-www-form-urlencoded"),
    (b"action=note&note=%ed%a0%80", "application/x-www-form-urlencoded"),
    (b"action=note", "application/x-www-form-urlencoded; charset=no-such-charset"),
    (b"--xx\r\ngarbage", "multipart/form-data; boundary=xx"),
    (b"garbage", "multipart/form-data"),
    (b"\xff\xfe\x00", "text/csv"),
    (b"action=handled&outcome=%00&note=" + b"x" * 100_000, "application/x-www-form-urlencoded"),
    (b"a=" + b"x" * 2_000_000, "application/x-www-form-urlencoded"),
]
ALLOWED = {200, 303, 400, 403, 404, 413, 416, 429}


def _routes(app: web.Application, method: str) -> list[str]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and route.method == method:
            found.append(path)
    return found


def _concrete(path: str, segment: str = "") -> str:
    return path.replace("{call_id}", segment or ESCALATED).replace("{name}", segment or "m1")


async def _check(response: ClientResponse, where: object, tmp_path: Path) -> None:
    body = (await response.read()).decode("utf-8", "replace")
    assert response.status in ALLOWED, (where, response.status, body[:300])
    for leak in (str(tmp_path), str(PROJECT_ROOT), "Traceback", ".py", "sqlite3"):
        assert leak not in body, (where, leak)
    if response.status == 400:
        assert re.search(r"[\u4e00-\u9fff]", body), (where, body[:300])


@pytest.mark.parametrize("value", BAD_VALUES)
async def test_bad_query_values_are_refused_or_ignored_on_every_route(
    client: TestClient, tmp_path: Path, value: str
) -> None:
    await sign_in(client, "boss")
    paths = _routes(client.app, "GET")
    assert {"/", "/overview", "/api/calls", "/api/overview", "/export.csv"} <= set(paths)
    for path in paths:
        for name in PARAMETERS:
            url = URL(f"{_concrete(path)}?{name}={value}&scope=all", encoded=True)
            await _check(await client.get(url, allow_redirects=False), (path, name), tmp_path)


@pytest.mark.parametrize(("first", "last"), DATE_PAIRS)
async def test_dates_at_the_ends_of_the_calendar_are_refused_by_name(
    client: TestClient, agent: str, tmp_path: Path, first: str, last: str
) -> None:
    usable = all("2000" <= day < "2100" for day in (first, last))
    for path in ["/", "/overview", "/api/calls", "/api/overview", "/export.csv"]:
        response = await client.get(path, params={"from": first, "to": last, "scope": "all"})
        await _check(response, path, tmp_path)
        assert response.status == (200 if usable else 400), path
    span = await client.get("/api/overview", params={"to": "9999-12-31"})
    assert span.status == 400
    assert await span.json() == {"error": "无效的查询参数：结束日期", "invalid_parameters": ["to"]}
    listed = await (await client.get("/api/calls", params={"from": "0001-01-01"})).json()
    assert listed["invalid_parameters"] == ["from"]
    page = await client.get("/overview", params={"to": "9999-12-31"})
    assert page.status == 400 and "无法使用的日期（已忽略）：结束日期" in await page.text()


@pytest.mark.parametrize("segment", PATH_SEGMENTS)
async def test_bad_path_segments_are_not_found(
    client: TestClient, tmp_path: Path, segment: str
) -> None:
    await sign_in(client, "boss")
    for path in _routes(client.app, "GET"):
        if "{" in path:
            url = URL(_concrete(path, segment), encoded=True)
            await _check(await client.get(url, allow_redirects=False), path, tmp_path)
    for path in ["/static/" + segment, "/static/%2e%2e/app.py", "/no-such-page"]:
        await _check(await client.get(URL(path, encoded=True)), path, tmp_path)


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
async def test_bad_bodies_are_refused_on_every_form(
    client: TestClient, tmp_path: Path, body: bytes, content_type: str
) -> None:
    token = await sign_in(client, "boss")
    paths = [p for p in _routes(client.app, "POST") if p not in ("/logout", "/login")]
    for path in [*paths, "/logout"]:
        response = await client.post(
            _concrete(path),
            data=body,
            headers={"Content-Type": content_type, "X-CSRF-Token": token},
            allow_redirects=False,
        )
        await _check(response, path, tmp_path)
    response = await client.post(
        "/login", data=body, headers={"Content-Type": content_type}, allow_redirects=False
    )
    await _check(response, "/login", tmp_path)


@pytest.mark.parametrize("byte_range", ["bytes=abc", "bytes=99999999-", "bytes=5-1", "x" * 4000])
async def test_bad_ranges_on_a_recording(
    client: TestClient, agent: str, tmp_path: Path, byte_range: str
) -> None:
    response = await client.get(f"/calls/{ESCALATED}/recording", headers={"Range": byte_range})
    await _check(response, byte_range, tmp_path)


async def test_a_missing_recording_or_page_shows_no_path(
    client: TestClient, agent: str, tmp_path: Path, recording: Path
) -> None:
    recording.unlink()
    response = await client.get(f"/calls/{ESCALATED}/recording")
    assert response.status == 404 and await response.text() == "没有录音"
    response = await client.get("/calls/no-such-call/recording")
    assert response.status == 404 and await response.text() == "找不到该通话"
    response = await client.get("/no-such-page")
    assert response.status == 404 and await response.text() == "找不到该页面"
    response = await client.get("/api/no-such-thing")
    assert response.status == 404 and (await response.json())["error"] == "找不到该页面"
    response = await client.put("/overview", headers={"X-CSRF-Token": agent})
    assert response.status == 405 and "不支持" in await response.text()


async def test_an_unexpected_error_is_a_plain_500(
    client: TestClient, agent: str, settings: Settings, tmp_path: Path
) -> None:
    with sqlite3.connect(settings.store_path) as db:
        db.execute("DROP TABLE followups")
    response = await client.get(f"/calls/{ESCALATED}")
    body = await response.text()
    assert response.status == 500 and body == INTERNAL_ERROR
    assert "followups" not in body and str(tmp_path) not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = await client.get(f"/api/calls/{ESCALATED}")
    assert response.status == 500 and (await response.json())["error"] == INTERNAL_ERROR


async def test_a_rejected_campaign_file_names_no_file(client: TestClient) -> None:
    token = await sign_in(client, "boss")
    response = await client.post(
        "/api/campaigns/m1", data=b"\xff\xfe\x00", headers={"X-CSRF-Token": token}
    )
    assert response.status == 400
    assert "/tmp" not in await response.text() and "accounts.csv" not in await response.text()


async def test_the_call_api_names_the_recording_by_url_not_by_file(
    client: TestClient, agent: str, recording: Path
) -> None:
    detail = await (await client.get(f"/api/calls/{ESCALATED}")).json()
    assert detail["summary"]["recording"] == f"/calls/{ESCALATED}/recording"
    assert (await client.get(detail["summary"]["recording"])).status == 200
