"""Error answers: unusable input is a 400 in Chinese, and nothing unexpected shows a
traceback or a file path (it is logged here instead)."""

import errno
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiDictProxy

logger = logging.getLogger(__name__)

# aiohttp's own answers ("404: Not Found") in Chinese; other texts are the handlers' own.
_PLAIN = {
    400: "请求无效",
    404: "找不到该页面",
    405: "不支持该请求方法",
    413: "请求内容过大",
}
INTERNAL_ERROR = "服务器内部错误，请稍后再试"
UNREADABLE_FORM = "无法读取提交的表单"


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form; a body that cannot be decoded (bad charset, bytes that are not
    UTF-8, broken multipart) is a 400, not a 500."""
    try:
        return await request.post()
    except web.HTTPException:
        raise  # 413, too large: answered as such
    except Exception:  # whatever the body broke (charset, multipart, encoding): its fault
        raise bad_request(request, UNREADABLE_FORM) from None


def bad_request(request: web.Request, message: str) -> web.HTTPBadRequest:
    """A 400 with `message`: JSON under /api/, plain text elsewhere."""
    if request.path.startswith("/api/"):
        return web.HTTPBadRequest(
            text=json.dumps({"error": message}, ensure_ascii=False),
            content_type="application/json",
        )
    return web.HTTPBadRequest(text=message)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's default error texts in Chinese; any unexpected error a plain 500."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        default = error.text == f"{error.status}: {error.reason}" or error.status == 413
        if error.status in _PLAIN and default:
            _replace_text(request, error, _PLAIN[error.status])
        raise
    except Exception as error:
        if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG:
            answer: web.HTTPException = web.HTTPNotFound()  # a static file's name, too long
            _replace_text(request, answer, _PLAIN[404])
        else:
            logger.exception("review app: %s %s failed", request.method, request.path[:200])
            answer = web.HTTPInternalServerError()
            _replace_text(request, answer, INTERNAL_ERROR)
        raise answer from None


def _replace_text(request: web.Request, error: web.HTTPException, message: str) -> None:
    if request.path.startswith("/api/"):
        error.text = json.dumps({"error": message}, ensure_ascii=False)
        error.content_type = "application/json"
    else:
        error.text = message
        error.content_type = "text/plain"
