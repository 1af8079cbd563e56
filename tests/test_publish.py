"""`publish` against the local board server over real HTTP: convergence, edits, every fault.

Each test runs real publishes (`syndicate.publish.publish`) of a copy of the example postings
against a real `BoardServer` on a free port, with the publish state in a SQLite file under
``tmp_path``, and then reads the board's own record (`BoardServer.state`).  Whatever happened on
the way, a publish must end with the board showing every open posting exactly once at its latest
content, every withdrawn one closed, and no CREATE applied twice.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from syndicate.adapters import RenderContext
from syndicate.adapters.linkedin_json import ElementSetup, job_element
from syndicate.config import Settings, load_settings
from syndicate.loading import LoadResult, load_postings
from syndicate.publish import PublishReport, publish
from syndicate.state import StateStore
from syndicate.status import status_rows, status_summary
from syndicate.testing import BoardServer, BoardView
from tests.helpers import BOARD_HOOK_SECRET as HOOK_SECRET
from tests.helpers import BOARD_TOKEN as TOKEN

ROOT = Path(__file__).resolve().parent.parent
ORGANIZATION_URN = "urn:li:organization:123"
SITE = "https://jobs.example.com"
PUSH_TARGETS = ("linkedin", "google", "hook")
NOTIFY_PATH = "/batch"  # google_indexing batches its notifications


class Project:
    """A config.yaml whose push targets are the board, a copy of the examples, a state file."""

    def __init__(
        self, root: Path, board: BoardServer, state: str = "sqlite:///state/state.db"
    ) -> None:
        self.root = root
        self.board = board
        self.state = state
        shutil.copytree(ROOT / "postings", root / "postings")
        self.configure()

    def configure(
        self,
        *,
        retry: dict[str, Any] | None = None,
        linkedin: dict[str, Any] | None = None,
        google: dict[str, Any] | None = None,
        hook: dict[str, Any] | None = None,
    ) -> None:
        """Write config.yaml: tiny backoffs and poll intervals, options overridden as given."""
        targets = {
            "linkedin": {
                "type": "linkedin_api",
                "endpoint": self.board.url + "/rest",
                "token_env": "LINKEDIN_TOKEN",
                "organization": ORGANIZATION_URN,
                "poll_interval": "10ms",
                "poll_timeout": "300ms",
                **(linkedin or {}),
            },
            "google": {
                "type": "google_indexing",
                "endpoint": self.board.url,
                "token_env": "GOOGLE_INDEXING_TOKEN",
                "daily_quota": 200,
                **(google or {}),
            },
            "hook": {
                "type": "webhook",
                "url": self.board.hook_url,
                "secret_env": "HOOK_SECRET",
                **(hook or {}),
            },
        }
        config = {
            "organization": {
                "name": "SixSq",
                "url": "https://sixsq.com",
                "email": "jobs@sixsq.com",
                "location": {"city": "Geneva", "country": "CH"},
            },
            "site": {"base_url": SITE},
            "timezone": "Europe/Zurich",
            "state": self.state,
            "targets": targets,
            "retry": retry or {"max_attempts": 4, "backoff": "10ms", "max_backoff": "200ms"},
        }
        (self.root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    @property
    def settings(self) -> Settings:
        return load_settings(self.root / "config.yaml")

    def load(self) -> LoadResult:
        settings = self.settings
        return load_postings(settings.postings_dir, settings.timezone)

    def publish(self, now: datetime | None = None) -> PublishReport:
        settings = self.settings
        with StateStore(settings.state_url) as store:
            return publish(settings, self.load(), store, now=now)

    def status(self) -> list[dict[str, Any]]:
        with StateStore(self.settings.state_url) as store:
            return status_rows(store)

    def open_ids(self, now: datetime | None = None) -> set[str]:
        """Ids of the postings that should be listed at ``now``."""
        settings = self.settings
        moment = now or datetime.now(UTC)
        return {p.id for p in self.load().postings if p.is_listed(moment, settings.timezone)}

    def file(self, posting_id: str) -> Path:
        [path] = [f.path for f in self.load().files if f.posting.id == posting_id]
        return path

    def set_field(self, posting_id: str, key: str, value: str) -> None:
        """Set one front matter field of a posting, as a person would in its file."""
        path = self.file(posting_id)
        text = path.read_text()
        line = f"{key}: {value}"
        if re.search(rf"^{key}:", text, flags=re.MULTILINE):
            text = re.sub(rf"^{key}:.*$", line, text, count=1, flags=re.MULTILINE)
        else:
            text = re.sub(r"^(id: .*)$", rf"\1\n{line}", text, count=1, flags=re.MULTILINE)
        path.write_text(text)

    def edit_body(self, posting_id: str, sentence: str) -> None:
        path = self.file(posting_id)
        path.write_text(path.read_text().rstrip("\n") + f"\n\n{sentence}\n")

    def expected_fields(self, posting_id: str) -> dict[str, Any]:
        """What the jobs API should hold for a posting: its element, minus the operation keys."""
        settings = self.settings
        posting = next(p for p in self.load().postings if p.id == posting_id)
        element = job_element(
            posting,
            RenderContext(settings=settings, build_time=datetime.now(UTC)),
            setup=ElementSetup(organization_urn=ORGANIZATION_URN),
        )
        del element["externalJobPostingId"], element["jobPostingOperationType"]
        return element


@pytest.fixture
def project(
    tmp_path: Path, board: BoardServer, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Project:
    """The examples published to the board, with a state on SQLite, then on PostgreSQL."""
    monkeypatch.setenv("LINKEDIN_TOKEN", TOKEN)
    monkeypatch.setenv("GOOGLE_INDEXING_TOKEN", TOKEN)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    return Project(tmp_path, board, state_url)


def job_url(posting_id: str) -> str:
    return f"{SITE}/jobs/{posting_id}.html"


def assert_converged(
    project: Project,
    *,
    closed: Collection[str] = (),
    kept: Collection[str] = (),
    now: datetime | None = None,
) -> BoardView:
    """The board shows every open posting once at its latest content; ``closed`` are closed;
    ``kept`` (postings whose file no longer loads) stay listed as they were."""
    view = project.board.state()
    wanted = project.open_ids(now)
    assert set(view.listed()) == wanted | set(kept)
    for posting_id in wanted:
        job = view.jobs[posting_id]
        assert job.creates == 1, f"{posting_id}: {job.creates} CREATEs applied"
        assert job.fields == project.expected_fields(posting_id), posting_id
    for posting_id in closed:
        assert view.jobs[posting_id].state == "CLOSED", posting_id
        assert view.jobs[posting_id].creates == 1, posting_id
    latest = {}
    for note in view.notifications:
        latest[note.url] = note.type
    for posting_id in wanted:
        assert latest.get(job_url(posting_id)) == "URL_UPDATED", posting_id
    for posting_id in closed:
        assert latest.get(job_url(posting_id)) == "URL_DELETED", posting_id
    rows = {(r["posting"], r["target"]): r for r in project.status()}
    for posting_id in wanted | set(kept):
        for target in PUSH_TARGETS:
            assert rows[(posting_id, target)]["state"] == "published", (posting_id, target)
            assert rows[(posting_id, target)]["queued_until"] is None
    for posting_id in closed:
        for target in PUSH_TARGETS:
            assert rows[(posting_id, target)]["state"] == "closed", (posting_id, target)
    return view


def api_requests(view: BoardView, path: str | None = None) -> list[Any]:
    return [r for r in view.requests if path is None or r.path == path]


def elements_sent(view: BoardView) -> list[dict[str, Any]]:
    """Every ``simpleJobPostings`` element the board received, in order."""
    return [
        e for r in api_requests(view, "/rest/simpleJobPostings") for e in (r.body or {})["elements"]
    ]


# -- convergence ----------------------------------------------------------------------------------


def test_publish_converges_and_a_second_publish_sends_nothing(project: Project) -> None:
    report = project.publish()

    ids = project.open_ids()
    assert len(ids) == 5
    assert report.disabled == {}
    for name in PUSH_TARGETS:
        result = report.targets[name]
        assert (result.succeeded, result.failed, result.queued) == (5, 0, 0), result
    view = assert_converged(project)
    assert sorted(e["jobPostingOperationType"] for e in elements_sent(view)) == ["CREATE"] * 5
    assert {(n.url, n.type) for n in view.notifications} == {
        (job_url(i), "URL_UPDATED") for i in ids
    }
    assert len(view.notifications) == 5
    # One signed delivery per posting (the board checks the signature, else 401), each keyed.
    assert sorted(d.body["id"] for d in view.deliveries) == sorted(ids)
    assert not any(d.duplicate for d in view.deliveries)
    for delivery in view.deliveries:
        posting_id = delivery.body["id"]
        assert delivery.idempotency_key.startswith(f"{posting_id}:")
        assert delivery.body["operation"] == "CREATE"
        assert delivery.body["posting"]["title"]
    assert all(r.status == 200 for r in view.requests)
    summary = status_summary(project.status())
    assert summary == {
        "deliveries": 15,
        "published": 15,
        "pending": 0,
        "failed": 0,
        "closed": 0,
        "queued": 0,
    }

    again = project.publish()
    assert again.plan.operations == []
    assert len(project.board.state().requests) == len(view.requests)
    assert all(result.sent == 0 for result in again.targets.values())


# -- edits ----------------------------------------------------------------------------------------


def test_edits_update_and_withdrawals_close_but_a_broken_file_is_kept(project: Project) -> None:
    today = datetime.now(UTC).date()
    project.set_field("canonical-channel-sales-manager", "valid_through", str(today + timedelta(2)))
    extra = project.root / "postings" / "lausanne.md"
    extra.write_text(
        project.file("sixsq-sales-manager")
        .read_text()
        .replace("id: sixsq-sales-manager", "id: sixsq-sales-manager-lausanne")
    )
    project.publish()
    first = assert_converged(project)
    assert len(first.listed()) == 6
    first_keys = {d.body["id"]: d.idempotency_key for d in first.deliveries}

    project.edit_body("sixsq-sales-manager", "You will travel to Lausanne once a month.")
    project.set_field("sixsq-sales-director", "status", "closed")
    (project.file("8x8-inside-sales-manager")).unlink()
    project.set_field("canonical-sales-director-iot-devices", "status", "draft")
    extra.write_text("---\nid: sixsq-sales-manager-lausanne\ntitle: [unclosed\n---\nBody\n")
    later = datetime.now(UTC) + timedelta(days=3)  # canonical-channel-sales-manager has expired
    withdrawn = {
        "sixsq-sales-director",
        "8x8-inside-sales-manager",
        "canonical-sales-director-iot-devices",
        "canonical-channel-sales-manager",
    }

    report = project.publish(now=later)

    planned = {
        (op.target, op.posting_id): (str(op.kind), str(op.reason)) for op in report.plan.operations
    }
    expected = {("sixsq-sales-manager", "UPDATE", "edited")} | {
        (posting_id, "CLOSE", reason)
        for posting_id, reason in (
            ("sixsq-sales-director", "closed"),
            ("8x8-inside-sales-manager", "file deleted"),
            ("canonical-sales-director-iot-devices", "draft again"),
            ("canonical-channel-sales-manager", "expired"),
        )
    }
    for target in PUSH_TARGETS:
        assert {(p, k, r) for (t, p), (k, r) in planned.items() if t == target} == expected
    assert len(report.plan.operations) == 15
    # The broken file is reported, and nothing is planned for its posting anywhere.
    assert any(str(p.file).endswith("lausanne.md") for p in project.load().problems)
    kept = [p for p in report.plan.kept if p.posting_id == "sixsq-sales-manager-lausanne"]
    assert {p.target for p in kept} == set(PUSH_TARGETS)

    view = assert_converged(
        project, closed=withdrawn, kept={"sixsq-sales-manager-lausanne"}, now=later
    )
    sent = elements_sent(view)[len(elements_sent(first)) :]
    assert sorted(
        (e["externalJobPostingId"], e["jobPostingOperationType"]) for e in sent
    ) == sorted([("sixsq-sales-manager", "UPDATE")] + [(i, "CLOSE") for i in withdrawn])
    assert view.jobs["sixsq-sales-manager"].updates == 1
    assert "Lausanne once a month" in view.jobs["sixsq-sales-manager"].fields["description"]
    notes = [(n.url, n.type) for n in view.notifications[len(first.notifications) :]]
    assert sorted(notes) == sorted(
        [(job_url("sixsq-sales-manager"), "URL_UPDATED")]
        + [(job_url(i), "URL_DELETED") for i in withdrawn]
    )
    hooks = view.deliveries[len(first.deliveries) :]
    assert sorted((d.body["id"], d.body["operation"]) for d in hooks) == sorted(
        [("sixsq-sales-manager", "UPDATE")] + [(i, "CLOSE") for i in withdrawn]
    )
    assert not any(d.duplicate for d in hooks)
    [update] = [d for d in hooks if d.body["operation"] == "UPDATE"]
    assert update.idempotency_key != first_keys["sixsq-sales-manager"]
    assert "Lausanne once a month" in update.body["posting"]["description_html"]
    # The posting whose file is broken is still listed everywhere, as it was.
    assert view.jobs["sixsq-sales-manager-lausanne"].updates == 0
    assert view.jobs["sixsq-sales-manager-lausanne"].closes == 0

    requests = len(view.requests)
    assert project.publish(now=later).plan.operations == []
    assert len(project.board.state().requests) == requests


# -- faults ---------------------------------------------------------------------------------------

LINKEDIN_PATH = "/rest/simpleJobPostings"
TASKS_PATH = "/rest/simpleJobPostingTasks"


def publish_until_converged(project: Project, runs: int = 10) -> list[PublishReport]:
    """Publish again until nothing is left queued (each run a little later than the last)."""
    reports = []
    for run in range(runs):
        report = project.publish(now=datetime.now(UTC) + timedelta(seconds=run))
        reports.append(report)
        if not report.queued:
            return reports
    pytest.fail(f"still queued after {runs} runs: {reports[-1].targets}")


def test_5xx_are_retried_within_the_run(project: Project) -> None:
    project.board.add_faults(
        {"path": LINKEDIN_PATH, "kind": "status", "status": 500, "times": 2},
        {"path": NOTIFY_PATH, "kind": "status", "status": 503, "times": 3},
        {"path": "/hook", "kind": "status", "status": 502, "times": 1},
    )

    report = project.publish()

    assert report.queued == 0 and report.failed == 0
    view = assert_converged(project)
    assert view.faults == []
    statuses = [r.status for r in api_requests(view, LINKEDIN_PATH)]
    assert statuses == [500, 500, 200]
    assert [r.status for r in api_requests(view, NOTIFY_PATH)][:4] == [503, 503, 503, 200]
    assert len(view.notifications) == 5
    assert len(view.deliveries) == 5


def test_429_retry_after_is_waited_for_within_the_run(project: Project) -> None:
    project.configure(retry={"max_attempts": 4, "backoff": "10ms", "max_backoff": "2s"})
    project.board.add_faults(
        {"path": LINKEDIN_PATH, "kind": "status", "status": 429, "retry_after": 1}
    )

    report = project.publish()

    assert report.queued == 0
    view = assert_converged(project)
    refused, accepted = api_requests(view, LINKEDIN_PATH)
    assert (refused.status, accepted.status) == (429, 200)
    assert (accepted.at - refused.at).total_seconds() >= 1.0


def test_429_retry_after_beyond_max_backoff_queues_until_then(project: Project) -> None:
    project.board.add_faults(
        {"path": LINKEDIN_PATH, "kind": "status", "status": 429, "retry_after": 30}
    )
    started = datetime.now(UTC)

    report = project.publish(now=started)

    # Not retried after the 200ms max_backoff: queued for the 30 seconds the board asked.
    assert report.targets["linkedin"].queued == 5
    assert [r.status for r in api_requests(project.board.state(), LINKEDIN_PATH)] == [429]
    rows = [r for r in project.status() if r["target"] == "linkedin"]
    assert {r["state"] for r in rows} == {"pending"}
    for row in rows:
        queued_until = datetime.fromisoformat(row["queued_until"])
        assert queued_until >= started + timedelta(seconds=29)
        assert "429" in row["error"]
    assert project.publish(now=started + timedelta(seconds=10)).targets["linkedin"].sent == 0
    assert len(api_requests(project.board.state(), LINKEDIN_PATH)) == 1

    project.publish(now=started + timedelta(seconds=31))
    assert_converged(project)


def test_a_response_slower_than_the_timeout_is_retried_without_a_second_job(
    project: Project,
) -> None:
    project.configure(
        linkedin={"timeout": "200ms"}, google={"timeout": "200ms"}, hook={"timeout": "200ms"}
    )
    project.board.add_faults(
        {"path": LINKEDIN_PATH, "kind": "delay", "seconds": 0.6},
        {"path": NOTIFY_PATH, "kind": "delay", "seconds": 0.6},
    )
    started = time.monotonic()

    report = project.publish()

    assert report.queued == 0
    assert time.monotonic() - started < 10  # retried at once, not after a backoff of minutes
    # The slow requests were applied by the board after the client gave up; wait for them.
    for _ in range(100):
        if len([r for r in project.board.state().requests if r.fault == "delay"]) == 2:
            break
        time.sleep(0.05)
    view = assert_converged(project)
    assert all(view.create_requests[i] == 2 for i in project.open_ids())
    assert len(view.notifications) == 10  # one batch of five URL_UPDATED sent twice: harmless


def test_a_close_answered_unknown_is_retried_while_a_lost_create_may_still_land(
    project: Project,
) -> None:
    """A CREATE whose answer never came reaches LinkedIn after the CLOSE of the same job (a
    request still in flight, a task processed late): the CLOSE answered "does not exist" is
    not trusted but tried again, so the job is not left listed."""
    project.configure(
        linkedin={"timeout": "200ms", "landing_window": "10s"},
        retry={"max_attempts": 1, "backoff": "10ms", "max_backoff": "200ms"},
    )
    # Long enough for the next publish to come first even on a loaded machine.
    project.board.add_faults({"path": LINKEDIN_PATH, "kind": "delay", "seconds": 8.0})
    first = project.publish()
    assert first.targets["linkedin"].queued == 5  # the answer never came: in doubt
    gone = "sixsq-sales-director"
    project.file(gone).unlink()
    settings = project.settings
    with StateStore(settings.state_url) as store:
        second = publish(settings, project.load(), store, allow_mass_close=True)
        # The first CREATEs have not landed yet: the board has no such job to close.
        assert project.board.state().jobs.get(gone) is None
        assert second.targets["linkedin"].queued == 1
        [waiting] = [op for op in store.pending(now=datetime.max.replace(tzinfo=UTC))]
        assert (waiting.posting_id, waiting.kind) == (gone, "CLOSE")
        assert "may still land" in (waiting.last_error or "")
    for _ in range(400):  # the delayed request is answered (and applied) 8 s after it came
        if any(r.fault == "delay" for r in project.board.state().requests):
            break
        time.sleep(0.05)
    assert project.board.state().jobs[gone].state == "LISTED"  # the lost CREATE landed
    # The close is due once the 10 s landing window after that CREATE has passed.
    assert waiting.not_before is not None
    time.sleep(max(0.0, (waiting.not_before - datetime.now(UTC)).total_seconds()) + 0.1)
    with StateStore(settings.state_url) as store:
        third = publish(settings, project.load(), store, retry_now=True)
    assert third.targets["linkedin"].succeeded == 1
    view = project.board.state()
    assert view.jobs[gone].state == "CLOSED"
    assert gone not in view.listed()


def test_a_connection_dropped_after_the_board_applied_it(project: Project) -> None:
    project.board.add_faults(
        {"path": LINKEDIN_PATH, "kind": "drop_after_apply"},
        {"path": "/hook", "kind": "drop_after_apply"},
        {"path": NOTIFY_PATH, "kind": "drop_after_apply"},
    )

    report = project.publish()

    assert report.queued == 0 and report.failed == 0
    view = assert_converged(project)
    # The second attempt's CREATEs found the jobs there and were sent again as UPDATEs.
    ops = [e["jobPostingOperationType"] for e in elements_sent(view)]
    assert ops.count("CREATE") == 10 and ops.count("UPDATE") == 5
    assert all(view.create_requests[i] == 2 for i in project.open_ids())
    # The webhook delivery sent again carries the same key: the receiver drops it.
    [duplicate] = [d for d in view.deliveries if d.duplicate]
    assert [d.idempotency_key for d in view.deliveries].count(duplicate.idempotency_key) == 2
    assert len(view.deliveries) == 6


def test_an_element_error_fails_that_posting_until_it_changes(project: Project) -> None:
    refused = "sixsq-sales-director"
    message = "companyApplyUrl: this board does not accept mailto links"
    project.board.add_faults(
        {"kind": "element_error", "external_id": refused, "status": 422, "message": message}
    )

    report = project.publish()

    result = report.targets["linkedin"]
    assert (result.succeeded, result.failed, result.queued) == (4, 1, 0)
    assert any(refused in error and message in error for error in result.errors)
    view = project.board.state()
    assert set(view.listed()) == project.open_ids() - {refused}
    row = next(r for r in project.status() if r["posting"] == refused and r["target"] == "linkedin")
    assert row["state"] == "failed" and message in row["error"] and row["queued_until"] is None
    # The other targets took it.
    assert report.targets["google"].succeeded == report.targets["hook"].succeeded == 5

    # Not retried while the posting is unchanged.
    requests = len(view.requests)
    assert project.publish().plan.operations == []
    assert len(project.board.state().requests) == requests

    project.set_field(refused, "apply", "{url: https://sixsq.com/apply}")
    report = project.publish()
    assert report.targets["linkedin"].succeeded == 1
    view = assert_converged(project)
    assert view.create_requests[refused] == 2  # refused once, applied once


def test_a_task_in_progress_past_poll_timeout_is_polled_next_run_not_resent(
    project: Project,
) -> None:
    slow = "canonical-channel-sales-manager"
    project.configure(linkedin={"poll_interval": "10ms", "poll_timeout": "100ms"})
    project.board.add_faults({"kind": "task_in_progress", "external_id": slow, "polls": 25})

    first = project.publish()

    assert first.targets["linkedin"].queued == 1
    row = next(r for r in project.status() if r["posting"] == slow and r["target"] == "linkedin")
    [task] = [t for t in project.board.state().tasks.values() if t.external_id == slow]
    assert row["state"] == "pending" and task.urn in row["error"] and row["queued_until"]
    posted = len(elements_sent(project.board.state()))

    publish_until_converged(project, runs=20)

    view = assert_converged(project)
    assert len(elements_sent(view)) == posted  # only polled since
    assert view.tasks[task.urn].polls >= 26
    row = next(r for r in project.status() if r["posting"] == slow and r["target"] == "linkedin")
    assert row["remote_id"] == view.jobs[slow].urn


def test_a_failed_task_fails_the_posting_with_the_boards_message(project: Project) -> None:
    failing = "sixsq-sales-manager"
    message = "the job could not be indexed"
    project.board.add_faults(
        {"kind": "task_failed", "external_id": failing, "polls": 1, "message": message}
    )

    report = project.publish()

    assert report.targets["linkedin"].failed == 1
    assert failing not in project.board.state().jobs
    row = next(r for r in project.status() if r["posting"] == failing and r["target"] == "linkedin")
    assert row["state"] == "failed" and message in row["error"]
    assert project.publish().plan.operations == []

    project.edit_body(failing, "Fluent French is a plus.")
    project.publish()
    view = assert_converged(project)
    assert view.create_requests[failing] == 2 and view.jobs[failing].creates == 1


def test_a_board_that_keeps_failing_leaves_everything_queued(project: Project) -> None:
    project.board.add_faults({"kind": "status", "status": 503, "times": 1000})
    started = datetime.now(UTC)

    report = project.publish(now=started)

    assert report.queued == 15 and report.failed == 0
    for name in PUSH_TARGETS:
        assert report.targets[name].succeeded == 0
        assert any("503" in error for error in report.targets[name].errors)
    rows = project.status()
    assert {r["state"] for r in rows} == {"pending"}
    assert all(r["queued_until"] and "503" in r["error"] for r in rows)
    assert status_summary(rows)["queued"] == 15
    # Each batch was tried max_attempts times within the run.
    view = project.board.state()
    assert len(api_requests(view, LINKEDIN_PATH)) == 4
    assert len(api_requests(view, "/hook")) == 5 * 4
    assert project.board.state().jobs == {}

    project.board.board.clear_faults()
    publish_until_converged(project)
    assert_converged(project)


# -- quota and disabled targets -------------------------------------------------------------------


def test_google_daily_quota_carries_the_rest_to_the_next_pacific_day(project: Project) -> None:
    project.configure(google={"daily_quota": 2})
    # Late in a Pacific day (Google's quota day), so that the carried notifications wait for the
    # next one.
    pacific = ZoneInfo("America/Los_Angeles")
    day0 = datetime.combine(datetime.now(pacific).date(), datetime.min.time(), tzinfo=pacific)
    day0 += timedelta(hours=22)

    report = project.publish(now=day0)

    google = report.targets["google"]
    assert (google.succeeded, google.queued) == (2, 3)
    assert report.targets["linkedin"].succeeded == report.targets["hook"].succeeded == 5
    assert len(project.board.state().notifications) == 2
    rows = [r for r in project.status() if r["target"] == "google"]
    carried = [r for r in rows if r["state"] == "pending"]
    assert len(carried) == 3
    next_day = (day0 + timedelta(days=1)).replace(hour=0)
    for row in carried:
        assert datetime.fromisoformat(row["queued_until"]) == next_day
        assert "daily quota of 2" in row["error"]
    # Later the same Pacific day: nothing more is sent.
    assert project.publish(now=day0 + timedelta(hours=1)).targets["google"].sent == 0
    assert len(project.board.state().notifications) == 2

    day1 = project.publish(now=next_day + timedelta(hours=1)).targets["google"]
    assert (day1.succeeded, day1.queued) == (2, 1)
    day2 = project.publish(now=next_day + timedelta(days=1, hours=1)).targets["google"]
    assert (day2.succeeded, day2.queued) == (1, 0)
    view = assert_converged(project)
    assert len(view.notifications) == 5


def test_a_push_target_without_its_secret_is_skipped_as_disabled(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_SECRET")

    report = project.publish()

    assert report.disabled == {"hook": "environment variable HOOK_SECRET is not set"}
    assert set(report.targets) == {"linkedin", "google"}
    view = project.board.state()
    assert view.deliveries == [] and not api_requests(view, "/hook")
    assert set(view.listed()) == project.open_ids()
    assert {r["target"] for r in project.status()} == {"linkedin", "google"}
    assert report.queued == 0

    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    project.publish()
    assert_converged(project)


def test_a_job_reopened_unchanged_reaches_the_webhook_as_a_new_delivery(project: Project) -> None:
    project.publish()
    project.set_field("sixsq-sales-manager", "status", "closed")
    project.publish()
    project.set_field("sixsq-sales-manager", "status", "open")

    report = project.publish()

    assert ("hook", "CREATE", "reopened") in {
        (op.target, str(op.kind), str(op.reason)) for op in report.plan.operations
    }
    view = assert_converged(project)
    hooks = [d for d in view.deliveries if d.body["id"] == "sixsq-sales-manager"]
    assert [d.body["operation"] for d in hooks] == ["CREATE", "CLOSE", "CREATE"]
    assert not any(d.duplicate for d in hooks)


def test_listings_are_renewed_at_the_board_when_due(project: Project, board: BoardServer) -> None:
    project.configure(linkedin={"renew_after": "30d"})
    start = datetime.now(UTC)
    project.publish(now=start)
    later = project.publish(now=start + timedelta(days=31))
    assert {str(op.kind) for op in later.plan.operations} == {"RENEW"}
    assert later.targets["linkedin"].succeeded == len(later.plan.operations) > 0
    jobs = board.state().jobs
    assert all(job.renewals == 1 and job.creates == 1 for job in jobs.values())
    assert project.publish(now=start + timedelta(days=32)).plan.operations == []
