"""The no-change plan told by the state's per-target summaries (`syndicate.state.summary`,
`syndicate.quickplan`) and answered by the CLI before the publisher is imported
(`syndicate.cli.quick`).

The summaries are kept by SQLite triggers; each test here compares them with the same sums
made from the tables' rows in Python after real publishes over HTTP (creates, an edit, a close,
a failure, operations left open), and after a state made before them is opened again.  The
digest's SQL and Python halves are compared on awkward text.  The CLI's answer is compared with
the full path's output, and it must step aside whenever anything differs
(`tests/test_unchanged_plan.py` compares every plan both ways on both stores).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.cache.store import DATABASE
from syndicate.cli.quick import parse, try_plan
from syndicate.loading import load_project
from syndicate.loading.quick import unchanged_files
from syndicate.quickplan import NoSummary, quick_plan
from syndicate.state import StateStore, summary
from syndicate.testing import BoardServer
from tests.test_never_lose import BROKEN, TOKENS, Site, retitle

pytestmark = pytest.mark.usefixtures("tokens")


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def site(tmp_path: Path, board: BoardServer) -> Site:
    """The example postings published on a SQLite state."""
    site = Site(tmp_path / "project", board)
    site.configure()
    published = site.cli("publish")
    assert published.returncode == 0, published.stderr
    return site


def state_db(site: Site) -> sqlite3.Connection:
    path = site.settings.state_file()
    assert path is not None
    return sqlite3.connect(path)


def recomputed(db: sqlite3.Connection) -> dict[str, summary.Summary]:
    """The summaries made again from the rows, in Python."""
    made: dict[str, dict[str, object]] = {}

    def row(target: str) -> dict[str, object]:
        return made.setdefault(target, {})

    listings: dict[str, list[str]] = {}
    for target, content_hash in db.execute("SELECT target, content_hash FROM listings"):
        listings.setdefault(target, []).append(content_hash)
        row(target)
    shown: dict[str, list[str]] = {}
    failed: dict[str, int] = {}
    for target, content_hash, kind, state in db.execute(
        "SELECT target, content_hash, delivered_kind, state FROM deliveries"
    ):
        row(target)
        if kind is not None and kind != "CLOSE":
            shown.setdefault(target, []).append(content_hash)
        failed[target] = failed.get(target, 0) + (state == "failed")
    open_ops: dict[str, int] = {}
    for target, status in db.execute("SELECT target, status FROM operations"):
        row(target)
        open_ops[target] = open_ops.get(target, 0) + (status in ("pending", "queued"))
    return {
        target: summary.Summary(
            len(listings.get(target, [])),
            summary.digest(listings.get(target, [])),
            len(shown.get(target, [])),
            summary.digest(shown.get(target, [])),
            failed.get(target, 0),
            open_ops.get(target, 0),
        )
        for target in made
    }


def kept(db: sqlite3.Connection) -> dict[str, summary.Summary]:
    found = summary.read(db)
    assert found is not None
    return {t: s for t, s in found.items() if s != summary.Summary() or t in recomputed(db)}


def assert_kept_right(site: Site) -> None:
    with state_db(site) as db:
        assert kept(db) == recomputed(db)


@pytest.mark.parametrize(
    "text",
    [
        "0123456789abcdef" * 4,
        "ffffffffffffffffffffffffffffffff",
        "ABCDEF0123456789abcdef0123456789",  # upper case: no hex digit for the triggers
        "abc",  # short
        "zz-not-hex-at-all-but-long-enough-text",
        "",
        None,
    ],
)
def test_the_digest_is_the_same_in_sql_and_in_python(text: str | None) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (h TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (text,))
    m = summary.MODULUS
    one, two = (
        db.execute(
            f"SELECT ((({summary._lane_sql('h', start)}) % {m}) + {m}) % {m} FROM t"
        ).fetchone()[0]
        for start in (0, 13)
    )
    assert (one, two) == summary.lanes(text)


def test_the_triggers_keep_the_summaries_through_publishes(site: Site) -> None:
    assert_kept_right(site)
    with state_db(site) as db:
        rows = summary.read(db)
    assert rows is not None and rows["careers"].listings == 5 and rows["linkedin"].live == 5
    retitle(site.postings / f"{BROKEN}.md", "Inside Sales Lead")
    assert site.cli("publish").returncode == 0
    assert_kept_right(site)
    next(iter(sorted(site.postings.rglob("*.md")))).unlink()
    assert site.cli("publish").returncode == 0  # one CLOSE on each push target
    assert_kept_right(site)
    with state_db(site) as db:
        rows = summary.read(db)
    assert rows is not None and rows["careers"].listings == 4 and rows["linkedin"].live == 4
    with state_db(site) as db:  # any writer moves them: an operation queued, a delivery failed
        db.execute(
            "UPDATE operations SET status = 'queued' WHERE id = (SELECT min(id) FROM operations)"
        )
        db.execute(
            "UPDATE deliveries SET state = 'failed', delivered_kind = 'CLOSE'"
            " WHERE rowid = (SELECT min(rowid) FROM deliveries WHERE delivered_kind = 'CREATE')"
        )
        db.execute("DELETE FROM listings WHERE rowid = (SELECT min(rowid) FROM listings)")
    assert_kept_right(site)
    with state_db(site) as db:
        rows = summary.read(db)
    assert rows is not None and sum(r.open for r in rows.values()) == 1
    assert sum(r.failed for r in rows.values()) == 1


def test_a_state_made_before_the_summaries_gets_them_when_opened(site: Site) -> None:
    with state_db(site) as db:
        before = summary.read(db)
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(f"DROP TABLE {summary.TABLE}")
        assert summary.read(db) is None
    with StateStore(site.settings.state_url):
        pass
    with state_db(site) as db:
        assert summary.read(db) == before
    assert_kept_right(site)


def test_unchanged_files_are_what_loading_finds(site: Site) -> None:
    settings = site.settings
    files = unchanged_files(settings)
    assert files is not None
    loaded = load_project(settings)
    assert [(f.posting_id, f.content_hash, f.window) for f in files] == [
        (f.posting_id, f.content_hash, f.window) for f in loaded.files
    ]
    retitle(next(iter(sorted(site.postings.rglob("*.md")))), "Touched")
    assert unchanged_files(settings) is None  # the full load reads it
    load_project(settings)
    (site.postings / "new.md").write_text("---\nid: x\n---\n")
    assert unchanged_files(settings) is None


def test_the_summaries_answer_and_step_aside(site: Site) -> None:
    settings = site.settings
    now = datetime.now(UTC)
    files = unchanged_files(settings)
    assert files is not None
    found = quick_plan(settings, files, now)
    assert found is not None
    assert sorted(found.push) == ["google", "hook", "linkedin"]
    assert {v.name: len(v.listed) for v in found.pull}["careers"] == 5
    # A pull target checked under other options: its listings may differ.
    with state_db(site) as db:
        db.execute("UPDATE listing_keys SET target_key = 'other' WHERE target = 'careers'")
    assert quick_plan(settings, files, now) is None
    # Without summaries (a state not opened since, or PostgreSQL): asked in another way.
    with state_db(site) as db:
        db.execute(f"DROP TABLE {summary.TABLE}")
    with pytest.raises(NoSummary):
        quick_plan(settings, files, now)


def lines(err: str) -> list[str]:
    """Stderr's lines but the warnings, without times."""
    return [
        re.sub(r" in [\d.]+s.*", " in …", line)
        for line in err.splitlines()
        if "WARNING" not in line
    ]


def test_the_cli_answers_as_the_full_path_does(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quick = site.cli("publish", "--plan")
    full = site.cli("publish", "--plan", "--format", "text")  # not the quick path's words
    assert quick.returncode == full.returncode == 0
    assert quick.stdout == full.stdout
    assert "nothing to push: every enabled push target is up to date" in quick.stdout
    monkeypatch.chdir(site.root)
    capsys.readouterr()
    assert try_plan(["publish", "--plan"])  # it is the quick path that answered
    told = capsys.readouterr()
    assert told.out == full.stdout
    assert lines(told.err) == lines(full.stderr) == ["loaded postings: 5 file(s) in …"]
    # Ruled out by a missing cache, the quick path leaves the full path to answer.
    (site.settings.cache_dir / DATABASE).rename(site.root / "aside.db")
    again = site.cli("publish", "--plan")
    assert again.returncode == 0 and again.stdout == full.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["publish", "--plan"], (Path("config.yaml"), 0)),
        (["-q", "publish", "--plan", "--config", "site.yaml"], (Path("site.yaml"), -1)),
        (["publish", "-v", "--plan", "--config=x.yaml"], (Path("x.yaml"), 1)),
        (["publish", "--plan", "--target", "linkedin"], None),
        (["publish", "--plan", "--format", "json"], None),
        (["--plan", "publish"], None),
        (["publish"], None),
        (["publish", "--plan", "--config"], None),
    ],
)
def test_only_a_plain_plan_is_answered_quickly(
    args: list[str], expected: tuple[Path, int] | None
) -> None:
    assert parse(args) == expected
