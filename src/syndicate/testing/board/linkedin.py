"""The local board's LinkedIn Job Posting API, as strict as LinkedIn documents it.

Routes (both of LinkedIn's bases): ``POST /rest/simpleJobPostings`` and ``/v2/…`` (batches),
``GET /rest/simpleJobPostingTasks`` and ``/v2/…`` (tasks), ``POST /oauth/v2/accessToken`` (the
2-legged OAuth token endpoint).  What it refuses, and how (sources as in
`syndicate.adapters.linkedin_api`; OAS = ``job_posting_v2.yaml``):

- a request to ``/rest`` without a ``LinkedIn-Version`` header of an active version: 400
  ("all requests to versioned APIs will require a new LinkedIn-Version header"; what LinkedIn
  answers exactly is not documented for Talent, the status is ours);
- a missing, unknown or expired bearer token: 401 ``{"serviceErrorCode": 65600 | 65602, …}``
  (OAS 113-122); tokens come from the configured static token or from the token endpoint,
  where they live `BoardConfig.linkedin_token_lifetime` (LinkedIn: 30 minutes);
- a batch without ``X-Restli-Method: batch_create``: 403 "Not enough permissions to access:
  POST /simpleJobPostings" (*Create jobs*, error table); more than 100 elements, or two
  elements for one ``externalJobPostingId``: 400;
- per element, inside the HTTP 200, status 422: a required field missing ("ERROR :: /title ::
  field is required but not found and has no default value", OAS 423-430 and *Create jobs*),
  a wrong type ("cannot be coerced to Long"), a value outside an enum ("is not an enum
  symbol"), ``title`` over 200 characters, an id over 75 (``/rest``) or 200 (``/v2``),
  ``listedAt`` in the future (OAS 322-326), ``expireAt`` not between 24 hours and 180 days
  from now (OAS 409, SDK), more than seven ``alternateLocations``, more than one
  ``workplaceTypes`` value (400), fields no longer supported (``workRemoteAllowed``, ``state``,
  ``countryCode``, ``postalCode``: release notes, Nov 2023 — refusing them is ours), a string
  field (OAS ``type: string``) given another type (the wording is ours), no
  ``posterEmail`` (required since June 2025), no company (400 "Either context or company or
  companyPageUrl or companyName must be provided"); a CLOSE of a job closed or unknown: 409;
- as a task that ends FAILED (*Check job task status*, error codes): a CREATE of an id the board
  has ("Trying to create a job with same partnerIdentifier already exists"), an UPDATE or RENEW
  of one it has not ("Operation type UPDATE is not allowed for a non-existing job"), a
  description under 100 characters (or over 25,000);
- a task poll in Rest.li 2.0 syntax (``ids=List(…)``) without ``X-Restli-Protocol-Version:
  2.0.0``: 400 "Batch key parameter value is invalid"; a query over 4 KB: 414; a task older
  than `BoardConfig.task_lifespan`: unknown (in ``errors``).

RENEW extends a listed job's expiry by 30 days (OAS 304).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board
from syndicate.testing.board.faults import ElementErrorFault, TaskFailedFault
from syndicate.testing.board.http import Api, Problem, json_body
from syndicate.testing.board.records import IssuedToken, Job, Task

BASES = ("/rest", "/v2")
JOBS_PATH = "/simpleJobPostings"
TASKS_PATH = "/simpleJobPostingTasks"
TOKEN_PATH = "/oauth/v2/accessToken"
BATCH_LIMIT = 100
OPERATIONS = ("CREATE", "UPDATE", "RENEW", "CLOSE")
REQUIRED = (
    "companyApplyUrl",
    "externalJobPostingId",
    "jobPostingOperationType",
    "description",
    "title",
    "listedAt",
    "location",
)
ENUMS: dict[str, tuple[str, ...]] = {
    "jobPostingOperationType": OPERATIONS,
    "employmentStatus": (
        "FULL_TIME", "PART_TIME", "CONTRACT", "INTERNSHIP", "TEMPORARY", "VOLUNTEER", "OTHER",
    ),
    "experienceLevel": (
        "ENTRY_LEVEL", "MID_SENIOR_LEVEL", "DIRECTOR", "EXECUTIVE", "INTERNSHIP", "ASSOCIATE",
        "NOT_APPLICABLE",
    ),
    "listingType": ("BASIC", "PREMIUM"),
}  # fmt: skip
WORKPLACE_TYPES = ("On-site", "Hybrid", "Remote")
RETIRED_FIELDS = ("workRemoteAllowed", "state", "countryCode", "postalCode")
INTEGER_FIELDS = ("listedAt", "expireAt")
# Typed ``string`` in the OAS (job_posting_v2.yaml, the Foundation schema); the wording of the
# refusal follows Rest.li's "cannot be coerced to Long" and is ours.
STRING_FIELDS = (
    "companyApplyUrl", "externalJobPostingId", "description", "title", "location",
    "companyName", "companyDescription", "companyJobCode", "skillsDescription", "posterEmail",
    "integrationContext",
)  # fmt: skip
DEFAULT_EXPIRY = timedelta(days=180)
QUERY_LIMIT = 4096


class _ServiceError(TypedDict):
    serviceErrorCode: int
    message: str


_EXPIRED: _ServiceError = {
    "serviceErrorCode": 65602,
    "message": "The token used in the request has expired",
}
_INVALID: _ServiceError = {"serviceErrorCode": 65600, "message": "Invalid access token"}

_URL = re.compile(r"^https?://[^\s/]+\S*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def error(status: int, message: str) -> dict[str, Any]:
    """LinkedIn's error body."""
    return {"message": message, "status": status}


def _element_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "status": status}, "status": status}


# -- authentication -------------------------------------------------------------------------------


def _authenticate(board: Board, request: Request, body: bytes) -> Problem | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return (401, _INVALID["message"])
    if secrets.compare_digest(token, board.config.token):
        return _version_problem(board, request)
    with board.lock:
        issued = board.tokens.get(token)
    if issued is None or issued.api != "linkedin":
        return (401, _INVALID["message"])
    if issued.expires_at <= board.now():
        return (401, _EXPIRED["message"])
    return _version_problem(board, request)


def _version_problem(board: Board, request: Request) -> Problem | None:
    if not request.url.path.startswith("/rest/"):
        return None
    version = request.headers.get("linkedin-version", "")
    active = board.config.linkedin_versions
    if not version:
        return (400, "the LinkedIn-Version header (YYYYMM) is required on versioned APIs")
    if version not in active:
        return (400, f"LinkedIn-Version {version} is not an active version")
    return None


def _auth_error(status: int, message: str) -> dict[str, Any]:
    body = error(status, message)
    for known in (_EXPIRED, _INVALID):
        if message == known["message"]:
            body["serviceErrorCode"] = known["serviceErrorCode"]
    return body


async def token_endpoint(request: Request) -> Response:
    """``POST /oauth/v2/accessToken``: the client-credentials grant, as LinkedIn documents it."""
    board: Board = request.app.state.board
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    config = board.config
    missing = [name for name in ("grant_type", "client_id", "client_secret") if not form.get(name)]
    if missing or form.get("grant_type") != "client_credentials":
        return JSONResponse(
            {"error": "invalid_request", "error_description": "grant_type, client_id and "
             "client_secret are required; grant_type must be client_credentials"},
            status_code=400,
        )  # fmt: skip
    known = config.linkedin_client_id is not None and config.linkedin_client_secret is not None
    if not known or not (
        secrets.compare_digest(form["client_id"], config.linkedin_client_id or "")
        and secrets.compare_digest(form["client_secret"], config.linkedin_client_secret or "")
    ):
        return JSONResponse(
            {"error": "invalid_client_id", "error_description": "Client authentication failed"},
            status_code=401,
        )
    token = "AQV" + secrets.token_urlsafe(32)
    lifetime = config.linkedin_token_lifetime
    with board.lock:
        board.tokens[token] = IssuedToken(
            api="linkedin", expires_at=board.now() + timedelta(seconds=lifetime)
        )
        board.state.token_requests += 1
    # LinkedIn's sample answers expires_in as a string.
    return JSONResponse({"access_token": token, "expires_in": str(int(lifetime))})


# -- batches --------------------------------------------------------------------------------------


def apply_batch(board: Board, elements: list[Any], *, versioned: bool) -> list[dict[str, Any]]:
    """Apply a ``simpleJobPostings`` batch; one result per element, in order."""
    with board.lock:
        return [_apply_element(board, element, versioned) for element in elements]


def _apply_element(board: Board, element: Any, versioned: bool) -> dict[str, Any]:
    if not isinstance(element, dict):
        return _element_error(400, "each element must be a JSON object")
    # Whatever the client sent: schema_problem below says whether it will do.
    external_id: Any = element.get("externalJobPostingId")
    operation: Any = element.get("jobPostingOperationType")
    if operation == "CREATE" and isinstance(external_id, str):
        counts = board.state.create_requests
        counts[external_id] = counts.get(external_id, 0) + 1
    injected = board.take(lambda f: f.kind == "element_error" and f.external_id == external_id)
    if isinstance(injected, ElementErrorFault):
        return _element_error(injected.status, injected.message)
    problem = schema_problem(element, now=board.now(), versioned=versioned)
    if problem is not None:
        return _element_error(*problem)
    job = board.state.jobs.get(external_id)
    if operation == "CLOSE" and (job is None or job.state == "CLOSED"):
        return _element_error(409, "Cannot close job which is already closed or does not exist")
    failure = _task_failure(board, element, job)
    task_fault = board.take(
        lambda f: (
            f.kind in ("task_in_progress", "task_failed") and f.external_id in (None, external_id)
        )
    )
    if isinstance(task_fault, TaskFailedFault):
        failure = task_fault.message
    applied = None if failure else _apply(board, element)
    task = Task(
        urn=f"urn:li:simpleJobPostingTask:{next(board.task_numbers)}",
        external_id=external_id,
        operation=operation,
        job_posting=applied.urn if applied else None,
        status="FAILED" if failure else "SUCCEEDED",
        error_message=failure,
        # Not a TaskFailedFault here, so a task_in_progress fault, which has polls.
        in_progress_polls=task_fault.polls if task_fault is not None else 0,  # type: ignore[union-attr]
        created_at=board.now(),
    )
    board.state.tasks[task.urn] = task
    return {"id": task.urn, "status": 202}


def schema_problem(
    element: dict[str, Any], *, now: datetime, versioned: bool
) -> tuple[int, str] | None:
    """The first rule of the element schema that ``element`` breaks, as (status, message)."""
    for name in REQUIRED:
        if element.get(name) in (None, ""):
            return (
                422,
                f"ERROR :: /{name} :: field is required but not found and has no default value",
            )
    if not any(element.get(name) for name in ("integrationContext", "companyName", "company")):
        return (400, "Either context or company or companyPageUrl or companyName must be provided")
    for name in INTEGER_FIELDS:
        value = element.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return (422, f"ERROR :: /{name} :: {value!r} cannot be coerced to Long")
    for name in STRING_FIELDS:
        value = element.get(name)
        if value is not None and not isinstance(value, str):
            return (422, f"ERROR :: /{name} :: {value!r} cannot be coerced to String")
    for name, allowed in ENUMS.items():
        value = element.get(name)
        if value is not None and value not in allowed:
            return (422, f"ERROR :: /{name} :: {value!r} is not an enum symbol")
    for name in RETIRED_FIELDS:
        if name in element:
            return (422, f"ERROR :: /{name} :: is no longer supported (since June 30, 2024)")
    return _value_problem(element, now, versioned)


def _value_problem(
    element: dict[str, Any], now: datetime, versioned: bool
) -> tuple[int, str] | None:
    id_limit = 75 if versioned else 200
    if len(str(element["externalJobPostingId"])) > id_limit:
        return (422, f"ERROR :: /externalJobPostingId :: longer than {id_limit} characters")
    if len(str(element["title"])) > 200:
        return (422, "ERROR :: /title :: longer than 200 characters")
    if not _URL.match(str(element["companyApplyUrl"])):
        external_id = element["externalJobPostingId"]
        return (400, f"Invalid company apply url for job with externalPartnerId {external_id}")
    if element["listedAt"] > _ms(now):
        return (422, "ERROR :: /listedAt :: should not be a future time")
    expire_at = element.get("expireAt")
    if expire_at is not None and not (
        _ms(now + timedelta(hours=24)) < expire_at <= _ms(now + DEFAULT_EXPIRY)
    ):
        return (422, "Invalid ExpirationDate: expireAt must be within 24 hours to 180 days")
    workplace = element.get("workplaceTypes")
    if workplace is not None:
        if not isinstance(workplace, list) or len(workplace) != 1:
            return (400, "The workplaceTypes field cannot have more than one value provided")
        # LinkedIn's samples write "remote", its SDK "Remote", its error text "On-Site": the
        # case rule is not documented, so any case of the three values is taken.
        if str(workplace[0]).lower() not in {kind.lower() for kind in WORKPLACE_TYPES}:
            return (422, f"ERROR :: /workplaceTypes :: {workplace[0]!r} is not an enum symbol")
    alternates = element.get("alternateLocations") or []
    if len(alternates) > 7:
        return (422, "A job cannot have more than seven locations in alternateLocations")
    poster = element.get("posterEmail")
    if not isinstance(poster, str) or not _EMAIL.match(poster):
        return (422, "ERROR :: /posterEmail :: a job poster email is required for each job")
    return None


def _task_failure(board: Board, element: dict[str, Any], job: Job | None) -> str | None:
    """Why the element's task fails, as LinkedIn words it, or None."""
    operation = element["jobPostingOperationType"]
    external_id = element["externalJobPostingId"]
    if operation == "CREATE" and job is not None and board.config.reject_duplicate_creates:
        return (
            "Trying to create a job with same partnerIdentifier already exists. Dropping the "
            f"duplicate request. LinkedIn job id: {job.urn}, externalJobPostingId: {external_id}"
        )
    if operation in ("UPDATE", "RENEW") and job is None:
        return (
            f"Operation type {operation} is not allowed for a non-existing job of partner "
            f"urn, externalJobPostingId: {external_id}"
        )
    length = len(str(element["description"]))
    if operation != "CLOSE" and not 100 <= length <= 25_000:
        return "The description length should be at least 100 characters and at most 25000"
    return None


def _apply(board: Board, element: dict[str, Any]) -> Job:
    external_id = element["externalJobPostingId"]
    operation = element["jobPostingOperationType"]
    fields = {
        key: value
        for key, value in element.items()
        if key not in ("externalJobPostingId", "jobPostingOperationType")
    }
    moment = board.now()
    job = board.state.jobs.get(external_id)
    expiry = element.get("expireAt")
    expires = _at(expiry) if isinstance(expiry, int) else moment + DEFAULT_EXPIRY
    if operation == "CREATE":
        creates = job.creates if job is not None else 0
        job = Job(
            external_id=external_id,
            urn=f"urn:li:jobPosting:{next(board.job_numbers)}",
            state="LISTED",
            fields=fields,
            creates=creates + 1,
            created_at=moment,
            updated_at=moment,
            expires_at=expires,
        )
        board.state.jobs[external_id] = job
        return job
    assert job is not None  # _task_failure turned unknown ids away
    if operation == "UPDATE":
        job.fields, job.state, job.updates, job.expires_at = (
            fields,
            "LISTED",
            job.updates + 1,
            expires,
        )
    elif operation == "RENEW":
        job.state, job.renewals = "LISTED", job.renewals + 1
        job.expires_at = (job.expires_at or moment) + timedelta(days=30)
    else:
        job.state, job.closes = "CLOSED", job.closes + 1
    job.updated_at = moment
    return job


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# -- tasks ----------------------------------------------------------------------------------------


def poll_tasks(board: Board, urns: list[str]) -> dict[str, Any]:
    """The ``simpleJobPostingTasks`` answer for ``urns``."""
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    lifespan = timedelta(seconds=board.config.task_lifespan)
    with board.lock:
        moment = board.now()
        for urn in urns:
            task = board.state.tasks.get(urn)
            if task is None or (task.created_at and moment - task.created_at >= lifespan):
                errors[urn] = {"status": 404, "message": f"no task {urn}"}
                continue
            task.polls += 1
            base = {"id": urn, "externalJobPostingId": task.external_id}
            if task.in_progress_polls > 0:
                task.in_progress_polls -= 1
                results[urn] = base | {"status": "IN_PROGRESS"}
            elif task.status == "FAILED":
                results[urn] = base | {"status": "FAILED", "errorMessage": task.error_message}
            else:
                results[urn] = base | {"status": "SUCCEEDED", "jobPosting": task.job_posting}
    return {"results": results, "statuses": {}, "errors": errors}


def _batch(board: Board, request: Request, body: bytes) -> Response:
    if request.headers.get("x-restli-method", "").lower() != "batch_create":
        message = "Not enough permissions to access: POST /simpleJobPostings"
        return JSONResponse(error(403, message), 403)
    data = json_body(body)
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list) or not elements:
        message = 'the body must be {"elements": [...]} with at least one element'
        return JSONResponse(error(400, message), status_code=400)
    if len(elements) > BATCH_LIMIT:
        message = f"at most {BATCH_LIMIT} elements per batch, got {len(elements)}"
        return JSONResponse(error(400, message), status_code=400)
    ids = [e.get("externalJobPostingId") for e in elements if isinstance(e, dict)]
    if len(ids) != len(set(ids)):
        message = "a request must not hold two operations for one externalJobPostingId"
        return JSONResponse(error(400, message), status_code=400)
    versioned = request.url.path.startswith("/rest/")
    return JSONResponse({"elements": apply_batch(board, elements, versioned=versioned)})


def _tasks(board: Board, request: Request, body: bytes) -> Response:
    query = request.url.query
    if len(query.encode()) > QUERY_LIMIT:
        return JSONResponse(error(414, "the query is longer than 4 KB"), 414)
    values = request.query_params.getlist("ids")
    protocol_2 = request.headers.get("x-restli-protocol-version") == "2.0.0"
    if len(values) == 1 and values[0].startswith("List("):
        if not protocol_2:
            return JSONResponse(error(400, "Batch key parameter value is invalid"), 400)
        values = [unquote(v) for v in values[0].removeprefix("List(").removesuffix(")").split(",")]
    urns = [urn for urn in values if urn]
    if not urns or not all(urn.startswith("urn:li:simpleJobPostingTask:") for urn in urns):
        return JSONResponse(error(400, "Batch key parameter value is invalid"), 400)
    return JSONResponse(poll_tasks(board, urns))


JOBS = Api(_auth_error, _authenticate, _batch)
TASKS = Api(_auth_error, _authenticate, _tasks)
