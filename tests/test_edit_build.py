"""A build after an edit writes what a full build writes: the single-file feeds assembled from
the previous files' byte ranges (`syndicate.splice`) and the careers site updated in place
(`syndicate.inplace`) give, byte for byte, the files a fresh build of the same postings with
the same publish state makes at the same moment, on both posting shapes of the benchmark; and
they really took the short way (unchanged job pages untouched, layouts recorded)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.generate import write_postings
from syndicate.adapters import Document
from syndicate.build import _layout_name, build
from syndicate.cache.fragments import _Window
from syndicate.config import Settings, load_settings
from syndicate.loading import load_project
from syndicate.splice import Layout
from syndicate.state import StateStore

CONFIG = """\
organization:
  name: Northwind
  url: "https://northwind.example.com"
  email: jobs@northwind.example.com
  location: {{city: Zurich, region: ZH, country: CH}}
site: {{base_url: "https://jobs.northwind.example.com"}}
postings: "{postings}"
output: feeds
state: sqlite:///.syndicate/state.db
timezone: Europe/Zurich
workers: 1
targets:
  indeed:        {{type: indeed_xml, file: indeed.xml}}
  jsonld:        {{type: jsonld, file: jobs.jsonld}}
  linkedin_feed: {{type: linkedin_json, file: linkedin.json}}
  careers:       {{type: careers_site, dir: careers}}
"""
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
COUNT = 40


def _project(folder: Path, postings: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(CONFIG.format(postings=postings))
    return load_settings(folder / "config.yaml")


def _build(settings: Settings, now: datetime) -> None:
    loaded = load_project(settings)
    with StateStore(settings.state_url) as store:
        report = build(settings, loaded, now=now, store=store)
    assert not any(t.holds or t.refusal for t in report.targets)


def _published(settings: Settings) -> dict[str, bytes]:
    """What readers see: every file under output but the hidden ones, the careers link
    followed."""
    root = settings.output_dir
    found: dict[str, bytes] = {}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                path = Path(folder, name)
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _fresh(settings: Settings, tmp_path: Path, now: datetime, name: str) -> dict[str, bytes]:
    """A full build in a new project of the same postings, with a copy of the state as it is
    now (when each posting last changed), at ``now``: no output, cache or layouts before."""
    fresh = _project(tmp_path / name, settings.postings_dir)
    (fresh.work_dir).mkdir(parents=True)
    shutil.copy(settings.work_dir / "state.db", fresh.work_dir / "state.db")
    _build(fresh, now)
    return _published(fresh)


def _retitle(path: Path, suffix: str) -> None:
    lines = path.read_text("utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("title: "):
            lines[index] = line.rstrip("\n").rstrip('"').rstrip() + f' {suffix}"\n'
            if not line.startswith('title: "'):
                lines[index] = f'title: "{line.removeprefix("title: ").strip()} {suffix}"\n'
            break
    path.write_text("".join(lines), "utf-8")


def _listed(settings: Settings, files: list[Path], start: int) -> Path:
    """The first posting file from ``start`` on whose job the careers site lists."""
    index = (settings.output_dir / "careers" / "index.html").read_text("utf-8")
    for path in files[start:] + files[:start]:
        posting_id = path.read_text("utf-8").split("\nid: ", 1)[1].split("\n", 1)[0].strip()
        if f"jobs/{posting_id}.html" in index:
            return path
    raise AssertionError("no posting is listed")


def _doc(path: str) -> Document:
    return Document(path, "", ())


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in folder.rglob("*.html")
    }


@pytest.mark.parametrize("shape", ["default", "wide"])
def test_an_edit_writes_what_a_full_build_writes(
    tmp_path: Path, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    postings = tmp_path / "postings"
    write_postings(postings, COUNT, shape=shape)
    settings = _project(tmp_path / "project", postings)
    _build(settings, NOW)
    files = sorted(postings.rglob("*.md"))
    careers = settings.output_dir / "careers"
    link, pages = os.readlink(careers), _stamps(careers.resolve())
    feeds = {name: os.stat(settings.output_dir / name).st_ino for name in ("indeed.xml",)}

    # One posting edited.
    _retitle(_listed(settings, files, COUNT // 2), "(edited)")
    later = NOW + timedelta(hours=1)
    before = _fresh(settings, tmp_path, later, "fresh-1")
    fetched: list[str] = []
    fetch = _Window.fetch
    monkeypatch.setattr(
        _Window, "fetch", lambda window, i: fetched.append(window.part) or fetch(window, i)
    )
    _build(settings, later)
    monkeypatch.undo()
    after = _published(settings)
    # The index's cards and the Atom feed's entries were copied from the files on disk, all but
    # the edited job's (its sitemap dates and order keys are still read for every job).
    assert fetched.count("card") == 1 and fetched.count("entry") == 1, sorted(set(fetched))
    assert after == before
    assert os.readlink(careers) == link  # in place, not a new version
    changed = {name for name, stamp in _stamps(careers.resolve()).items() if pages[name] != stamp}
    assert len([name for name in changed if name.startswith("jobs/")]) == 1, changed
    assert os.stat(settings.output_dir / "indeed.xml").st_ino != feeds["indeed.xml"]
    # The three single-file feeds, and the careers index and Atom feed (a card or entry per
    # job), each with the layout of its file as published: the next build copies from it.
    assert len(list((settings.work_dir / "layouts").glob("*.json"))) == 5
    for name in ("careers/index.html", "careers/feed.atom"):
        layout = Layout.read(settings.work_dir / "layouts" / _layout_name(_doc(name)))
        assert layout is not None and layout.describes(settings.output_dir / name), name

    # Then one posting closed, one added, one edited: pages removed and added, order moved.
    closing = _listed(settings, files, 3)
    closed = closing.read_text("utf-8").replace("\nstatus: open", "\nstatus: closed")
    if "\nstatus:" not in closed:
        closed = closed.replace("\ntitle:", "\nstatus: closed\ntitle:", 1)
    closing.write_text(closed, "utf-8")
    added = files[5].with_name("added-" + files[5].name)
    text = files[5].read_text("utf-8")
    posting_id = next(line for line in text.splitlines() if line.startswith("id: "))
    added.write_text(text.replace(posting_id, posting_id + "-added", 1), "utf-8")
    _retitle(_listed(settings, files, 0), "(again)")
    latest = later + timedelta(hours=1)
    before = _fresh(settings, tmp_path, latest, "fresh-2")
    _build(settings, latest)
    assert _published(settings) == before
    assert os.readlink(careers) == link
    assert not (careers / "jobs" / closing.name.replace(".md", ".html")).exists()


def test_a_layout_that_does_not_describe_the_file_is_not_used(tmp_path: Path) -> None:
    postings = tmp_path / "postings"
    write_postings(postings, 12)
    settings = _project(tmp_path / "project", postings)
    _build(settings, NOW)
    feed = settings.output_dir / "jobs.jsonld"
    feed.write_bytes(feed.read_bytes().replace(b"@graph", b"@GRAPH"))  # touched by hand
    _retitle(_listed(settings, sorted(postings.rglob("*.md")), 4), "(edited)")
    later = NOW + timedelta(hours=1)
    before = _fresh(settings, tmp_path, later, "fresh")
    _build(settings, later)
    assert _published(settings) == before
