"""The LinkedIn-style jobs API: batched ``simpleJobPostings`` operations and task polling (push).

A batch of at most 100 elements is POSTed with ``X-Restli-Method: batch_create``.  The answer is
HTTP 200 with one result per element: an accepted element is a task to poll until it SUCCEEDED
(its ``jobPosting`` URN is the remote id) or FAILED.  Errors inside the 200 belong to their
element only.  Two answers mean an earlier attempt already did the work, and are turned around
rather than failed: a CREATE whose external id "already exists" is sent again as an UPDATE (never
a second job), and a CLOSE of a job the board does not know is done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx

from syndicate.adapters.auth import Credentials, authorized
from syndicate.adapters.base import (
    OperationKind,
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.linkedin_json import check_element_rules, job_element
from syndicate.durations import Duration
from syndicate.errors import AuthenticationError, Problem, PushError
from syndicate.model import HttpUrl, Posting
from syndicate.secret import EnvName

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"


class LinkedInApiOptions(PushOptions):
    """``{type: linkedin_api, endpoint: …, token_env: LINKEDIN_TOKEN, organization: urn:…}``"""

    type: Literal["linkedin_api"]
    endpoint: HttpUrl = "https://api.linkedin.com/rest"
    token_env: EnvName = "LINKEDIN_TOKEN"
    organization: str
    poll_interval: Duration = timedelta(seconds=1)
    poll_timeout: Duration = timedelta(seconds=30)
    # Renew listings this long after the board last accepted them (for listings that lapse,
    # such as LinkedIn's promoted jobs); unset, listings are only created, updated and closed.
    renew_after: Duration | None = None


class LinkedInApi(PushTarget):
    """Creates, updates and closes jobs through a LinkedIn-style jobs API."""

    type_name: ClassVar[str] = "linkedin_api"
    summary: ClassVar[str] = "LinkedIn-style jobs API"
    Options: ClassVar[type[TargetOptions]] = LinkedInApiOptions
    secret_option: ClassVar[str | None] = "token_env"
    max_batch: ClassVar[int] = 100
    operation_keys: ClassVar[frozenset[str]] = frozenset({"jobPostingOperationType"})
    options: LinkedInApiOptions

    def check(self, posting: Posting) -> list[Problem]:
        return [
            self.problem(posting, field, message) for field, message in check_element_rules(posting)
        ]

    def accepts(self, kind: OperationKind) -> bool:
        return True

    def renew_after(self) -> timedelta | None:
        return self.options.renew_after

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if posting is None:
            return {"externalJobPostingId": posting_id, "jobPostingOperationType": str(kind)}
        return job_element(
            posting, context, operation=str(kind), organization_urn=self.options.organization
        )

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        tasks: dict[str, Outgoing] = {op.task_id: op for op in batch if op.task_id}
        fresh = [op for op in batch if not op.task_id]
        retry: list[Outgoing] = []
        for op, result in zip(fresh, self._post(client, fresh), strict=True):
            self._classify(op, result, tasks, outcomes, retry)
        for op, result in zip(retry, self._post(client, retry), strict=True):
            self._classify(op, result, tasks, outcomes, [])
        outcomes.update(self._poll(client, tasks))
        return [outcomes[op.key] for op in batch]

    def _credentials_or_fail(self) -> Credentials:
        credentials = self.credentials()
        assert credentials is not None  # token_env is a required option
        return credentials

    def _post(self, client: httpx.Client, ops: Sequence[Outgoing]) -> list[dict[str, Any]]:
        if not ops:
            return []
        response = authorized(
            self._credentials_or_fail(),
            client,
            "POST",
            f"{self.options.endpoint}/simpleJobPostings",
            target=self.name,
            json={"elements": [op.payload for op in ops]},
            headers={"X-Restli-Method": "batch_create"},
        )
        results = response.json().get("elements", [])
        if len(results) != len(ops):
            message = f"the board answered for {len(results)} of {len(ops)} elements"
            return [{"status": 500, "error": {"message": message}}] * len(ops)
        return results

    def _classify(
        self,
        op: Outgoing,
        result: dict[str, Any],
        tasks: dict[str, Outgoing],
        outcomes: dict[int, Outcome],
        retry: list[Outgoing],
    ) -> None:
        status = int(result.get("status", 500))
        if "error" not in result and 200 <= status < 300 and result.get("id"):
            tasks[str(result["id"])] = op
            return
        message = str((result.get("error") or {}).get("message") or f"element status {status}")
        lowered = message.lower()
        if op.kind is OperationKind.CREATE and "already exist" in lowered:
            retry.append(_as(op, OperationKind.UPDATE))
        elif op.kind is OperationKind.CLOSE and status == 404:
            outcomes[op.key] = Outcome(op.key, ok=True)
        else:
            outcomes[op.key] = Outcome(
                op.key,
                ok=False,
                error=f"{status}: {message}",
                retryable=status >= 500 or status == 429,
            )

    def _poll(self, client: httpx.Client, tasks: dict[str, Outgoing]) -> dict[int, Outcome]:
        """Poll accepted tasks until each finishes or ``poll_timeout`` passes."""
        outcomes: dict[int, Outcome] = {}
        waiting = dict(tasks)
        deadline = time.monotonic() + self.options.poll_timeout.total_seconds()
        while waiting:
            try:
                results = self._task_results(client, list(waiting))
            except AuthenticationError:
                raise  # the target's credentials: nothing more is sent in this run
            except PushError:  # a failed poll leaves the tasks to poll next time
                break
            for urn, result in results.items():
                op = waiting.get(urn)
                status = str(result.get("status", ""))
                if op is None or status not in (SUCCEEDED, FAILED):
                    continue
                del waiting[urn]
                if status == SUCCEEDED:
                    outcomes[op.key] = Outcome(op.key, ok=True, remote_id=result.get("jobPosting"))
                else:
                    error = str(result.get("errorMessage") or "task failed")
                    outcomes[op.key] = Outcome(op.key, ok=False, error=error)
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(self.options.poll_interval.total_seconds())
        for urn, op in waiting.items():
            outcomes[op.key] = Outcome(op.key, ok=False, task_id=urn, error="task still running")
        return outcomes

    def _task_results(self, client: httpx.Client, urns: list[str]) -> dict[str, dict[str, Any]]:
        ids = ",".join(quote(urn, safe="") for urn in urns)
        response = authorized(
            self._credentials_or_fail(),
            client,
            "GET",
            f"{self.options.endpoint}/simpleJobPostingTasks?ids=List({ids})",
            target=self.name,
            headers={"X-Restli-Method": "batch_get"},
        )
        return response.json().get("results", {})


def _as(op: Outgoing, kind: OperationKind) -> Outgoing:
    payload = dict(op.payload, jobPostingOperationType=str(kind))
    return Outgoing(op.key, kind, op.posting_id, op.content_hash, payload)
