"""Sign-in throttling, and password checks that never hold up the event loop.

Throttling, as hosted sign-in services do it (per user *and* client, plus per client):
failures are counted per client address and name, so a stranger elsewhere cannot lock a
supervisor out by typing wrong passwords for their name; failures are also counted per
address over all names, so one address cannot try a few passwords on many names.
IPv6 clients count by their /64 network, which one subscriber usually holds whole.

scrypt takes tens of milliseconds of CPU: it runs on a small thread pool of its own, and
when that pool's queue is full, further attempts are refused at once (429) instead of
piling up.
"""

import asyncio
import ipaddress
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from aiohttp import web

from voicebot.review_store import ReviewStore, User, hash_password, verify_password

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5  # from one address, for one name, within the window
MAX_FAILURES_PER_ADDRESS = 20  # from one address, for any names, within the window
# Half the cores hash at most (1 to 4), so the event loop keeps a core to itself.
HASH_THREADS = min(4, max(1, (os.cpu_count() or 2) // 2))
HASH_QUEUE = 16  # attempts that may wait for a hashing thread; more are refused


class SignInBusy(Exception):
    """Too many sign-ins are being checked at once; the client should retry shortly."""


class PasswordChecker:
    """Checks passwords on its own bounded thread pool, `threads` at a time."""

    def __init__(self, threads: int = HASH_THREADS, queue: int = HASH_QUEUE) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="password")
        self._limit = threads + queue
        self._inside = 0

    @property
    def busy(self) -> bool:
        """Whether a check asked for now would be refused."""
        return self._inside >= self._limit

    async def check(self, store: ReviewStore, username: str, password: str) -> User | None:
        """The user when the password matches, None otherwise (in about the same time);
        raises SignInBusy when the queue is full."""
        if self.busy:
            raise SignInBusy
        self._inside += 1
        try:
            found = store.credentials(username)  # SQLite on the loop, as every request does
            loop = asyncio.get_running_loop()
            if found is None:  # spend the same time as a real check
                await loop.run_in_executor(self._pool, hash_password, password)
                return None
            user, stored = found
            matches = await loop.run_in_executor(self._pool, verify_password, password, stored)
            return user if matches else None
        finally:
            self._inside -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def client_address(request: web.Request) -> str:
    """Whom sign-in failures are counted against: the peer's IPv4 address or IPv6 /64."""
    remote = request.remote or ""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def throttled(store: ReviewStore, address: str, username: str, now: datetime) -> bool:
    """Whether sign-ins for `username` from `address` are refused for now."""
    for_name, for_address = store.sign_in_failures(address, username, now - FAILURE_WINDOW)
    return for_name >= MAX_FAILURES_PER_NAME or for_address >= MAX_FAILURES_PER_ADDRESS
