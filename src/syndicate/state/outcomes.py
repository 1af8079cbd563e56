"""Recording board outcomes: the few statements that settle operations and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.operations import OperationKind
from syndicate.state.schema import (
    DeliveryState,
    OperationStatus,
    UTCDateTime,
    deliveries_table,
    operations_table,
)


class OperationHead(NamedTuple):
    id: int
    posting_id: str
    target: str
    kind: OperationKind
    content_hash: str | None
    status: OperationStatus
    posting_hash: str | None
    payload_hash: str | None
    listing_expires_at: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.posting_id, self.target)


_OPS = operations_table.c
_DELS = deliveries_table.c
_WHERE_OP = _OPS.id == sa.bindparam("k_id")
_WHERE_DELIVERY = sa.and_(
    _DELS.posting_id == sa.bindparam("k_posting"), _DELS.target == sa.bindparam("k_target")
)
# An outcome recorded ends the operation's lease, in the same statement.
_LEASE_ENDED: dict[str, None] = {"lease_holder": None, "lease_expires_at": None}
_SUCCEED_OPERATION = (
    sa.update(operations_table)
    .where(_WHERE_OP)
    .values(
        status=OperationStatus.SUCCEEDED,
        remote_id=sa.bindparam("v_remote"),
        next_attempt_at=None,
        finished_at=sa.bindparam("v_now"),
        **_LEASE_ENDED,
    )
)
# A delivery takes what the board accepted; content hash and remote id are kept when the
# outcome has none, and the first publication time is set by the first accepted non-CLOSE.
_SUCCEED_DELIVERY = (
    sa.update(deliveries_table)
    .where(_WHERE_DELIVERY)
    .values(
        state=sa.bindparam("v_state"),
        delivered_kind=sa.bindparam("v_kind"),
        version=_DELS.version + 1,
        delivered_at=sa.bindparam("v_now"),
        attempts=0,
        next_attempt_at=None,
        last_error=None,
        updated_at=sa.bindparam("v_now"),
        content_hash=sa.func.coalesce(sa.bindparam("v_hash", type_=sa.String), _DELS.content_hash),
        posting_hash=sa.func.coalesce(
            sa.bindparam("v_posting", type_=sa.String), _DELS.posting_hash
        ),
        payload_hash=sa.func.coalesce(
            sa.bindparam("v_payload", type_=sa.String), _DELS.payload_hash
        ),
        expires_at=sa.bindparam("v_expires", type_=UTCDateTime()),
        remote_id=sa.func.coalesce(sa.bindparam("v_remote", type_=sa.Text), _DELS.remote_id),
        first_published_at=sa.case(
            (sa.bindparam("v_closing", type_=sa.Boolean), _DELS.first_published_at),
            else_=sa.func.coalesce(
                _DELS.first_published_at, sa.bindparam("v_now", type_=UTCDateTime())
            ),
        ),
    )
)
_FAIL_SUPERSEDED = (
    sa.update(operations_table)
    .where(_WHERE_OP)
    .values(last_error=sa.bindparam("v_error"), **_LEASE_ENDED)
)
_FAIL_OPERATION = (
    sa.update(operations_table)
    .where(_WHERE_OP)
    .values(
        status=sa.bindparam("v_status"),
        next_attempt_at=sa.bindparam("v_retry"),
        not_before=sa.bindparam("v_not_before"),
        last_error=sa.bindparam("v_error"),
        finished_at=sa.bindparam("v_finished"),
        **_LEASE_ENDED,
    )
)
_FAIL_DELIVERY = (
    sa.update(deliveries_table)
    .where(_WHERE_DELIVERY)
    .values(
        state=sa.bindparam("v_state"),
        next_attempt_at=sa.bindparam("v_retry"),
        last_error=sa.bindparam("v_error"),
        updated_at=sa.bindparam("v_now"),
    )
)


@dataclass(slots=True)
class OutcomeUpdates:
    """The rows that recording a set of outcomes changes, written by a few executemany calls.

    Each operation row changes once (and its lease ends); delivery rows change in outcome
    order, so that two outcomes for one delivery apply as if recorded one after the other.
    """

    done: set[int] = field(default_factory=set)
    operations: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    deliveries: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    def success(
        self, op: OperationHead, remote_id: str | None, *, newer_open: bool, now: datetime
    ) -> None:
        closing = op.kind is OperationKind.CLOSE
        settled = DeliveryState.CLOSED if closing else DeliveryState.PUBLISHED
        self.done.add(op.id)
        self.operations.append(
            (_SUCCEED_OPERATION, {"k_id": op.id, "v_remote": remote_id, "v_now": now})
        )
        self.deliveries.append(
            (
                _SUCCEED_DELIVERY,
                {
                    "k_posting": op.posting_id,
                    "k_target": op.target,
                    "v_state": DeliveryState.PENDING if newer_open else settled,
                    "v_kind": op.kind,
                    "v_now": now,
                    "v_hash": op.content_hash,
                    "v_posting": op.posting_hash,
                    "v_payload": op.payload_hash,
                    "v_expires": op.listing_expires_at,
                    "v_remote": remote_id,
                    "v_closing": closing,
                },
            )
        )

    def failure(
        self,
        op: OperationHead,
        error: str,
        retry_at: datetime | None,
        *,
        now: datetime,
        not_before: datetime | None = None,
    ) -> None:
        self.done.add(op.id)
        if op.status is OperationStatus.SUPERSEDED:
            self.operations.append((_FAIL_SUPERSEDED, {"k_id": op.id, "v_error": error}))
            return
        retry = retry_at is not None
        self.operations.append(
            (
                _FAIL_OPERATION,
                {
                    "k_id": op.id,
                    "v_status": OperationStatus.QUEUED if retry else OperationStatus.FAILED,
                    "v_retry": retry_at,
                    "v_not_before": not_before if retry else None,
                    "v_error": error,
                    "v_finished": None if retry else now,
                },
            )
        )
        self.deliveries.append(
            (
                _FAIL_DELIVERY,
                {
                    "k_posting": op.posting_id,
                    "k_target": op.target,
                    "v_state": DeliveryState.PENDING if retry else DeliveryState.FAILED,
                    "v_retry": retry_at,
                    "v_error": error,
                    "v_now": now,
                },
            )
        )

    def execute(self, conn: Connection) -> None:
        """Run the updates: operations grouped by statement, deliveries in order."""
        order = {_SUCCEED_OPERATION: 0, _FAIL_OPERATION: 1, _FAIL_SUPERSEDED: 2}
        _execute_runs(conn, sorted(self.operations, key=lambda item: order[item[0]]))
        _execute_runs(conn, self.deliveries)


def _execute_runs(conn: Connection, statements: Sequence[tuple[Any, dict[str, Any]]]) -> None:
    """Execute ``statements`` in order, each run of one statement as one executemany."""
    run: list[dict[str, Any]] = []
    current: Any = None
    for statement, params in statements:
        if statement is not current and run:
            conn.execute(current, run)
            run = []
        current = statement
        run.append(params)
    if run:
        conn.execute(current, run)
