"""The build cache (``.syndicate/cache/``): what it saves, and that it never changes an output.

Every test compares what a build writes with the cache against what it writes without one
(``build`` of freshly parsed postings into another project), byte for byte; and checks that
what the cache holds is invalidated by what must invalidate it: a posting's content, a template,
a target's options, syndicate's code; and that a missing, damaged or unreadable cache is only
slower.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import cmarkgfm
import pytest

from syndicate import build as build_module
from syndicate import content
from syndicate.build import build
from syndicate.cache import CACHE_DIR, DATABASE, BuildCache
from syndicate.cache import keys as cache_keys
from syndicate.cache import store as cache_store
from syndicate.config import Settings, load_settings
from syndicate.inplace import record_path
from syndicate.loading import LoadResult, cached, load_postings, load_project, parse
from syndicate.model import Posting
from syndicate.plan import make_plan
from syndicate.publish import push_targets

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MAIN = "sixsq-sales-manager"


def make_project(folder: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    shutil.copytree(ROOT / "postings", folder / "postings")
    return load_settings(folder / "config.yaml")


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    return make_project(tmp_path / "project")


def load(settings: Settings) -> LoadResult:
    loaded = load_project(settings)
    assert not loaded.problems
    return loaded


def outputs(settings: Settings) -> dict[str, bytes]:
    """What readers see under ``output`` (the careers link followed, versions left out)."""
    found: dict[str, bytes] = {}
    root = settings.output_dir
    for folder, subdirs, names in os.walk(root, followlinks=True):
        subdirs[:] = [d for d in subdirs if d != ".versions"]
        for name in names:
            path = Path(folder, name)
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def uncached(settings: Settings, tmp_path: Path) -> dict[str, bytes]:
    """What a build without any cache writes for the same project (postings and config)."""
    other = tmp_path / "uncached"
    shutil.rmtree(other, ignore_errors=True)
    other.mkdir()
    shutil.copy(settings.root / "config.yaml", other / "config.yaml")
    shutil.copytree(settings.postings_dir, other / "postings")
    if (settings.root / "adapters").exists():
        shutil.copytree(settings.root / "adapters", other / "adapters")
    plain = load_settings(other / "config.yaml")
    parsed = load_postings(plain.postings_dir, plain.timezone, cache=None)
    assert parsed.cache is None
    postings: list[Posting] = list(parsed.postings)
    (other / ".syndicate").mkdir(exist_ok=True)
    (other / ".syndicate" / CACHE_DIR).write_text("not a folder: no cache can be opened here")
    build(plain, postings, now=NOW)
    return outputs(plain)


def fragment_count(settings: Settings) -> int:
    with sqlite3.connect(settings.work_dir / CACHE_DIR / DATABASE) as connection:
        return connection.execute("SELECT count(*) FROM fragments").fetchone()[0]


def edit(settings: Settings, posting_id: str, old: str, new: str) -> None:
    path = settings.postings_dir / f"{posting_id}.md"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the id of every posting a careers page is rendered for."""
    from syndicate.adapters.careers import CareersSite

    seen: list[str] = []
    original = CareersSite._page

    def counted(self: CareersSite, posting: Posting, *args: object) -> bytes:
        seen.append(posting.id)
        return original(self, posting, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(CareersSite, "_page", counted)
    return seen


# ------------------------------------------------------------------------ outputs unchanged


def test_cached_builds_write_what_an_uncached_build_writes(
    project: Settings, tmp_path: Path
) -> None:
    build(project, load(project).postings, now=NOW)  # cold: fills the cache
    cold = outputs(project)
    assert fragment_count(project) > 0
    shutil.rmtree(project.output_dir)
    build(project, load(project).postings, now=NOW)  # warm: everything from the cache
    assert outputs(project) == cold == uncached(project, tmp_path)


def test_an_edit_renders_only_the_edited_posting_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    edit(project, MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    seen = renders(monkeypatch)
    build(project, load(project).postings, now=NOW)
    assert seen == [MAIN]
    assert b"Senior Sales Manager" in (project.output_dir / "indeed.xml").read_bytes()
    assert outputs(project) == uncached(project, tmp_path)


# ----------------------------------------------------------------------------- invalidation


def test_a_template_edit_renders_every_page_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    overrides = project.root / "adapters" / "careers"
    overrides.mkdir(parents=True)
    packaged = ROOT / "src" / "syndicate" / "templates" / "careers" / "job-card.html"
    card = packaged.read_text("utf-8").replace('<p class="meta">', '<p class="meta company">')
    (overrides / "job-card.html").write_text(card, encoding="utf-8")
    seen = renders(monkeypatch)
    build(project, load(project).postings, now=NOW)
    # The page template is unchanged, but the careers target's key covers every template.
    assert sorted(seen) == sorted(p.id for p in load(project).postings)
    index = (project.output_dir / "careers" / "index.html").read_text("utf-8")
    assert index.count('<p class="meta company">') == 5
    assert outputs(project) == uncached(project, tmp_path)


def test_an_option_change_renders_every_target_again(project: Settings, tmp_path: Path) -> None:
    build(project, load(project).postings, now=NOW)
    config = project.root / "config.yaml"
    config.write_text(config.read_text().replace("dir: careers}", "dir: site}"))
    moved = load_settings(config)
    build(moved, load(moved).postings, now=NOW)
    feed = (moved.output_dir / "indeed.xml").read_bytes()
    assert b"/site/jobs/sixsq-sales-manager.html" in feed
    assert b"/careers/jobs/" not in feed
    # The old careers folder stays where it was (the build does not own it any more).
    current = {
        name: data for name, data in outputs(moved).items() if not name.startswith("careers/")
    }
    assert current == uncached(moved, tmp_path)


def test_other_code_never_reuses_fragments(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    monkeypatch.setattr(cache_keys, "code_fingerprint", lambda: "another version")
    monkeypatch.setattr(build_module, "code_fingerprint", lambda: "another version")
    seen = renders(monkeypatch)
    build(project, load(project).postings, now=NOW)
    assert len(seen) == 5


# ------------------------------------------------------------------- damaged or missing cache


def test_missing_fragments_are_rendered_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    with sqlite3.connect(project.work_dir / CACHE_DIR / DATABASE) as connection:
        connection.execute(
            "DELETE FROM fragments WHERE content_hash IN "
            "(SELECT content_hash FROM files WHERE posting_id = ?)",
            (MAIN,),
        )
    seen = renders(monkeypatch)
    (project.work_dir / build_module.MANIFEST).unlink()  # so every output is written again
    build(project, load(project).postings, now=NOW)
    assert seen == [MAIN]
    assert outputs(project) == uncached(project, tmp_path)


# ----------------------------------------------------------- careers pages: files, not rows


def page_rows(settings: Settings) -> list[bytes]:
    with sqlite3.connect(settings.work_dir / CACHE_DIR / DATABASE) as connection:
        return [
            row[0] for row in connection.execute("SELECT data FROM fragments WHERE part = 'page'")
        ]


def test_the_cache_keeps_a_digest_of_each_page_not_the_page(project: Settings) -> None:
    build(project, load(project).postings, now=NOW)
    rows = page_rows(project)
    pages = sorted((project.output_dir / "careers" / "jobs").iterdir())
    assert len(rows) == len(pages) == 5
    assert sorted(rows) == sorted(hashlib.sha256(page.read_bytes()).digest() for page in pages)


def test_a_page_whose_file_is_gone_or_changed_is_rendered_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    jobs = project.output_dir / "careers" / "jobs"
    (jobs / f"{MAIN}.html").unlink()
    other = sorted(jobs.iterdir())[0]
    other.write_bytes(other.read_bytes().replace(b"<title>", b"<title>Tampered "))
    seen = renders(monkeypatch)
    (project.work_dir / build_module.MANIFEST).unlink()
    # The careers folder's own record would vouch for the pages written from the same
    # fragments (`syndicate.inplace`): without it, each page is compared by its bytes.
    record_path(project.output_dir, "careers").unlink()
    build(project, load(project).postings, now=NOW)
    assert sorted(seen) == sorted([MAIN, other.stem])
    assert outputs(project) == uncached(project, tmp_path)


def test_without_the_output_every_page_is_rendered_again(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project).postings, now=NOW)
    seen = renders(monkeypatch)
    shutil.rmtree(project.output_dir)
    build(project, load(project).postings, now=NOW)
    assert sorted(seen) == sorted(p.id for p in load(project).postings)
    assert outputs(project) == uncached(project, tmp_path)


def test_a_damaged_posting_entry_is_parsed_again(project: Settings) -> None:
    loaded = load(project)
    expected = {p.id: p for p in loaded.postings}
    with sqlite3.connect(project.work_dir / CACHE_DIR / DATABASE) as connection:
        connection.execute('UPDATE postings SET posting = \'{"not": "a posting"}\'')
    again = load(project)
    assert {p.id: p for p in again.postings} == expected


def test_a_cache_that_is_not_a_database_is_started_afresh(
    project: Settings, tmp_path: Path
) -> None:
    folder = project.work_dir / CACHE_DIR
    folder.mkdir(parents=True)
    (folder / DATABASE).write_bytes(b"this is not a SQLite database" * 100)
    build(project, load(project).postings, now=NOW)
    assert outputs(project) == uncached(project, tmp_path)
    assert fragment_count(project) > 0


def test_an_unusable_cache_folder_only_makes_things_slower(
    project: Settings, tmp_path: Path
) -> None:
    project.work_dir.mkdir(parents=True)
    (project.work_dir / CACHE_DIR).write_text("a file where the cache folder should be")
    loaded = load_project(project)
    assert loaded.cache is None and len(loaded.files) == 5
    build(project, loaded.postings, now=NOW)
    assert outputs(project) == uncached(project, tmp_path)


# ------------------------------------------------------------------------------ concurrency

BUILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from syndicate.build import build
from syndicate.config import load_settings
from syndicate.loading import load_project

settings = load_settings(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    loaded = load_project(settings)
    build(settings, loaded.postings, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
"""


def test_concurrent_builds_share_the_cache_safely(project: Settings, tmp_path: Path) -> None:
    # Cold, at the same time: both fill the cache; then both again, from it.
    config = str(project.root / "config.yaml")
    builders = [
        subprocess.Popen([sys.executable, "-c", BUILD, config, "3"], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for builder in builders:
        _, err = builder.communicate(timeout=120)
        assert builder.returncode == 0, err.decode()
    assert outputs(project) == uncached(project, tmp_path)
    with sqlite3.connect(project.work_dir / CACHE_DIR / DATABASE) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --------------------------------------------------------------------------------- loading


def test_an_unchanged_file_is_not_parsed_again(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load(project)
    old = {p.id: p for p in first.postings}
    # Far enough in the past that its stat is trusted (a racy, recent one is read again).
    for path in project.postings_dir.iterdir():
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    load(project)  # the new stats recorded, files read once to compare their bytes

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was parsed")

    monkeypatch.setattr(parse, "parse_posting", no_parsing)
    again = load(project)
    assert {p.id: p for p in again.postings} == old
    assert [f.content_hash for f in again.files] == [f.content_hash for f in first.files]


def test_a_file_changed_just_after_loading_is_read_again_despite_its_stat(
    project: Settings,
) -> None:
    # Written, loaded and rewritten within the clock's granularity, keeping its size and
    # mtime: its stat is too recent to be trusted, so its bytes are compared.
    path = project.postings_dir / f"{MAIN}.md"
    path.write_text(path.read_text("utf-8"), encoding="utf-8")
    load(project)
    before = path.stat()
    edit(project, MAIN, "title: Sales Manager", "title: Sales Managex")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    titles = {p.id: p.title for p in load(project).postings}
    assert titles[MAIN] == "Sales Managex"


def test_a_file_that_breaks_is_reported_and_forgotten(project: Settings) -> None:
    load(project)
    (project.postings_dir / f"{MAIN}.md").write_text("no front matter at all\n")
    loaded = load_project(project)
    assert MAIN not in loaded.by_id()
    [problem] = loaded.problems
    assert problem.message.startswith("no front matter")


def test_a_plan_with_nothing_changed_reads_no_posting_back(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKEDIN_TOKEN", "a-long-test-token-nobody-else-prints")
    loaded = load(project)
    targets, _ = push_targets(project)
    plan = make_plan(targets, loaded, {}, [], NOW)  # everything new: payloads read postings
    assert {op.posting_id for op in plan.operations} == set(loaded.by_id())

    def no_reading(self: object, loaded: object) -> Posting:
        raise AssertionError("a posting was read back")

    monkeypatch.setattr(cached.CachedSource, "posting", no_reading)
    again = load(project)
    delivered = {(op.posting_id, op.target): _Delivered(op.content_hash) for op in plan.operations}
    assert make_plan(targets, again, delivered, [], NOW).operations == []


class _Delivered:
    """A delivery the board accepted, as the planner reads it."""

    def __init__(self, content_hash: str) -> None:
        self.state = "published"
        self.content_hash = self.planned_hash = content_hash
        self.source_path = None
        self.delivered_at = NOW
        self.posting_hash = self.payload_hash = None
        self.expires_at = None
        self.live = True


def test_loose_postings_loaded_without_a_configuration_write_no_cache(tmp_path: Path) -> None:
    (tmp_path / "postings").mkdir()
    shutil.copy(ROOT / "postings" / f"{MAIN}.md", tmp_path / "postings")
    loaded = load_postings(tmp_path / "postings", ZoneInfo("UTC"))
    assert loaded.cache is None and len(loaded.files) == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "postings"]


def test_the_cache_is_used_when_the_postings_live_outside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache follows the configuration (beside the state), not the postings' folder: a
    separate checkout of the postings is parsed once and an edit renders one posting again."""
    project = make_project(tmp_path / "project")
    elsewhere = tmp_path / "checkout" / "postings"
    shutil.move(project.postings_dir, elsewhere)
    config = project.root / "config.yaml"
    config.write_text(
        config.read_text().replace("postings: postings", f"postings: {elsewhere}"), "utf-8"
    )
    settings = load_settings(config)
    assert settings.postings_dir == elsewhere
    build(settings, load_project(settings), now=NOW)
    assert settings.cache_dir == project.root / ".syndicate" / "cache"
    assert fragment_count(settings) > 0

    for path in elsewhere.iterdir():  # old enough for their stats to be trusted
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    load_project(settings)
    parsed: list[str] = []
    original = parse.parse_posting

    def counted(raw: bytes, timezone: tzinfo, shown: Path) -> parse.ParsedPosting:
        parsed.append(shown.name)
        return original(raw, timezone, shown)

    monkeypatch.setattr(parse, "parse_posting", counted)
    rendered = renders(monkeypatch)
    edit(settings, MAIN, "title: Sales Manager", "title: Senior Sales Manager")
    build(settings, load_project(settings), now=NOW)
    assert parsed == [f"{MAIN}.md"]
    assert rendered == [MAIN]


def test_build_cache_open_refuses_an_unwritable_place(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert BuildCache.open(blocker / "cache") is None


# ---------------------------------------------------------------------------- descriptions


@pytest.mark.parametrize(
    "markdown",
    [
        "### A heading\n\n* one\n* two\n\n| a | b |\n|---|:-:|\n| 1 | ~~2~~ |\n",
        "See www.example.com and <script>alert(1)</script> *done*",
        "",
        "é ü 日本語 \u2028",
    ],
)
def test_markdown_is_rendered_as_cmarkgfm_renders_it(markdown: str) -> None:
    expected = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=content._CMARK_OPTIONS, extensions=list(content._CMARK_EXTENSIONS)
    )
    assert content.markdown_to_html(markdown) == expected


def test_rendering_markdown_does_not_keep_memory() -> None:
    text = (ROOT / "postings" / f"{MAIN}.md").read_text("utf-8")
    for _ in range(200):
        content.markdown_to_html(text)
    before = _rss()
    for _ in range(2000):
        content.markdown_to_html(text)
    # cmarkgfm's own function keeps about 30 KB a call: 60 MB here.
    assert _rss() - before < 8 * 2**20


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_an_output_touched_since_is_written_again(project: Settings, tmp_path: Path) -> None:
    build(project, load(project).postings, now=NOW)
    feed = project.output_dir / "indeed.xml"
    feed.write_bytes(b"<source/>")
    report = build(project, load(project).postings, now=NOW)
    assert {t.name: t.changed for t in report.targets if t.changed} == {"indeed": 1}
    assert outputs(project) == uncached(project, tmp_path)


def _stale(settings: Settings) -> tuple[int, int]:
    """The cache's fragments and checks of content that no file has any more."""
    database = sqlite3.connect(settings.work_dir / CACHE_DIR / DATABASE)
    try:
        content = "substr(content_hash, 1, instr(content_hash || '|', '|') - 1)"
        counts = [
            database.execute(
                f"SELECT count(*) FROM {table} WHERE {content}"
                " NOT IN (SELECT content_hash FROM files)"
            ).fetchone()[0]
            for table in ("fragments", "checks")
        ]
    finally:
        database.close()
    return counts[0], counts[1]


def test_the_content_of_old_versions_is_forgotten_once_enough_files_changed(
    project: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project, load(project), now=NOW)
    assert _stale(project) == (0, 0)
    path = project.postings_dir / f"{MAIN}.md"
    path.write_text(path.read_text().replace("title: Sales Manager", "title: Sales Lead"))
    build(project, load(project), now=NOW)
    fragments, checks = _stale(project)
    assert fragments > 0 and checks > 0  # one edit: kept until PRUNE_CHURN files changed

    monkeypatch.setattr(cache_store, "PRUNE_CHURN", 1)
    path.write_text(path.read_text().replace("title: Sales Lead", "title: Sales Head"))
    build(project, load(project), now=NOW)
    assert _stale(project) == (0, 0)
    assert outputs(project) == uncached(project, tmp_path)
