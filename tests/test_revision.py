"""`syndicate.revision` on real folders: a real git repository made with ``git init`` in a
temporary folder (its commits, their order, a dirty work tree), and a plain folder by digest."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.loading import LoadResult, load_postings
from syndicate.revision import Revision, is_older, revision_of

EXAMPLES = Path(__file__).resolve().parent.parent / "postings"
ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder: Path, *args: str, when: datetime | None = None) -> str:
    """git in ``folder`` with a fixed identity (and commit time, when given)."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    result = subprocess.run(
        ["git", "-C", str(folder), *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def load(folder: Path) -> LoadResult:
    return load_postings(folder, ZURICH)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git repository whose ``postings/`` holds two example postings, committed once."""
    repo = tmp_path / "repo"
    postings = repo / "postings"
    postings.mkdir(parents=True)
    for example in sorted(EXAMPLES.glob("*.md"))[:2]:
        shutil.copy(example, postings / example.name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first", when=datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    return postings


def edit_and_commit(postings: Path, message: str, when: datetime) -> str:
    first = sorted(postings.glob("*.md"))[0]
    first.write_text(first.read_text().replace("title: ", f"title: {message} ", 1))
    git(postings.parent, "commit", "-q", "-am", message, when=when)
    return git(postings.parent, "rev-parse", "HEAD")


def test_a_clean_checkout_is_at_its_head_commit_and_time(checkout: Path) -> None:
    revision = revision_of(checkout, load(checkout))
    assert revision.kind == "git"
    assert revision.value == git(checkout.parent, "rev-parse", "HEAD")
    assert revision.time == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert str(revision) == f"git {revision.value[:12]}"


def test_a_dirty_checkout_is_at_the_digest_of_what_it_loaded(checkout: Path) -> None:
    clean = revision_of(checkout, load(checkout))
    first = sorted(checkout.glob("*.md"))[0]
    first.write_text(first.read_text().replace("title: ", "title: Uncommitted ", 1))
    dirty = revision_of(checkout, load(checkout))
    assert dirty.kind == "digest" and dirty.value != clean.value
    assert revision_of(checkout, load(checkout)) == dirty  # the same files, the same digest
    git(checkout.parent, "commit", "-q", "-am", "now committed")
    assert revision_of(checkout, load(checkout)).kind == "git"


def test_git_history_orders_commits_whatever_their_times(checkout: Path) -> None:
    first = revision_of(checkout, load(checkout))
    # The second commit claims an earlier time than the first: git's history decides.
    edit_and_commit(checkout, "Senior", when=datetime(2026, 10, 1, tzinfo=UTC))
    second = revision_of(checkout, load(checkout))
    assert second.kind == "git" and second.time < first.time
    assert is_older(first, second, checkout)
    assert not is_older(second, first, checkout)
    assert not is_older(second, second, checkout)


def test_a_daemon_behind_another_checkout_is_older(checkout: Path, tmp_path: Path) -> None:
    """Two clones: the one not pulled yet is older than the plan made from the newer one."""
    behind = tmp_path / "behind"
    git(tmp_path, "clone", "-q", str(checkout.parent), str(behind))
    edit_and_commit(checkout, "Lead", when=datetime(2026, 11, 2, tzinfo=UTC))
    ahead = revision_of(checkout, load(checkout))
    mine = revision_of(behind / "postings", load(behind / "postings"))
    # The behind clone has not fetched the newer commit: it is compared by time.
    assert is_older(mine, ahead, behind / "postings")
    git(behind, "pull", "-q", "--ff-only")
    pulled = revision_of(behind / "postings", load(behind / "postings"))
    assert pulled == ahead and not is_older(pulled, ahead, behind / "postings")
    # Once fetched, git's history orders them: the old commit is an ancestor of the new one.
    assert is_older(mine, ahead, behind / "postings")


def test_diverged_commits_are_not_older_than_each_other(checkout: Path) -> None:
    repo = checkout.parent
    base = git(repo, "rev-parse", "HEAD")
    left = edit_and_commit(checkout, "Left", when=datetime(2026, 11, 3, tzinfo=UTC))
    git(repo, "checkout", "-q", base)
    right = edit_and_commit(checkout, "Right", when=datetime(2026, 11, 4, tzinfo=UTC))
    when = datetime(2026, 11, 3, tzinfo=UTC)
    # Neither is an ancestor of the other: neither daemon is behind the other's plan.
    assert not is_older(Revision("git", left, when), Revision("git", right, when), checkout)
    assert not is_older(Revision("git", right, when), Revision("git", left, when), checkout)


def test_a_plain_folder_is_ordered_by_its_newest_change(tmp_path: Path) -> None:
    folder = tmp_path / "postings"
    folder.mkdir()
    for example in sorted(EXAMPLES.glob("*.md"))[:2]:
        shutil.copy(example, folder / example.name)
    before = revision_of(folder, load(folder))
    assert before.kind == "digest"  # not in a git work tree
    later = before.time + timedelta(minutes=5)
    first = sorted(folder.glob("*.md"))[0]
    first.write_text(first.read_text().replace("title: ", "title: Edited ", 1))
    os.utime(first, (later.timestamp(), later.timestamp()))
    after = revision_of(folder, load(folder))
    assert after.value != before.value and after.time == later
    assert is_older(before, after, folder) and not is_older(after, before, folder)
