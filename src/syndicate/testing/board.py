"""A local job board: the three push APIs syndicate talks to, with faults injected on request.

Tests, benchmarks and people trying syndicate run it instead of the real services::

    with BoardServer(token="t", hook_secret="s") as board:
        # linkedin_api endpoint: board.url; google_indexing endpoint: board.url;
        # webhook url: board.hook_url
        board.add_faults({"kind": "status", "status": 429, "retry_after": 1})
        ...
        assert board.state().jobs["sales-manager"].creates == 1

or standalone: ``python -m syndicate.testing.board --port 8765 --token t --hook-secret s``.

The APIs, as the boards document them (one server, all at its root):

``POST /simpleJobPostings`` (LinkedIn-style jobs API)
    Headers ``Authorization: Bearer <token>`` and ``X-Restli-Method: batch_create``; body
    ``{"elements": [...]}``, 1 to 100 elements, each with ``externalJobPostingId``,
    ``jobPostingOperationType`` (CREATE, UPDATE, RENEW, CLOSE) and, for CREATE and UPDATE, the
    job's fields (``title`` and ``description`` at least).  HTTP 200 with ``{"elements": [...]}``,
    one result per element in order: ``{"id": "urn:li:simpleJobPostingTask:N", "status": 202}``
    or ``{"error": {"message": …}, "status": 4xx}``.  A CREATE whose id exists is a 409 ("…
    already exists"); UPDATE, RENEW or CLOSE of an unknown id a 404.  An accepted element is
    applied when the request is received (a connection dropped afterwards leaves it applied);
    UPDATE and RENEW list a closed job again; CLOSE of a closed job is accepted.
``GET /simpleJobPostingTasks?ids=List(urn1,urn2)``
    ``{"results": {urn: {"status": "SUCCEEDED", "jobPosting": "urn:li:jobPosting:N"} |
    {"status": "IN_PROGRESS"} | {"status": "FAILED", "errorMessage": …}}, "errors": {urn: …}}``.
``POST /v3/urlNotifications:publish`` (Google Indexing API)
    Bearer token (``indexing_token``, by default the same ``token``); body ``{"url": …, "type":
    "URL_UPDATED" | "URL_DELETED"}``; 200 with ``{"urlNotificationMetadata": {"url": …,
    "latestUpdate": {"url", "type", "notifyTime"}}}``, and ``latestRemove`` once the URL was
    deleted, as Google answers.  Errors are Google-shaped: ``{"error": {"code", "message",
    "status"}}``.
``POST /hook`` or ``POST /hook/<anything>`` (webhook)
    A JSON body signed with ``X-Syndicate-Signature: sha256=<hex HMAC-SHA256 of the raw body
    with the hook secret>`` (else 401) and an ``Idempotency-Key`` (else 400).  Every delivery is
    kept, marked ``duplicate`` when its key was seen before; the answer is 200 either way.

Missing or wrong bearer tokens get a 401.  Test control, no authentication:

``POST /_control/faults``
    A fault or a JSON list of faults (see `Fault`), consumed in order as requests come: e.g.
    ``{"path": "/simpleJobPostings", "kind": "status", "status": 500, "times": 2}``,
    ``{"kind": "status", "status": 429, "retry_after": 1}``, ``{"kind": "delay", "seconds": 5}``,
    ``{"kind": "drop_after_apply"}``, ``{"kind": "element_error", "external_id": "x", "status":
    422, "message": "…"}``, ``{"kind": "task_in_progress", "polls": 3}``, ``{"kind":
    "task_failed", "message": "…"}``.  ``DELETE /_control/faults`` clears them.
``GET /_control/state``
    The board's view (`BoardView`): jobs by external id (fields, LISTED/CLOSED, how many CREATEs
    were applied), CREATE elements received per id, tasks, indexing notifications, webhook
    deliveries, every API request received, and the faults still waiting.
``POST /_control/reset``
    Forget everything.

``latency`` (seconds) delays every API answer, for benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

DEFAULT_TOKEN = "test-token"
DEFAULT_HOOK_SECRET = "test-secret"
BATCH_LIMIT = 100
OPERATIONS = ("CREATE", "UPDATE", "RENEW", "CLOSE")
LINKEDIN_PATH = "/simpleJobPostings"
TASKS_PATH = "/simpleJobPostingTasks"
INDEXING_PATH = "/v3/urlNotifications:publish"
HOOK_PATH = "/hook"
REQUIRED_JOB_FIELDS = ("title", "description")


# -- faults ---------------------------------------------------------------------------------------


class _FaultBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    times: int = Field(default=1, ge=1)  # requests (or elements, or tasks) it affects


class _RequestFault(_FaultBase):
    path: str | None = None  # e.g. "/simpleJobPostings"; None: any API request

    def matches(self, path: str) -> bool:
        if self.path is None:
            return True
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


class StatusFault(_RequestFault):
    """Answer with ``status`` (and ``Retry-After``) without applying the request."""

    kind: Literal["status"]
    status: int = Field(ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    message: str = "injected fault"


class DelayFault(_RequestFault):
    """Wait ``seconds`` before handling the request, then apply it even if the client left."""

    kind: Literal["delay"]
    seconds: float = Field(gt=0)


class DropAfterApplyFault(_RequestFault):
    """Apply the request, then close the connection without answering."""

    kind: Literal["drop_after_apply"]


class ElementErrorFault(_FaultBase):
    """Refuse the batch element for ``external_id`` with ``status`` and ``message``."""

    kind: Literal["element_error"]
    external_id: str
    status: int = Field(default=422, ge=400, le=599)
    message: str = "injected element error"


class TaskInProgressFault(_FaultBase):
    """The next task (for ``external_id``, or any) answers IN_PROGRESS for ``polls`` polls."""

    kind: Literal["task_in_progress"]
    polls: int = Field(default=3, ge=1)
    external_id: str | None = None


class TaskFailedFault(_FaultBase):
    """The next task (for ``external_id``, or any) ends FAILED, not applied, after ``polls``."""

    kind: Literal["task_failed"]
    polls: int = Field(default=0, ge=0)
    external_id: str | None = None
    message: str = "injected task failure"


Fault = Annotated[
    StatusFault
    | DelayFault
    | DropAfterApplyFault
    | ElementErrorFault
    | TaskInProgressFault
    | TaskFailedFault,
    Field(discriminator="kind"),
]
FAULTS = TypeAdapter(list[Fault])


# -- what the board holds -------------------------------------------------------------------------


class Job(BaseModel):
    """A job as the LinkedIn-style board shows it."""

    external_id: str
    urn: str
    state: Literal["LISTED", "CLOSED"]
    fields: dict[str, Any]
    creates: int = 0  # CREATE operations applied to this id
    updates: int = 0
    renewals: int = 0
    closes: int = 0
    created_at: datetime
    updated_at: datetime


class Task(BaseModel):
    """An accepted batch element, polled until it ends."""

    urn: str
    external_id: str
    operation: str
    job_posting: str | None
    status: Literal["SUCCEEDED", "FAILED"]  # what it ends as
    error_message: str | None = None
    in_progress_polls: int = 0  # polls still to answer IN_PROGRESS
    polls: int = 0


class Notification(BaseModel):
    """One Google Indexing notification received."""

    url: str
    type: Literal["URL_UPDATED", "URL_DELETED"]
    notify_time: datetime


class HookDelivery(BaseModel):
    """One webhook delivery with a valid signature."""

    path: str
    idempotency_key: str
    body: Any
    duplicate: bool
    received_at: datetime


class RequestRecord(BaseModel):
    """One API request received (control requests are not recorded)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # the ones the APIs define; the bearer token itself is hidden
    body: Any
    status: int | None  # None: the connection was dropped
    fault: str | None  # the kind of fault injected into it
    at: datetime


class BoardView(BaseModel):
    """Everything the board holds, as ``GET /_control/state`` returns it."""

    jobs: dict[str, Job] = {}
    create_requests: dict[str, int] = {}  # CREATE elements received per id, applied or not
    tasks: dict[str, Task] = {}
    notifications: list[Notification] = []
    deliveries: list[HookDelivery] = []
    requests: list[RequestRecord] = []
    faults: list[Fault] = []

    def listed(self) -> dict[str, Job]:
        """The jobs the board shows now."""
        return {key: job for key, job in self.jobs.items() if job.state == "LISTED"}


# -- the board's logic ----------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _element_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message}, "status": status}


class Board:
    """The board's state and rules, without HTTP; safe to use from any thread."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        hook_secret: str = DEFAULT_HOOK_SECRET,
        indexing_token: str | None = None,
        latency: float = 0.0,
        reject_duplicate_creates: bool = True,
    ) -> None:
        self.token = token
        self.indexing_token = indexing_token if indexing_token is not None else token
        self.hook_secret = hook_secret
        self.latency = latency
        self.reject_duplicate_creates = reject_duplicate_creates
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every job, task, notification, delivery, request and fault."""
        with self._lock:
            self._view = BoardView()
            self._index_metadata: dict[str, dict[str, Any]] = {}
            self._seen_keys: set[str] = set()
            self._task_numbers = itertools.count(1)
            self._job_numbers = itertools.count(1)

    def view(self) -> BoardView:
        """A copy of everything the board holds."""
        with self._lock:
            return self._view.model_copy(deep=True)

    def add_faults(self, faults: Iterable[Fault | dict[str, Any]]) -> list[Fault]:
        """Queue faults (models or their JSON form); the faults now waiting."""
        parsed = FAULTS.validate_python(list(faults))
        with self._lock:
            self._view.faults.extend(parsed)
            return list(self._view.faults)

    def clear_faults(self) -> None:
        """Drop every fault still waiting."""
        with self._lock:
            self._view.faults.clear()

    def take_fault(self, kind: str, path: str) -> Fault | None:
        """The first waiting fault of ``kind`` for a request to ``path``, used up once."""
        with self._lock:
            return self._take(lambda f: f.kind == kind and f.matches(path))  # type: ignore[union-attr]

    def record(self, entry: RequestRecord) -> None:
        """Keep one API request in the log."""
        with self._lock:
            self._view.requests.append(entry)

    def _take(self, wanted: Callable[[Any], bool]) -> Fault | None:
        for index, fault in enumerate(self._view.faults):
            if wanted(fault):
                fault.times -= 1
                if fault.times == 0:
                    del self._view.faults[index]
                return fault
        return None

    # LinkedIn-style jobs API

    def apply_batch(self, elements: list[Any]) -> list[dict[str, Any]]:
        """Apply a ``simpleJobPostings`` batch; one result per element, in order."""
        with self._lock:
            return [self._apply_element(element) for element in elements]

    def _apply_element(self, element: Any) -> dict[str, Any]:
        if not isinstance(element, dict):
            return _element_error(400, "each element must be a JSON object")
        external_id = element.get("externalJobPostingId")
        operation = element.get("jobPostingOperationType")
        if not isinstance(external_id, str) or not external_id:
            return _element_error(400, "externalJobPostingId is required")
        if operation not in OPERATIONS:
            return _element_error(
                400, f"jobPostingOperationType must be one of {', '.join(OPERATIONS)}"
            )
        if operation == "CREATE":
            counts = self._view.create_requests
            counts[external_id] = counts.get(external_id, 0) + 1
        injected = self._take(lambda f: f.kind == "element_error" and f.external_id == external_id)
        if isinstance(injected, ElementErrorFault):
            return _element_error(injected.status, injected.message)
        problem = self._refusal(external_id, operation, element)
        if problem is not None:
            return problem
        task_fault = self._take(
            lambda f: (
                f.kind in ("task_in_progress", "task_failed")
                and f.external_id in (None, external_id)
            )
        )
        job = None if isinstance(task_fault, TaskFailedFault) else self._apply(element)
        task = Task(
            urn=f"urn:li:simpleJobPostingTask:{next(self._task_numbers)}",
            external_id=external_id,
            operation=operation,
            job_posting=job.urn if job else None,
            status="FAILED" if isinstance(task_fault, TaskFailedFault) else "SUCCEEDED",
            error_message=task_fault.message if isinstance(task_fault, TaskFailedFault) else None,
            in_progress_polls=task_fault.polls if task_fault is not None else 0,  # type: ignore[union-attr]
        )
        self._view.tasks[task.urn] = task
        return {"id": task.urn, "status": 202}

    def _refusal(self, external_id: str, operation: str, element: dict[str, Any]) -> Any:
        job = self._view.jobs.get(external_id)
        if operation == "CREATE" and job is not None and self.reject_duplicate_creates:
            return _element_error(
                409, f"a job posting with externalJobPostingId {external_id} already exists"
            )
        if operation != "CREATE" and job is None:
            return _element_error(
                404, f"no job posting with externalJobPostingId {external_id} exists"
            )
        if operation in ("CREATE", "UPDATE"):
            missing = [name for name in REQUIRED_JOB_FIELDS if not element.get(name)]
            if missing:
                return _element_error(400, f"{', '.join(missing)}: required for {operation}")
        return None

    def _apply(self, element: dict[str, Any]) -> Job:
        external_id = element["externalJobPostingId"]
        operation = element["jobPostingOperationType"]
        fields = {
            key: value
            for key, value in element.items()
            if key not in ("externalJobPostingId", "jobPostingOperationType")
        }
        now = _now()
        job = self._view.jobs.get(external_id)
        if operation == "CREATE":
            creates = job.creates if job is not None else 0
            job = Job(
                external_id=external_id,
                urn=f"urn:li:jobPosting:{next(self._job_numbers)}",
                state="LISTED",
                fields=fields,
                creates=creates + 1,
                created_at=now,
                updated_at=now,
            )
            self._view.jobs[external_id] = job
            return job
        assert job is not None  # _refusal turned unknown ids away
        if operation == "UPDATE":
            job.fields, job.state, job.updates = fields, "LISTED", job.updates + 1
        elif operation == "RENEW":
            job.state, job.renewals = "LISTED", job.renewals + 1
        else:
            job.state, job.closes = "CLOSED", job.closes + 1
        job.updated_at = now
        return job

    def poll_tasks(self, urns: list[str]) -> dict[str, Any]:
        """The ``simpleJobPostingTasks`` answer for ``urns``."""
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        with self._lock:
            for urn in urns:
                task = self._view.tasks.get(urn)
                if task is None:
                    errors[urn] = {"status": 404, "message": f"no task {urn}"}
                    continue
                task.polls += 1
                if task.in_progress_polls > 0:
                    task.in_progress_polls -= 1
                    results[urn] = {"status": "IN_PROGRESS"}
                elif task.status == "FAILED":
                    results[urn] = {"status": "FAILED", "errorMessage": task.error_message}
                else:
                    results[urn] = {"status": "SUCCEEDED", "jobPosting": task.job_posting}
        return {"results": results, "errors": errors}

    # Google Indexing API

    def notify(self, url: str, kind: Literal["URL_UPDATED", "URL_DELETED"]) -> dict[str, Any]:
        """Record an indexing notification; the URL's notification metadata."""
        notification = Notification(url=url, type=kind, notify_time=_now())
        latest = {
            "url": url,
            "type": kind,
            "notifyTime": notification.notify_time.isoformat().replace("+00:00", "Z"),
        }
        with self._lock:
            self._view.notifications.append(notification)
            metadata = self._index_metadata.setdefault(url, {"url": url})
            metadata["latestUpdate" if kind == "URL_UPDATED" else "latestRemove"] = latest
            return dict(metadata)

    # webhook

    def signature_ok(self, body: bytes, header: str | None) -> bool:
        """Whether ``header`` is ``sha256=<HMAC of body with the hook secret>``."""
        expected = "sha256=" + hmac.new(self.hook_secret.encode(), body, hashlib.sha256).hexdigest()
        return header is not None and hmac.compare_digest(header.strip(), expected)

    def receive_hook(self, path: str, key: str, body: Any) -> HookDelivery:
        """Record a signed delivery, a duplicate when its idempotency key was seen before."""
        with self._lock:
            delivery = HookDelivery(
                path=path,
                idempotency_key=key,
                body=body,
                duplicate=key in self._seen_keys,
                received_at=_now(),
            )
            self._seen_keys.add(key)
            self._view.deliveries.append(delivery)
            return delivery


# -- HTTP -----------------------------------------------------------------------------------------

_Problem = tuple[int, str]  # an HTTP status and what went wrong


def _linkedin_error(status: int, message: str) -> dict[str, Any]:
    return {"message": message, "status": status}


_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _google_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "")}}


def _plain_error(status: int, message: str) -> dict[str, Any]:
    return {"error": message, "status": status}


def _bearer_problem(request: Request, expected: str) -> _Problem | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        return (401, "missing or invalid bearer token")
    return None


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class _Api:
    """One API route: how it authenticates, answers, and words its errors."""

    error: Callable[[int, str], dict[str, Any]]
    authenticate: Callable[[Board, Request, bytes], _Problem | None]
    handle: Callable[[Board, Request, bytes], Response]


def _linkedin_batch(board: Board, request: Request, body: bytes) -> Response:
    if request.headers.get("x-restli-method", "").lower() != "batch_create":
        return JSONResponse(
            _linkedin_error(400, "X-Restli-Method: batch_create is required"), status_code=400
        )
    data = _json_body(body)
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list) or not elements:
        message = 'the body must be {"elements": [...]} with at least one element'
        return JSONResponse(_linkedin_error(400, message), status_code=400)
    if len(elements) > BATCH_LIMIT:
        message = f"at most {BATCH_LIMIT} elements per batch, got {len(elements)}"
        return JSONResponse(_linkedin_error(400, message), status_code=400)
    return JSONResponse({"elements": board.apply_batch(elements)})


_LIST = re.compile(r"List\((.*)\)", re.DOTALL)


def _linkedin_tasks(board: Board, request: Request, body: bytes) -> Response:
    match = _LIST.fullmatch(request.query_params.get("ids", ""))
    urns = [unquote(urn) for urn in match.group(1).split(",") if urn] if match else []
    if not urns:
        message = "ids=List(urn1,urn2,...) is required"
        return JSONResponse(_linkedin_error(400, message), status_code=400)
    return JSONResponse(board.poll_tasks(urns))


def _indexing_publish(board: Board, request: Request, body: bytes) -> Response:
    data = _json_body(body)
    url = data.get("url") if isinstance(data, dict) else None
    kind = data.get("type") if isinstance(data, dict) else None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return JSONResponse(_google_error(400, "url must be an absolute http(s) URL"), 400)
    if kind not in ("URL_UPDATED", "URL_DELETED"):
        return JSONResponse(_google_error(400, "type must be URL_UPDATED or URL_DELETED"), 400)
    return JSONResponse({"urlNotificationMetadata": board.notify(url, kind)})


def _hook_signature(board: Board, request: Request, body: bytes) -> _Problem | None:
    if not board.signature_ok(body, request.headers.get("x-syndicate-signature")):
        return (401, "X-Syndicate-Signature does not match the body")
    return None


def _hook_receive(board: Board, request: Request, body: bytes) -> Response:
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        return JSONResponse(_plain_error(400, "Idempotency-Key is required"), 400)
    data = _json_body(body)
    if data is None:
        return JSONResponse(_plain_error(400, "the body must be JSON"), 400)
    delivery = board.receive_hook(request.url.path, key, data)
    return JSONResponse({"received": True, "duplicate": delivery.duplicate})


_LINKEDIN = _Api(
    _linkedin_error,
    lambda board, request, _: _bearer_problem(request, board.token),
    _linkedin_batch,
)
_TASKS = _Api(
    _linkedin_error,
    lambda board, request, _: _bearer_problem(request, board.token),
    _linkedin_tasks,
)
_INDEXING = _Api(
    _google_error,
    lambda board, request, _: _bearer_problem(request, board.indexing_token),
    _indexing_publish,
)
_HOOK = _Api(_plain_error, _hook_signature, _hook_receive)

_LOGGED_HEADERS = ("content-type", "x-restli-method", "idempotency-key", "x-syndicate-signature")


def _logged_headers(request: Request) -> dict[str, str]:
    headers = {name: request.headers[name] for name in _LOGGED_HEADERS if name in request.headers}
    if "authorization" in request.headers:
        scheme = request.headers["authorization"].partition(" ")[0]
        headers["authorization"] = f"{scheme} ****"
    return headers


class _DroppedConnection(Response):
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


def _endpoint(api: _Api) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        board: Board = request.app.state.board
        path = request.url.path
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
        if isinstance(status, StatusFault):
            applied_fault = status.kind
            headers = {} if status.retry_after is None else {"Retry-After": str(status.retry_after)}
            error = api.error(status.status, status.message)
            response: Response = JSONResponse(error, status.status, headers=headers)
        elif problem is not None:
            response = JSONResponse(api.error(*problem), problem[0])
        else:
            response = api.handle(board, request, body)
            if board.take_fault("drop_after_apply", path) is not None:
                applied_fault = "drop_after_apply"
                response = _DroppedConnection()
        board.record(
            RequestRecord(
                method=request.method,
                path=path,
                query=request.url.query,
                headers=_logged_headers(request),
                body=_json_body(body) if body else None,
                status=None if isinstance(response, _DroppedConnection) else response.status_code,
                fault=applied_fault,
                at=_now(),
            )
        )
        return response

    return endpoint


async def _control_faults(request: Request) -> Response:
    board: Board = request.app.state.board
    if request.method == "DELETE":
        board.clear_faults()
        return JSONResponse({"faults": []})
    data = _json_body(await request.body())
    try:
        waiting = board.add_faults(data if isinstance(data, list) else [data])
    except ValidationError as error:
        problems = json.loads(error.json(include_url=False, include_input=False))
        return JSONResponse({"error": "invalid faults", "problems": problems}, 400)
    return JSONResponse({"faults": FAULTS.dump_python(waiting, mode="json")})


async def _control_state(request: Request) -> Response:
    board: Board = request.app.state.board
    return JSONResponse(board.view().model_dump(mode="json"))


async def _control_reset(request: Request) -> Response:
    request.app.state.board.reset()
    return JSONResponse({"reset": True})


def create_app(
    *,
    token: str = DEFAULT_TOKEN,
    hook_secret: str = DEFAULT_HOOK_SECRET,
    indexing_token: str | None = None,
    latency: float = 0.0,
    reject_duplicate_creates: bool = True,
) -> Starlette:
    """The board as an ASGI app; its `Board` is ``app.state.board``.

    ``token`` is the bearer token of the jobs API (and of the indexing API unless
    ``indexing_token`` is given), ``hook_secret`` the webhook's HMAC secret, ``latency`` seconds
    added to every API answer.  ``reject_duplicate_creates=False`` makes the board apply a
    CREATE of an existing id again (counted in `Job.creates`), as careless boards do.
    """
    routes = [
        Route(LINKEDIN_PATH, _endpoint(_LINKEDIN), methods=["POST"]),
        Route(TASKS_PATH, _endpoint(_TASKS), methods=["GET"]),
        Route(INDEXING_PATH, _endpoint(_INDEXING), methods=["POST"]),
        Route(HOOK_PATH, _endpoint(_HOOK), methods=["POST"]),
        Route(HOOK_PATH + "/{name:path}", _endpoint(_HOOK), methods=["POST"]),
        Route("/_control/faults", _control_faults, methods=["POST", "DELETE"]),
        Route("/_control/state", _control_state, methods=["GET"]),
        Route("/_control/reset", _control_reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.board = Board(
        token=token,
        hook_secret=hook_secret,
        indexing_token=indexing_token,
        latency=latency,
        reject_duplicate_creates=reject_duplicate_creates,
    )
    return app


class BoardServer:
    """The board served by uvicorn in a background thread on a free port of 127.0.0.1.

    ``with BoardServer() as board:`` starts it and stops it; ``board.url`` is where it listens,
    ``board.board`` its `Board`, for direct reads and faults without HTTP.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        hook_secret: str = DEFAULT_HOOK_SECRET,
        indexing_token: str | None = None,
        latency: float = 0.0,
        reject_duplicate_creates: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = create_app(
            token=token,
            hook_secret=hook_secret,
            indexing_token=indexing_token,
            latency=latency,
            reject_duplicate_creates=reject_duplicate_creates,
        )
        self.board: Board = self.app.state.board
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The server's base URL: the jobs API and indexing API endpoint."""
        return f"http://{self.host}:{self.port}"

    @property
    def hook_url(self) -> str:
        """A webhook URL on this server."""
        return self.url + HOOK_PATH

    def start(self) -> BoardServer:
        """Start serving; returns once the server accepts connections."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            http="h11",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"board-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        for _ in range(1000):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            self._thread.join(0.01)
        self.stop()
        raise RuntimeError(f"the board server did not start on {self.url}")

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> BoardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def state(self) -> BoardView:
        """A copy of everything the board holds."""
        return self.board.view()

    def add_faults(self, *faults: Fault | dict[str, Any]) -> list[Fault]:
        """Queue faults (see `Fault`); the faults now waiting."""
        return self.board.add_faults(faults)

    def reset(self) -> None:
        """Forget everything the board holds."""
        self.board.reset()


def main(argv: list[str] | None = None) -> None:
    """``python -m syndicate.testing.board``: serve the board until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m syndicate.testing.board",
        description="A local job board (LinkedIn-style jobs API, Google Indexing API, webhooks) "
        "with fault injection, for trying and testing syndicate.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="bearer token the APIs expect")
    parser.add_argument("--indexing-token", default=None, help="default: --token")
    parser.add_argument("--hook-secret", default=DEFAULT_HOOK_SECRET, help="webhook HMAC secret")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument(
        "--allow-duplicate-creates",
        action="store_true",
        help="apply a CREATE of an existing id again instead of answering 409",
    )
    args = parser.parse_args(argv)
    app = create_app(
        token=args.token,
        hook_secret=args.hook_secret,
        indexing_token=args.indexing_token,
        latency=args.latency,
        reject_duplicate_creates=not args.allow_duplicate_creates,
    )
    print(f"job board on http://{args.host}:{args.port}  (state: /_control/state)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
