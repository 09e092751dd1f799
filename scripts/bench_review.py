"""Time the review page's queue and a filtered search over many stored calls.

    .venv/bin/python scripts/bench_review.py [--calls 100000] [--db var/bench_review.sqlite3]

Generates the calls once (reused when the file already holds enough), then times, each as
the median of several runs: the queries alone, and the whole signed-in HTTP request
(routing, session check, query, template) against the real app on a local port.
"""

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from voicebot.config import PROJECT_ROOT, load_settings
from voicebot.notes import PACKAGED_PROMPTS_DIR, labels
from voicebot.review_store import ReviewStore
from voicebot.store import Store
from voicebot.web.app import create_app
from voicebot.web.queries import find_calls, parse_filters
from voicebot.web.sample_calls import sample_summary

TODAY = date(2026, 11, 25)
RUNS = 15
CASES = {
    "queue (open follow-ups, page 1)": {},
    "queue, page 20": {"page": "20"},
    "search all for 裁员 + outcome": {
        "scope": "all",
        "q": "裁员",
        "outcome": "right_party_contact",
    },
    "search 分期 + reason + date range + campaign": {
        "scope": "all",
        "q": "分期",
        "reason": "income_drop",
        "from": "2026-10-01",
        "to": "2026-11-25",
        "campaign": "M1-2026-11",
    },
    "search queue for 一个字 '病'": {"q": "病"},
    "search all for 5-char phrase 发工资以后 (15% of calls)": {"scope": "all", "q": "发工资以后"},
}


def populate(path: Path, count: int) -> None:
    store = Store(path)
    have = store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    if have >= count:
        store.close()
        return
    store.db.execute("PRAGMA synchronous=OFF")
    rng = random.Random(5)
    started = time.perf_counter()
    for i in range(have, count):
        summary, account = sample_summary(rng, i, TODAY)
        if i < 20_000:
            store.upsert_account(account)
        store.save_call(summary, campaign=rng.choice(["M1-2026-10", "M1-2026-11", "M2-2026-11"]))
    store.close()
    print(f"generated {count - have} calls in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    ReviewStore(path).close()  # indexes and the transcript search index
    print(f"indexed in {time.perf_counter() - started:.0f} s")


def time_queries(path: Path) -> None:
    review = ReviewStore(path)
    print(f"\nqueries alone (median of {RUNS}):")
    for name, params in CASES.items():
        filters = parse_filters(params, labels(PACKAGED_PROMPTS_DIR))
        times, found = [], 0
        for _ in range(RUNS):
            started = time.perf_counter()
            found = find_calls(review.db, filters, TODAY).total
            times.append(time.perf_counter() - started)
        print(f"  {statistics.median(times) * 1000:7.1f} ms  {found:6d} matches  {name}")
    review.close()


async def time_requests(path: Path) -> None:
    settings = load_settings(environ={"VOICEBOT_STORE__PATH": str(path)})
    review = ReviewStore(path)
    review.db.execute("DELETE FROM users WHERE username = 'bench'")
    review.db.commit()
    review.add_user("bench", "agent", "bench-password", datetime.now(UTC))
    review.close()
    app = create_app(settings, clock=lambda: datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        await sign_in(client, base)
        print(f"\nwhole HTTP request, signed in (median of {RUNS}):")
        for name, params in CASES.items():
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                async with client.get(f"{base}/", params=params) as response:
                    await response.read()
                    assert response.status == 200, response.status
                times.append(time.perf_counter() - started)
            print(f"  {statistics.median(times) * 1000:7.1f} ms  {name}")
    await runner.cleanup()


async def sign_in(client: aiohttp.ClientSession, base: str) -> None:
    async with client.get(f"{base}/login") as response:
        page = await response.text()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"username": "bench", "password": "bench-password", "csrf_token": token}
    async with client.post(f"{base}/login", data=form) as response:
        assert response.status == 200 and "登录" not in str(response.url), response.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=PROJECT_ROOT / "var" / "bench_review.sqlite3")
    args = parser.parse_args()
    populate(args.db, args.calls)
    print(f"{args.calls} calls in {args.db}, today = {TODAY}")
    time_queries(args.db)
    asyncio.run(time_requests(args.db))


if __name__ == "__main__":
    main()
