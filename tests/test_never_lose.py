"""Never lose a job: what the README's reliability section promises, tried as a user would.

Each test runs the ``syndicate`` command (or `publish`) on a copy of the examples against the
local board over real HTTP, with a real SQLite state, and reads back what readers and boards
see: the feed files parsed, the careers pages, the board's own record.

- a typo in a published posting keeps the job, at its last good version, in every feed, page
  and board (postings inside and outside the project folder), and says so;
- an edit that breaks one target's rules keeps that target's last good version only;
- an emptied postings folder (or too many deleted files, or changed ids) closes nothing until
  ``--allow-mass-close``, while expiry of many jobs at once goes through;
- a board that refused our token gets the jobs once the token is fixed, without an edit;
- ``--retry-now`` sends what is queued at once, never before a board's Retry-After;
- a failed delivery makes ``status`` exit 4, and ``--retry-failed`` sends it again;
- waits for retries are shown, and bounded by ``retry.max_wait_per_run``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from syndicate.testing import BoardServer
from tests.cli import run
from tests.helpers import wait_for
from tests.test_publish import HOOK_SECRET, SITE, TOKEN, Project, elements_sent

TOKENS = {"LINKEDIN_TOKEN": TOKEN, "GOOGLE_INDEXING_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}
BROKEN = "8x8-inside-sales-manager"
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class Site(Project):
    """A project with the four pull targets as well as the three push targets."""

    def configure(self, **overrides: Any) -> None:
        super().configure(**{k: v for k, v in overrides.items() if k != "extra"})
        path = self.root / "config.yaml"
        config = yaml.safe_load(path.read_text())
        config["targets"] = {
            "indeed": {"type": "indeed_xml", "file": "indeed.xml"},
            "jsonld": {"type": "jsonld", "file": "jobs.jsonld"},
            "linkedin_feed": {"type": "linkedin_json", "file": "linkedin.json"},
            "careers": {"type": "careers_site", "dir": "careers"},
            **config["targets"],
        }
        config.update(overrides.get("extra") or {})
        path.write_text(yaml.safe_dump(config, sort_keys=False))

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return run(*args, cwd=self.root, env={**TOKENS, **(env or {})})

    def move_postings_outside(self) -> None:
        """Postings in a checkout of their own, outside the project folder."""
        elsewhere = self.root.parent / "checkout" / "postings"
        elsewhere.parent.mkdir(parents=True)
        shutil.move(self.root / "postings", elsewhere)
        path = self.root / "config.yaml"
        config = yaml.safe_load(path.read_text())
        config["postings"] = str(elsewhere)
        path.write_text(yaml.safe_dump(config, sort_keys=False))

    @property
    def postings(self) -> Path:
        return self.settings.postings_dir

    def feeds(self) -> dict[str, dict[str, str]]:
        """Each pull target's jobs as readers see them: posting id → title (Indeed: by
        requisition id; careers: the pages that exist)."""
        output = self.settings.output_dir
        indeed = etree.parse(str(output / "indeed.xml"), SAFE_PARSER).getroot()
        jsonld = json.loads((output / "jobs.jsonld").read_text())
        linkedin = json.loads((output / "linkedin.json").read_text())
        pages = output / "careers" / "jobs"
        return {
            "indeed": {
                j.findtext("requisitionid"): j.findtext("title") for j in indeed.iter("job")
            },
            "jsonld": {n["identifier"]["value"]: n["title"] for n in jsonld["@graph"]},
            "linkedin": {e["externalJobPostingId"]: e["title"] for e in linkedin["elements"]},
            "careers": {p.stem: _page_title(p) for p in pages.glob("*.html")},
        }


def _page_title(page: Path) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(), re.DOTALL)
    assert match, page
    return match.group(1).strip()


@pytest.fixture
def site(tmp_path: Path, board: BoardServer, monkeypatch: pytest.MonkeyPatch) -> Site:
    for name, value in TOKENS.items():  # for publishes in this process
        monkeypatch.setenv(name, value)
    return Site(tmp_path / "project", board)


def job_url(posting_id: str) -> str:
    return f"{SITE}/careers/jobs/{posting_id}.html"


def retitle(path: Path, title: str) -> None:
    text = path.read_text()
    path.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", text, count=1))


def listed_titles(board: BoardServer) -> dict[str, str]:
    return {key: job.fields["title"] for key, job in board.state().listed().items()}


def deleted_urls(board: BoardServer) -> set[str]:
    return {n.url for n in board.state().notifications if n.type == "URL_DELETED"}


# -- a file that fails to load --------------------------------------------------------------------


@pytest.mark.parametrize("postings_outside", [False, True], ids=["inside", "outside"])
def test_a_typo_in_a_published_posting_keeps_the_job_everywhere(
    site: Site, board: BoardServer, postings_outside: bool
) -> None:
    if postings_outside:
        site.move_postings_outside()
    assert site.cli("publish").returncode == 0
    before = site.feeds()
    assert all(BROKEN in jobs for jobs in before.values())
    title = before["indeed"][BROKEN]

    retitle(site.postings / f"{BROKEN}.md", "Inside Sales: Manager")  # a YAML error
    published = site.cli("publish")

    assert published.returncode == 1, published.stderr
    assert re.search(rf"{BROKEN}\.md:\d+: YAML syntax error", published.stderr)
    assert re.search(
        rf"{BROKEN}\.md: kept the version built at [\d-]+ [\d:]+ UTC on careers, google, hook, "
        r"indeed, jsonld, linkedin, linkedin_feed; fix the file to publish changes",
        published.stderr,
    ), published.stderr
    after = site.feeds()
    assert after == before  # every feed and page still has the job, as it was
    assert listed_titles(board)[BROKEN] == title
    assert board.state().jobs[BROKEN].closes == 0
    assert job_url(BROKEN) not in deleted_urls(board)

    status = site.cli("status", "--format", "json")
    held = json.loads(status.stdout)["held"]
    assert {row["target"] for row in held} >= {"indeed", "careers", "linkedin"}
    assert all(row["file"] == f"{BROKEN}.md" for row in held)
    assert "YAML syntax error" in held[0]["problems"][0]["message"]

    retitle(site.postings / f"{BROKEN}.md", "Inside Sales Team Manager")  # fixed
    assert site.cli("publish").returncode == 0
    assert all(jobs[BROKEN] == "Inside Sales Team Manager" for jobs in site.feeds().values())
    assert listed_titles(board)[BROKEN] == "Inside Sales Team Manager"
    assert json.loads(site.cli("status", "--format", "json").stdout)["held"] == []


def test_a_broken_file_that_never_loaded_is_simply_absent(site: Site) -> None:
    (site.postings / "new.md").write_text("---\nid: brand-new\ntitle: [unclosed\n---\nBody\n")
    published = site.cli("publish")
    assert published.returncode == 1
    assert re.search(r"postings/new\.md:\d+: YAML syntax error", published.stderr)
    assert "kept the version" not in published.stderr  # nothing of it was ever listed
    feeds = site.feeds()
    assert all("brand-new" not in jobs for jobs in feeds.values())
    assert len(feeds["careers"]) == 5  # the others publish as usual


def test_a_kept_version_whose_valid_through_passes_is_closed_as_usual(
    site: Site, board: BoardServer
) -> None:
    path = site.postings / f"{BROKEN}.md"
    path.write_text(
        path.read_text().replace("date_posted:", "valid_through: 2026-12-31\ndate_posted:")
    )
    assert site.publish(now=datetime(2026, 12, 1, tzinfo=UTC)).failed == 0
    retitle(path, "Inside Sales: Manager")

    later = datetime(2027, 1, 2, tzinfo=UTC)
    report = site.publish(now=later)

    closes = [op for op in report.plan.operations if op.kind == "CLOSE"]
    assert {(op.target, op.posting_id, op.why) for op in closes} == {
        (name, BROKEN, "expired") for name in ("linkedin", "google", "hook")
    }
    assert board.state().jobs[BROKEN].state == "CLOSED"
    assert BROKEN not in site.feeds()["indeed"]


def test_an_edit_that_breaks_one_targets_rules_keeps_that_targets_last_good_version(
    site: Site, board: BoardServer
) -> None:
    assert site.cli("publish").returncode == 0
    posting = "sixsq-sales-manager"
    path = site.postings / f"{posting}.md"
    front, _, _body = path.read_text().partition("\n---\n")
    # Too short for LinkedIn (100 characters of HTML at least); fine for every other target.
    path.write_text(front.replace("title: Sales Manager", "title: Sales Lead") + "\n---\nShort.\n")

    published = site.cli("publish")

    assert published.returncode == 1
    assert re.search(rf"{posting}\.md:\d+: description: .*LinkedIn needs 100", published.stderr)
    assert f"{posting}.md: kept the version built at" in published.stderr
    assert "on linkedin, linkedin_feed;" in published.stderr
    feeds = site.feeds()
    assert feeds["linkedin"][posting] == "Sales Manager"  # the last good version
    assert listed_titles(board)[posting] == "Sales Manager"  # the board was not told
    assert feeds["indeed"][posting] == feeds["jsonld"][posting] == "Sales Lead"
    assert feeds["careers"][posting] == "Sales Lead"


# -- the guard against mass closes ---------------------------------------------------------------


def test_an_emptied_postings_folder_closes_nothing_until_approved(
    site: Site, board: BoardServer
) -> None:
    assert site.cli("publish").returncode == 0
    before = site.feeds()
    aside = site.root / "aside"
    shutil.move(site.postings, aside)
    site.postings.mkdir()  # a checkout of a branch without the postings

    plan = site.cli("publish", "--plan")
    refused = site.cli("publish")

    for result in (plan, refused):
        assert result.returncode == 1
        assert "refused to close 5 of 5 open job(s) because the postings folder is empty" in (
            result.stderr
        )
        assert "syndicate publish --allow-mass-close" in result.stderr
    assert len(board.state().listed()) == 5
    assert not deleted_urls(board)
    assert site.feeds() == before  # readers still see every job

    approved = site.cli("publish", "--allow-mass-close")
    assert approved.returncode == 0, approved.stderr
    assert not board.state().listed()
    assert deleted_urls(board) == {job_url(posting_id) for posting_id in before["careers"]}
    assert all(not jobs for jobs in site.feeds().values())


def test_the_guard_lets_a_few_deletions_through_and_refuses_too_many(
    site: Site, board: BoardServer
) -> None:
    # Indeed lists 3 of the 5 (the Canonical jobs opt out): each target is guarded alone.
    site.configure(extra={"guard": {"max_close": "34%", "min_jobs": 3}})
    assert site.cli("publish").returncode == 0
    (site.postings / "sixsq-sales-director.md").unlink()  # 1 of 5 (20%), of 3 on Indeed: allowed
    assert site.cli("publish").returncode == 0
    assert "sixsq-sales-director" not in board.state().listed()
    assert "sixsq-sales-director" not in site.feeds()["indeed"]

    (site.postings / "sixsq-sales-manager.md").unlink()  # 2 of 4 (50%): refused
    (site.postings / "canonical-channel-sales-manager.md").unlink()
    refused = site.cli("publish")
    assert refused.returncode == 1
    assert "refused to close 2 of 4 open job(s) because their files disappeared" in refused.stderr
    assert len(board.state().listed()) == 4
    assert "sixsq-sales-manager" in site.feeds()["careers"]


def test_expiry_of_most_jobs_at_once_is_not_held_back(site: Site, board: BoardServer) -> None:
    for path in sorted(site.postings.glob("*.md"))[:4]:
        path.write_text(
            path.read_text().replace("date_posted:", "valid_through: 2026-12-31\ndate_posted:")
        )
    assert site.publish(now=datetime(2026, 12, 1, tzinfo=UTC)).failed == 0

    report = site.publish(now=datetime(2027, 1, 2, tzinfo=UTC))

    assert not report.refusals
    assert len([op for op in report.plan.operations if op.kind == "CLOSE"]) == 12
    assert len(board.state().listed()) == 1


def test_a_daemon_never_approves_but_a_cli_approval_unblocks_it(
    site: Site, board: BoardServer
) -> None:
    """The approval is recorded in the state: a daemon on the same state follows it."""
    settings = site.settings
    from syndicate.loading import load_project
    from syndicate.publish import publish
    from syndicate.state import StateStore

    assert site.cli("publish").returncode == 0
    for path in site.postings.glob("*.md"):
        path.unlink()
    with StateStore(settings.state_url) as store:  # what the daemon does every sync
        report = publish(settings, load_project(settings), store)
    assert report.refusals and len(board.state().listed()) == 5

    assert site.cli("publish", "--allow-mass-close").returncode == 0
    with StateStore(settings.state_url) as store:
        again = publish(settings, load_project(settings), store)
    assert not again.refusals and not again.plan.operations
    assert not board.state().listed()


# -- ids that change -------------------------------------------------------------------------------


def test_a_changed_id_is_named_as_such_and_counts_against_the_guard(
    site: Site, board: BoardServer
) -> None:
    site.configure(extra={"guard": {"max_close": "10%", "min_jobs": 1}})
    assert site.cli("publish").returncode == 0
    path = site.postings / "sixsq-sales-manager.md"
    path.write_text(path.read_text().replace("id: sixsq-sales-manager", "id: sixsq-sales-lead"))

    validated = site.cli("validate")
    assert re.search(
        r"sixsq-sales-manager\.md:\d+: id: id changed from sixsq-sales-manager to "
        r"sixsq-sales-lead: boards will see a new job and sixsq-sales-manager will be closed",
        validated.stderr,
    ), validated.stderr

    refused = site.cli("publish", "--plan")
    assert "refused to close 1 of 5 open job(s) because their files disappeared or their ids" in (
        refused.stderr
    )
    approved = site.cli("publish", "--allow-mass-close", "--format", "json")
    plan = json.loads(approved.stdout)["plan"]
    assert {"target": "linkedin", "operation": "CLOSE", "posting": "sixsq-sales-manager",
            "reason": "id changed to sixsq-sales-lead"} in plan  # fmt: skip
    assert {"target": "linkedin", "operation": "CREATE", "posting": "sixsq-sales-lead",
            "reason": "new"} in plan  # fmt: skip
    assert "sixsq-sales-lead" in board.state().listed()
    assert board.state().jobs["sixsq-sales-manager"].state == "CLOSED"


# -- pushes that failed --------------------------------------------------------------------------


def test_a_refused_token_delivers_every_job_once_the_token_is_fixed(
    site: Site, board: BoardServer
) -> None:
    wrong = {"LINKEDIN_TOKEN": "not-the-token"}
    first = site.cli("publish", env=wrong)
    assert first.returncode == 3, first.stderr  # queued, nothing lost
    assert "HTTP 401" in first.stderr and "credentials refused" in first.stderr
    linkedin_calls = [r for r in board.state().requests if r.path == "/rest/simpleJobPostings"]
    assert len(linkedin_calls) == 1  # nothing more was sent after the refusal
    status = site.cli("status", env=wrong)
    assert "linkedin: failing authentication" in status.stderr

    board.reset()
    second = site.cli("publish")  # the token fixed, no posting edited
    assert second.returncode == 0, second.stderr
    assert len(board.state().listed()) == 5
    calls = [r for r in board.state().requests if r.path == "/rest/simpleJobPostings"]
    assert len(calls[0].body["elements"]) == 1  # a probe first, then the rest
    assert sum(len(c.body["elements"]) for c in calls) == 5
    assert "failing authentication" not in site.cli("status").stderr


def test_retry_now_sends_what_is_queued_but_never_before_retry_after(
    site: Site, board: BoardServer
) -> None:
    site.configure(retry={"max_attempts": 1, "backoff": "10m", "max_backoff": "1h"})
    board.add_faults({"path": "/batch", "kind": "status", "status": 503})
    assert site.cli("publish").returncode == 3

    plan = site.cli("publish", "--plan")
    assert "queued and failed" in plan.stdout and "HTTP 503" in plan.stdout
    assert "nothing to push" not in plan.stdout
    assert site.cli("publish").returncode == 3  # its backoff of 10 minutes is not over
    assert len(board.state().notifications) == 0  # the batch of five was refused whole

    assert site.cli("publish", "--retry-now").returncode == 0
    assert len(board.state().notifications) == 5

    board.add_faults({"path": "/hook", "kind": "status", "status": 429, "retry_after": 3600})
    (site.postings / "sixsq-sales-manager.md").write_text(
        (site.postings / "sixsq-sales-manager.md").read_text() + "\nNew line.\n"
    )
    assert site.cli("publish").returncode == 3  # the hook asked for an hour
    delivered = len(board.state().deliveries)
    assert site.cli("publish", "--retry-now").returncode == 3
    assert len(board.state().deliveries) == delivered  # not before the board's Retry-After


def test_a_failed_delivery_makes_status_exit_4_until_retry_failed_sends_it(
    site: Site, board: BoardServer
) -> None:
    board.add_faults(
        {"kind": "element_error", "external_id": "sixsq-sales-manager", "status": 422,
         "message": "companyApplyUrl is not reachable"}
    )  # fmt: skip
    assert site.cli("publish").returncode == 1
    status = site.cli("status")
    assert status.returncode == 4
    assert site.cli("publish").returncode == 0  # failed for good: not sent again by itself
    plan = site.cli("publish", "--plan")
    assert "failed" in plan.stdout and "companyApplyUrl is not reachable" in plan.stdout

    retried = site.cli("publish", "--retry-failed", "--target", "linkedin")
    assert retried.returncode == 0, retried.stderr
    assert "sixsq-sales-manager" in board.state().listed()
    assert site.cli("status").returncode == 0


def test_waits_for_retries_are_shown_and_bounded_by_the_run_budget(
    site: Site, board: BoardServer
) -> None:
    site.configure(
        retry={"max_attempts": 50, "backoff": "300ms", "max_backoff": "1s",
               "max_wait_per_run": "2s"}
    )  # fmt: skip
    board.add_faults({"path": "/batch", "kind": "status", "status": 503,
                      "times": 10_000})  # fmt: skip
    started = time.monotonic()
    published = site.cli("publish")
    took = time.monotonic() - started
    assert published.returncode == 3
    assert re.search(r"google: HTTP 503: injected fault; retrying in \d+s", published.stderr)
    assert took < 15, took  # the whole run waited about 2 s, not 8 retries × 5 postings
    assert "google: 0 done, 0 failed, 5 queued" in published.stdout


def test_push_boards_keep_a_job_the_posting_of_which_fails_to_load(
    site: Site, board: BoardServer
) -> None:
    assert site.publish().failed == 0
    retitle(site.postings / f"{BROKEN}.md", "Inside Sales: Manager")
    report = site.publish()
    assert not [op for op in report.plan.operations if op.posting_id == BROKEN]
    assert {h.target for h in report.plan.holds} == {"linkedin", "google", "hook"}
    sent = [e for e in elements_sent(board.state()) if e["externalJobPostingId"] == BROKEN]
    assert [e["jobPostingOperationType"] for e in sent] == ["CREATE"]


def test_the_state_remembers_what_every_target_lists(site: Site) -> None:
    """The durable copy: versions are in the state, not only in the disposable cache."""
    assert site.cli("publish").returncode == 0
    shutil.rmtree(site.root / "state" / "cache")
    retitle(site.postings / f"{BROKEN}.md", "Inside Sales: Manager")
    assert site.cli("publish").returncode == 1
    assert BROKEN in site.feeds()["indeed"]


# -- the daemon ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_watching_daemon_keeps_serving_a_broken_job_and_reports_degraded(
    tmp_path: Path,
) -> None:
    from tests.test_daemon import HOOK_SECRET as DAEMON_HOOK
    from tests.test_daemon import TOKEN as DAEMON_TOKEN
    from tests.test_daemon import Project as DaemonProject

    with BoardServer(token=DAEMON_TOKEN, hook_secret=DAEMON_HOOK) as daemon_board:
        project = DaemonProject(tmp_path / "site", daemon_board, "{sync_every: 10m, watch: true}")
        project.start()
        try:
            page = f"/careers/jobs/{BROKEN}.html"
            assert project.client.get(page).status_code == 200
            assert project.client.get("/healthz").json()["status"] == "ok"

            retitle(project.posting(BROKEN), "Inside Sales: Manager")
            health = wait_for(
                lambda: (h := project.client.get("/healthz")).json()["status"] == "degraded" and h,
                15,
                "/healthz degraded",
            )
            assert health.status_code == 200
            [problem] = health.json()["problems"]
            assert re.match(rf"postings/{BROKEN}\.md:\d+: YAML syntax error: ", problem), problem
            assert "kept the last good version on" in problem
            time.sleep(1.5)  # another watched sync or two would not withdraw it either
            assert project.client.get(page).status_code == 200
            assert BROKEN in project.indeed_titles()
            assert daemon_board.state().jobs[BROKEN].state == "LISTED"
            metrics = project.client.get("/metrics").text
            held = r'(?m)^syndicate_held_postings\{daemon="[^"]+"\} 1(?:\.0)?$'
            assert re.search(held, metrics), metrics

            retitle(project.posting("sixsq-sales-manager"), "Sales: Manager")
            (project.folder / "postings" / "new.md").write_text("not a posting\n")
            wait_for(
                lambda: len(project.client.get("/healthz").json()["problems"]) == 2,
                15,
                "a second held posting reported",
            )
            time.sleep(1.5)
            events = [
                json.loads(line)
                for line in (project.folder / "daemon.log").read_text().splitlines()
                if line.startswith("{")
            ]
            attention = [e["problem"] for e in events if e["message"] == "needs attention"]
            invalid = [e["problem"] for e in events if e["message"] == "invalid posting"]
            # Each problem is logged once, however many syncs find it again.
            assert len(attention) == 2 and len(set(attention)) == 2
            assert sorted(attention) == sorted(project.client.get("/healthz").json()["problems"])
            assert len(invalid) == len(set(invalid)) == 3
            assert any(
                problem.startswith("postings/new.md:1: no front matter") for problem in invalid
            )
        finally:
            project.stop()
