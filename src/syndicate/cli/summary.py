"""The one-line summaries that end ``publish --plan`` and ``publish``, as Terraform ends its
plan and apply::

    Plan: 15 to create, 0 to update, 0 to close on 3 push targets.
    Publish: 15 of 15 done (15 created, 0 updated, 0 closed), 0 queued for a retry, 0 failed.

Golden text in ``tests/golden/cli/``; a script may rely on the words and their order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from syndicate.operations import OperationKind

if TYPE_CHECKING:  # the no-change plan (`syndicate.cli.quick`) imports neither
    from syndicate.plan import Plan, PlannedOperation
    from syndicate.publish import PublishReport


def plan_line(plan: Plan) -> str:
    """``Plan: 3 to create, 1 to update, 1 to close on 2 push targets.`` (renewals are named
    when there are any)."""
    return operations_line(plan.operations)


def operations_line(operations: Sequence[PlannedOperation]) -> str:
    """`plan_line` of a plan's operations."""
    parts = _by_kind(Counter(op.kind for op in operations), "to create", "to update",
                     "to renew", "to close")  # fmt: skip
    targets = len({op.target for op in operations})
    where = f" on {targets} push target{'s' if targets != 1 else ''}" if targets else ""
    return f"Plan: {', '.join(parts)}{where}."


def nothing_to_push(any_ready: bool) -> str:
    """What a plan without operations says (when nothing waits either)."""
    why = "every enabled push target is up to date" if any_ready else "no push target is ready"
    return f"nothing to push: {why}"


def scheduled_line(posting_id: str, at: datetime) -> str:
    """``sales-lead: scheduled for 2026-12-01T09:00+01:00``."""
    return f"{posting_id}: scheduled for {at.isoformat(timespec='minutes')}"


def publish_line(report: PublishReport) -> str:
    """``Publish: 14 of 15 done (12 created, 1 updated, 1 closed), 1 queued for a retry, 0
    failed.`` (renewals are named when there are any)."""
    results = report.targets.values()
    sent = len(report.plan.operations)
    done = sum(r.succeeded for r in results)
    kinds: Counter[OperationKind] = Counter()
    for result in results:
        kinds.update(result.done)
    parts = _by_kind(kinds, "created", "updated", "renewed", "closed")
    return (
        f"Publish: {done:,} of {sent:,} done ({', '.join(parts)}), {report.queued:,} queued for "
        f"a retry, {report.failed:,} failed."
    )


def _by_kind(kinds: Counter[OperationKind], *words: str) -> list[str]:
    """``3 created, 1 updated, 1 closed``: a count per kind, with ``words`` for CREATE, UPDATE,
    RENEW and CLOSE; renewals only when there are any."""
    order = (OperationKind.CREATE, OperationKind.UPDATE, OperationKind.RENEW, OperationKind.CLOSE)
    return [
        f"{kinds[kind]:,} {word}"
        for kind, word in zip(order, words, strict=True)
        if kind is not OperationKind.RENEW or kinds[kind]
    ]


def style_of(report: PublishReport) -> str:
    return "red" if report.failed else "yellow" if report.queued else "green"
