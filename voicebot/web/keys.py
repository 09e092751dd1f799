"""Typed keys for what the review app holds: settings, the store, the clock, the secret,
the password checker, whether cookies are `Secure` and the values' Chinese labels."""

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from voicebot.config import Settings
from voicebot.notes import Labels
from voicebot.review_store import ReviewStore
from voicebot.web.signin import PasswordChecker

SETTINGS = web.AppKey("settings", Settings)
REVIEW_STORE = web.AppKey("review_store", ReviewStore)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
SECRET = web.AppKey("secret", bytes)
PASSWORD_CHECKER = web.AppKey("password_checker", PasswordChecker)
SECURE_COOKIES = web.AppKey("secure_cookies", bool)
LABELS: web.AppKey[Labels] = web.AppKey("labels")
