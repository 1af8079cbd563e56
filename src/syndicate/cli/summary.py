"""The one-line summaries that end ``publish --plan`` and ``publish``, as Terraform ends its
plan and apply::

    Plan: 15 to create, 0 to update, 0 to close on 3 push targets.
    Publish: 15 of 15 done, 0 queued for a retry, 0 failed.

Golden text in ``tests/golden/cli/``; a script may rely on the words and their order.
"""

from __future__ import annotations

from collections import Counter

from syndicate.operations import OperationKind
from syndicate.plan import Plan
from syndicate.publish import PublishReport


def plan_line(plan: Plan) -> str:
    """``Plan: 3 to create, 1 to update, 1 to close on 2 push targets.`` (renewals are named
    when there are any)."""
    kinds = Counter(op.kind for op in plan.operations)
    parts = [
        f"{kinds[OperationKind.CREATE]:,} to create",
        f"{kinds[OperationKind.UPDATE]:,} to update",
    ]
    if kinds[OperationKind.RENEW]:
        parts.append(f"{kinds[OperationKind.RENEW]:,} to renew")
    parts.append(f"{kinds[OperationKind.CLOSE]:,} to close")
    targets = len({op.target for op in plan.operations})
    where = f" on {targets} push target{'s' if targets != 1 else ''}" if targets else ""
    return f"Plan: {', '.join(parts)}{where}."


def publish_line(report: PublishReport) -> str:
    """``Publish: 14 of 15 done, 1 queued for a retry, 0 failed.``"""
    results = report.targets.values()
    sent = len(report.plan.operations)
    done = sum(r.succeeded for r in results)
    return (
        f"Publish: {done:,} of {sent:,} done, {report.queued:,} queued for a retry, "
        f"{report.failed:,} failed."
    )


def style_of(report: PublishReport) -> str:
    return "red" if report.failed else "yellow" if report.queued else "green"
