"""`X-Twilio-Signature`: HMAC-SHA1 over the URL and the sorted POST parameters.

Twilio signs every webhook and the media stream's websocket upgrade with the account's
auth token: base64(HMAC-SHA1(token, url + key1 + value1 + key2 + value2 ...)), the
parameters sorted by name. The URL is the one Twilio requested, as configured in
`telephony.public_url` when a proxy sits in front.
"""

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable

from aiohttp import web

logger = logging.getLogger(__name__)

HEADER = "X-Twilio-Signature"


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    data = url + "".join(key + value for key, value in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def request_url(request: web.Request, public_url: str) -> str:
    """The URL Twilio signed: the public base URL (when set) and the path with its query."""
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    url = public_url + request.path_qs if public_url else str(request.url)
    if websocket:  # Twilio signs the stream URL as written in the TwiML: ws(s)://
        url = url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return url


async def verified_params(request: web.Request, auth_token: str, public_url: str) -> dict[str, str]:
    """The request's POST parameters once its signature matches; 403 otherwise."""
    form = await request.post() if request.method == "POST" else {}
    params = [(key, str(value)) for key, value in form.items()]
    sent = request.headers.get(HEADER, "")
    url = request_url(request, public_url)
    expected = signature(auth_token, url, params)
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        logger.warning(
            "twilio: %s %s refused: %s signature",
            request.method,
            request.path,
            "wrong" if sent else "no",
        )
        raise web.HTTPForbidden(text="invalid Twilio signature")
    return dict(params)
