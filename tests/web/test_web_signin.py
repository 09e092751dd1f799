"""Sign-in under attack: failures are throttled per address and name (and per address),
password checks run off the event loop, and cookies are Secure behind https."""

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from telephony.server import create_server
from tests.web.conftest import PASSWORD, Clock, sign_in
from voicebot.config import Settings
from voicebot.review_store import ReviewStore, hash_password
from voicebot.web import signin
from voicebot.web.app import create_app
from voicebot.web.signin import PasswordChecker, SignInBusy


async def attempt(session: aiohttp.ClientSession, url: str, username: str, password: str) -> int:
    """One sign-in through the form; the status of the answer."""
    page = await (await session.get(f"{url}/login")).text()
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, page
    form = {"username": username, "password": password, "csrf_token": found.group(1)}
    async with session.post(f"{url}/login", data=form, allow_redirects=False) as response:
        return response.status


@pytest.fixture
async def stranger(client: TestClient) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser on another address (127.0.0.2; the client is on 127.0.0.1)."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


def _base(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_a_stranger_cannot_lock_a_user_out(
    client: TestClient, stranger: aiohttp.ClientSession
) -> None:
    url = _base(client)
    statuses = [await attempt(stranger, url, "boss", "wrong-password") for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    assert await attempt(stranger, url, "boss", PASSWORD) == 429  # locked for the stranger
    await sign_in(client, "boss")  # not for boss at his own address


async def test_one_address_cannot_try_many_names(
    client: TestClient, stranger: aiohttp.ClientSession, clock: Clock
) -> None:
    url = _base(client)
    for number in range(signin.MAX_FAILURES_PER_ADDRESS):
        assert await attempt(stranger, url, f"user{number}", "wrong-password") == 401
    assert await attempt(stranger, url, "alice", PASSWORD) == 429
    await sign_in(client, "alice")  # others are not affected
    clock.now += signin.FAILURE_WINDOW + timedelta(seconds=1)
    assert await attempt(stranger, url, "alice", PASSWORD) == 303


async def test_parallel_guesses_are_all_counted(client: TestClient) -> None:
    url = _base(client)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        guesses = [attempt(session, url, "alice", f"wrong-{n}") for n in range(12)]
        statuses = sorted(await asyncio.gather(*guesses))
    assert statuses == [401] * 5 + [429] * 7
    assert await attempt(client.session, url, "alice", PASSWORD) == 429


async def test_signing_in_clears_only_its_own_failures(
    client: TestClient, stranger: aiohttp.ClientSession
) -> None:
    url = _base(client)
    for _ in range(2):
        for _ in range(signin.MAX_FAILURES_PER_NAME - 1):
            assert await attempt(client.session, url, "alice", "wrong-password") == 401
        assert await attempt(stranger, url, "alice", "wrong-password") == 401
        assert await attempt(client.session, url, "alice", PASSWORD) == 303
        await client.post("/logout", data={"csrf_token": await _token(client)})
    for _ in range(signin.MAX_FAILURES_PER_NAME - 2):  # the stranger's 2 still count
        assert await attempt(stranger, url, "alice", "wrong-password") == 401
    assert await attempt(stranger, url, "alice", "wrong-password") == 429


async def _token(client: TestClient) -> str:
    page = await (await client.get("/")).text()
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


async def test_the_password_queue_is_bounded(settings: Settings) -> None:
    store = ReviewStore(settings.store_path)
    checker = PasswordChecker(threads=1, queue=1)
    try:
        results = await asyncio.gather(
            *(checker.check(store, "alice", guess) for guess in [PASSWORD, "x", "y", "z"]),
            return_exceptions=True,
        )
    finally:
        checker.close()
        store.close()
    assert results[0] is not None and results[0].username == "alice"  # type: ignore[union-attr]
    assert results[1] is None
    assert all(isinstance(result, SignInBusy) for result in results[2:])


async def test_a_full_queue_answers_429_in_chinese(settings: Settings, clock: Clock) -> None:
    app = create_app(settings, clock=clock)
    async with TestClient(TestServer(app)) as client:
        url = _base(client)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            limit = signin.HASH_THREADS + signin.HASH_QUEUE
            names = [f"user{n}" for n in range(limit + 4)]  # one guess each: none is locked
            statuses = await asyncio.gather(*(attempt(session, url, n, "x") for n in names))
        assert statuses.count(401) >= limit and 429 in statuses
        assert set(statuses) == {401, 429}


async def test_password_checks_do_not_stall_other_requests(client: TestClient) -> None:
    """While ten sign-ins are checked, the event loop never stops for long: on the loop,
    their scrypt runs back to back would stop it for ten times one check."""
    one_hash = statistics.median(_time(hash_password, PASSWORD) for _ in range(3))
    await (await client.get("/login")).text()  # the template is compiled once, first
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last - 0.002)
            last = now

    ticking = asyncio.create_task(ticker())
    url = _base(client)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        names = [f"user{n}" for n in range(10)]
        statuses = await asyncio.gather(*(attempt(session, url, n, "x") for n in names))
    done.set()
    await ticking
    assert statuses == [401] * 10
    assert max(gaps) < 2 * one_hash, (max(gaps), one_hash)


def _time(work: object, *args: object) -> float:
    assert callable(work)
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


@pytest.mark.parametrize(("public_url", "secure"), [("https://bot.example.com", True), ("", False)])
async def test_cookies_are_secure_behind_https(
    settings: Settings, clock: Clock, public_url: str, secure: bool
) -> None:
    for app in [
        create_app(settings, clock=clock, public_url=public_url),
        create_server(settings, sections={"telephony": {"public_url": public_url}}, clock=clock),
    ]:
        async with TestClient(TestServer(app)) as client:
            login = await client.get("/login")
            cookie = login.cookies["vb_login"]
            assert bool(cookie["secure"]) is secure and cookie["httponly"]
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', await login.text())
            assert token
            response = await client.post(
                "/login",
                data={"username": "alice", "password": PASSWORD, "csrf_token": token.group(1)},
                headers={"Cookie": f"vb_login={cookie.value}"},
                allow_redirects=False,
            )
            assert response.status == 303
            session = response.cookies["vb_session"]
            assert bool(session["secure"]) is secure and session["samesite"] == "Lax"
            assert bool(response.cookies["vb_login"]["secure"]) is secure  # its removal


@pytest.mark.parametrize(
    ("remote", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, ""),
    ],
)
def test_failures_count_against_the_address_or_its_ipv6_network(
    remote: str | None, counted_as: str
) -> None:
    request = make_mocked_request("POST", "/login")
    assert signin.client_address(request.clone(remote=remote)) == counted_as
