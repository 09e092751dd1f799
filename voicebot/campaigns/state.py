"""Durable campaign state in the SQLite store: campaigns, their accounts and every attempt.

An attempt is written before it happens and after: `planned` (chosen by the scheduler),
`dialing` (claimed by exactly one dialer with an atomic UPDATE ... WHERE status='planned'),
then `done` with its outcome, written in the same transaction as the call summary, so a
result is never stored without its attempt closing or the other way round. A crash leaves
at most one attempt per account `dialing`; when its dialer is known to be dead that
attempt becomes `unknown`: it counts as an attempt and as a connected call (the doubt goes
the borrower's way) and the account is retried after the no-response delay, never
redialled at once. `skipped` is a claimed attempt that the rules refused at dial time.
"""

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from voicebot.campaigns.scheduler import Target
from voicebot.store import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    line TEXT,
    personas TEXT,
    clock TEXT
);
CREATE TABLE IF NOT EXISTS campaign_accounts (
    campaign TEXT NOT NULL,
    account_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    timezone TEXT NOT NULL,
    overdue_days INTEGER NOT NULL,
    overdue_amount TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    next_at TEXT,
    closed TEXT,
    PRIMARY KEY (campaign, account_id)
);
CREATE INDEX IF NOT EXISTS campaign_due ON campaign_accounts (campaign, next_at)
    WHERE closed IS NULL;
CREATE TABLE IF NOT EXISTS campaign_attempts (
    attempt_id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    account_id TEXT NOT NULL,
    phone TEXT NOT NULL,
    timezone TEXT NOT NULL,
    local_day TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    worker TEXT,
    claimed_at TEXT,
    finished_at TEXT,
    outcome TEXT,
    counted INTEGER NOT NULL DEFAULT 1,
    connected INTEGER NOT NULL DEFAULT 1,
    promise INTEGER NOT NULL DEFAULT 0,
    escalation INTEGER NOT NULL DEFAULT 0,
    call_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS campaign_one_open_attempt
    ON campaign_attempts (campaign, account_id) WHERE status IN ('planned', 'dialing');
CREATE INDEX IF NOT EXISTS campaign_attempts_day ON campaign_attempts (local_day, phone);
CREATE INDEX IF NOT EXISTS campaign_attempts_status ON campaign_attempts (status, campaign);
CREATE INDEX IF NOT EXISTS campaign_attempts_account ON campaign_attempts (campaign, account_id);
CREATE TABLE IF NOT EXISTS campaign_workers (
    worker_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);
"""
# Before any real time: a newly added account is due at once, whatever the clock says.
DUE_NOW = "0001-01-01T00:00:00.000000+00:00"


class CampaignError(ValueError):
    """A campaign that does not exist, or a request that does not fit it."""


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt_id: int
    campaign: str
    account_id: str
    phone: str
    timezone: str
    at: datetime
    status: str


@dataclass(frozen=True)
class Progress:
    """A campaign's totals, for the live display and the final report."""

    placed: int = 0
    connected: int = 0
    promises: int = 0
    escalations: int = 0
    open: int = 0
    unknown: int = 0
    accounts: int = 0
    closed: int = 0


def stamp(moment: datetime) -> str:
    """UTC, fixed width: these strings sort as the moments do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


class CampaignState:
    """The campaign tables, on the store's own connection so a call and its attempt commit
    together."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.db.execute("PRAGMA busy_timeout = 30000")  # workers and the runner share it
        # WAL with synchronous=NORMAL: a killed process loses no commit (only a power cut
        # could), and a commit per attempt stays cheap.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA cache_size = -65536")  # 64 MiB: a 100,000-account round fits
        self.db.executescript(_SCHEMA)

    # --- campaigns and their accounts -------------------------------------------------

    def create(self, name: str, targets: Iterable[Target], now: datetime) -> int:
        """Create `name` (or extend it) with `targets`; returns how many are new to it."""
        rows = [
            (
                name,
                t.account_id,
                t.phone,
                t.timezone,
                t.overdue_days,
                str(t.overdue_amount),
                int(t.overdue_amount * 100),
                DUE_NOW,
            )
            for t in targets
        ]
        existing = set(self.account_ids(name))
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO campaigns (name, created_at) VALUES (?, ?)",
                (name, stamp(now)),
            )
            # An account already in the campaign keeps its schedule; its figures update.
            self.db.executemany(
                "INSERT INTO campaign_accounts VALUES (?,?,?,?,?,?,?,?,NULL)"
                " ON CONFLICT (campaign, account_id) DO UPDATE SET phone = excluded.phone,"
                " timezone = excluded.timezone, overdue_days = excluded.overdue_days,"
                " overdue_amount = excluded.overdue_amount,"
                " amount_cents = excluded.amount_cents",
                rows,
            )
        return sum(1 for row in rows if row[1] not in existing)

    def exists(self, name: str) -> bool:
        row = self.db.execute("SELECT 1 FROM campaigns WHERE name = ?", (name,)).fetchone()
        return row is not None

    def set_line(self, name: str, line: str, personas: str | None) -> None:
        with self.db:
            self.db.execute(
                "UPDATE campaigns SET line = ?, personas = ? WHERE name = ?",
                (line, personas, name),
            )

    def line_of(self, name: str) -> tuple[str, str | None]:
        row = self.db.execute(
            "SELECT line, personas FROM campaigns WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise CampaignError(f"no campaign named {name!r}")
        return row["line"] or "simulated", row["personas"]

    def clock(self, name: str) -> datetime | None:
        """Where a simulated campaign's clock stood when it last ran."""
        row = self.db.execute("SELECT clock FROM campaigns WHERE name = ?", (name,)).fetchone()
        return unstamp(row[0]) if row and row[0] else None

    def save_clock(self, name: str, moment: datetime) -> None:
        with self.db:
            self.db.execute("UPDATE campaigns SET clock = ? WHERE name = ?", (stamp(moment), name))

    def next_due(self, name: str) -> datetime | None:
        """When the earliest open account of the campaign is next due."""
        row = self.db.execute(
            "SELECT MIN(next_at) FROM campaign_accounts a WHERE campaign = ? AND closed IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM campaign_attempts o WHERE o.campaign = a.campaign"
            " AND o.account_id = a.account_id AND o.status IN ('planned', 'dialing'))",
            (name,),
        ).fetchone()
        return unstamp(row[0]) if row and row[0] else None

    def account_ids(self, name: str) -> list[str]:
        rows = self.db.execute(
            "SELECT account_id FROM campaign_accounts WHERE campaign = ?", (name,)
        ).fetchall()
        return [row[0] for row in rows]

    def closures(self, name: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT COALESCE(closed, 'open'), COUNT(*) FROM campaign_accounts"
            " WHERE campaign = ? GROUP BY 1",
            (name,),
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def outcomes(self, name: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT COALESCE(outcome, status), COUNT(*) FROM campaign_attempts"
            " WHERE campaign = ? GROUP BY 1",
            (name,),
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def progress(self, name: str) -> Progress:
        row = self.db.execute(
            "SELECT SUM(status IN ('done', 'unknown') AND counted),"
            " SUM(status IN ('done', 'unknown') AND connected), SUM(promise), SUM(escalation),"
            " SUM(status IN ('planned', 'dialing')), SUM(status = 'unknown')"
            " FROM campaign_attempts WHERE campaign = ?",
            (name,),
        ).fetchone()
        accounts = self.db.execute(
            "SELECT COUNT(*), SUM(closed IS NOT NULL) FROM campaign_accounts WHERE campaign = ?",
            (name,),
        ).fetchone()
        return Progress(*(int(v or 0) for v in row), *(int(v or 0) for v in accounts))

    # --- workers ------------------------------------------------------------------------

    def register_worker(self, worker_id: str, now: datetime) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO campaign_workers VALUES (?,?,?,?,?)",
                (worker_id, socket.gethostname(), os.getpid(), stamp(now), stamp(now)),
            )

    def heartbeat(self, worker_id: str, now: datetime) -> None:
        with self.db:
            self.db.execute(
                "UPDATE campaign_workers SET heartbeat_at = ? WHERE worker_id = ?",
                (stamp(now), worker_id),
            )

    def dead_workers(self, wall_now: datetime, lease: timedelta) -> set[str]:
        """Workers known to be gone: a dead process on this host, or a silent one elsewhere."""
        host = socket.gethostname()
        dead = set()
        for row in self.db.execute("SELECT * FROM campaign_workers"):
            if row["host"] == host:
                gone = not _process_alive(row["pid"])
            else:
                gone = unstamp(row["heartbeat_at"]) + lease < wall_now
            if gone:
                dead.add(row["worker_id"])
        return dead


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
