"""The state store's records as the code sees them: frozen dataclasses read from rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from syndicate.errors import Problem
from syndicate.operations import OperationKind
from syndicate.secret import mask
from syndicate.state.schema import DeliveryState, OperationStatus

_MAX_ERROR = 4000  # characters of an error message kept in the store
_CHUNK = 500  # keys per IN (...) clause


@dataclass(frozen=True, slots=True)
class Delivery:
    """A posting on a target: what it last accepted and where the work on it stands."""

    posting_id: str
    target: str
    state: DeliveryState
    content_hash: str | None  # of the last operation the target accepted
    planned_hash: str | None  # of the newest operation planned
    remote_id: str | None
    delivered_kind: OperationKind | None  # of the last operation the target accepted
    version: int  # operations accepted so far
    attempts: int  # attempts of the work in progress
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    source_path: str | None
    first_published_at: datetime | None
    delivered_at: datetime | None  # when the target last accepted an operation
    updated_at: datetime
    posting_hash: str | None = None  # the posting's content hash last accepted
    payload_hash: str | None = None  # digest of the payload last accepted
    expires_at: datetime | None = None  # when the board's listing lapses, if it does

    @property
    def live(self) -> bool:
        """True when the target shows the posting: it accepted something other than a CLOSE."""
        return self.delivered_kind not in (None, OperationKind.CLOSE)


@dataclass(frozen=True, slots=True)
class NewOperation:
    """One step of a plan, for `StateStore.enqueue`.

    ``content_hash`` is the posting's content this operation delivers (a CLOSE may carry it
    too); ``payload`` is any JSON-ready value the publisher wants back when it pushes;
    ``source_path`` is the posting's file, remembered on the delivery.
    """

    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None = None
    payload: Any = None
    source_path: str | None = None
    posting_hash: str | None = None
    payload_hash: str | None = None
    listing_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A planned operation as recorded, with its outcome so far."""

    id: int
    run_id: int | None
    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None
    payload: Any
    status: OperationStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    remote_id: str | None
    created_at: datetime
    finished_at: datetime | None
    not_before: datetime | None = None  # the board's own earliest retry (Retry-After, quota)
    posting_hash: str | None = None
    payload_hash: str | None = None
    task_accepted_at: datetime | None = None
    listing_expires_at: datetime | None = None
    lease_holder: str | None = None  # the daemon (or run) working on it now
    lease_expires_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(posting_id, target)``, the key of its delivery."""
        return (self.posting_id, self.target)


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The target accepted operation ``op_id`` (for `StateStore.record`)."""

    op_id: int
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Operation ``op_id`` failed: retried at ``retry_at``, or never when it is None.

    ``not_before`` is the earliest the board itself allows another try (its ``Retry-After``, a
    daily quota): even `publish --retry-now` waits for it.
    """

    op_id: int
    error: str | BaseException
    retry_at: datetime | None = None
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One ``publish`` run."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Listing:
    """What one target lists of one posting: the last version that loaded and passed the
    target's rules (``content_hash``), its file relative to the postings folder, when that
    version was first listed and when the posting's content last changed."""

    posting_id: str
    target: str
    content_hash: str
    source: str
    listed_at: datetime
    changed_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.posting_id, self.target)


@dataclass(frozen=True, slots=True)
class Hold:
    """A posting kept at its last good version on a target, and what is wrong with it now
    (``problems``: `syndicate.errors.Problem.to_dict` forms)."""

    target: str
    source: str
    posting_id: str
    content_hash: str
    listed_at: datetime
    problems: list[dict[str, Any]]
    since: datetime

    @classmethod
    def of(cls, listing: Listing, problems: Iterable[Problem], since: datetime) -> Hold:
        """``listing`` held since ``since`` because of ``problems``."""
        return cls(
            target=listing.target,
            source=listing.source,
            posting_id=listing.posting_id,
            content_hash=listing.content_hash,
            listed_at=listing.listed_at,
            problems=[problem.to_dict() for problem in problems],
            since=since,
        )


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """A target whose board refused our credentials, and when."""

    target: str
    auth_failed_at: datetime
    error: str


_Row = TypeVar("_Row", Delivery, Operation, Run, Listing, Hold, AuthFailure)


def from_row(cls: type[_Row], row: sa.Row[Any]) -> _Row:
    values = row._mapping
    return cls(**{name: values[name] for name in _field_names(cls)})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    # dataclasses.fields() per row cost as much as the rest of reading a table.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def now_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware datetime")
    return now.astimezone(UTC)


def utc_day(now: datetime | None = None) -> date:
    """The UTC calendar day of ``now`` (default: the current time), the unit of daily quotas."""
    return now_utc(now).date()


def error_text(error: str | BaseException) -> str:
    return mask(str(error))[:_MAX_ERROR]


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
