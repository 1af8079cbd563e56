"""What every API of the local board shares over HTTP: how an API is declared, how a request
passes the injected faults and is recorded, and the answers that are not JSON bodies."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.faults import DelayFault, StatusFault
from syndicate.testing.board.records import RequestRecord

Problem = tuple[int, str]  # an HTTP status and what went wrong
Handler = Callable[[Board, Request, bytes], Response]
_LOGGED_HEADERS = (
    "content-type",
    "x-restli-method",
    "x-restli-protocol-version",
    "linkedin-version",
    "idempotency-key",
    "x-syndicate-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


@dataclass(frozen=True, slots=True)
class Api:
    """One API route: how it authenticates, answers, and words its errors."""

    error: Callable[[int, str], dict[str, Any]]
    authenticate: Callable[[Board, Request, bytes], Problem | None]
    handle: Handler


def json_body(body: bytes) -> Any:
    """The request body as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def bearer_problem(request: Request, expected: str) -> Problem | None:
    """401 unless the request carries ``Authorization: Bearer <expected>``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        return (401, "missing or invalid bearer token")
    return None


def logged_headers(request: Request) -> dict[str, str]:
    """The headers the APIs define, the bearer token itself hidden."""
    headers = {name: request.headers[name] for name in _LOGGED_HEADERS if name in request.headers}
    if "authorization" in request.headers:
        scheme = request.headers["authorization"].partition(" ")[0]
        headers["authorization"] = f"{scheme} ****"
    return headers


class DroppedConnection(Response):
    """No answer at all: the connection is closed under the client's feet."""

    def __init__(self) -> None:
        super().__init__(status_code=599)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's receive is a method of the request's cycle, which holds its transport.
        cycle = getattr(receive, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None:  # another server: break the response half-way instead
            start = {"type": "http.response.start", "status": 200}
            await send({**start, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            return
        transport.abort()
        for _ in range(200):  # wait for uvicorn to notice, so that it answers nothing
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0.005)


def endpoint(api: Api) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of ``api``: latency, injected faults, authentication, recording."""

    async def serve(request: Request) -> Response:
        board: Board = request.app.state.board
        path = request.url.path
        received_at = now()
        admitted = board.admit(path)
        body = await request.body()
        applied_fault: str | None = None
        if board.latency:
            await asyncio.sleep(board.latency)
        delay = board.take_fault("delay", path)
        if isinstance(delay, DelayFault):
            applied_fault = delay.kind
            await asyncio.sleep(delay.seconds)
        status = board.take_fault("status", path)
        problem = api.authenticate(board, request, body)
        if not admitted:
            applied_fault = "rate_limit"
            response: Response = JSONResponse(
                api.error(429, "too many requests"), 429, headers={"Retry-After": "1"}
            )
        elif isinstance(status, StatusFault):
            applied_fault = status.kind
            headers = {} if status.retry_after is None else {"Retry-After": str(status.retry_after)}
            error = api.error(status.status, status.message)
            response = JSONResponse(error, status.status, headers=headers)
        elif problem is not None:
            response = JSONResponse(api.error(*problem), problem[0])
        else:
            response = api.handle(board, request, body)
            if board.take_fault("drop_after_apply", path) is not None:
                applied_fault = "drop_after_apply"
                response = DroppedConnection()
        board.record(
            RequestRecord(
                method=request.method,
                path=path,
                query=request.url.query,
                headers=logged_headers(request),
                body=json_body(body) if body else None,
                status=None if isinstance(response, DroppedConnection) else response.status_code,
                fault=applied_fault,
                at=now(),
                received_at=received_at,
            )
        )
        return response

    return serve
