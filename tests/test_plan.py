"""`make_plan` for every transition, against a real state store driven as a publish drives it.

Each test has a tmp project (config.yaml with the three push targets, copies of two example
postings, a SQLite state file), plans with `make_plan` exactly as `syndicate.publish` calls it, and
records what the boards answered through the store's own API (enqueue, start_attempts, record), so
the deliveries and open operations the planner sees are real ones.  Nothing goes on the network.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from syndicate.adapters import PushTarget
from syndicate.adapters.base import OperationKind
from syndicate.config import load_settings
from syndicate.errors import Severity
from syndicate.loading import LoadResult, load_postings
from syndicate.plan import Plan, PlannedOperation, Reason, make_plan
from syndicate.publish import push_targets
from syndicate.state import Delivery, DeliveryState, Failed, StateStore, Succeeded

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EVERYTHING = datetime.max.replace(tzinfo=UTC)  # as publish asks the store for open operations
SITE = "https://jobs.example.com"
PUSH = ("linkedin", "google", "hook")
MAIN = "sixsq-sales-manager"  # the posting each test changes
OTHER = "8x8-inside-sales-manager"  # a posting left alone, which must never be touched
CREATE, UPDATE, CLOSE = OperationKind.CREATE, OperationKind.UPDATE, OperationKind.CLOSE

Answer = Literal["accepted", "unsent", "unanswered", "refused", "queued"]


class Desk:
    """A project on disk plus its state store: edit postings, plan, record the boards' answers."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, state: str) -> None:
        self.root = root
        self.state = state
        self.postings = root / "postings"
        self.postings.mkdir()
        for posting_id in (MAIN, OTHER):
            shutil.copy(ROOT / "postings" / f"{posting_id}.md", self.postings)
        for env in ("LINKEDIN_TOKEN", "GOOGLE_INDEXING_TOKEN", "HOOK_SECRET"):
            monkeypatch.setenv(env, f"secret-{env.lower()}")
        self.configure()
        self.store = StateStore(self.settings.state_url)

    def configure(
        self, organization: str = "SixSq", site: str = SITE, **targets: dict[str, Any]
    ) -> None:
        """Write config.yaml; ``targets`` override options of the push targets by name."""
        options: dict[str, dict[str, Any]] = {
            "careers": {"type": "careers_site", "dir": "careers"},
            "linkedin": {
                "type": "linkedin_api",
                "endpoint": "http://127.0.0.1:9/rest",
                "token_env": "LINKEDIN_TOKEN",
                "organization": "urn:li:organization:123",
            },
            "google": {
                "type": "google_indexing",
                "endpoint": "http://127.0.0.1:9",
                "token_env": "GOOGLE_INDEXING_TOKEN",
                "daily_quota": 200,
            },
            "hook": {
                "type": "webhook",
                "url": "http://127.0.0.1:9/hook",
                "secret_env": "HOOK_SECRET",
            },
        }
        for name, changes in targets.items():
            options[name] = options[name] | changes
        config = {
            "organization": {
                "name": organization,
                "url": "https://sixsq.com",
                "email": "jobs@sixsq.com",
                "location": {"city": "Geneva", "country": "CH"},
            },
            "site": {"base_url": site},
            "timezone": "Europe/Zurich",
            "state": self.state,
            "targets": options,
        }
        (self.root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.settings = load_settings(self.root / "config.yaml")
        self.targets = self.push_targets()

    def push_targets(self) -> list[PushTarget]:
        ready, disabled = push_targets(self.settings)
        assert not disabled, disabled
        assert [t.name for t in ready] == list(PUSH)
        return ready

    # -- postings ----------------------------------------------------------------------------

    def path(self, posting_id: str) -> Path:
        return self.postings / f"{posting_id}.md"

    def replace(self, posting_id: str, old: str, new: str) -> None:
        """Edit a posting file: ``old`` (which must be there) becomes ``new``."""
        text = self.path(posting_id).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {posting_id}"
        self.path(posting_id).write_text(text.replace(old, new, 1), encoding="utf-8")

    def add_field(self, posting_id: str, line: str) -> None:
        """Add a front-matter line right after the ``id:`` line."""
        self.replace(posting_id, f"id: {posting_id}\n", f"id: {posting_id}\n{line}\n")

    def load(self) -> LoadResult:
        return load_postings(self.settings.postings_dir, self.settings.timezone)

    # -- plan and apply ----------------------------------------------------------------------

    def plan(
        self,
        now: datetime = NOW,
        posting_ids: set[str] | None = None,
        record: Callable[[Sequence[PlannedOperation]], None] | None = None,
        window: int = 2_000,
    ) -> Plan:
        """Plan as `syndicate.publish.publish` does (``record``: recorded as it is made)."""
        loaded = self.load()
        self.store.update_source_paths({f.posting.id: str(f.path) for f in loaded.files})
        return make_plan(
            self.targets,
            loaded,
            self.store.deliveries(),
            self.store.pending(now=EVERYTHING),
            now,
            posting_ids=posting_ids,
            delivered=self.store.last_payload,
            record=record,
            window=window,
        )

    def record(self, plan: Plan, answer: Answer = "accepted", now: datetime = NOW) -> None:
        """Write ``plan`` to the store, send it (or not), and record the boards' ``answer``."""
        self.store.cancel(plan.cancel, now=now)
        self.store.refresh(plan.refresh, now=now)
        ids = self.store.enqueue([op.recorded() for op in plan.operations], now=now)
        if answer == "unsent" or not ids:
            return
        self.store.start_attempts(ids, now=now)
        if answer == "accepted":
            self.store.record([Succeeded(i, f"remote-{i}") for i in ids], now=now)
        elif answer == "refused":
            self.store.record([Failed(i, "400: refused by the board") for i in ids], now=now)
        elif answer == "queued":
            retry_at = now + timedelta(hours=1)
            self.store.record([Failed(i, "503: busy", retry_at) for i in ids], now=now)

    def delivered(self, posting_id: str = MAIN) -> dict[str, Delivery]:
        """The delivery of ``posting_id`` on each push target."""
        found = {t: self.store.delivery(posting_id, t) for t in PUSH}
        assert all(found.values()), found
        return {t: d for t, d in found.items() if d is not None}

    def states(self, posting_id: str = MAIN) -> set[DeliveryState]:
        return {d.state for d in self.delivered(posting_id).values()}

    def publish(self, now: datetime = NOW) -> Plan:
        """Plan and record every operation as accepted; the plan."""
        plan = self.plan(now)
        self.record(plan, now=now)
        return plan


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state_url: str) -> Iterator[Desk]:
    """A project whose state is on SQLite, then on PostgreSQL."""
    opened = Desk(tmp_path, monkeypatch, state_url)
    yield opened
    opened.store.close()


@pytest.fixture
def published(desk: Desk) -> Desk:
    """Both postings published on every push target."""
    desk.publish()
    assert desk.plan().operations == []
    return desk


def summary(plan: Plan) -> set[tuple[str, OperationKind, str, Reason]]:
    return {(op.target, op.kind, op.posting_id, op.reason) for op in plan.operations}


def everywhere(
    kind: OperationKind, reason: Reason, posting_id: str = MAIN
) -> set[tuple[str, OperationKind, str, Reason]]:
    return {(target, kind, posting_id, reason) for target in PUSH}


def check_payload(desk: Desk, op: PlannedOperation) -> None:
    """Each target's payload names the posting and says what to do, in the board's terms."""
    job_url = desk.settings.job_url(op.posting_id)
    if op.target == "linkedin":
        assert op.payload["externalJobPostingId"] == op.posting_id
        assert op.payload["jobPostingOperationType"] == str(op.kind)
    elif op.target == "google":
        expected = "URL_DELETED" if op.kind is CLOSE else "URL_UPDATED"
        assert op.payload == {"url": job_url, "type": expected}
    else:
        assert op.payload["operation"] == str(op.kind)
        assert (op.payload["id"], op.payload["url"]) == (op.posting_id, job_url)
        assert ("posting" in op.payload) is (op.kind is not CLOSE)


# -- new, unchanged, edited ----------------------------------------------------------------------


def test_new_postings_are_created_on_every_push_target(desk: Desk) -> None:
    plan = desk.plan()
    assert summary(plan) == everywhere(CREATE, Reason.NEW) | everywhere(CREATE, Reason.NEW, OTHER)
    assert plan.cancel == [] and plan.kept == []
    for op in plan.operations:
        check_payload(desk, op)
        assert op.source_path == str(desk.path(op.posting_id))
    linkedin = next(op for op in plan.for_target("linkedin") if op.posting_id == MAIN)
    assert linkedin.payload["title"] == "Sales Manager"
    hook = next(op for op in plan.for_target("hook") if op.posting_id == MAIN)
    assert hook.payload["posting"]["title"] == "Sales Manager"


def test_a_recorded_plan_hands_its_operations_over_a_window_at_a_time(desk: Desk) -> None:
    whole = desk.plan()  # the same plan, kept whole
    windows: list[list[PlannedOperation]] = []

    def enqueue(operations: Sequence[PlannedOperation]) -> None:
        windows.append(list(operations))
        desk.store.enqueue([op.recorded() for op in operations], now=NOW)

    plan = desk.plan(record=enqueue, window=4)
    assert [len(w) for w in windows] == [4, 2]  # two postings on three targets
    assert [op.payload for w in windows for op in w] == [op.payload for op in whole.operations]
    # The plan keeps what it reports, without the payloads the state now holds.
    assert summary(plan) == summary(whole)
    assert all(op.payload is None for op in plan.operations)
    pending = {(op.posting_id, op.target): op.payload for op in desk.store.pending()}
    assert pending == {(op.posting_id, op.target): op.payload for op in whole.operations}
    with pytest.raises(ValueError, match="recorded already"):
        plan.operations[0].recorded()


def test_a_plan_that_fails_part_way_is_completed_by_the_next_one(desk: Desk) -> None:
    def fail_after_one_window(operations: Sequence[PlannedOperation]) -> None:
        if desk.store.pending():
            raise OSError("disk full")
        desk.store.enqueue([op.recorded() for op in operations], now=NOW)

    with pytest.raises(OSError, match="disk full"):
        desk.plan(record=fail_after_one_window, window=4)
    first = {(op.posting_id, op.target) for op in desk.store.pending()}
    assert len(first) == 4
    # The next plan finds those four on their way and plans only the other two.
    rest = desk.plan()
    assert {(op.posting_id, op.target) for op in rest.operations} == {
        (posting_id, target) for posting_id in (MAIN, OTHER) for target in PUSH
    } - first
    desk.record(rest, "unsent")
    assert {(op.posting_id, op.target) for op in desk.store.pending()} == {
        (posting_id, target) for posting_id in (MAIN, OTHER) for target in PUSH
    }


def test_a_published_posting_left_alone_plans_nothing(published: Desk) -> None:
    plan = published.plan(now=NOW + timedelta(days=3))
    assert (plan.operations, plan.cancel, plan.kept) == ([], [], [])
    assert published.states() == {DeliveryState.PUBLISHED}


def test_an_edit_updates_every_target_with_the_new_content(published: Desk) -> None:
    before = {t: d.content_hash for t, d in published.delivered().items()}
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    plan = published.plan()
    assert summary(plan) == everywhere(UPDATE, Reason.EDITED)
    for op in plan.operations:
        check_payload(published, op)
        assert op.content_hash != before[op.target]
    assert plan.for_target("linkedin")[0].payload["title"] == "Senior Sales Manager"
    assert plan.for_target("hook")[0].payload["posting"]["title"] == "Senior Sales Manager"


def test_an_update_on_its_way_is_not_planned_twice(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.record(published.plan(), "queued")
    assert published.plan().operations == []


def test_a_second_edit_replaces_the_update_on_its_way(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    first = published.plan()
    published.record(first, "unsent")
    published.replace(MAIN, "title: Senior Sales Manager", "title: Lead Sales Manager")
    second = published.plan()
    assert summary(second) == everywhere(UPDATE, Reason.EDITED)
    assert {op.content_hash for op in second.operations}.isdisjoint(
        op.content_hash for op in first.operations
    )


def test_edited_back_to_the_delivered_content_cancels_the_open_update(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.record(published.plan(), "unsent")
    published.replace(MAIN, "title: Senior Sales Manager", "title: Sales Manager")
    plan = published.plan()
    assert plan.operations == []
    assert sorted(plan.cancel) == sorted((MAIN, target) for target in PUSH)
    published.record(plan)
    assert published.store.pending(now=EVERYTHING) == []
    assert published.plan().cancel == []


def test_edited_back_after_the_update_was_sent_updates_back(published: Desk) -> None:
    # The UPDATE went out and its answer was lost: the board may show the edit, so cancelling
    # would leave it there.  The delivered content is sent again instead.
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.record(published.plan(), "unanswered")
    published.replace(MAIN, "title: Senior Sales Manager", "title: Sales Manager")
    plan = published.plan()
    assert summary(plan) == everywhere(UPDATE, Reason.EDITED)
    assert plan.cancel == []
    delivered = {t: d.content_hash for t, d in published.delivered().items()}
    assert {op.target: op.content_hash for op in plan.operations} == delivered
    assert plan.for_target("linkedin")[0].payload["title"] == "Sales Manager"
    published.record(plan)
    assert published.plan().operations == []


# -- withdrawn: closed, expired, draft again, deleted ---------------------------------------------


def test_a_closed_posting_is_closed_on_every_target(published: Desk) -> None:
    published.add_field(MAIN, "status: closed")
    plan = published.plan()
    assert summary(plan) == everywhere(CLOSE, Reason.CLOSED)
    for op in plan.operations:
        check_payload(published, op)
    published.record(plan)
    assert published.plan().operations == []
    assert published.states() == {DeliveryState.CLOSED}


def test_a_posting_past_its_valid_through_is_closed_as_expired(desk: Desk) -> None:
    desk.add_field(MAIN, "valid_through: 2026-12-31")
    desk.publish()
    assert desk.plan(now=datetime(2026, 12, 31, 22, 0, tzinfo=UTC)).operations == []
    # valid through the whole last day in the configured timezone (Europe/Zurich, UTC+1)
    plan = desk.plan(now=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert summary(plan) == everywhere(CLOSE, Reason.EXPIRED)
    for op in plan.operations:
        check_payload(desk, op)


def test_an_expired_posting_never_published_plans_nothing(desk: Desk) -> None:
    desk.add_field(MAIN, "valid_through: 2026-11-21")
    plan = desk.plan()
    assert summary(plan) == everywhere(CREATE, Reason.NEW, OTHER)


def test_a_posting_made_a_draft_again_is_closed(published: Desk) -> None:
    published.add_field(MAIN, "status: draft")
    plan = published.plan()
    assert summary(plan) == everywhere(CLOSE, Reason.DRAFT)
    for op in plan.operations:
        check_payload(published, op)


def test_a_deleted_file_closes_its_posting_with_every_field_the_board_requires(
    published: Desk,
) -> None:
    """LinkedIn's schema requires the same fields for a CLOSE as for a CREATE (OAS 423-430,
    and every sample of *Close jobs* sends the whole element): with the file gone, the CLOSE
    is the element the board last accepted, closing."""
    source = str(published.path(MAIN))
    created = published.store.last_payload(MAIN, "linkedin")
    published.path(MAIN).unlink()
    plan = published.plan()
    assert summary(plan) == everywhere(CLOSE, Reason.DELETED)
    by_target = {op.target: op for op in plan.operations}
    closing = by_target["linkedin"].payload
    assert closing == {**created, "jobPostingOperationType": "CLOSE"}
    for required in ("companyApplyUrl", "externalJobPostingId", "description", "title",
                     "listedAt", "location"):  # fmt: skip
        assert closing[required], required
    job_url = f"{SITE}/careers/jobs/{MAIN}.html"
    assert by_target["google"].payload == {"url": job_url, "type": "URL_DELETED"}
    assert by_target["hook"].payload == {"operation": "CLOSE", "id": MAIN, "url": job_url}
    assert {op.source_path for op in plan.operations} == {source}
    published.record(plan)
    assert published.plan().operations == []


def test_a_deleted_file_never_published_plans_nothing(desk: Desk) -> None:
    desk.path(MAIN).unlink()
    assert summary(desk.plan()) == everywhere(CREATE, Reason.NEW, OTHER)


# -- broken files and rules ----------------------------------------------------------------------


def test_a_broken_file_keeps_its_published_posting_and_says_so(published: Desk) -> None:
    # Moved and broken: only the id read from the file ties it to its delivery.
    published.path(MAIN).rename(published.postings / "moved.md")
    published.replace("moved", "employment_type: FULL_TIME", "employment_type: SOMETIMES")
    loaded = published.load()
    assert loaded.failed == {published.postings / "moved.md": MAIN}
    plan = published.plan()
    assert (plan.operations, plan.cancel) == ([], [])
    assert {(p.target, p.posting_id, p.severity) for p in plan.kept} == {
        (target, MAIN, Severity.WARNING) for target in PUSH
    }
    # The warning names the file the posting was published from, which no longer loads.
    assert {Path(str(p.file)).name for p in plan.kept} == {f"{MAIN}.md"}


def test_a_file_whose_id_cannot_be_read_is_kept_by_its_path(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: [Sales Manager")
    loaded = published.load()
    assert loaded.failed == {published.path(MAIN): None}
    plan = published.plan()
    assert (plan.operations, plan.cancel) == ([], [])
    assert {(p.target, p.posting_id) for p in plan.kept} == {(t, MAIN) for t in PUSH}
    assert {Path(str(p.file)) for p in plan.kept} == {published.path(MAIN)}
    assert all(f"{MAIN}.md" in str(p) for p in plan.kept)


def test_a_broken_file_never_published_is_neither_listed_nor_kept(desk: Desk) -> None:
    desk.replace(MAIN, "title: Sales Manager", "title: [Sales Manager")
    plan = desk.plan()
    assert summary(plan) == everywhere(CREATE, Reason.NEW, OTHER)
    assert plan.kept == []


def test_a_fixed_file_is_updated_as_usual(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: [Sales Manager")
    published.record(published.plan())
    published.replace(MAIN, "title: [Sales Manager", "title: Sales Manager (fixed)")
    assert summary(published.plan()) == everywhere(UPDATE, Reason.EDITED)


def test_a_posting_breaking_a_targets_rules_is_reported_not_sent(desk: Desk) -> None:
    long_title = "Sales Manager " + "x" * 200
    desk.replace(MAIN, "title: Sales Manager", f"title: {long_title}")
    plan = desk.plan()
    assert summary(plan) == (
        {("google", CREATE, MAIN, Reason.NEW), ("hook", CREATE, MAIN, Reason.NEW)}
        | everywhere(CREATE, Reason.NEW, OTHER)
    )
    assert [(p.target, p.posting_id, p.field, p.severity) for p in plan.kept] == [
        ("linkedin", MAIN, "title", Severity.ERROR)
    ]


def test_a_published_posting_edited_to_break_the_rules_stays_as_it_was(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Sales Manager " + "x" * 200)
    plan = published.plan()
    assert summary(plan) == {
        ("google", UPDATE, MAIN, Reason.EDITED),
        ("hook", UPDATE, MAIN, Reason.EDITED),
    }
    assert [(p.target, p.field) for p in plan.kept] == [("linkedin", "title")]


# -- work in progress: sent or not, failed for good, reopened -----------------------------------


def test_a_create_sent_without_an_answer_is_closed_when_the_posting_closes(desk: Desk) -> None:
    desk.record(desk.plan(), "unanswered")  # the board may have applied it
    desk.add_field(MAIN, "status: closed")
    plan = desk.plan()
    assert summary(plan) == everywhere(CLOSE, Reason.CLOSED)
    assert plan.cancel == []


def test_a_create_sent_without_an_answer_is_closed_when_its_file_goes(desk: Desk) -> None:
    desk.record(desk.plan(), "unanswered")
    desk.path(MAIN).unlink()
    plan = desk.plan()
    assert summary(plan) == everywhere(CLOSE, Reason.DELETED)
    assert plan.for_target("linkedin")[0].payload == {
        "externalJobPostingId": MAIN,
        "jobPostingOperationType": "CLOSE",
    }


def test_a_create_never_sent_is_cancelled_when_the_posting_closes(desk: Desk) -> None:
    desk.record(desk.plan(), "unsent")
    desk.add_field(MAIN, "status: closed")
    plan = desk.plan()
    assert plan.operations == []
    assert sorted(plan.cancel) == sorted((MAIN, target) for target in PUSH)
    desk.record(plan)
    assert {o.posting_id for o in desk.store.pending(now=EVERYTHING)} == {OTHER}
    assert desk.states() == {DeliveryState.CLOSED}
    assert desk.plan().operations == []


def test_a_close_on_its_way_is_not_planned_twice(published: Desk) -> None:
    published.add_field(MAIN, "status: closed")
    published.record(published.plan(), "unanswered")
    assert published.plan().operations == []


def test_reopened_while_a_close_was_never_sent_cancels_the_close(published: Desk) -> None:
    published.add_field(MAIN, "status: closed")
    published.record(published.plan(), "unsent")
    published.replace(MAIN, "status: closed\n", "")
    plan = published.plan()
    assert plan.operations == []
    assert sorted(plan.cancel) == sorted((MAIN, target) for target in PUSH)


def test_reopened_after_a_close_was_sent_lists_it_again(published: Desk) -> None:
    # The CLOSE may have landed: the board is told to show the posting again.
    published.add_field(MAIN, "status: closed")
    published.record(published.plan(), "unanswered")
    published.replace(MAIN, "status: closed\n", "")
    plan = published.plan()
    assert summary(plan) == everywhere(UPDATE, Reason.REOPENED)
    assert plan.cancel == []
    for op in plan.operations:
        check_payload(published, op)
    published.record(plan)
    assert published.plan().operations == []


def test_a_create_refused_for_good_waits_for_the_posting_to_change(desk: Desk) -> None:
    desk.record(desk.plan(), "refused")
    assert desk.states() == {DeliveryState.FAILED}
    again = desk.plan()
    assert (again.operations, again.cancel) == ([], [])
    desk.replace(MAIN, "title: Sales Manager", "title: Sales Manager (Geneva)")
    assert summary(desk.plan()) == everywhere(CREATE, Reason.NEW)


def test_an_update_refused_for_good_waits_for_the_posting_to_change(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.record(published.plan(), "refused")
    assert published.plan().operations == []
    published.replace(MAIN, "title: Senior Sales Manager", "title: Lead Sales Manager")
    assert summary(published.plan()) == everywhere(UPDATE, Reason.EDITED)


def test_a_refused_update_is_still_closed_when_the_posting_closes(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.record(published.plan(), "refused")
    published.add_field(MAIN, "status: closed")
    assert summary(published.plan()) == everywhere(CLOSE, Reason.CLOSED)


@pytest.mark.parametrize("withdraw", ["close", "delete"])
def test_a_close_refused_for_good_waits_for_the_posting_to_change(
    published: Desk, withdraw: str
) -> None:
    text = published.path(MAIN).read_text(encoding="utf-8")
    if withdraw == "close":
        published.add_field(MAIN, "status: closed")
    else:
        published.path(MAIN).unlink()
    published.record(published.plan(), "refused")
    again = published.plan()
    assert (again.operations, again.cancel) == ([], [])
    # Open again with the content the board still shows: nothing to send, the failure settled.
    published.path(MAIN).write_text(text, encoding="utf-8")
    restored = published.plan()
    assert restored.operations == []
    assert sorted(restored.cancel) == sorted((MAIN, target) for target in PUSH)
    published.record(restored)
    assert published.states() == {DeliveryState.PUBLISHED}
    # Closed again with other content: closed again.
    published.replace(MAIN, "title: Sales Manager", "title: Sales Manager (Geneva)\nstatus: closed")
    assert summary(published.plan()) == everywhere(CLOSE, Reason.CLOSED)


def test_a_create_refused_for_good_is_settled_when_the_posting_closes(desk: Desk) -> None:
    desk.record(desk.plan(), "refused")
    desk.add_field(MAIN, "status: closed")
    plan = desk.plan()
    assert plan.operations == []
    assert sorted(plan.cancel) == sorted((MAIN, target) for target in PUSH)
    desk.record(plan)
    assert desk.states() == {DeliveryState.CLOSED}
    assert desk.plan().cancel == []


def test_a_refused_update_is_still_closed_when_the_posting_expires(desk: Desk) -> None:
    desk.add_field(MAIN, "valid_through: 2026-12-31")
    desk.publish()
    desk.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    desk.record(desk.plan(), "refused")
    # the same content, now expired: the board still shows the first version
    plan = desk.plan(now=datetime(2027, 1, 5, tzinfo=UTC))
    assert summary(plan) == everywhere(CLOSE, Reason.EXPIRED)


def test_a_reopened_posting_is_created_again(published: Desk) -> None:
    published.add_field(MAIN, "status: closed")
    published.publish()
    published.replace(MAIN, "status: closed\n", "")
    plan = published.plan()
    assert summary(plan) == everywhere(CREATE, Reason.REOPENED)
    for op in plan.operations:
        check_payload(published, op)


def test_a_restored_file_is_created_again(published: Desk) -> None:
    text = published.path(MAIN).read_text(encoding="utf-8")
    published.path(MAIN).unlink()
    published.publish()
    published.path(MAIN).write_text(text, encoding="utf-8")
    assert summary(published.plan()) == everywhere(CREATE, Reason.REOPENED)


# -- selection and configuration -----------------------------------------------------------------


def test_posting_ids_limit_the_plan_to_those_postings(published: Desk) -> None:
    published.replace(MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    published.path(OTHER).unlink()
    assert summary(published.plan(posting_ids={MAIN})) == everywhere(UPDATE, Reason.EDITED)
    assert summary(published.plan(posting_ids={OTHER})) == everywhere(CLOSE, Reason.DELETED, OTHER)
    assert published.plan(posting_ids={"no-such-posting"}).operations == []


@pytest.mark.parametrize(
    "change",
    [{"organization": "SixSq SA"}, {"site": "https://careers.example.com"}],
    ids=["organization", "site"],
)
def test_organization_or_site_changes_update_exactly_the_payloads_they_change(
    published: Desk, change: dict[str, str]
) -> None:
    """What a target was sent decides what is sent again: each payload is built anew and
    compared with the last one the target accepted; only those that differ are sent, as
    configuration changes, and the others are recorded as up to date without a request."""
    before = {(p, t): published.store.last_payload(p, t) for p in (MAIN, OTHER) for t in PUSH}
    published.configure(**change)
    plan = published.plan()

    assert plan.operations
    assert {(op.kind, op.reason) for op in plan.operations} == {(UPDATE, Reason.UPGRADE)}
    targets = {t.name: t for t in published.targets}
    for op in plan.operations:
        old = before[(op.posting_id, op.target)]
        assert op.payload_hash != targets[op.target].payload_digest(old, None), op
    planned = {(op.posting_id, op.target) for op in plan.operations}
    refreshed = {(posting_id, target) for posting_id, target, _, _ in plan.refresh}
    assert planned | refreshed == set(before) and not planned & refreshed
    published.record(plan)
    assert published.plan().operations == [] and published.plan().refresh == []


def test_a_changed_job_url_tells_google_the_old_url_is_gone(published: Desk) -> None:
    published.configure(site="https://careers.example.com")
    plan = published.plan()
    google = {op.posting_id: op.payload for op in plan.operations if op.target == "google"}
    assert google[MAIN] == {
        "url": "https://careers.example.com/careers/jobs/sixsq-sales-manager.html",
        "type": "URL_UPDATED",
        "previous_url": "https://jobs.example.com/careers/jobs/sixsq-sales-manager.html",
    }


def test_a_targets_content_option_updates_only_the_payloads_it_changes(published: Desk) -> None:
    published.configure(linkedin={"organization": "urn:li:organization:456"})
    plan = published.plan()
    # Only the organization's own job carries the URN; another company's job is sent by name,
    # so its payload is unchanged (its new version is recorded without a request), and the
    # other targets' versions do not move at all.
    assert summary(plan) == {("linkedin", UPDATE, MAIN, Reason.UPGRADE)}
    [update] = plan.operations
    assert update.payload["integrationContext"] == "urn:li:organization:456"
    assert [(p, t) for p, t, _, _ in plan.refresh] == [(OTHER, "linkedin")]


def test_changing_only_how_a_board_is_reached_sends_nothing(
    published: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in ("LI_TOKEN_2", "GOOGLE_TOKEN_2", "HOOK_SECRET_2"):
        monkeypatch.setenv(env, "another-secret")
    published.configure(
        linkedin={"endpoint": "http://127.0.0.1:8/v2", "token_env": "LI_TOKEN_2"},
        google={"endpoint": "http://127.0.0.1:8", "token_env": "GOOGLE_TOKEN_2", "daily_quota": 5},
        hook={"url": "http://127.0.0.1:8/other-hook", "secret_env": "HOOK_SECRET_2"},
    )
    plan = published.plan()
    assert (plan.operations, plan.cancel, plan.kept) == ([], [], [])


def test_a_listing_is_renewed_when_its_board_asks_for_renewals(desk: Desk) -> None:
    desk.configure(linkedin={"renew_after": "30d"})
    desk.record(desk.plan())
    assert summary(desk.plan(now=NOW + timedelta(days=29))) == set()
    due = desk.plan(now=NOW + timedelta(days=30))
    assert summary(due) == {
        ("linkedin", OperationKind.RENEW, MAIN, Reason.RENEWAL),
        ("linkedin", OperationKind.RENEW, OTHER, Reason.RENEWAL),
    }
    renewal = next(op for op in due.operations if op.posting_id == MAIN)
    assert renewal.payload["jobPostingOperationType"] == "RENEW"
    assert renewal.payload["title"] == "Sales Manager"
    desk.record(due, now=NOW + timedelta(days=30))
    # Renewed: the next one is due 30 days after the renewal was accepted.
    assert summary(desk.plan(now=NOW + timedelta(days=59))) == set()
    assert len(desk.plan(now=NOW + timedelta(days=60)).operations) == 2


def test_a_listing_is_renewed_a_week_before_it_lapses_while_the_job_stays_open(
    published: Desk,
) -> None:
    """LinkedIn's listings lapse 180 days after they are sent without expireAt (OAS 409), and
    RENEW extends them by 30 days (OAS 304): an open-ended job is renewed before it lapses."""
    lapses = published.store.delivery(MAIN, "linkedin").expires_at
    assert lapses is not None and lapses - NOW >= timedelta(days=179)
    assert summary(published.plan(now=lapses - timedelta(days=8))) == set()
    due = published.plan(now=lapses - timedelta(days=7))
    assert summary(due) == {
        ("linkedin", OperationKind.RENEW, MAIN, Reason.RENEWAL),
        ("linkedin", OperationKind.RENEW, OTHER, Reason.RENEWAL),
    }
    published.record(due, now=lapses - timedelta(days=7))
    assert published.store.delivery(MAIN, "linkedin").expires_at == lapses + timedelta(days=30)
    assert summary(published.plan(now=lapses)) == set()


def test_without_renew_nothing_is_ever_renewed(published: Desk) -> None:
    published.configure(linkedin={"renew": False})
    assert summary(published.plan(now=NOW + timedelta(days=400))) == set()


def test_changing_renew_after_sends_nothing_again(published: Desk) -> None:
    published.configure(linkedin={"renew_after": "90d"})
    assert summary(published.plan(now=NOW + timedelta(days=1))) == set()
