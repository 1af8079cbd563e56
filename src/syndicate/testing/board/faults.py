"""Faults the local board injects on request (``POST /_control/faults``), consumed in order."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


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
