"""`syndicate.progress.ticker`: how often a long step reports, and that its end is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.build import build
from syndicate.progress import EVERY, Step, ticker
from tests.test_cache import NOW, load, make_project, renders

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


def test_a_target_s_render_step_starts_before_its_fragments_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cold build makes every target's fragments together, before any target writes: each
    # render step starts then, counts what is made for it, and ends once, when it is written.
    settings = make_project(tmp_path / "project")
    pages = renders(monkeypatch)  # the careers pages made so far
    told: list[tuple[str, int, int, int]] = []

    def progress(step: Step, done: int, of: int) -> None:
        if step.action == "render":
            told.append((step.name, done, of, len(pages)))

    build(settings, load(settings).postings, now=NOW, progress=progress)
    names = ["indeed", "jsonld", "linkedin_feed", "careers"]
    starts = [(name, made) for name, done, _, made in told if done == 0]
    assert starts[: len(names)] == [(name, 0) for name in names]  # before any page is made
    ends = [(name, made) for name, done, of, made in told if done == of]
    assert [name for name, _ in ends] == names  # one end each, as the targets are written
    assert ends[0][1] == len(pages) > 0  # the first ends once every page is made
