"""What the local board holds, as ``GET /_control/state`` returns it (`BoardView`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from syndicate.testing.board.faults import Fault


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
    expires_at: datetime | None = None  # when the listing lapses (expireAt, or 180 days)


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
    created_at: datetime | None = None  # tasks are forgotten a lifespan after this


class Notification(BaseModel):
    """One Google Indexing notification received."""

    url: str
    type: Literal["URL_UPDATED", "URL_DELETED"]
    notify_time: datetime


class TokenGrant(BaseModel):
    """An access token the token endpoint issued to a service account (the token not kept)."""

    client_email: str
    scope: str
    issued_at: datetime
    expires_at: datetime


class HookDelivery(BaseModel):
    """One webhook delivery whose signature verified.

    ``scheme`` says which signatures verified: ``standard`` (the ``webhook-*`` headers),
    ``legacy`` (``X-Syndicate-Signature``) or ``both``.  ``duplicate``: its ``webhook-id`` was
    seen before or, for a delivery verified by its legacy signature alone, its
    ``Idempotency-Key``.
    """

    path: str
    idempotency_key: str | None  # the legacy Idempotency-Key header, when sent
    webhook_id: str | None  # None: verified by the legacy signature alone
    timestamp: int | None  # webhook-timestamp, the sender's time of this attempt
    scheme: Literal["standard", "legacy", "both"]
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
    at: datetime  # when it was answered (after the board's latency)
    received_at: datetime | None = None  # when it arrived


class IssuedToken(BaseModel):
    """An access token the board's OAuth endpoint handed out."""

    api: Literal["linkedin", "indexing"]
    expires_at: datetime


class BoardView(BaseModel):
    """Everything the board holds, as ``GET /_control/state`` returns it."""

    jobs: dict[str, Job] = {}
    create_requests: dict[str, int] = {}  # CREATE elements received per id, applied or not
    tasks: dict[str, Task] = {}
    notifications: list[Notification] = []
    indexing_quota: dict[str, int] = {}  # notifications accepted per Pacific day (ISO date)
    token_grants: list[TokenGrant] = []
    deliveries: list[HookDelivery] = []
    requests: list[RequestRecord] = []
    faults: list[Fault] = []
    token_requests: int = 0  # access tokens handed out by the OAuth endpoints

    def listed(self) -> dict[str, Job]:
        """The jobs the board shows now."""
        return {key: job for key, job in self.jobs.items() if job.state == "LISTED"}
