"""The Google Indexing API of the local board: ``urlNotifications:publish``."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.http import Api, bearer_problem, json_body
from syndicate.testing.board.records import Notification

PUBLISH_PATH = "/v3/urlNotifications:publish"
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error(status: int, message: str) -> dict[str, Any]:
    """Google's error body."""
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "")}}


def notify(board: Board, url: str, kind: Literal["URL_UPDATED", "URL_DELETED"]) -> dict[str, Any]:
    """Record an indexing notification; the URL's notification metadata."""
    notification = Notification(url=url, type=kind, notify_time=now())
    latest = {
        "url": url,
        "type": kind,
        "notifyTime": notification.notify_time.isoformat().replace("+00:00", "Z"),
    }
    with board.lock:
        board.state.notifications.append(notification)
        metadata = board.index_metadata.setdefault(url, {"url": url})
        metadata["latestUpdate" if kind == "URL_UPDATED" else "latestRemove"] = latest
        return dict(metadata)


def _publish(board: Board, request: Request, body: bytes) -> Response:
    data = json_body(body)
    url = data.get("url") if isinstance(data, dict) else None
    kind = data.get("type") if isinstance(data, dict) else None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return JSONResponse(error(400, "url must be an absolute http(s) URL"), 400)
    if kind not in ("URL_UPDATED", "URL_DELETED"):
        return JSONResponse(error(400, "type must be URL_UPDATED or URL_DELETED"), 400)
    return JSONResponse({"urlNotificationMetadata": notify(board, url, kind)})


PUBLISH = Api(
    error,
    lambda board, request, _: bearer_problem(request, board.config.indexing_bearer),
    _publish,
)
