"""Reading calls for review: the follow-up queue, filtered search and the overview figures.

Every value from a request reaches SQL as a bound parameter; only fixed fragments written
here are joined into the statements.
"""

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from voicebot.notes import Labels
from voicebot.review_store import REASON_SQL, match_query

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100
# Dates outside these are typing slips (or probes); dropped like malformed ones, which
# also keeps date arithmetic far from the ends of the calendar.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
# How a dropped parameter is named to the agent.
PARAMETER_NAMES = {
    "outcome": "通话结果",
    "reason": "未还原因",
    "from": "开始日期",
    "to": "结束日期",
    "page": "页码",
}

# Lower comes first: high-priority escalations, other escalations, promises due today,
# broken promises (date passed, nobody has handled the call).
_RANK_SQL = (
    "CASE WHEN c.escalation_required = 1 AND c.escalation_priority = 'high' THEN 0"
    " WHEN c.escalation_required = 1 THEN 1"
    " WHEN c.promise_date = :today THEN 2 WHEN c.promise_date < :today THEN 3 ELSE 4 END"
)
_HANDLED_SQL = (
    "EXISTS (SELECT 1 FROM call_review r WHERE r.call_id = c.call_id AND r.status = 'handled')"
)
# The first term repeats the partial index's condition so that SQLite may use it.
_NEEDS_FOLLOWUP_SQL = (
    "(c.escalation_required = 1 OR c.promise_date IS NOT NULL)"
    " AND (c.escalation_required = 1 OR c.promise_date <= :today)"
)


@dataclass(frozen=True)
class Filters:
    """What the agent asked to see; `scope` is "queue" (open follow-ups) or "all"."""

    scope: str = "queue"
    outcome: str | None = None
    reason: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    campaign: str | None = None
    q: str = ""
    page: int = 1
    problems: tuple[str, ...] = field(default=(), compare=False)

    def query_string(self, **changes: Any) -> str:
        """The URL query for these filters (with `changes`), for links and pagination."""
        filters = replace(self, **changes)
        pairs = {
            "scope": filters.scope,
            "outcome": filters.outcome or "",
            "reason": filters.reason or "",
            "from": filters.date_from.isoformat() if filters.date_from else "",
            "to": filters.date_to.isoformat() if filters.date_to else "",
            "campaign": filters.campaign or "",
            "q": filters.q,
            "page": str(filters.page) if filters.page > 1 else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    @property
    def problem_names(self) -> list[str]:
        """The dropped parameters, as the page names them."""
        return [PARAMETER_NAMES.get(key, key) for key in self.problems]


def parse_filters(params: Mapping[str, str], names: Labels) -> Filters:
    """Filters from query parameters; a malformed value is dropped and named in `problems`.

    `names` (notes.labels) holds the outcome and reason values a filter may take.
    """
    problems: list[str] = []

    def enum(key: str, group: str) -> str | None:
        value = params.get(key, "").strip()
        if value and value not in names[group]:
            problems.append(key)
            return None
        return value or None

    def day(key: str) -> date | None:
        value = params.get(key, "").strip()
        try:
            found = date.fromisoformat(value) if value else None
        except ValueError:
            found = EARLIEST_DAY - timedelta(days=1)
        if found is not None and not EARLIEST_DAY <= found <= LATEST_DAY:
            problems.append(key)
            return None
        return found

    try:
        page = max(1, min(int(params.get("page", "1") or 1), 100_000))
    except ValueError:
        page = 1
        problems.append("page")
    scope = params.get("scope", "queue")
    return Filters(
        scope=scope if scope in ("queue", "all") else "queue",
        outcome=enum("outcome", "outcome"),
        reason=enum("reason", "reason"),
        date_from=day("from"),
        date_to=day("to"),
        campaign=params.get("campaign", "").strip()[:100] or None,
        q=params.get("q", "").strip()[:MAX_QUERY_LENGTH],
        page=page,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class CallPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def find_calls(
    db: sqlite3.Connection, filters: Filters, today: date, limit: int = PAGE_SIZE
) -> CallPage:
    """One page of calls matching `filters`, the queue ordered by urgency, "all" by date."""
    where, params = _where(filters, today)
    total = int(db.execute(f"SELECT COUNT(*) FROM calls c WHERE {where}", params).fetchone()[0])
    order = (
        f"{_RANK_SQL}, c.started_at DESC"
        if filters.scope == "queue"
        else "c.started_at DESC, c.call_id"
    )
    # Rank and page on the (covering) indexes first; read the 50 wide rows only after.
    rows = db.execute(
        f"WITH picked AS (SELECT c.rowid AS picked_rowid FROM calls c WHERE {where}"
        f" ORDER BY {order} LIMIT :limit OFFSET :offset)"
        f" SELECT c.call_id, c.account_id, c.started_at, c.direction, c.outcome,"
        f" c.escalation_required, c.escalation_priority, c.promise_date, c.promise_amount,"
        f" c.campaign, {REASON_SQL} AS reason, {_RANK_SQL} AS rank,"
        f" {_HANDLED_SQL} AS handled, a.name AS name"
        f" FROM picked JOIN calls c ON c.rowid = picked.picked_rowid"
        f" LEFT JOIN accounts a ON a.account_id = c.account_id ORDER BY {order}",
        {**params, "limit": limit, "offset": (filters.page - 1) * limit},
    ).fetchall()
    pages = max(1, -(-total // limit))
    return CallPage([dict(row) for row in rows], total, filters.page, pages)


def campaigns(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT DISTINCT campaign FROM calls WHERE campaign IS NOT NULL ORDER BY campaign"
    )
    return [row[0] for row in rows]


def overview(db: sqlite3.Connection, date_from: date, date_to: date, today: date) -> dict[str, Any]:
    """Counts and amounts for calls started between the two dates (inclusive)."""
    span = {
        "start": date_from.isoformat(),
        "end": (date_to + timedelta(days=1)).isoformat(),
        "today": today.isoformat(),
    }
    in_span = "c.started_at >= :start AND c.started_at < :end"
    by_outcome = _counts(
        db, f"SELECT c.outcome, COUNT(*) FROM calls c WHERE {in_span} GROUP BY c.outcome", span
    )
    by_reason = _counts(
        db,
        f"SELECT {REASON_SQL}, COUNT(*) FROM calls c WHERE {in_span}"
        f" AND {REASON_SQL} IS NOT NULL GROUP BY 1",
        span,
    )
    totals = db.execute(
        f"SELECT COUNT(*), COUNT(c.promise_date), SUM(c.escalation_required)"
        f" FROM calls c WHERE {in_span}",
        span,
    ).fetchone()
    # An account promised again counts once, at its latest promise (SQLite takes the bare
    # column from the row holding the MAX).
    promised = db.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM (SELECT c.promise_amount AS amount,"
        f" MAX(c.started_at) FROM calls c WHERE {in_span} AND c.promise_amount IS NOT NULL"
        " GROUP BY COALESCE(c.account_id, c.call_id))",
        span,
    ).fetchone()[0]
    overdue = db.execute(
        "SELECT COALESCE(SUM(CAST(a.overdue_amount AS REAL)), 0) FROM accounts a"
        f" WHERE a.account_id IN (SELECT c.account_id FROM calls c WHERE {in_span})",
        span,
    ).fetchone()[0]
    open_followups = db.execute(
        f"SELECT COUNT(*) FROM calls c WHERE {in_span} AND {_NEEDS_FOLLOWUP_SQL}"
        f" AND NOT {_HANDLED_SQL}",
        span,
    ).fetchone()[0]
    handled = db.execute(
        f"SELECT COUNT(*) FROM calls c WHERE {in_span} AND {_HANDLED_SQL}", span
    ).fetchone()[0]
    return {
        "calls": int(totals[0]),
        "promised_amount": float(promised),
        "promises": int(totals[1]),
        "escalations": int(totals[2] or 0),
        "overdue_amount": float(overdue),
        "open_followups": int(open_followups),
        "handled_followups": int(handled),
        "by_outcome": by_outcome,
        "by_reason": by_reason,
    }


def _counts(db: sqlite3.Connection, sql: str, params: Mapping[str, str]) -> dict[str, int]:
    rows = db.execute(sql, params).fetchall()
    return dict(sorted(((str(r[0]), int(r[1])) for r in rows), key=lambda kv: -kv[1]))


def _where(filters: Filters, today: date) -> tuple[str, dict[str, Any]]:
    clauses = ["1 = 1"]
    params: dict[str, Any] = {"today": today.isoformat()}
    if filters.scope == "queue":
        clauses += [_NEEDS_FOLLOWUP_SQL, f"NOT {_HANDLED_SQL}"]
    if filters.outcome:
        clauses.append("c.outcome = :outcome")
        params["outcome"] = filters.outcome
    if filters.reason:
        clauses.append(f"{REASON_SQL} = :reason")
        params["reason"] = filters.reason
    if filters.date_from:
        clauses.append("c.started_at >= :date_from")
        params["date_from"] = filters.date_from.isoformat()
    if filters.date_to:
        clauses.append("c.started_at < :date_to")
        params["date_to"] = (filters.date_to + timedelta(days=1)).isoformat()
    if filters.campaign:
        clauses.append("c.campaign = :campaign")
        params["campaign"] = filters.campaign
    match = match_query(filters.q)
    if filters.q and match is None:
        clauses.append("0 = 1")  # only punctuation: nothing can match
    elif match:
        clauses.append("c.rowid IN (SELECT rowid FROM call_search WHERE call_search MATCH :match)")
        params["match"] = match
    return " AND ".join(clauses), params
