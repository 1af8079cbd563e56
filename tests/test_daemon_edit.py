"""The daemon's edit path (`syndicate.live`): with ``watch: true``, a saved edit is served at
once from the build cache (the Indeed feed, the careers page and index) and pushed to the
board, before the sync that follows writes the files; a version that breaks a rule is not
served, the last good one stays.  A real daemon process, real HTTP, a few hundred postings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from syndicate.testing.board import BoardServer
from syndicate.testing.logs import log_events
from tests.helpers import wait_for
from tests.test_daemon import HOOK_SECRET, PARTNER_TOKEN, TOKEN, Project

POSTINGS = 200
EDITED = "bulk-117"


def _write_postings(folder: Path) -> None:
    """``POSTINGS`` copies of an example posting, each its own id and title."""
    template = (folder / "sixsq-sales-manager.md").read_text()
    for number in range(POSTINGS):
        posting_id = f"bulk-{number:03d}"
        text = template.replace("id: sixsq-sales-manager", f"id: {posting_id}")
        text = text.replace("title: Sales Manager", f"title: Sales Manager {number}")
        (folder / f"{posting_id}.md").write_text(text)


@pytest.fixture
def board() -> Iterator[BoardServer]:
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, board: BoardServer) -> Iterator[Project]:
    project = Project(tmp_path / "site", board, schedule="{sync_every: 30m, watch: true}")
    _write_postings(project.folder / "postings")
    yield project
    if project.process is not None and project.process.poll() is None:
        project.process.kill()
        project.process.wait()


def _events(project: Project, name: str) -> list[dict[str, object]]:
    return log_events(project.folder / "daemon.log", name)


def _board_title(board: BoardServer, posting_id: str) -> object:
    job = board.state().jobs.get(posting_id)
    return job.fields.get("title") if job is not None else None


def test_a_saved_edit_is_served_and_pushed_before_the_files_are_written(
    project: Project, board: BoardServer
) -> None:
    try:
        project.start()
        wait_for(lambda: _board_title(board, EDITED) == "Sales Manager 117", 60, "the first push")
        indeed_file = project.folder / "feeds" / "indeed.xml"
        written_before = indeed_file.read_bytes()

        path = project.posting(EDITED)
        path.write_text(path.read_text().replace("Sales Manager 117", "Sales Lead 117"))
        wait_for(lambda: _events(project, "edit shown"), 20, "the edit's path taken")
        shown = _events(project, "edit shown")[0]
        assert shown["postings"] == EDITED, project.logs()

        titles = project.indeed_titles()
        assert titles[EDITED] == "Sales Lead 117"
        assert titles["bulk-116"] == "Sales Manager 116"
        assert titles.keys() == _ids(written_before)  # nothing added or lost
        page = project.client.get(f"/careers/jobs/{EDITED}.html")
        assert page.status_code == 200 and "Sales Lead 117" in page.text
        index = project.client.get("/careers/")
        assert "Sales Lead 117" in index.text and "Sales Manager 117<" not in index.text
        # A private feed stays private when it is served from the cache.
        assert project.client.get("/linkedin.json").status_code == 401
        partner = {"Authorization": f"Bearer {PARTNER_TOKEN}"}
        shared = project.client.get("/linkedin.json", headers=partner)
        assert shared.status_code == 200 and "Sales Lead 117" in shared.text
        gzipped = project.client.get("/indeed.xml", headers={"Accept-Encoding": "gzip"})
        assert gzipped.headers["content-encoding"] == "gzip"
        assert b"Sales Lead 117" in gzipped.content  # httpx decodes it
        wait_for(lambda: _board_title(board, EDITED) == "Sales Lead 117", 20, "the edit pushed")

        # Another edit at once, while the sync behind the first one may be running: it is
        # served and pushed all the same (after that sync's plan, never before it).
        other = project.posting("bulk-118")
        other.write_text(other.read_text().replace("Sales Manager 118", "Sales Lead 118"))
        wait_for(lambda: len(_events(project, "edit shown")) == 2, 20, "the other edit")
        assert project.indeed_titles()["bulk-118"] == "Sales Lead 118"
        wait_for(lambda: _board_title(board, "bulk-118") == "Sales Lead 118", 30, "it pushed")

        # The sync behind writes the file; the served feed then is the file again.
        wait_for(lambda: b"Sales Lead 117" in indeed_file.read_bytes(), 60, "the file written")
        assert indeed_file.read_bytes() != written_before
        wait_for(
            lambda: project.client.get("/indeed.xml").headers.get("etag") is not None,
            20,
            "the feed served from its file again",
        )

        # A version that breaks the careers site's and the feeds' rules is not shown: the
        # last good one stays everywhere.
        path.write_text(path.read_text().replace("Sales Lead 117", "Sales Lead 117 bis", 1))
        wait_for(lambda: len(_events(project, "edit shown")) == 3, 20, "the next edit")
        broken = path.read_text().replace("apply: {email: jobs@sixsq.com}", "apply: {}")
        path.write_text(broken.replace("Sales Lead 117 bis", "Broken 117"))
        wait_for(lambda: len(_events(project, "postings edited")) >= 4, 20, "the broken edit")
        assert project.indeed_titles()[EDITED] == "Sales Lead 117 bis"
        assert "Broken 117" not in project.client.get(f"/careers/jobs/{EDITED}.html").text
        assert project.stop() == 0
    finally:
        if project.process is not None and project.process.poll() is None:
            project.process.kill()


def _ids(feed: bytes) -> set[str]:
    root = etree.fromstring(feed, etree.XMLParser(resolve_entities=False))
    return {job.findtext("requisitionid") or "" for job in root.iter("job")}
