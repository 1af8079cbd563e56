"""LinkedIn's Job Posting API: ``simpleJobPostings`` batches and their tasks (push).

What LinkedIn documents, and what this target does (docs/boards.md has every rule with its
source and test; OAS = the OpenAPI file ``job_posting_v2.yaml`` of
`linkedin-developers/job-posting-development-tools`, SDK = LinkedIn's Java SDK
`linkedin/talent-solutions-java-sdk`):

- **Versions.** The versioned API lives under ``https://api.linkedin.com/rest``, and "all requests
  to versioned APIs will require a new LinkedIn-Version header" in the form ``YYYYMM``
  (Microsoft Learn, *LinkedIn Talent versioning*; the Job Posting API is versioned since 202501,
  *release notes*, March 2025).  Each request to ``/rest`` carries ``LinkedIn-Version:
  <version>`` (option ``version``, default 202603, the latest the versioning page lists; each
  version is supported for at least two years).  The unversioned ``/v2`` endpoint, the only one
  the OAS names (OAS 13-15), takes no header.
- **Batches.** ``POST …/simpleJobPostings`` with ``X-Restli-Method: batch_create`` and
  ``{"elements": [...]}``, at most 100 per call (OAS 19-50; *Create jobs*).  HTTP 200 with one
  result per element: ``{"id": <task URN>, "status": 202}``, or an error inside the 200 that
  belongs to its element only (``{"error": {...}, "status": 422}``).
- **Tasks.** ``GET …/simpleJobPostingTasks?ids=<urn>&ids=<urn>`` (OAS 165-181: ``explode: true``;
  *Check job task status*; the SDK builds the same), no Rest.li 2.0 ``List(…)`` syntax (which
  would need ``X-Restli-Protocol-Version: 2.0.0``, *Protocol version*) and no ``batch_get``
  method header, which no LinkedIn source shows; the query stays under 4 KB (*Check job task
  status*), so long lists are polled in several requests.  ``results`` is keyed by task URN;
  statuses ``IN_PROGRESS``, ``SUCCEEDED`` (with the ``jobPosting`` URN), ``FAILED`` (with
  ``errorMessage``) and ``PROCESSED`` (done; failed validation when it carries an error).
- **Lost answers and lapsed tasks.** Task ids "will have a lifespan of 24 hours" (OAS 167; the
  *Create jobs* note agrees; one page says 30 days: the shorter is assumed), and the API offers
  no lookup by external id.  A task still unresolved `task_lifespan` after it was accepted is
  not polled again: its operation is sent again.  A CREATE the board already has fails as a
  task whose message says it "already exists" (*Check job task status*, error codes) and is sent
  again as an UPDATE, never as a second job; an UPDATE or RENEW of a job the board does not have
  ("not allowed for a non-existing job") is sent again as a CREATE; a CLOSE of a job already
  closed or unknown (409, *Create jobs*) is done, unless a CREATE of it was sent without an
  answer less than ``landing_window`` (10 minutes; our choice, LinkedIn documents no bound)
  ago: that CREATE may still land (LinkedIn processes jobs in tasks; a dead process's request
  may still arrive), so the CLOSE is sent once more when the window has passed.
- **Elements.** Built by `syndicate.adapters.linkedin_json.job_element`, every required field in
  every operation; a CLOSE of a deleted file is the last good version of the posting (or the
  element last sent) with ``jobPostingOperationType: CLOSE``.
- **Expiry and RENEW.** A listing lapses at its ``expireAt`` (180 days by default, OAS 409).
  RENEW "extend[s] the expiry date of the listed job by 30 days" (OAS 304): a job that should
  stay listed past the board's expiry is renewed a week before it lapses.  Whether LinkedIn
  renews free (BASIC) jobs is not documented; ``renew: false`` turns this off.
- **Tokens.** A static bearer (``token_env``) or LinkedIn's 2-legged OAuth: client id and secret
  from the environment (``client_id_env``, ``client_secret_env``), the token fetched from
  ``token_url`` (``POST https://www.linkedin.com/oauth/v2/accessToken`` with
  ``grant_type=client_credentials``, *Client credentials flow*), which "has a 30-minute
  lifespan" (``expires_in``, a number or a string); cached in memory until shortly before it
  expires and fetched again once on a 401 (serviceErrorCode 65602 expired, 65600 invalid).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, model_validator

from syndicate.adapters.auth import ClientCredentials, Credentials, StaticBearer, authorized
from syndicate.adapters.base import (
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.linkedin_json import (
    DEFAULT_EXPIRY,
    ElementSetup,
    element_problems,
    job_element,
)
from syndicate.durations import Duration
from syndicate.errors import AuthenticationError, Problem, PushError
from syndicate.model import Email, HttpUrl, Posting
from syndicate.operations import OperationKind
from syndicate.registry import SECRET, TRANSPORT
from syndicate.secret import EnvName

if TYPE_CHECKING:
    import httpx  # imported where a request is sent (`syndicate.adapters.base`)

SUCCEEDED, FAILED, PROCESSED = "SUCCEEDED", "FAILED", "PROCESSED"
DEFAULT_VERSION = "202603"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
QUERY_LIMIT = 4000  # bytes of a task poll's query string (LinkedIn: at most 4 KB)
RENEWAL = timedelta(days=30)  # what one RENEW adds to a listing's expiry
RENEW_BEFORE = timedelta(days=7)  # how long before it lapses a listing is renewed


class LinkedInApiOptions(PushOptions):
    """``{type: linkedin_api, organization: urn:li:organization:…, token_env: LINKEDIN_TOKEN}``
    or, with LinkedIn's OAuth, ``client_id_env`` and ``client_secret_env`` instead of
    ``token_env``."""

    type: Literal["linkedin_api"]
    endpoint: Annotated[HttpUrl, TRANSPORT] = "https://api.linkedin.com/rest"
    # YYYYMM, or YYYYMM.NN for a revision such as 202508.02 (the versioning page lists both)
    version: Annotated[str, TRANSPORT] = Field(
        default=DEFAULT_VERSION, pattern=r"^20\d{4}(\.\d{2})?$"
    )
    token_env: Annotated[EnvName | None, SECRET] = None
    client_id_env: Annotated[EnvName | None, TRANSPORT] = None
    client_secret_env: Annotated[EnvName | None, TRANSPORT] = None
    token_url: Annotated[HttpUrl, TRANSPORT] = TOKEN_URL
    organization: str = Field(pattern=r"^urn:li:organization:\d+$")
    poster_email: Email | None = None
    poll_interval: Annotated[Duration, TRANSPORT] = timedelta(seconds=1)
    poll_timeout: Annotated[Duration, TRANSPORT] = timedelta(seconds=30)
    task_lifespan: Annotated[Duration, TRANSPORT] = timedelta(hours=24)
    # How long a CREATE sent without an answer may still land (our choice: LinkedIn documents
    # no bound); a CLOSE answered "does not exist" within it is sent once more after it.
    landing_window: Annotated[Duration, TRANSPORT] = timedelta(minutes=10)
    renew: Annotated[bool, TRANSPORT] = True
    # Renew listings this long after the board last accepted them, whatever their expiry
    # (for listings that lapse sooner, such as promoted jobs); unset, only before they lapse.
    renew_after: Annotated[Duration | None, TRANSPORT] = None

    @model_validator(mode="before")
    @classmethod
    def _one_way_to_authenticate(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        oauth = data.get("client_id_env") or data.get("client_secret_env")
        if oauth and data.get("token_env"):
            raise ValueError(
                "use either token_env (a token you provide) or client_id_env and "
                "client_secret_env (LinkedIn's OAuth), not both"
            )
        if oauth and not (data.get("client_id_env") and data.get("client_secret_env")):
            raise ValueError("LinkedIn's OAuth needs both client_id_env and client_secret_env")
        if not oauth and not data.get("token_env"):
            data = {**data, "token_env": "LINKEDIN_TOKEN"}
        return data

    @property
    def versioned(self) -> bool:
        """Whether the endpoint is LinkedIn's versioned ``/rest`` API."""
        return self.endpoint.rstrip("/").endswith("/rest")


class LinkedInApi(PushTarget):
    """Creates, updates, renews and closes jobs through LinkedIn's Job Posting API."""

    summary: ClassVar[str] = "LinkedIn Job Posting API"
    spec_url: ClassVar[str | None] = (
        "https://learn.microsoft.com/en-us/linkedin/talent/job-postings/api/job-posting-api-schema"
    )
    Options: ClassVar[type[TargetOptions]] = LinkedInApiOptions
    max_batch: ClassVar[int] = 100
    operation_keys: ClassVar[frozenset[str]] = frozenset({"jobPostingOperationType", "expireAt"})
    options: LinkedInApiOptions

    def check(self, posting: Posting) -> list[Problem]:
        """LinkedIn's rules (errors) and what it will receive differently (warnings), with
        this target's poster email."""
        setup = ElementSetup(self.options.organization, self.options.poster_email)
        return element_problems(self, posting, setup)

    def accepts(self, kind: OperationKind) -> bool:
        return True

    def renew_after(self) -> timedelta | None:
        return self.options.renew_after

    def renews_before_lapse(self) -> timedelta | None:
        return RENEW_BEFORE if self.options.renew else None

    def listing_expiry(
        self, kind: OperationKind, payload: dict[str, Any], now: datetime, current: datetime | None
    ) -> datetime | None:
        """When the board's listing lapses once it accepts the operation."""
        if kind is OperationKind.CLOSE:
            return None
        if kind is OperationKind.RENEW:
            return (current or now + DEFAULT_EXPIRY) + RENEWAL
        expire_at = payload.get("expireAt")
        if isinstance(expire_at, int):
            return datetime.fromtimestamp(expire_at / 1000, UTC)
        return now + DEFAULT_EXPIRY

    def make_credentials(self) -> Credentials:
        options = self.options
        if options.client_id_env and options.client_secret_env:
            return ClientCredentials(
                options.token_url,
                options.client_id_env,
                options.client_secret_env,
                target=self.name,
            )
        return StaticBearer(options.token_env or "LINKEDIN_TOKEN")

    def secret_env(self) -> str | None:
        return self.options.token_env

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The element of ``posting`` for ``kind``; for a CLOSE without the posting (its file
        is gone and the state has no version of it), the element last sent, closing."""
        if posting is not None:
            setup = ElementSetup(self.options.organization, self.options.poster_email)
            return job_element(posting, context, operation=kind, setup=setup)
        element = dict(previous or {})
        element["externalJobPostingId"] = posting_id
        element["jobPostingOperationType"] = str(kind)
        element.pop("expireAt", None)
        return element

    # -- sending -------------------------------------------------------------------------------

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        """Send the batch's new operations, poll the tasks of earlier ones, and resolve what
        the board answers about jobs it has (or has not) as documented."""
        now = datetime.now(UTC)
        outcomes: dict[int, Outcome] = {}
        tasks = {op.task_id: op for op in batch if op.task_id and not self._lapsed(op, now)}
        fresh = [op for op in batch if op.task_id not in tasks]
        self._submit(client, fresh, tasks, outcomes)
        resent = self._await(client, tasks, outcomes)
        if resent:
            again: dict[str, Outgoing] = {}
            self._submit(client, resent, again, outcomes)
            self._await(client, again, outcomes)
        return [outcomes[op.key] for op in batch]

    def _lapsed(self, op: Outgoing, now: datetime) -> bool:
        accepted = op.task_accepted_at
        return accepted is not None and now - accepted >= self.options.task_lifespan

    def _nothing_to_close(self, op: Outgoing, status: int, message: str) -> Outcome:
        """A CLOSE the board answers "already closed or does not exist" is done, unless a
        CREATE of the job was sent without an answer less than `landing_window` ago: that one
        may still land (a request of a process that died, a task processed late), so the CLOSE
        is sent once more when the window has passed, and the job is never left listed."""
        since = op.create_in_doubt_since
        left = (since + self.options.landing_window - datetime.now(UTC)) if since else None
        if left is None or left <= timedelta(0):
            return Outcome(op.key, ok=True)  # already closed, or never there
        error = (
            f"{status}: {message}; a CREATE sent at {since:%Y-%m-%dT%H:%M:%SZ} got no answer "
            "and may still land, so the close is sent again"
        )
        return Outcome(
            op.key, ok=False, error=error, retryable=True, retry_after=left.total_seconds()
        )

    def _headers(self) -> dict[str, str]:
        return {"LinkedIn-Version": self.options.version} if self.options.versioned else {}

    def _submit(
        self,
        client: httpx.Client,
        ops: Sequence[Outgoing],
        tasks: dict[str, Outgoing],
        outcomes: dict[int, Outcome],
    ) -> None:
        """POST the operations; their tasks go into ``tasks``, refusals into ``outcomes``."""
        retry: list[Outgoing] = []
        for op, result in zip(ops, self._post(client, ops), strict=True):
            self._classify(op, result, tasks, outcomes, retry)
        for op, result in zip(retry, self._post(client, retry), strict=True):
            self._classify(op, result, tasks, outcomes, [])

    def _post(self, client: httpx.Client, ops: Sequence[Outgoing]) -> list[dict[str, Any]]:
        if not ops:
            return []
        response = authorized(
            self._auth(),
            client,
            "POST",
            f"{self.options.endpoint}/simpleJobPostings",
            target=self.name,
            json={"elements": [op.payload for op in ops]},
            headers={"X-Restli-Method": "batch_create", **self._headers()},
        )
        try:
            results = response.json().get("elements", [])
        except (ValueError, AttributeError):
            results = []
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
        turned = _turned(op, message)
        if turned is not None:
            retry.append(turned)
        elif op.kind is OperationKind.CLOSE and status in (404, 409):
            outcomes[op.key] = self._nothing_to_close(op, status, message)
        else:
            outcomes[op.key] = Outcome(
                op.key,
                ok=False,
                error=f"{status}: {message}",
                retryable=status >= 500 or status == 429,
            )

    def _await(
        self, client: httpx.Client, tasks: dict[str, Outgoing], outcomes: dict[int, Outcome]
    ) -> list[Outgoing]:
        """Poll the tasks until each ends or ``poll_timeout`` passes; the operations to send
        again as another kind (a CREATE the board has, an UPDATE of a job it has not)."""
        waiting = dict(tasks)
        resend: list[Outgoing] = []
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
                answer = None if op is None else _task_answer(op, result)
                if op is None or answer is None:
                    continue  # not ours, or still running
                del waiting[urn]
                if isinstance(answer, Outcome):
                    outcomes[op.key] = answer
                else:
                    resend.append(answer)
            if not waiting or time.monotonic() >= deadline:
                break
            time.sleep(self.options.poll_interval.total_seconds())
        for urn, op in waiting.items():
            outcomes[op.key] = Outcome(op.key, ok=False, task_id=urn, error="task still running")
        return resend

    def _task_results(self, client: httpx.Client, urns: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for group in _query_groups(urns):
            response = authorized(
                self._auth(),
                client,
                "GET",
                f"{self.options.endpoint}/simpleJobPostingTasks",
                target=self.name,
                params=[("ids", urn) for urn in group],
                headers=self._headers(),
            )
            found.update(response.json().get("results", {}))
        return found

    def _auth(self) -> Credentials:
        credentials = self.credentials()
        assert credentials is not None  # LinkedIn always authenticates
        return credentials


def _query_groups(urns: list[str]) -> list[list[str]]:
    """The task URNs in groups whose ``ids=…&ids=…`` query stays within LinkedIn's 4 KB."""
    groups: list[list[str]] = []
    size = QUERY_LIMIT
    for urn in urns:
        cost = len("ids=") + len(quote(urn, safe="")) + 1
        if size + cost > QUERY_LIMIT:
            groups.append([])
            size = 0
        groups[-1].append(urn)
        size += cost
    return groups


def _turned(op: Outgoing, message: str) -> Outgoing | None:
    """The operation to send instead, when the board's message says the job is already there
    (a CREATE becomes an UPDATE) or is not (an UPDATE or RENEW becomes a CREATE)."""
    lowered = message.lower()
    if op.kind is OperationKind.CREATE and "already exist" in lowered:
        return _as(op, OperationKind.UPDATE)
    if op.kind in (OperationKind.UPDATE, OperationKind.RENEW) and "non-existing job" in lowered:
        return _as(op, OperationKind.CREATE)
    return None


def _task_answer(op: Outgoing, result: dict[str, Any]) -> Outcome | Outgoing | None:
    """What a task's result says of its operation: an outcome, the operation to send instead
    (see `_turned`), or None while the task runs."""
    status = str(result.get("status", ""))
    error = result.get("errorMessage")
    if status == SUCCEEDED or (status == PROCESSED and not error):
        return Outcome(op.key, ok=True, remote_id=result.get("jobPosting"))
    if status not in (FAILED, PROCESSED):
        return None
    message = str(error or "task failed")
    turned = _turned(op, message)
    return turned if turned is not None else Outcome(op.key, ok=False, error=message)


def _as(op: Outgoing, kind: OperationKind) -> Outgoing:
    payload = dict(op.payload, jobPostingOperationType=str(kind))
    return Outgoing(op.key, kind, op.posting_id, op.content_hash, payload)
