"""The record of a posting's reference numbers, without the store (and so without SQLAlchemy):
what `syndicate.references` works with whether or not a state is opened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class References:
    """A posting's numbers under one scheme: every place → number ever assigned, and the
    numbers of the content last built (``content_hash``), in the order of its places."""

    posting_id: str
    content_hash: str
    assigned: dict[str, str]
    numbers: list[str]
