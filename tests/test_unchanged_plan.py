"""`publish --plan` with nothing changed is told by set queries (`syndicate.unchanged`), and it
still notices every change: the same plan as posting by posting, on both state stores; and
`validate` asks the state posting by posting only when the listings differ.

Each test publishes the example postings (four pull targets, three push targets on the local
board, over real HTTP), changes one thing, and plans in this process with the build cache, as
``syndicate publish --plan`` does: once as it runs, once with the set queries turned off (the
plan made posting by posting, as before them).  Both must agree; the set queries must say
"unchanged" only when nothing is to be done, and only on SQLite (PostgreSQL cannot be attached
to the cache: it always plans posting by posting).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import syndicate.publish
from syndicate.loading import load_project
from syndicate.publish import PublishReport, publish
from syndicate.quiet import state_silent
from syndicate.state import StateStore
from syndicate.testing import BoardServer
from syndicate.unchanged import UnchangedPlan, unchanged_plan
from tests.test_never_lose import BROKEN, TOKENS, Site, retitle


class Planner:
    """Plans a site as ``publish --plan`` does, and says whether the set queries answered."""

    def __init__(self, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
        self.site = site
        self.monkeypatch = monkeypatch
        self.answers: list[UnchangedPlan | None] = []

    def plan(self, now: datetime | None = None, *, queries: bool = True) -> PublishReport:
        def spied(*args: Any, **kwargs: Any) -> UnchangedPlan | None:
            found = unchanged_plan(*args, **kwargs) if queries else None
            self.answers.append(found)
            return found

        self.monkeypatch.setattr(syndicate.publish, "unchanged_plan", spied)
        settings = self.site.settings
        with StateStore(settings.state_url) as store:
            return publish(settings, load_project(settings), store, now=now, plan_only=True)

    def both(self, now: datetime | None = None) -> tuple[PublishReport, bool]:
        """The plan as made now, checked against the plan made posting by posting; and whether
        the set queries found nothing changed."""
        moment = now or datetime.now(UTC)
        quick = self.plan(moment)
        told = self.answers[-1] is not None
        full = self.plan(moment, queries=False)
        assert summary(quick) == summary(full)
        return quick, told


def summary(report: PublishReport) -> dict[str, Any]:
    """What a plan says: its operations, cancels, kept and held postings, refusals, schedule,
    and what each pull target lists (errors included, warnings by count)."""
    plan = report.plan
    build = report.build
    return {
        "operations": sorted(operations(report)),
        "cancel": sorted(plan.cancel),
        "refresh": sorted(plan.refresh),
        "kept": sorted(p.message for p in [*plan.kept, *report.kept]),
        "refusals": sorted((r.target, r.posting_ids) for r in report.refusals),
        "holds": sorted((h.target, h.posting_id) for h in plan.holds),
        "scheduled": plan.scheduled,
        "held": report.held,
        "build": None
        if build is None
        else {
            t.name: (
                t.included,
                sorted(t.listed),
                t.opted_out,
                t.disabled,
                sorted(h.posting_id for h in t.holds),
                t.refusal,
                sorted(str(p) for p in t.left_out if p.severity == "error"),
                len(t.left_out),
            )
            for t in build.targets
        },
        "ok": build.ok if build is not None else None,
    }  # fmt: skip


@pytest.fixture
def site(
    tmp_path: Path, board: BoardServer, monkeypatch: pytest.MonkeyPatch, state_url: str
) -> Site:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    site = Site(tmp_path / "project", board)
    site.state = state_url
    site.configure()
    assert site.cli("publish").returncode == 0
    return site


@pytest.fixture
def planner(site: Site, monkeypatch: pytest.MonkeyPatch) -> Planner:
    return Planner(site, monkeypatch)


def sqlite(site: Site) -> bool:
    return site.state.startswith("sqlite")


def operations(report: PublishReport) -> set[tuple[str, str, str, str]]:
    return {(op.target, str(op.kind), op.posting_id, op.why) for op in report.plan.operations}


PUSHED = ("linkedin", "google", "hook")


def test_nothing_changed_is_told_by_the_set_queries_on_sqlite(site: Site, planner: Planner) -> None:
    report, told = planner.both()
    assert told is sqlite(site)  # PostgreSQL: posting by posting, always
    assert not report.plan.operations and not report.refusals and not report.held
    assert report.build is not None
    assert {t.name: t.included for t in report.build.targets}["careers"] == 5
    plan = site.cli("publish", "--plan")
    assert plan.returncode == 0, plan.stderr
    assert "nothing to push: every enabled push target is up to date" in plan.stdout


def test_an_edited_file_is_noticed(site: Site, planner: Planner) -> None:
    retitle(site.postings / f"{BROKEN}.md", "Inside Sales Team Lead")
    report, told = planner.both()
    assert not told
    assert operations(report) == {(name, "UPDATE", BROKEN, "edited") for name in PUSHED}


def test_a_deleted_file_is_closed_and_many_are_guarded(site: Site, planner: Planner) -> None:
    (site.postings / f"{BROKEN}.md").unlink()
    report, told = planner.both()
    assert not told
    assert operations(report) == {(name, "CLOSE", BROKEN, "file deleted") for name in PUSHED}

    for path in sorted(site.postings.glob("*.md"))[:2]:
        path.unlink()  # 3 of 5: more than the guard lets go without a person's approval
    report, told = planner.both()
    assert not told
    assert {r.target for r in report.refusals} >= set(PUSHED)
    assert not [op for op in report.plan.operations if op.kind == "CLOSE"]
    plan = site.cli("publish", "--plan")
    assert plan.returncode == 1
    assert "syndicate publish --allow-mass-close" in plan.stderr


def test_a_renewal_falling_due_is_noticed(site: Site, planner: Planner) -> None:
    _, told = planner.both()
    assert told is sqlite(site)
    # LinkedIn's listings lapse after 180 days and are renewed a week before.
    report, told = planner.both(datetime.now(UTC) + timedelta(days=175))
    assert not told
    renewed = {op.posting_id for op in report.plan.operations if op.kind == "RENEW"}
    assert renewed and {op.target for op in report.plan.operations} == {"linkedin"}


def test_an_expiry_is_noticed_without_any_edit(site: Site, planner: Planner) -> None:
    path = site.postings / f"{BROKEN}.md"
    soon = (datetime.now(UTC) + timedelta(days=3)).date()
    path.write_text(
        path.read_text().replace("date_posted:", f"valid_through: {soon}\ndate_posted:")
    )
    assert site.cli("publish").returncode == 0
    _, told = planner.both()
    assert told is sqlite(site)

    report, told = planner.both(datetime.now(UTC) + timedelta(days=5))  # the file as it was
    assert not told
    assert operations(report) == {(name, "CLOSE", BROKEN, "expired") for name in PUSHED}
    assert report.build is not None
    assert all(BROKEN not in t.listed for t in report.build.targets)


def test_a_config_change_of_one_target_is_noticed(site: Site, planner: Planner) -> None:
    path = site.root / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["targets"]["linkedin"]["organization"] = "urn:li:organization:999"  # in every payload
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    report, told = planner.both()
    assert not told
    updated = {(op.target, str(op.kind)) for op in report.plan.operations}
    assert updated == {("linkedin", "UPDATE")}
    # Every posting's payload is built again: sent where it differs, else only recorded.
    refreshed = [key for key in report.plan.refresh if key[1] == "linkedin"]
    assert len(report.plan.operations) + len(refreshed) == len(site.open_ids())


def test_a_pull_target_option_change_is_noticed(site: Site, planner: Planner) -> None:
    path = site.root / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["targets"]["careers"]["enabled"] = False
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    report, told = planner.both()
    assert told is sqlite(site)  # a disabled pull target lists nothing and changes no board
    assert report.build is not None
    assert [t.disabled for t in report.build.targets if t.name == "careers"] != [None]

    config["targets"]["careers"]["enabled"] = True
    config["targets"]["indeed"]["file"] = "jobs-indeed.xml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    _, told = planner.both()
    assert not told  # the target's checks at these options were never made


def test_a_file_that_fails_to_load_is_held_not_told_unchanged(site: Site, planner: Planner) -> None:
    retitle(site.postings / f"{BROKEN}.md", "Inside Sales: Manager")  # a YAML error
    report, told = planner.both()
    assert not told
    assert not report.plan.operations
    assert report.held
    assert any(re.search("kept the version built at", p.message) for p in report.kept)


def test_validate_asks_the_state_only_when_the_listings_differ(site: Site) -> None:
    settings = site.settings

    def unchanged() -> bool:  # what validate asks before it reads the state's records
        loaded = load_project(settings)
        ids = [f.posting_id for f in loaded.files]
        return state_silent(settings, ids, {}, failed=bool(loaded.failed))

    assert unchanged() is sqlite(site)
    validated = site.cli("validate")
    assert validated.returncode == 0, validated.stderr
    assert "kept the version" not in validated.stderr

    for path in sorted(site.postings.glob("*.md"))[-3:]:  # BROKEN is the first
        path.unlink()
    assert not unchanged()
    validated = site.cli("validate")
    assert "refused to close 3 of 5 open job(s)" in validated.stderr, validated.stderr

    retitle(site.postings / f"{BROKEN}.md", "Inside Sales: Manager")  # a YAML error
    assert not unchanged()
    validated = site.cli("validate")
    assert validated.returncode == 1
    assert f"{BROKEN}.md: kept the version built at" in validated.stderr, validated.stderr
