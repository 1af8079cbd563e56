"""The webhook receiver of the local board: ``POST /hook`` (or ``/hook/<anything>``)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.http import Api, Problem, json_body
from syndicate.testing.board.records import HookDelivery

HOOK_PATH = "/hook"


def error(status: int, message: str) -> dict[str, Any]:
    return {"error": message, "status": status}


def signature_ok(board: Board, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<HMAC of body with the hook secret>``."""
    expected = "sha256=" + hmac.new(board.hook_secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(header.strip(), expected)


def receive(board: Board, path: str, key: str, body: Any) -> HookDelivery:
    """Record a signed delivery, a duplicate when its idempotency key was seen before."""
    with board.lock:
        delivery = HookDelivery(
            path=path,
            idempotency_key=key,
            body=body,
            duplicate=key in board.seen_keys,
            received_at=now(),
        )
        board.seen_keys.add(key)
        board.state.deliveries.append(delivery)
        return delivery


def _signature(board: Board, request: Request, body: bytes) -> Problem | None:
    if not signature_ok(board, body, request.headers.get("x-syndicate-signature")):
        return (401, "X-Syndicate-Signature does not match the body")
    return None


def _receive(board: Board, request: Request, body: bytes) -> Response:
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        return JSONResponse(error(400, "Idempotency-Key is required"), 400)
    data = json_body(body)
    if data is None:
        return JSONResponse(error(400, "the body must be JSON"), 400)
    delivery = receive(board, request.url.path, key, data)
    return JSONResponse({"received": True, "duplicate": delivery.duplicate})


HOOK = Api(error, _signature, _receive)
