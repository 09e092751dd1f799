"""`voicebot serve`: the review app, the operators' call list and every enabled phone line.

One aiohttp server. Carrier routes live under `/telephony/<carrier>/` (no session: each
carrier checks its own signature); `GET /calls/active` and `POST /api/calls/outbound`
sit behind the review app's sign-in. Each carrier in `telephony.carriers` adds itself
(`Carrier.serve`); one that needs more than routes (the SIP endpoint's sockets) returns
a startup hook: it runs after the call runner is ready and stops before it goes.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from telephony.carrier import Carrier, Dialer, StartupHook
from telephony.carriers import CARRIERS
from telephony.keys import CALLS, DIALERS, SECTIONS, SESSIONS, TELEPHONY
from telephony.settings import telephony_settings
from voicebot.calls.registry import CallRegistry
from voicebot.calls.session import CallSessions
from voicebot.config import Settings, load_sections
from voicebot.web import auth
from voicebot.web.app import create_app
from voicebot.web.keys import SETTINGS

logger = logging.getLogger(__name__)


def create_server(
    settings: Settings,
    *,
    sections: Mapping[str, Any] | None = None,
    runner: CallSessions | None = None,
    clock: Callable[[], datetime] | None = None,
    carriers: Iterable[Carrier] = CARRIERS,
) -> web.Application:
    """The whole server. `sections` (the config file's, overrides applied) enable the
    `carriers` to run; `runner` (tests) replaces the one loaded at start-up."""
    sections = load_sections() if sections is None else sections
    calls = runner.calls if runner is not None else CallRegistry()
    telephony = telephony_settings(sections.get("telephony", {}))
    app = create_app(settings, clock, routes=_operator_routes(), public_url=telephony.public_url)
    app[SECTIONS] = sections
    app[TELEPHONY] = telephony
    app[CALLS] = calls
    app[DIALERS] = {}
    hooks = carrier_hooks(app, carriers)
    if runner is not None:
        app[SESSIONS] = runner
    elif hooks:
        app.cleanup_ctx.append(_load_runner)
    app.cleanup_ctx.extend(hooks)
    return app


def carrier_hooks(app: web.Application, carriers: Iterable[Carrier]) -> list[StartupHook]:
    """Add the enabled carriers' routes; return their startup hooks (in start order)."""
    hooks = [carrier.serve(app) for carrier in carriers]
    return [hook for hook in hooks if hook is not None]


def _operator_routes() -> list[web.RouteDef]:
    return [
        web.get("/calls/active", active_calls),
        web.post("/api/calls/outbound", place_call),
    ]


async def active_calls(request: web.Request) -> web.Response:
    """The live calls, numbers masked (any signed-in user)."""
    return web.json_response({"calls": request.app[CALLS].active()})


async def place_call(request: web.Request) -> web.Response:
    """`{"account_id": ..., "line": "twilio"}`: dial the account now (supervisors). The
    line may be left out when only one is configured."""
    auth.require_supervisor(request)
    dialers = request.app[DIALERS]
    try:
        body = await request.json()
        account_id = str(body["account_id"])
        line = _line_named(body, dialers)
    except (ValueError, KeyError, TypeError):
        raise _json_error(web.HTTPBadRequest, 'expected {"account_id": ..., "line": ...}') from None
    dialer = dialers.get(line)
    if dialer is None:
        raise _json_error(web.HTTPConflict, f"the {line} line is not configured")
    try:
        placed = await dialer(account_id)
    except LookupError as error:
        raise _json_error(web.HTTPNotFound, str(error)) from None
    return web.json_response(placed, status=202)


def _line_named(body: Mapping[str, Any], dialers: Mapping[str, Dialer]) -> str:
    """The body's `line`; left out, the only line configured (KeyError when several)."""
    if "line" not in body and len(dialers) == 1:
        return next(iter(dialers))
    return str(body["line"])


def _json_error(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


async def _load_runner(app: web.Application) -> AsyncIterator[None]:
    """Load the speech models once, before the first call can arrive."""
    from voicebot.voice.pipeline import VoiceModels  # pipecat only when a line is enabled

    settings = app[SETTINGS]
    logger.info("telephony: loading the speech models")
    models = await asyncio.to_thread(VoiceModels, settings.voice)
    await asyncio.to_thread(models.warm_up)
    app[SESSIONS] = CallSessions(settings, models, calls=app[CALLS])
    yield


def run(settings: Settings, carriers: Iterable[Carrier] = CARRIERS) -> None:
    """Serve until interrupted (the `voicebot serve` command)."""
    app = create_server(settings, carriers=carriers)
    web.run_app(app, host=settings.web.host, port=settings.web.port)
