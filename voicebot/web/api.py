"""The same data as the pages, as JSON and as a CSV export; masked like the pages."""

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from voicebot.masking import mask_text
from voicebot.web import queries
from voicebot.web.auth import current_user
from voicebot.web.keys import CLOCK, LABELS, REVIEW_STORE
from voicebot.web.present import call_row, masked_account, masked_summary
from voicebot.web.views import db, overview_span, today

EXPORT_LIMIT = 100_000
_CSV_COLUMNS = [
    ("call_id", "通话编号"),
    ("started_at", "通话时间"),
    ("account_id", "账户"),
    ("name", "姓名"),
    ("outcome_label", "结果"),
    ("reason_label", "未还原因"),
    ("escalation_required", "需人工跟进"),
    ("escalation_priority", "优先级"),
    ("promise_date", "承诺日期"),
    ("promise_amount", "承诺金额"),
    ("campaign", "批次"),
    ("followup", "跟进类别"),
    ("status", "处理状态"),
]


def _refused(problems: Sequence[str]) -> web.Response:
    """400 naming the query parameters that could not be used, in Chinese."""
    names = "、".join(queries.PARAMETER_NAMES.get(key, key) for key in problems)
    return web.json_response(
        {"error": f"无效的查询参数：{names}", "invalid_parameters": list(problems)},
        status=400,
        dumps=_dumps,
    )


async def list_calls(request: web.Request) -> web.Response:
    """GET /api/calls: one page of the filtered list, with the same filters as the queue."""
    filters = queries.parse_filters(request.query, request.app[LABELS])
    if filters.problems:
        return _refused(filters.problems)
    page = queries.find_calls(db(request), filters, today(request))
    return web.json_response(
        {
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "page_size": queries.PAGE_SIZE,
            "items": [call_row(row, request.app[LABELS]) for row in page.rows],
        },
        dumps=_dumps,
    )


async def call_detail(request: web.Request) -> web.Response:
    """GET /api/calls/{id}: the masked summary, the masked account and the follow-ups."""
    call_id = request.match_info["call_id"]
    store = request.app[REVIEW_STORE]
    row = store.db.execute(
        "SELECT account_id, campaign, summary_json FROM calls WHERE call_id = ?", (call_id,)
    ).fetchone()
    if row is None:
        raise web.HTTPNotFound(text='{"error": "no such call"}', content_type="application/json")
    account = store.db.execute(
        "SELECT * FROM accounts WHERE account_id = ?", (row["account_id"],)
    ).fetchone()
    return web.json_response(
        {
            "summary": masked_summary(row["summary_json"]),
            "campaign": row["campaign"],
            "account": masked_account(account),
            "status": store.review_status(call_id),
            "followups": store.followups(call_id),
        },
        dumps=_dumps,
    )


async def overview_json(request: web.Request) -> web.Response:
    first, last, ignored = overview_span(request)
    if ignored:
        return _refused(ignored)
    figures = queries.overview(db(request), first, last, today(request))
    return web.json_response(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            **figures,
        },
        dumps=_dumps,
    )


async def export_csv(request: web.Request) -> web.Response:
    """GET /export.csv: every call of the filtered list (UTF-8 with BOM, for Excel)."""
    filters = queries.parse_filters(request.query, request.app[LABELS])
    if filters.problems:
        return _refused(filters.problems)
    page = queries.find_calls(db(request), filters, today(request), limit=EXPORT_LIMIT)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([title for _, title in _CSV_COLUMNS])
    for row in page.rows:
        shown = call_row(row, request.app[LABELS])
        writer.writerow([_cell(shown[key]) for key, _ in _CSV_COLUMNS])
    request.app[REVIEW_STORE].audit(
        current_user(request).username,
        "export",
        request.app[CLOCK](),
        # The search term masked before it is URL-encoded, which would hide it from the mask.
        detail=f"{page.total} rows; {filters.query_string(page=1, q=mask_text(filters.q))}",
    )
    return web.Response(
        body=out.getvalue().encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="calls-{today(request)}.csv"'},
    )


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
