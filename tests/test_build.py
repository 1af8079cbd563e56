"""`syndicate.build.build` on a copy of the example project: what is published, and how.

Only open postings whose ``valid_through`` has not passed reach any output; a posting that breaks
one target's rule is left out of that target only; an unchanged build rewrites nothing and keeps
Indeed's ``lastBuildDate``; and a reader in another process, reading in a tight loop while builds
alternate between two posting sets, only ever sees one whole version of each file and of the
careers folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from syndicate.adapters.careers import CareersSite
from syndicate.adapters.indeed_xml import IndeedXml
from syndicate.build import BuildReport, TargetBuild, build
from syndicate.config import Settings, load_settings
from syndicate.errors import Severity
from syndicate.loading import load_postings
from syndicate.model import Posting, Status
from syndicate.state import StateStore

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FEED_FILES = ("indeed.xml", "jobs.jsonld", "linkedin.json")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    """Settings of a copy of the repository's config.yaml and postings/ in a temporary folder."""
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    return load_settings(tmp_path / "config.yaml")


@pytest.fixture
def postings(project: Settings) -> list[Posting]:
    loaded = load_postings(project.postings_dir, project.timezone)
    assert not loaded.problems and len(loaded.postings) == 5
    return loaded.postings


def make(settings: Settings, posting_id: str, title: str, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": posting_id,
        "title": title,
        "date_posted": "2026-11-01",
        "employment_type": "FULL_TIME",
        "locations": [{"city": "Lausanne", "region": "VD", "country": "CH"}],
        "apply": {"url": "https://example.com/apply", "email": "apply@example.com"},
        "description": "A job description that is long enough for every board to take it. " * 3,
    }
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


def output_files(settings: Settings) -> dict[str, bytes]:
    """Every file under ``output`` (the careers link followed), by relative path."""
    root = settings.output_dir
    found: dict[str, bytes] = {}
    for folder, _, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(folder, name)
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def published(settings: Settings) -> dict[str, bytes]:
    """What readers see: the feed files and the current careers folder, by relative path."""
    output = settings.output_dir
    files = {name: (output / name).read_bytes() for name in FEED_FILES}
    careers = (output / "careers").resolve()
    for path in sorted(careers.rglob("*")):
        if path.is_file():
            files[f"careers/{path.relative_to(careers)}"] = path.read_bytes()
    return files


def target_of(report: BuildReport, name: str) -> TargetBuild:
    return next(t for t in report.targets if t.name == name)


def last_build_date(settings: Settings) -> datetime:
    feed = etree.fromstring((settings.output_dir / "indeed.xml").read_bytes())
    return datetime.fromisoformat(feed.findtext("lastBuildDate"))


def atom_updated(settings: Settings) -> datetime:
    feed = etree.fromstring((settings.output_dir / "careers" / "feed.atom").read_bytes())
    return datetime.fromisoformat(feed.findtext(f"{ATOM}updated"))


def indeed_ids(settings: Settings) -> set[str]:
    feed = etree.fromstring((settings.output_dir / "indeed.xml").read_bytes())
    return {job.findtext("requisitionid") for job in feed.iter("job")}


def jsonld_ids(settings: Settings) -> set[str]:
    graph = json.loads((settings.output_dir / "jobs.jsonld").read_bytes())["@graph"]
    return {node["identifier"]["value"] for node in graph}


def linkedin_ids(settings: Settings) -> set[str]:
    elements = json.loads((settings.output_dir / "linkedin.json").read_bytes())["elements"]
    return {element["externalJobPostingId"] for element in elements}


def careers_ids(settings: Settings) -> set[str]:
    return {path.stem for path in (settings.output_dir / "careers" / "jobs").glob("*.html")}


# --------------------------------------------------------------------------- what is listed


def test_only_open_unexpired_postings_appear_anywhere(
    project: Settings, postings: list[Posting]
) -> None:
    hidden = [
        make(project, "zz-draft-job", "Draftmarker Engineer", status="draft"),
        make(project, "zz-closed-job", "Closedmarker Engineer", status="closed"),
        make(project, "zz-expired-job", "Expiredmarker Engineer", valid_through="2026-11-22"),
        make(project, "zz-expired-instant", "Instantmarker Engineer",
             valid_through="2026-11-23T09:00:00+00:00"),
    ]  # fmt: skip
    current = make(project, "zz-current-job", "Currentmarker Engineer", valid_through="2026-11-23")
    report = build(project, [*postings, *hidden, current], now=NOW)
    assert report.ok, [str(p) for p in report.problems]
    files = output_files(project)
    # Every target wrote something, the careers site several files, and every file was read.
    assert set(FEED_FILES) <= set(files) and "careers/index.html" in files
    assert len([name for name in files if name.startswith("careers/")]) >= 8
    for name, data in files.items():
        for posting in hidden:
            assert posting.id.encode() not in data, (posting.id, name)
            assert posting.title.split()[0].encode() not in data, (posting.title, name)
    expected = {p.id for p in postings} | {current.id}
    # The example postings that opt out of Indeed (``boards: {indeed: false}``) are the only
    # difference between the targets.
    on_indeed = {p.id for p in postings if not p.opts_out_of("indeed")} | {current.id}
    assert on_indeed < expected
    assert jsonld_ids(project) == linkedin_ids(project) == expected
    assert indeed_ids(project) == on_indeed
    assert careers_ids(project) == expected
    for name in ("careers/index.html", "careers/sitemap.xml", "careers/feed.atom"):
        assert b"Currentmarker Engineer" in files[name] or current.id.encode() in files[name]
    for result in (t for t in report.targets if not t.disabled):
        wanted = on_indeed if result.name == "indeed" else expected
        assert result.included == len(wanted), result.name


def test_a_posting_that_expires_disappears_from_every_output(
    project: Settings, postings: list[Posting]
) -> None:
    expiring = make(project, "zz-expiring", "Expiringmarker Engineer", valid_through="2026-11-23")
    build(project, [*postings, expiring], now=NOW)
    assert expiring.id in indeed_ids(project) & linkedin_ids(project) & careers_ids(project)
    # The last day ends at midnight in Europe/Zurich: 23:00 UTC in winter.
    build(project, [*postings, expiring], now=datetime(2026, 11, 23, 23, 0, tzinfo=UTC))
    for name, data in output_files(project).items():
        if not name.startswith(".versions/"):
            assert expiring.id.encode() not in data, name
    assert careers_ids(project) == {p.id for p in postings}


def test_valid_through_is_the_whole_last_day_in_the_configured_timezone(
    project: Settings,
) -> None:
    posting = make(project, "last-day", "Engineer", valid_through="2026-11-22")
    end = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # midnight in Zurich
    assert posting.is_listed(end - timedelta(seconds=1), project.timezone)
    assert not posting.is_listed(end, project.timezone)
    for status in (Status.DRAFT, Status.CLOSED):
        hidden = posting.model_copy(update={"status": status})
        assert not hidden.is_listed(NOW - timedelta(days=10), project.timezone)


def test_a_posting_breaking_one_rule_is_left_out_of_that_target_only(
    project: Settings, postings: list[Posting]
) -> None:
    # 13 characters of HTML: fine for Indeed, Google and the careers site, too short for LinkedIn.
    short = make(project, "zz-short", "Shortmarker Engineer", description="Short text.")
    report = build(project, [*postings, short], now=NOW)
    assert not report.ok
    linkedin = target_of(report, "linkedin_feed")
    [error] = [p for p in linkedin.left_out if p.severity is Severity.ERROR]
    assert (error.posting_id, error.field, error.target) == (
        "zz-short",
        "description",
        "linkedin_feed",
    )
    assert "100" in error.message and "25,000" in error.message
    assert str(error).endswith("[linkedin_feed]")
    assert linkedin.included == 5
    assert short.id not in linkedin_ids(project)
    for name, count in (("indeed", 4), ("jsonld", 6), ("careers", 6)):  # 2 opt out of Indeed
        result = target_of(report, name)
        assert result.included == count, name
        assert not [p for p in result.left_out if p.severity is Severity.ERROR], name
    assert short.id in indeed_ids(project) & jsonld_ids(project) & careers_ids(project)


# ------------------------------------------------------------------------ unchanged builds


def stats(settings: Settings) -> dict[str, tuple[int, int]]:
    output = settings.output_dir
    found = {name: os.stat(output / name) for name in FEED_FILES}
    return {name: (st.st_ino, st.st_mtime_ns) for name, st in found.items()}


def test_an_unchanged_build_rewrites_nothing_and_keeps_the_build_date(
    project: Settings, postings: list[Posting]
) -> None:
    first = build(project, postings, now=NOW)
    assert [t.changed for t in first.targets if not t.disabled] == [1, 1, 1, 1]
    before, link, versions = (
        stats(project),
        os.readlink(project.output_dir / "careers"),
        set((project.output_dir / ".versions").iterdir()),
    )
    later = NOW + timedelta(hours=5)
    second = build(project, postings, now=later)
    assert [t.changed for t in second.targets] == [0] * len(second.targets)
    assert stats(project) == before
    assert os.readlink(project.output_dir / "careers") == link
    assert set((project.output_dir / ".versions").iterdir()) == versions
    assert last_build_date(project) == NOW
    assert atom_updated(project) == NOW


def test_a_change_updates_the_build_date(project: Settings, postings: list[Posting]) -> None:
    build(project, postings, now=NOW)
    link = os.readlink(project.output_dir / "careers")
    edited = [postings[0].model_copy(update={"title": "Renamed Manager"}), *postings[1:]]
    later = NOW + timedelta(hours=1)
    report = build(project, edited, now=later)
    assert [t.changed for t in report.targets if not t.disabled] == [1, 1, 1, 1]
    assert last_build_date(project) == later
    assert atom_updated(project) == later
    # The published careers folder is changed in place (`syndicate.inplace`): same link.
    assert os.readlink(project.output_dir / "careers") == link
    page = project.output_dir / "careers" / "jobs" / f"{postings[0].id}.html"
    assert b"Renamed Manager" in page.read_bytes()
    assert b"Renamed Manager" in (project.output_dir / "indeed.xml").read_bytes()
    # Closing a posting is a change too.
    closed = [edited[0].model_copy(update={"status": Status.CLOSED}), *edited[1:]]
    latest = later + timedelta(hours=1)
    build(project, closed, now=latest)
    assert last_build_date(project) == latest
    assert edited[0].id not in indeed_ids(project)


def test_a_failed_render_leaves_the_published_outputs_alone(
    project: Settings, postings: list[Posting], monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, postings, now=NOW)
    before = published(project)
    link = os.readlink(project.output_dir / "careers")
    entries = {p.name for p in project.output_dir.iterdir()}
    versions = set((project.output_dir / ".versions").iterdir())

    def failing(render: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            for document in render(self, *args, **kwargs):
                yield type(document)(document.path, document.media_type, _half(document.chunks))

        return wrapper

    monkeypatch.setattr(IndeedXml, "render", failing(IndeedXml.render))
    with pytest.raises(RuntimeError, match="render failed"):
        build(project, postings[:2], now=NOW, only="indeed")
    monkeypatch.setattr(CareersSite, "render", failing(CareersSite.render))
    with pytest.raises(RuntimeError, match="render failed"):
        build(project, postings[:2], now=NOW, only="careers")
    assert published(project) == before
    assert os.readlink(project.output_dir / "careers") == link
    assert {p.name for p in project.output_dir.iterdir()} == entries  # no temporary files left
    assert set((project.output_dir / ".versions").iterdir()) == versions


def _half(chunks: Any) -> Iterator[bytes]:
    """The first chunk of a document, then a failure."""
    for chunk in chunks:
        yield chunk
        raise RuntimeError("render failed")


# ------------------------------------------------------------------------ concurrent reader

# Runs in its own process: reads every feed file and every careers file (each must be one of its
# known versions), and checks that every job page the careers index links exists while that
# index is the published one, until the stop file appears; prints what it saw as JSON.
READER = r"""
import hashlib, json, os, re, sys, time
from html.parser import HTMLParser
from urllib.parse import unquote
from pathlib import Path
from lxml import etree

output, known_file, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
known = json.loads(known_file.read_text())
strict = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
seen = {name: set() for name in known["files"]}
careers_seen, failures, reads, stale, links = set(), [], 0, [0], [0]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def parse(name, data):
    if name.endswith((".xml", ".atom")):
        etree.fromstring(data, strict)
    elif name.endswith((".json", ".jsonld")):
        json.loads(data)
    elif name.endswith(".html"):
        parser = HTMLParser()
        parser.feed(data.decode("utf-8"))
        parser.close()
        if not data.rstrip().endswith(b"</html>"):
            raise ValueError("no </html> at the end")


def check(name, data, versions):
    try:
        parse(name, data)
    except Exception as error:
        failures.append(f"{name}: does not parse ({len(data)} bytes): {error}")
        return None
    digest = sha(data)
    if digest not in versions:
        failures.append(f"{name}: neither known version ({len(data)} bytes)")
        return None
    return versions.index(digest)


def careers_check():
    # Every careers file is one of its known versions, and every job page the index links
    # exists while that index is the published one (its file still the one at that path).
    root = output / "careers"
    names = set().union(*known["careers"])
    for name in sorted(names):
        try:
            data = (root / name).read_bytes()
        except FileNotFoundError:
            continue
        check("careers/" + name, data, [v[name] for v in known["careers"] if name in v])
    fd = os.open(root / "index.html", os.O_RDONLY)  # held open: its inode is not reused
    try:
        index = b""
        while block := os.read(fd, 1 << 16):
            index += block
        version = check("careers/index.html", index, known["files"]["careers/index.html"])
        for link in set(re.findall(rb'href="(jobs/[^"#?]+)"', index)):
            links[0] += 1
            page = root / unquote(link.decode())
            if page.is_file():
                continue
            if os.stat(root / "index.html").st_ino == os.fstat(fd).st_ino:
                failures.append(f"careers: the published index links {page.name}, missing")
            else:
                stale[0] += 1  # the index was replaced since it was read: not a broken link
        return version
    finally:
        os.close(fd)


print("ready", flush=True)
while not stop.exists():
    for name, versions in known["files"].items():
        version = check(name, (output / name).read_bytes(), versions)
        if version is not None:
            seen[name].add(version)
        reads += 1
    version = careers_check()
    if version is not None:
        careers_seen.add(version)
print(json.dumps({"seen": {k: sorted(v) for k, v in seen.items()}, "careers": sorted(careers_seen),
                  "failures": failures[:20], "reads": reads, "stale": stale[0], "links": links[0]}))
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_concurrent_reader_never_sees_a_partial_or_mixed_version(
    project: Settings, postings: list[Posting], tmp_path: Path
) -> None:
    # Two posting sets that differ in every output: one posting more, one title changed.
    version_a = postings
    version_b = [postings[0].model_copy(update={"title": "Renamed Manager"}), *postings[2:]]
    versions: list[dict[str, bytes]] = []
    for postings_set in (version_a, version_b):
        build(project, postings_set, now=NOW)
        versions.append(published(project))
    assert all(
        versions[0][name] != versions[1][name] for name in (*FEED_FILES, "careers/index.html")
    )
    build(project, version_a, now=NOW)
    assert published(project) == versions[0]

    files = [*FEED_FILES, "careers/index.html"]
    known = {
        "files": {name: [sha256(v[name]) for v in versions] for name in files},
        "careers": [
            {name.removeprefix("careers/"): sha256(data) for name, data in v.items()
             if name.startswith("careers/")}
            for v in versions
        ],
    }  # fmt: skip
    known_file, stop = tmp_path / "known.json", tmp_path / "stop"
    known_file.write_text(json.dumps(known))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(project.output_dir), str(known_file), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
        for round_ in range(16):
            build(project, version_b if round_ % 2 == 0 else version_a, now=NOW)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["failures"] == []
    assert result["reads"] >= 40, result
    assert result["links"] >= result["reads"] // len(files), result  # the index's links checked
    # The reader really read during the builds: it saw both versions of every file.
    assert all(seen == [0, 1] for seen in result["seen"].values()), result
    assert result["careers"] == [0, 1], result
    assert published(project) == versions[0]


def test_a_configuration_change_that_changes_the_feed_updates_the_build_date(
    project: Settings, postings: list[Posting]
) -> None:
    build(project, postings, now=NOW)
    config = project.root / "config.yaml"
    config.write_text(config.read_text().replace("dir: careers}", "dir: site}"))
    moved = load_settings(config)
    later = NOW + timedelta(hours=1)
    build(moved, postings, now=later)
    # Indeed's url is the job's careers page, which moved with the careers folder.
    feed = (moved.output_dir / "indeed.xml").read_bytes()
    assert b"/site/jobs/sixsq-sales-manager.html" in feed
    assert last_build_date(moved) == later


# ------------------------------------------------------------------ when the content changed


def page_id(url: str) -> str:
    return url.rsplit("/", 1)[-1].removesuffix(".html")


def sitemap_dates(settings: Settings) -> dict[str, datetime]:
    root = etree.fromstring((settings.output_dir / "careers" / "sitemap.xml").read_bytes())
    space = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    return {
        page_id(url.findtext(f"{space}loc")): datetime.fromisoformat(
            url.findtext(f"{space}lastmod")
        )
        for url in root.iter(f"{space}url")
    }


def entry_dates(settings: Settings) -> dict[str, datetime]:
    feed = etree.fromstring((settings.output_dir / "careers" / "feed.atom").read_bytes())
    return {
        page_id(entry.findtext(f"{ATOM}id")): datetime.fromisoformat(
            entry.findtext(f"{ATOM}updated")
        )
        for entry in feed.iter(f"{ATOM}entry")
    }


def test_an_edit_moves_that_jobs_lastmod_and_atom_updated_only(project: Settings) -> None:
    def build_at(when: datetime) -> None:
        loaded = load_postings(project.postings_dir, project.timezone)
        build(project, loaded, now=when, store=store)

    with StateStore(project.state_url) as store:
        build_at(NOW)
        first = sitemap_dates(project)
        assert {first[p] for p in first if p != "index"} == {NOW}  # first seen by this state
        edited = project.postings_dir / "sixsq-sales-manager.md"
        edited.write_text(
            edited.read_text().replace("title: Sales Manager", "title: Head of Sales")
        )
        later = NOW + timedelta(hours=2)
        build_at(later)
        sitemap, entries = sitemap_dates(project), entry_dates(project)
        assert set(sitemap) - {"index"} == set(entries) and len(entries) == 5
        assert sitemap["sixsq-sales-manager"] == entries["sixsq-sales-manager"] == later
        for posting_id, when in entries.items():
            if posting_id != "sixsq-sales-manager":
                assert sitemap[posting_id] == when == NOW, posting_id
        build_at(later + timedelta(hours=3))  # unchanged: nothing moves
        assert sitemap_dates(project) == sitemap and entry_dates(project) == entries
