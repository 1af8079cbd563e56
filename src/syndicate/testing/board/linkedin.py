"""The LinkedIn-style jobs API of the local board: ``simpleJobPostings`` and its tasks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.faults import ElementErrorFault, TaskFailedFault
from syndicate.testing.board.http import Api, bearer_problem, json_body
from syndicate.testing.board.records import Job, Task

JOBS_PATH = "/simpleJobPostings"
TASKS_PATH = "/simpleJobPostingTasks"
BATCH_LIMIT = 100
OPERATIONS = ("CREATE", "UPDATE", "RENEW", "CLOSE")
REQUIRED_JOB_FIELDS = ("title", "description")


def error(status: int, message: str) -> dict[str, Any]:
    """LinkedIn's error body."""
    return {"message": message, "status": status}


def _element_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message}, "status": status}


def apply_batch(board: Board, elements: list[Any]) -> list[dict[str, Any]]:
    """Apply a ``simpleJobPostings`` batch; one result per element, in order."""
    with board.lock:
        return [_apply_element(board, element) for element in elements]


def _apply_element(board: Board, element: Any) -> dict[str, Any]:
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
        counts = board.state.create_requests
        counts[external_id] = counts.get(external_id, 0) + 1
    injected = board.take(lambda f: f.kind == "element_error" and f.external_id == external_id)
    if isinstance(injected, ElementErrorFault):
        return _element_error(injected.status, injected.message)
    problem = _refusal(board, external_id, operation, element)
    if problem is not None:
        return problem
    task_fault = board.take(
        lambda f: (
            f.kind in ("task_in_progress", "task_failed") and f.external_id in (None, external_id)
        )
    )
    failed = isinstance(task_fault, TaskFailedFault)
    job = None if failed else _apply(board, element)
    task = Task(
        urn=f"urn:li:simpleJobPostingTask:{next(board.task_numbers)}",
        external_id=external_id,
        operation=operation,
        job_posting=job.urn if job else None,
        status="FAILED" if failed else "SUCCEEDED",
        error_message=task_fault.message if isinstance(task_fault, TaskFailedFault) else None,
        in_progress_polls=task_fault.polls if task_fault is not None else 0,  # type: ignore[union-attr]
    )
    board.state.tasks[task.urn] = task
    return {"id": task.urn, "status": 202}


def _refusal(board: Board, external_id: str, operation: str, element: dict[str, Any]) -> Any:
    job = board.state.jobs.get(external_id)
    if operation == "CREATE" and job is not None and board.config.reject_duplicate_creates:
        return _element_error(
            409, f"a job posting with externalJobPostingId {external_id} already exists"
        )
    if operation != "CREATE" and job is None:
        return _element_error(404, f"no job posting with externalJobPostingId {external_id} exists")
    if operation in ("CREATE", "UPDATE"):
        missing = [name for name in REQUIRED_JOB_FIELDS if not element.get(name)]
        if missing:
            return _element_error(400, f"{', '.join(missing)}: required for {operation}")
    return None


def _apply(board: Board, element: dict[str, Any]) -> Job:
    external_id = element["externalJobPostingId"]
    operation = element["jobPostingOperationType"]
    fields = {
        key: value
        for key, value in element.items()
        if key not in ("externalJobPostingId", "jobPostingOperationType")
    }
    moment = now()
    job = board.state.jobs.get(external_id)
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
        )
        board.state.jobs[external_id] = job
        return job
    assert job is not None  # _refusal turned unknown ids away
    if operation == "UPDATE":
        job.fields, job.state, job.updates = fields, "LISTED", job.updates + 1
    elif operation == "RENEW":
        job.state, job.renewals = "LISTED", job.renewals + 1
    else:
        job.state, job.closes = "CLOSED", job.closes + 1
    job.updated_at = moment
    return job


def poll_tasks(board: Board, urns: list[str]) -> dict[str, Any]:
    """The ``simpleJobPostingTasks`` answer for ``urns``."""
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    with board.lock:
        for urn in urns:
            task = board.state.tasks.get(urn)
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


def _batch(board: Board, request: Request, body: bytes) -> Response:
    if request.headers.get("x-restli-method", "").lower() != "batch_create":
        return JSONResponse(error(400, "X-Restli-Method: batch_create is required"), 400)
    data = json_body(body)
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list) or not elements:
        message = 'the body must be {"elements": [...]} with at least one element'
        return JSONResponse(error(400, message), status_code=400)
    if len(elements) > BATCH_LIMIT:
        message = f"at most {BATCH_LIMIT} elements per batch, got {len(elements)}"
        return JSONResponse(error(400, message), status_code=400)
    return JSONResponse({"elements": apply_batch(board, elements)})


_LIST = re.compile(r"List\((.*)\)", re.DOTALL)


def _tasks(board: Board, request: Request, body: bytes) -> Response:
    match = _LIST.fullmatch(request.query_params.get("ids", ""))
    urns = [unquote(urn) for urn in match.group(1).split(",") if urn] if match else []
    if not urns:
        return JSONResponse(error(400, "ids=List(urn1,urn2,...) is required"), status_code=400)
    return JSONResponse(poll_tasks(board, urns))


JOBS = Api(error, lambda board, request, _: bearer_problem(request, board.token), _batch)
TASKS = Api(error, lambda board, request, _: bearer_problem(request, board.token), _tasks)
