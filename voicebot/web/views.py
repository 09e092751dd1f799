"""The review pages: the queue, one call, its follow-up and recording, the overview."""

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from voicebot.config import PROJECT_ROOT
from voicebot.masking import mask_text
from voicebot.web import queries
from voicebot.web.auth import current_user, redirect, require_supervisor
from voicebot.web.errors import read_form
from voicebot.web.keys import CLOCK, LABELS, REVIEW_STORE, SETTINGS
from voicebot.web.present import (
    AUDIT_ACTIONS,
    FOLLOWUP_ACTIONS,
    FOLLOWUP_OUTCOMES,
    bars,
    call_row,
    masked_account,
    masked_summary,
)

MAX_NOTE_LENGTH = 2000
OVERVIEW_DAYS = 30


def today(request: web.Request) -> date:
    """Today in the lender's time zone: promises fall due by the borrower's calendar."""
    zone = ZoneInfo(request.app[SETTINGS].rules.default_timezone)
    return request.app[CLOCK]().astimezone(zone).date()


def db(request: web.Request) -> sqlite3.Connection:
    store = request.app[REVIEW_STORE]
    store.sync_search()  # calls stored since the last request become searchable
    return store.db


async def queue_page(request: web.Request) -> web.Response:
    """The queue; a filter value it cannot use is named on the page (and answered 400)."""
    filters = queries.parse_filters(request.query, request.app[LABELS])
    page = queries.find_calls(db(request), filters, today(request))
    context = {
        "filters": filters,
        "page": page,
        "rows": [call_row(row, request.app[LABELS]) for row in page.rows],
        "campaigns": queries.campaigns(db(request)),
    }
    status = 400 if filters.problems else 200
    return aiohttp_jinja2.render_template("queue.html", request, context, status=status)


async def call_page(request: web.Request) -> web.StreamResponse:
    return _render_call(request, revealed_phone=None)


async def reveal_phone(request: web.Request) -> web.StreamResponse:
    """A supervisor sees the account's full phone number, once, and the log says so."""
    user = require_supervisor(request)
    call_id = request.match_info["call_id"]
    call = _call_row(request, call_id)
    account = _account_row(request, call["account_id"])
    if account is None:
        raise web.HTTPNotFound(text="该通话没有关联账户")
    request.app[REVIEW_STORE].audit(user.username, "reveal_phone", request.app[CLOCK](), call_id)
    return _render_call(request, revealed_phone=str(account["phone"]))


async def add_followup(request: web.Request) -> web.StreamResponse:
    """Record a follow-up: mark handled (leaves the queue), add a note, or reopen."""
    call_id = request.match_info["call_id"]
    _call_row(request, call_id)
    form = await read_form(request)
    action = str(form.get("action", ""))
    outcome = str(form.get("outcome", "")) or None
    # Masked before it is cut, so a number at the cut cannot escape the mask half-written.
    note = mask_text(str(form.get("note", "")).strip())[:MAX_NOTE_LENGTH]
    if action not in FOLLOWUP_ACTIONS or (outcome and outcome not in FOLLOWUP_OUTCOMES):
        raise web.HTTPBadRequest(text="无效的跟进操作")
    if action == "handled" and not outcome:
        raise web.HTTPBadRequest(text="标记已处理时请选择处理结果")
    store = request.app[REVIEW_STORE]
    store.record_followup(
        call_id, current_user(request), action, outcome, note, request.app[CLOCK]()
    )
    return redirect(f"/calls/{call_id}#followup")


async def recording(request: web.Request) -> web.StreamResponse:
    """The call's recording, with range requests so the player can seek."""
    path = _recording_path(_call_row(request, request.match_info["call_id"]))
    if path is None:
        raise web.HTTPNotFound(text="没有录音")
    return web.FileResponse(path)


async def overview_page(request: web.Request) -> web.Response:
    """The overview; an unusable date is named on the page (and answered 400)."""
    first, last, ignored = overview_span(request)
    context = _overview_context(request, first, last, ignored)
    status = 400 if ignored else 200
    return aiohttp_jinja2.render_template("overview.html", request, context, status=status)


def _overview_context(
    request: web.Request, first: date, last: date, ignored: list[str]
) -> dict[str, Any]:
    figures = queries.overview(db(request), first, last, today(request))
    names = request.app[LABELS]
    top = max(figures["promised_amount"], figures["overdue_amount"]) or 1
    return {
        "date_from": first,
        "date_to": last,
        "ignored": [queries.PARAMETER_NAMES[key] for key in ignored],
        "figures": figures,
        "outcome_bars": bars(figures["by_outcome"], names["outcome"]),
        "reason_bars": bars(figures["by_reason"], names["reason"]),
        "amount_bars": [
            {
                "label": "逾期金额",
                "value": figures["overdue_amount"],
                "width": round(300 * figures["overdue_amount"] / top),
                "y": 0,
            },
            {
                "label": "承诺还款",
                "value": figures["promised_amount"],
                "width": round(300 * figures["promised_amount"] / top),
                "y": 28,
            },
        ],
    }


def overview_span(request: web.Request) -> tuple[date, date, list[str]]:
    """The overview's dates from the query (the last 30 days by default), and which of
    `from` and `to` were dropped as unusable."""
    filters = queries.parse_filters(request.query, request.app[LABELS])
    last = filters.date_to or today(request)
    first = filters.date_from or last - timedelta(days=OVERVIEW_DAYS - 1)
    if first > last:
        first, last = last, first
    return first, last, [key for key in filters.problems if key in ("from", "to")]


def _render_call(request: web.Request, revealed_phone: str | None) -> web.Response:
    call_id = request.match_info["call_id"]
    row = _call_row(request, call_id)
    summary = masked_summary(row["summary_json"])
    store = request.app[REVIEW_STORE]
    context = {
        "call": summary,
        "campaign": row["campaign"],
        "account": masked_account(_account_row(request, row["account_id"])),
        "revealed_phone": revealed_phone,
        "status": store.review_status(call_id),
        "history": store.followups(call_id),
        "audit": [e for e in store.audit_entries(call_id) if e["action"] == "reveal_phone"],
        "has_recording": _recording_path(row) is not None,
        "followup_outcomes": FOLLOWUP_OUTCOMES,
        "followup_actions": FOLLOWUP_ACTIONS,
        "audit_actions": AUDIT_ACTIONS,
    }
    return aiohttp_jinja2.render_template("call.html", request, context)


def _call_row(request: web.Request, call_id: str) -> sqlite3.Row:
    row = (
        request.app[REVIEW_STORE]
        .db.execute(
            "SELECT call_id, account_id, campaign, summary_json FROM calls WHERE call_id = ?",
            (call_id,),
        )
        .fetchone()
    )
    if row is None:
        raise web.HTTPNotFound(text="找不到该通话")
    return row


def _account_row(request: web.Request, account_id: str | None) -> sqlite3.Row | None:
    if account_id is None:
        return None
    return (
        request.app[REVIEW_STORE]
        .db.execute("SELECT * FROM accounts WHERE account_id = ?", (account_id,))
        .fetchone()
    )


def _recording_path(call: sqlite3.Row) -> Path | None:
    # The path comes from the stored summary, never from the request.
    value = json.loads(call["summary_json"]).get("recording")
    if not value or not isinstance(value, str):
        return None
    path = Path(value)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    return path if path.is_file() else None
