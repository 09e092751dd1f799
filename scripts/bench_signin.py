"""Does a flood of bad sign-ins slow down agents who are already signed in?

    .venv/bin/python scripts/bench_signin.py [--calls 2000] [--requests 200] [--flood 40]
                                             [--also-on-loop]

Starts the real review app on 127.0.0.1 over a fresh database, signs one agent in, then
times that agent's queue page (GET /, p50 and p95) first alone, then while `--flood`
clients send bad sign-ins back to back. Each flooding client comes from its own loopback
address (127.0.0.10, .11, ...) and tries a new name every time, so neither throttle stops
it early and every attempt that gets through costs a password check: the worst case, a
distributed guesser. `--also-on-loop` repeats both with the password check run on the
event loop, as before the fix, for comparison. Linux (any 127.x.y.z is loopback).
"""

import argparse
import asyncio
import itertools
import multiprocessing
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from voicebot.config import load_settings
from voicebot.review_store import ReviewStore, User
from voicebot.store import Store
from voicebot.web.app import create_app
from voicebot.web.keys import PASSWORD_CHECKER
from voicebot.web.sample_calls import sample_summary
from voicebot.web.signin import HASH_QUEUE, HASH_THREADS, PasswordChecker

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PASSWORD = "bench-password"
ANSWERS = {401: "401 (checked)", 429: "429 (refused)"}
PHASE_LIMIT_S = 30.0  # a phase stops early after this long (the on-loop flood is slow)


class OnLoopChecker(PasswordChecker):
    """The check as it was: scrypt on the event loop, unbounded."""

    async def check(self, store: ReviewStore, username: str, password: str) -> User | None:
        return store.authenticate(username, password)


def populate(path: Path, count: int) -> None:
    store = Store(path)
    rng = random.Random(5)
    for i in range(count):
        summary, account = sample_summary(rng, i, TODAY)
        store.upsert_account(account)
        store.save_call(summary, campaign="M1-2026-11")
    store.close()
    review = ReviewStore(path)
    review.add_user("bench", "agent", PASSWORD, NOW)
    review.close()


def serve_forever(path: Path, on_loop: bool, ready: "multiprocessing.Queue[str]") -> None:
    """The server process: its own interpreter, so the clients' work is not timed."""

    async def serve_until_killed() -> None:
        ready.put(await serve(path, on_loop))
        await asyncio.Event().wait()

    asyncio.run(serve_until_killed())


async def serve(path: Path, on_loop: bool) -> str:
    settings = load_settings(environ={"VOICEBOT_STORE__PATH": str(path)})
    app = create_app(settings, clock=lambda: NOW)
    if on_loop:

        async def use_on_loop_checker(app: web.Application) -> None:
            app[PASSWORD_CHECKER].close()
            app[PASSWORD_CHECKER] = OnLoopChecker()

        app.on_startup.append(use_on_loop_checker)  # runs after the app's own set-up
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


async def login_token(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(f"{base}/login") as response:
        page = await response.text()
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def sign_in(session: aiohttp.ClientSession, base: str) -> None:
    form = {
        "username": "bench",
        "password": PASSWORD,
        "csrf_token": await login_token(session, base),
    }
    async with session.post(f"{base}/login", data=form) as response:
        assert response.status == 200 and response.url.path == "/", response.status


async def time_queue(session: aiohttp.ClientSession, base: str, count: int) -> list[float]:
    """Seconds per signed-in GET of the queue page, one after another."""
    times: list[float] = []
    phase_start = time.perf_counter()
    while len(times) < count and time.perf_counter() - phase_start < PHASE_LIMIT_S:
        started = time.perf_counter()
        async with session.get(f"{base}/") as response:
            await response.read()
            assert response.status == 200, response.status
        times.append(time.perf_counter() - started)
    return times


async def flood(base: str, client: int, stop: asyncio.Event, answers: Counter[str]) -> None:
    """Bad sign-ins back to back from 127.0.0.<10 + client>, a new name each time."""
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{10 + client}", 0))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        token = await login_token(session, base)
        for attempt in itertools.count():
            if stop.is_set():
                return
            form = {"username": f"guess{client}-{attempt}", "password": "x", "csrf_token": token}
            async with session.post(f"{base}/login", data=form) as response:
                page = await response.text()
                answers[ANSWERS.get(response.status, str(response.status))] += 1
                if "尝试次数过多" in page:
                    answers["429 as locked (of the 429s)"] += 1


def run(path: Path, requests: int, flooders: int, on_loop: bool) -> None:
    review = ReviewStore(path)
    with review.db:  # each run starts with no failures on record
        review.db.execute("DELETE FROM sign_in_failures")
    review.close()
    processes = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[str] = processes.Queue()
    server = processes.Process(target=serve_forever, args=(path, on_loop, ready), daemon=True)
    server.start()
    try:
        asyncio.run(measure(ready.get(timeout=60), requests, flooders, on_loop))
    finally:
        server.terminate()
        server.join()


async def measure(base: str, requests: int, flooders: int, on_loop: bool) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
        await sign_in(agent, base)
        await time_queue(agent, base, 20)  # warm: templates, caches
        alone = await time_queue(agent, base, requests)
        stop, answers = asyncio.Event(), Counter[str]()
        tasks = [asyncio.create_task(flood(base, n, stop, answers)) for n in range(flooders)]
        await asyncio.sleep(0.5)  # let the flood build up
        started = time.perf_counter()
        flooded = await time_queue(agent, base, requests)
        rate = sum(answers.values()) / (time.perf_counter() - started + 0.5)
        stop.set()
        await asyncio.gather(*tasks)
    label = "on the event loop (before the fix)" if on_loop else "off the loop (now)"
    print(f"\npassword check {label}; queue page timed {len(alone)} / {len(flooded)} times")
    print(f"  {'':28s}{'p50':>10s}{'p95':>10s}")
    print(f"  {'alone':28s}{ms(percentile(alone, 50))}{ms(percentile(alone, 95))}")
    flooding = f"{flooders} bad sign-ins at once"
    print(f"  {flooding:28s}{ms(percentile(flooded, 50))}{ms(percentile(flooded, 95))}")
    print(
        f"  ratio flood/alone: p50 x{percentile(flooded, 50) / percentile(alone, 50):.1f},"
        f" p95 x{percentile(flooded, 95) / percentile(alone, 95):.1f}"
    )
    shown = ", ".join(f"{answer} {count}" for answer, count in sorted(answers.items()))
    print(f"  flood: {rate:.0f} sign-ins/s; {shown}")


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="calls in the database")
    parser.add_argument("--requests", type=int, default=200, help="queue pages timed per phase")
    parser.add_argument("--flood", type=int, default=40, help="parallel bad sign-ins")
    parser.add_argument("--also-on-loop", action="store_true", help="also time the old way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench_signin.sqlite3"
        populate(path, args.calls)
        print(
            f"{args.calls} calls; password checks: {HASH_THREADS} thread(s),"
            f" {HASH_QUEUE} waiting at most; scrypt n=2**14"
        )
        run(path, args.requests, args.flood, on_loop=False)
        if args.also_on_loop:
            run(path, args.requests, args.flood, on_loop=True)


if __name__ == "__main__":
    main()
