"""Push leases in the state, on SQLite and PostgreSQL: a batch about to be sent is held at least
as long as its request may take, whatever the lease time, and renewing never shortens that."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from syndicate.errors import LeaseLostError
from syndicate.operations import OperationKind
from syndicate.state import NewOperation, StateStore

SHORT = timedelta(seconds=1)


@pytest.fixture
def store(state_url: str) -> StateStore:
    opened = StateStore(state_url)
    opened.enqueue([NewOperation("job", "hook", OperationKind.CREATE, "h1")])
    return opened


def lease(store: StateStore, holder: str) -> list[int]:
    return [op.id for op in store.lease_due("hook", holder, limit=10, duration=SHORT)]


def test_an_expired_lease_is_taken_over_and_the_first_holder_may_not_send(
    store: StateStore,
) -> None:
    [op_id] = lease(store, "d1")
    assert lease(store, "d2") == []  # held by d1
    time.sleep(1.3)
    assert lease(store, "d2") == [op_id]
    with pytest.raises(LeaseLostError, match=r"no longer leased to d1 .*d2's"):
        store.start_attempts([op_id], holder="d1", hold=timedelta(seconds=60))
    assert store.operation(op_id).attempts == 0  # nothing counted: it is not sent


def test_a_batch_about_to_be_sent_is_held_for_its_request_not_only_the_lease_time(
    store: StateStore,
) -> None:
    [op_id] = lease(store, "d1")
    store.start_attempts([op_id], holder="d1", hold=timedelta(seconds=60))
    expires = store.operation(op_id).lease_expires_at
    assert expires is not None
    assert expires - store.coordination.now() > timedelta(seconds=55)
    assert store.renew_leases("d1", SHORT) == 1  # the heartbeat's renewal
    assert store.operation(op_id).lease_expires_at == expires  # not shortened
    time.sleep(1.3)  # past the lease time: d1 is still sending, nobody else may take it
    assert lease(store, "d2") == []
    store.start_attempts([op_id], holder="d1", hold=timedelta(seconds=60))  # a retry: still d1's


def test_without_a_hold_the_lease_time_alone_protects_the_send(store: StateStore) -> None:
    [op_id] = lease(store, "d1")
    store.start_attempts([op_id], holder="d1")
    time.sleep(1.3)
    assert lease(store, "d2") == [op_id]
