"""The review app factory: settings and clock in, an aiohttp Application out."""

import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from voicebot.campaigns.create import campaign_routes
from voicebot.config import Settings
from voicebot.masking import mask_text
from voicebot.notes import labels
from voicebot.review_store import ReviewStore
from voicebot.web import api, auth, views
from voicebot.web.errors import error_pages
from voicebot.web.keys import (
    CLOCK,
    LABELS,
    PASSWORD_CHECKER,
    REVIEW_STORE,
    SECRET,
    SECURE_COOKIES,
    SETTINGS,
)
from voicebot.web.present import clock_text, local_time, money
from voicebot.web.signin import PasswordChecker

HERE = Path(__file__).parent
# Only our own files; no inline script or style, so injected markup cannot run.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
    routes: Sequence[web.RouteDef] = (),
    public_url: str = "",
) -> web.Application:
    """The review app over `settings.store_path`; `clock` (UTC) is injectable for tests.

    `routes` (the telephony server's) are added first, so `/calls/{call_id}` cannot
    shadow them. `public_url` is where browsers reach the server (`telephony.public_url`);
    when it is https, cookies are `Secure` even though TLS ends at a proxy in front.
    """
    app = web.Application(middlewares=[security_headers, error_pages, auth.auth_middleware])
    app[SETTINGS] = settings
    app[CLOCK] = clock or (lambda: datetime.now(UTC))
    app[SECRET] = (settings.web.secret or secrets.token_hex(32)).encode()
    app[SECURE_COOKIES] = public_url.lower().startswith("https://")
    app[LABELS] = labels(settings.prompts_dir)
    app.cleanup_ctx.append(_review_store)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[_page_context],
        undefined=jinja2.StrictUndefined,
    )
    zone = settings.rules.default_timezone
    env.filters.update(
        mask=mask_text,
        clock=clock_text,
        money=money,
        local=lambda iso: local_time(iso, zone),
    )
    env.globals["labels"] = app[LABELS]
    app.router.add_routes(routes)
    _routes(app)
    return app


def _routes(app: web.Application) -> None:
    app.router.add_get("/login", auth.login_page)
    app.router.add_post("/login", auth.login_submit)
    app.router.add_post("/logout", auth.logout)
    app.router.add_get("/", views.queue_page)
    app.router.add_get("/calls/{call_id}", views.call_page)
    app.router.add_get("/calls/{call_id}/recording", views.recording)
    app.router.add_post("/calls/{call_id}/followup", views.add_followup)
    app.router.add_post("/calls/{call_id}/reveal-phone", views.reveal_phone)
    app.router.add_get("/overview", views.overview_page)
    app.router.add_get("/export.csv", api.export_csv)
    app.router.add_get("/api/calls", api.list_calls)
    app.router.add_get("/api/calls/{call_id}", api.call_detail)
    app.router.add_get("/api/overview", api.overview_json)
    for route in campaign_routes(app[SETTINGS]):  # campaigns are run by supervisors
        app.router.add_route(route.method, route.path, _supervisors_only(route.handler))
    app.router.add_static("/static/", HERE / "static", name="static")


def _supervisors_only(handler: auth.Handler) -> auth.Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        auth.require_supervisor(request)
        return await handler(request)

    return guarded


async def _review_store(app: web.Application) -> AsyncIterator[None]:
    store = ReviewStore(app[SETTINGS].store_path)
    app[REVIEW_STORE] = store
    app[PASSWORD_CHECKER] = PasswordChecker()
    yield
    app[PASSWORD_CHECKER].close()
    store.close()


async def _page_context(request: web.Request) -> dict[str, object]:
    session = request.get(auth.SESSION)
    return {
        "user": session.user if session else None,
        "csrf_token": auth.csrf_token(request) if session else "",
        "path": request.path,
    }


@web.middleware
async def security_headers(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _harden(response)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
