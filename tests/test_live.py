"""`syndicate.live`: what the daemon serves from the cache after an edit is, byte for byte, what
the next build writes; an edit never adds or removes a job, and one that breaks a target's
rules is not shown there; a sync's rebase keeps only the edits made after it began."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.build import BuildReport, build
from syndicate.config import Settings, load_settings
from syndicate.listing import Lister
from syndicate.live import LiveView
from syndicate.loading import LoadResult, load_project
from syndicate.loading.edits import reload_edited
from syndicate.postings import PostingList
from syndicate.state import StateStore

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """\
organization:
  name: Northwind
  url: "https://northwind.example.com"
  email: jobs@northwind.example.com
site: {base_url: "https://jobs.northwind.example.com"}
postings: postings
output: feeds
state: sqlite:///.syndicate/state.db
timezone: Europe/Zurich
targets:
  indeed:        {type: indeed_xml, file: indeed.xml}
  jsonld:        {type: jsonld, file: jobs.jsonld}
  linkedin_feed: {type: linkedin_json, file: linkedin.json}
  careers:       {type: careers_site, dir: careers}
"""
EDITED = "sixsq-sales-manager"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "config.yaml").write_text(CONFIG)
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    return load_settings(tmp_path / "config.yaml")


def _built(settings: Settings, now: datetime) -> tuple[LoadResult, BuildReport]:
    loaded = load_project(settings)
    with StateStore(settings.state_url) as store:
        return loaded, build(settings, loaded, now=now, store=store)


def _retitle(settings: Settings, old: str, new: str) -> Path:
    path = settings.postings_dir / f"{EDITED}.md"
    path.write_text(path.read_text().replace(f"title: {old}", f"title: {new}"))
    return path


def _served(live: LiveView, relative: str) -> bytes | None:
    target = live.document(relative)
    if target is None:
        return None
    document = live.open(target, relative)
    assert document is not None
    return b"".join(document.chunks)


def test_what_is_served_after_an_edit_is_what_the_next_build_writes(settings: Settings) -> None:
    loaded, report = _built(settings, NOW)
    live = LiveView(settings)
    live.rebase(report, since=0)
    assert live.document("indeed.xml") is None  # no edit: the files are served

    path = _retitle(settings, "Sales Manager", "Sales Lead")
    loaded, edited = reload_edited(loaded, [path], settings.timezone)
    assert [ref.posting_id for ref in edited] == [EDITED]
    edit_time = NOW + timedelta(minutes=5)
    taken = live.edit(edited[0], edit_time)
    assert sorted(taken) == sorted(t.name for t in report.targets if EDITED in t.listed)

    served_paths = [
        "indeed.xml",
        "jobs.jsonld",
        "linkedin.json",
        "careers/index.html",
        "careers/sitemap.xml",
        "careers/feed.atom",
        f"careers/jobs/{EDITED}.html",
    ]
    served = {relative: _served(live, relative) for relative in served_paths}
    for relative, data in served.items():
        assert data is not None, relative
        assert relative.endswith("sitemap.xml") or b"Sales Lead" in data, relative
    # Pages of other jobs, the stylesheet and the page of closed jobs are not shown by the edit.
    assert live.document("careers/jobs/sixsq-sales-director.html") is None
    assert live.document("careers/style.css") is None

    _built(settings, edit_time)  # the sync behind, at the edit's moment
    for relative, data in served.items():
        assert (settings.output_dir / relative).read_bytes() == data, relative


def test_an_edit_that_breaks_a_rule_or_is_not_listed_is_not_shown(settings: Settings) -> None:
    loaded, report = _built(settings, NOW)
    live = LiveView(settings)
    live.rebase(report, since=0)
    path = settings.postings_dir / f"{EDITED}.md"
    text = path.read_text()
    # The careers site (and the feeds) need a description: an empty one breaks their rules.
    front, _body = text.rsplit("---\n", 1)
    path.write_text(front + "---\n\n")
    _, edited = reload_edited(loaded, [path], settings.timezone)
    if edited:  # it loads: no target that needs a description takes it
        assert "careers" not in live.edit(edited[0], NOW)
    assert live.document(f"careers/jobs/{EDITED}.html") is None

    path.write_text(text.replace("title: Sales Manager", "title: Sales Lead") + "\n")
    path.write_text(path.read_text().replace("date_posted: 2026-11-20", "date_posted: 2027-01-01"))
    _, edited = reload_edited(loaded, [path], settings.timezone)
    assert edited and live.edit(edited[0], NOW) == []  # scheduled later: the sync withdraws it
    assert live.document("indeed.xml") is None


def test_a_new_file_is_left_to_the_sync(settings: Settings) -> None:
    loaded, _ = _built(settings, NOW)
    new = settings.postings_dir / "new-job.md"
    new.write_text(
        (settings.postings_dir / f"{EDITED}.md").read_text().replace(f"id: {EDITED}", "id: new-job")
    )
    assert reload_edited(loaded, [new], settings.timezone) == (loaded, [])


def test_a_rebase_keeps_only_the_edits_made_after_the_sync_began(settings: Settings) -> None:
    loaded, report = _built(settings, NOW)
    live = LiveView(settings)
    live.rebase(report, since=0)
    path = _retitle(settings, "Sales Manager", "Sales Lead")
    loaded, edited = reload_edited(loaded, [path], settings.timezone)
    live.edit(edited[0], NOW)
    began = live.generation  # a sync starts here: it loads the edit above
    path = _retitle(settings, "Sales Lead", "Sales Chief")
    loaded, edited = reload_edited(loaded, [path], settings.timezone)
    live.edit(edited[0], NOW)  # made during that sync: not in what it writes

    live.rebase(report, since=began)
    data = _served(live, "indeed.xml")
    assert data is not None and b"Sales Chief" in data
    live.rebase(report, since=live.generation)
    assert live.document("indeed.xml") is None


def test_a_job_page_is_found_by_the_id_its_path_names(settings: Settings) -> None:
    _, report = _built(settings, NOW)
    careers = next(t for t in report.targets if t.name == "careers")
    assert careers.context is not None
    target = LiveView(settings)._targets["careers"]
    refs = PostingList(list(careers.rendered))

    page = target.render_document(refs, careers.context, f"careers/jobs/{EDITED}.html")
    assert page is not None and page.media_type == "text/html"
    published = settings.output_dir / "careers" / "jobs" / f"{EDITED}.html"
    assert b"".join(page.chunks) == published.read_bytes()
    # Not a listed job's page, nor a page at all under the jobs folder: nothing.
    assert target.render_document(refs, careers.context, "careers/jobs/no-such-job.html") is None
    assert target.render_document(refs, careers.context, f"careers/jobs/{EDITED}.htm") is None
    index = target.render_document(refs, careers.context, "careers/index.html")
    assert index is not None and EDITED.encode() in b"".join(index.chunks)


def test_an_edits_plan_reads_the_listings_of_its_postings_only(settings: Settings) -> None:
    loaded, _ = _built(settings, NOW)
    with StateStore(settings.state_url) as store:
        lister = Lister(settings, loaded, store, NOW)
        every = lister.known("careers")
        assert EDITED in every and len(every) > 1
        assert lister.known("careers", {EDITED, "no-such-job"}) == {EDITED: every[EDITED]}
        assert lister.known("careers", set()) == {}
