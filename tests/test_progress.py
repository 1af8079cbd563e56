"""`syndicate.progress.ticker`: how often a long step reports, and that its end is reported."""

from __future__ import annotations

from syndicate.progress import EVERY, Step, ticker

STEP = Step("push", "linkedin")


def reports(total: int, counts: list[int]) -> list[tuple[Step, int, int]]:
    told: list[tuple[Step, int, int]] = []
    tick = ticker(lambda step, done, of: told.append((step, done, of)), STEP, total)
    for done in counts:
        tick(done)
    return told


def test_the_start_every_few_hundred_and_the_end_are_reported() -> None:
    total = EVERY * 2 + 50
    told = reports(total, [*range(total), total])
    assert [done for _, done, _ in told] == [0, EVERY, EVERY * 2, total]
    assert {(step, of) for step, _, of in told} == {(STEP, total)}


def test_counts_that_jump_by_batches_are_reported_when_enough_are_done() -> None:
    # A push counts whole batches: 0, 150, 300, 450 … never a multiple of EVERY exactly.
    told = reports(1000, [*range(0, 1001, 150), 1000])
    assert [done for _, done, _ in told] == [0, 300, 600, 900, 1000]


def test_more_than_planned_is_reported_as_the_end_once() -> None:
    told = reports(10, [0, 12])
    assert told == [(STEP, 0, 10), (STEP, 10, 10)]
