"""`voicebot serve`: the review app, the operators' call list and every enabled phone line.

One aiohttp server. Carrier routes live under `/telephony/<carrier>/` (no session: each
carrier checks its own signature); `GET /calls/active` and `POST /api/calls/outbound`
sit behind the review app's sign-in. A carrier that needs more than routes (the SIP
endpoint's sockets) adds a startup hook in `carrier_hooks`: it runs after the call
runner is ready and stops before it goes.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from telephony.call import CallRunner
from telephony.registry import CallRegistry
from telephony.settings import TelephonySettings, telephony_settings
from voicebot.config import Settings, load_sections
from voicebot.web import auth
from voicebot.web.app import create_app
from voicebot.web.keys import SETTINGS

logger = logging.getLogger(__name__)

StartupHook = Callable[[web.Application], AsyncIterator[None]]  # an aiohttp cleanup context
# Places an outbound call to an account id; returns what the carrier answered (JSON).
Dialer = Callable[[str], Awaitable[dict[str, Any]]]

SECTIONS: web.AppKey[Mapping[str, Any]] = web.AppKey("config_sections")
TELEPHONY = web.AppKey("telephony", TelephonySettings)
CALLS = web.AppKey("active_calls", CallRegistry)
RUNNER = web.AppKey("call_runner", CallRunner)
DIALERS: web.AppKey[dict[str, Dialer]] = web.AppKey("dialers")


def create_server(
    settings: Settings,
    *,
    sections: Mapping[str, Any] | None = None,
    runner: CallRunner | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """The whole server. `sections` (the config file's, overrides applied) name the
    carriers to run; `runner` (tests) replaces the one loaded at start-up."""
    sections = load_sections() if sections is None else sections
    calls = runner.calls if runner is not None else CallRegistry()
    telephony = telephony_settings(sections.get("telephony", {}))
    app = create_app(settings, clock, routes=_operator_routes(), public_url=telephony.public_url)
    app[SECTIONS] = sections
    app[TELEPHONY] = telephony
    app[CALLS] = calls
    app[DIALERS] = {}
    hooks = carrier_hooks(app)
    if runner is not None:
        app[RUNNER] = runner
    elif hooks:
        app.cleanup_ctx.append(_load_runner)
    app.cleanup_ctx.extend(hooks)
    return app


def carrier_hooks(app: web.Application) -> list[StartupHook]:
    """Add the enabled carriers' routes; return their startup hooks (in start order)."""
    from telephony.sip.service import sip_hook
    from telephony.twilio.routes import twilio_hook

    return [hook for hook in (twilio_hook(app), sip_hook(app)) if hook is not None]


def _operator_routes() -> list[web.RouteDef]:
    return [
        web.get("/calls/active", active_calls),
        web.post("/api/calls/outbound", place_call),
    ]


async def active_calls(request: web.Request) -> web.Response:
    """The live calls, numbers masked (any signed-in user)."""
    return web.json_response({"calls": request.app[CALLS].active()})


async def place_call(request: web.Request) -> web.Response:
    """`{"account_id": ..., "line": "twilio"}`: dial the account now (supervisors)."""
    auth.require_supervisor(request)
    try:
        body = await request.json()
        account_id, line = str(body["account_id"]), str(body.get("line", "twilio"))
    except (ValueError, KeyError, TypeError):
        raise _json_error(web.HTTPBadRequest, 'expected {"account_id": ..., "line": ...}') from None
    dialer = request.app[DIALERS].get(line)
    if dialer is None:
        raise _json_error(web.HTTPConflict, f"the {line} line is not configured")
    try:
        placed = await dialer(account_id)
    except LookupError as error:
        raise _json_error(web.HTTPNotFound, str(error)) from None
    return web.json_response(placed, status=202)


def _json_error(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


async def _load_runner(app: web.Application) -> AsyncIterator[None]:
    """Load the speech models once, before the first call can arrive."""
    from voicebot.voice.pipeline import VoiceModels  # pipecat only when a line is enabled

    settings = app[SETTINGS]
    logger.info("telephony: loading the speech models")
    models = await asyncio.to_thread(VoiceModels, settings.voice)
    await asyncio.to_thread(models.warm_up)
    app[RUNNER] = CallRunner(settings, models, calls=app[CALLS])
    yield


def run(settings: Settings) -> None:
    """Serve until interrupted (the `voicebot serve` command)."""
    web.run_app(create_server(settings), host=settings.web.host, port=settings.web.port)
