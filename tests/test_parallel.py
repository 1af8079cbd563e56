"""Parsing and rendering in worker processes: the same output as in one process, and a clear
error when a worker dies.

The threshold below which a build stays in its own process is lowered to one posting here, so
that the example project's few postings take the worker path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate import build as build_module
from syndicate import parallel
from syndicate.adapters import Target
from syndicate.adapters.places import Spot
from syndicate.build import BuildReport, build
from syndicate.cache import keys as cache_keys
from syndicate.config import Settings
from syndicate.errors import Problem, SyndicateError
from syndicate.loading import load_postings, load_project
from syndicate.model import Posting
from syndicate.state import StateStore
from tests.test_cache import NOW, load, make_project, outputs, renders, uncached


@pytest.fixture(autouse=True)
def _small_work_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_render_what_one_process_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    settings = make_project(tmp_path / "project").model_copy(update={"workers": workers})
    rendered_here = renders(monkeypatch)
    build(settings, load(settings).postings, now=NOW)
    # With workers, every page is rendered by one of them; `workers: 1` keeps the work here.
    assert bool(rendered_here) is (workers == 1)
    assert outputs(settings) == uncached(settings, tmp_path)


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_check_what_one_process_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    here = make_project(tmp_path / "here").model_copy(update={"workers": 1})
    expected = _problems(build(here, load(here), now=NOW))
    assert expected  # the examples break some rules (LinkedIn's, Indeed's advice)
    settings = make_project(tmp_path / "there").model_copy(update={"workers": workers})
    checked_here: list[str] = []
    original = Target.rules

    def counted(self: Target, posting: Posting) -> list[Problem]:
        checked_here.append(posting.id)
        return original(self, posting)

    monkeypatch.setattr(Target, "rules", counted)  # in this process only, not in the workers
    report = build(settings, load(settings), now=NOW)
    assert bool(checked_here) is (workers == 1)
    assert _problems(report) == expected
    assert outputs(settings) == uncached(settings, tmp_path)


def test_the_places_for_reference_numbers_come_with_the_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers, the main process reads no posting back for Indeed's reference numbers:
    the worker that checked it sent its places; the numbers, and the outputs, are the same."""
    from syndicate.adapters.indeed_xml import IndeedXml

    placed_here: list[str] = []
    original = IndeedXml.spots

    def counted(self: IndeedXml, posting: Posting) -> list[Spot]:
        placed_here.append(posting.id)
        return original(self, posting)

    monkeypatch.setattr(IndeedXml, "spots", counted)  # in this process only
    made = {}
    for workers in (1, 2):
        settings = make_project(tmp_path / f"w{workers}").model_copy(update={"workers": workers})
        with StateStore(settings.state_url) as store:
            build(settings, load(settings), now=NOW, store=store)
            numbers = {k: v.numbers for k, v in store.references.all("indeed").items()}
        assert bool(placed_here) is (workers == 1)
        placed_here.clear()
        made[workers] = numbers, outputs(settings)
    assert made[1][0] and made[1] == made[2]


def _problems(report: BuildReport) -> list[tuple[str, str, str | None, str | None]]:
    return sorted((str(p), str(p.severity), p.target, p.posting_id) for p in report.problems)


def test_workers_load_what_one_process_loads(tmp_path: Path) -> None:
    settings = make_project(tmp_path / "project").model_copy(update={"workers": 2})
    shared = load_project(settings)
    alone = load_postings(settings.postings_dir, settings.timezone, cache=None)
    assert not shared.problems
    assert [f.posting_id for f in shared.files] == [f.posting_id for f in alone.files]
    assert [p.model_dump() for p in shared.postings] == [p.model_dump() for p in alone.postings]


def test_a_file_that_fails_to_load_in_a_worker_is_reported_like_any_other(
    tmp_path: Path,
) -> None:
    settings = make_project(tmp_path / "project")
    broken = settings.postings_dir / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    shared = load_project(settings)
    alone = load_postings(settings.postings_dir, settings.timezone, cache=None)
    assert [str(p) for p in shared.problems] == [str(p) for p in alone.problems]
    assert shared.problems and all("broken.md" in str(p) for p in shared.problems)
    assert broken in shared.failed
    assert len(shared.files) == len(alone.files)


def _die(_task: int) -> int:
    os._exit(3)


def test_a_worker_that_dies_gives_a_clear_error() -> None:
    with pytest.raises(SyndicateError, match="workers: 1"):
        list(parallel.ordered_map(_die, [1, 2, 3], workers=2))
    # The next use starts new workers.
    assert list(parallel.ordered_map(abs, [-1, -2, 3], workers=2)) == [1, 2, 3]


def test_worker_count_follows_the_setting_and_the_amount_of_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 100)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert parallel.worker_count(None, 99) == 0
    assert parallel.worker_count(None, 100) == 2
    assert parallel.worker_count(3, 100) == 3
    assert parallel.worker_count(1, 10_000) == 0
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert parallel.worker_count(None, 10_000) == 0


def test_workers_setting_is_validated(tmp_path: Path) -> None:
    settings = make_project(tmp_path / "project")
    with pytest.raises(ValueError, match="workers"):
        Settings.model_validate({**settings.model_dump(), "workers": 0})


def test_pages_made_again_by_workers_are_written_into_the_published_site_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After an upgrade every page is made again: by the workers, written ahead into the site
    # that is changed in place (`syndicate.inplace`), and neither rendered nor read here.
    settings = make_project(tmp_path / "project").model_copy(update={"workers": 2})
    build(settings, load(settings).postings, now=NOW)
    site = (settings.output_dir / "careers").resolve()
    monkeypatch.setattr(cache_keys, "code_fingerprint", lambda: "another version")
    monkeypatch.setattr(build_module, "code_fingerprint", lambda: "another version")
    rendered_here = renders(monkeypatch)
    build(settings, load(settings).postings, now=NOW)
    assert rendered_here == []
    assert (settings.output_dir / "careers").resolve() == site  # the same folder, in place
    assert not list(site.parent.glob("careers.building-*"))  # nothing left staged
    assert outputs(settings) == uncached(settings, tmp_path)
