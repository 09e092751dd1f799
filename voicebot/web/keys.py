"""Typed keys for what the review app holds: settings, the store, the clock, the secret."""

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from voicebot.config import Settings
from voicebot.review_store import ReviewStore

SETTINGS = web.AppKey("settings", Settings)
REVIEW_STORE = web.AppKey("review_store", ReviewStore)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
SECRET = web.AppKey("secret", bytes)
