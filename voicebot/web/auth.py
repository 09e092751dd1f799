"""Sign-in, sessions and CSRF for the review page.

Sessions live in SQLite (only a hash of the cookie's token) and expire after
`web.session_minutes` idle. Every unsafe request carries a CSRF token that is an HMAC of
the session token under the server secret; the sign-in form's token is an HMAC of a
one-off cookie nonce, so a forged cross-site sign-in is refused too. Cookies are `Secure`
when the server is reached over https (`telephony.public_url`, or TLS here). Throttling
and the password check are in `signin.py`.
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from voicebot.review_store import Session, User
from voicebot.web import signin
from voicebot.web.errors import read_form
from voicebot.web.keys import (
    CLOCK,
    PASSWORD_CHECKER,
    REVIEW_STORE,
    SECRET,
    SECURE_COOKIES,
    SETTINGS,
)

SESSION_COOKIE = "vb_session"
LOGIN_COOKIE = "vb_login"
PUBLIC_PATHS = frozenset({"/login"})
PUBLIC_PREFIXES = ("/static/",)
# Carrier webhooks and media streams: no session and no CSRF token; each request is
# checked against its carrier's signature instead (telephony/).
CARRIER_PREFIX = "/telephony/"
BUSY = "登录请求过多，请稍后再试"

SESSION = web.RequestKey("session", Session)
LOGIN_NONCE = web.RequestKey("login_nonce", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_token(request: web.Request) -> str:
    """The token forms of this session must send back as `csrf_token`."""
    session: Session | None = request.get(SESSION)
    if session is None:
        return _sign(request, "login:" + request.get(LOGIN_NONCE, ""))
    return _sign(request, "session:" + session.token)


def _sign(request: web.Request, seed: str) -> str:
    return hmac.new(request.app[SECRET], seed.encode(), hashlib.sha256).hexdigest()


def current_user(request: web.Request) -> User:
    session: Session = request[SESSION]
    return session.user


def require_supervisor(request: web.Request) -> User:
    user = current_user(request)
    if not user.is_supervisor:
        raise web.HTTPForbidden(text="仅主管可执行此操作")
    return user


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse anything but the sign-in page and static files without a live session;
    refuse any unsafe request whose CSRF token does not match."""
    if request.path.startswith(CARRIER_PREFIX):
        return await handler(request)
    store = request.app[REVIEW_STORE]
    now = request.app[CLOCK]()
    lifetime = timedelta(minutes=request.app[SETTINGS].web.session_minutes)
    token = request.cookies.get(SESSION_COOKIE, "")
    session = store.session(token, now, lifetime) if token else None
    if session:
        request[SESSION] = session
    public = request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES)
    if not public and session is None:
        if request.path.startswith("/api/") or request.path.endswith(".csv"):
            raise web.HTTPUnauthorized(
                text='{"error": "not signed in"}', content_type="application/json"
            )
        return redirect("/login")
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.path != "/login":
        await _check_csrf(request)
    response = await handler(request)
    if session:
        _set_cookie(response, request, SESSION_COOKIE, session.token, lifetime)
    return response


async def _check_csrf(request: web.Request) -> None:
    form = await read_form(request)
    sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf_token", ""))
    if not hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
        raise web.HTTPForbidden(text="CSRF 校验失败，请刷新页面后重试")


async def login_page(request: web.Request) -> web.StreamResponse:
    if SESSION in request:
        return redirect("/")
    return _render_login(request, "", status=200)


async def login_submit(request: web.Request) -> web.StreamResponse:
    """Check the sign-in form; on success start a session and go to the queue."""
    request[LOGIN_NONCE] = request.cookies.get(LOGIN_COOKIE, "")
    form = await read_form(request)
    sent = str(form.get("csrf_token", ""))
    expected = _sign(request, "login:" + request[LOGIN_NONCE])
    if not request[LOGIN_NONCE] or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise web.HTTPForbidden(text="CSRF 校验失败，请刷新页面后重试")
    store, now = request.app[REVIEW_STORE], request.app[CLOCK]()
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))[:1024]
    address = signin.client_address(request)
    if signin.throttled(store, address, username, now):
        return _render_login(request, "尝试次数过多，请15分钟后再试", status=429)
    checker = request.app[PASSWORD_CHECKER]
    if checker.busy:  # refused before anything is written: a flood costs little
        return _render_login(request, BUSY, status=429)
    # Counted as a failure until the password matches: parallel guesses all count.
    attempt = store.note_sign_in_attempt(address, username, now, now - signin.FAILURE_WINDOW)
    try:
        user = await checker.check(store, username, password)
    except signin.SignInBusy:
        store.forget_sign_in_attempt(attempt)
        return _render_login(request, BUSY, status=429)
    if user is None:
        store.audit(username, "login_failed", now, detail=f"from {address}")
        return _render_login(request, "用户名或密码错误", status=401)
    store.forget_sign_in_failures(address, username)
    lifetime = timedelta(minutes=request.app[SETTINGS].web.session_minutes)
    session = store.create_session(user, now, lifetime)
    store.audit(user.username, "login", now)
    response = redirect("/")
    _set_cookie(response, request, SESSION_COOKIE, session.token, lifetime)
    _del_cookie(response, request, LOGIN_COOKIE)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    store = request.app[REVIEW_STORE]
    store.end_session(session.token)
    store.audit(session.user.username, "logout", request.app[CLOCK]())
    del request[SESSION]
    response = redirect("/login")
    _del_cookie(response, request, SESSION_COOKIE)
    return response


def redirect(location: str) -> web.Response:
    """A 303 See Other (returned, so that cookies set on it are sent)."""
    return web.Response(status=303, headers={"Location": location})


def _render_login(request: web.Request, error: str, status: int) -> web.Response:
    if not request.get(LOGIN_NONCE):
        request[LOGIN_NONCE] = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    context = {"error": error, "login_csrf": _sign(request, "login:" + request[LOGIN_NONCE])}
    response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
    _set_cookie(response, request, LOGIN_COOKIE, request[LOGIN_NONCE], timedelta(minutes=30))
    return response


def _set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, life: timedelta
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(life.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


def _del_cookie(response: web.StreamResponse, request: web.Request, name: str) -> None:
    response.del_cookie(name, path="/", httponly=True, samesite="Lax", secure=_secure(request))


def _secure(request: web.Request) -> bool:
    """Whether browsers reach us over https (here, or at the proxy in front)."""
    return request.secure or request.app[SECURE_COOKIES]
