"""`syndicate validate`'s shortcuts (`syndicate.cli.validating`, `syndicate.quiet`) give what
the full path gives, problem for problem, in the cases where one could diverge.

The full path is the same command with every shortcut turned off: each target's cached checks
decoded by the cache for every posting (none taken as clean unread, none decoded once for many),
every problem placed by its file's own lookup (`PostingFile.locate`), every posting read back
for its ``boards:``, each posting's phase worked out per target, and the publish state and the
reference numbers read in full (the `Lister`, the `ReferenceBook`).  Each case checks first
that it shows what it is about, so that two empty reports cannot pass for one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syndicate import quiet
from syndicate.cache import CachedChecks
from syndicate.cli import app, validating
from syndicate.loading import PostingFile
from syndicate.model import Phase
from tests.cli import copy_examples

MANAGER = "sixsq-sales-manager"
DIRECTOR = "sixsq-sales-director"


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["-q", "--config", "config.yaml", *args])
    return result.exit_code, result.stdout + result.stderr


def _full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut of `validate` off."""
    monkeypatch.setattr(quiet, "state_silent", lambda *args, **kwargs: False)
    monkeypatch.setattr(quiet, "numbers_unshared", lambda *args, **kwargs: False)
    monkeypatch.setattr(validating, "_shared", lambda numbers: True)
    monkeypatch.setattr(CachedChecks, "cached", lambda self, loaded: None)
    monkeypatch.setattr(validating.Places, "_entry", lambda self, posting_file: None)

    def phase(self: validating.Phases, posting_file: PostingFile) -> Phase:
        return posting_file.window.phase(self.now, self.timezone)

    monkeypatch.setattr(validating.Phases, "of", phase)


def _both(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, str]]:
    """``validate`` in text and JSON, with the shortcuts and then without."""
    found = {}
    for way in ("fast", "full"):
        with monkeypatch.context() as patch:
            if way == "full":
                _full_path(patch)
            found[way] = (_cli("validate"), _cli("validate", "--format", "json"))
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, built once (so the cache has their checks and lines, the state their
    listings and numbers), with the working directory in the project."""
    (tmp_path / "project").mkdir()
    root = copy_examples(tmp_path / "project")
    for name in ("LINKEDIN_TOKEN", "GOOGLE_INDEXING_TOKEN", "HOOK_SECRET"):
        monkeypatch.setenv(name, "not-a-real-secret")
    monkeypatch.chdir(root)
    code, output = _cli("build")
    assert code == 0, output
    return root


def _posting(root: Path, posting_id: str) -> Path:
    return root / "postings" / f"{posting_id}.md"


def _edit(root: Path, posting_id: str, change: Callable[[str], str]) -> None:
    path = _posting(root, posting_id)
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text
    path.write_text(changed, encoding="utf-8")
    stat = path.stat()  # a newer mtime, certainly unlike the cached one
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def _unknown_board(root: Path) -> None:
    _edit(
        root,
        MANAGER,
        lambda t: t.replace(
            "language: en\n", "language: en\nboards: {indeed: false, lnkedin: {}}\n"
        ),
    )


def _collision(root: Path) -> None:
    text = _posting(root, MANAGER).read_text(encoding="utf-8")
    clash = text.replace(f"id: {MANAGER}", f"id: {DIRECTOR}-brussels-be")
    (root / "postings" / "clash.md").write_text(clash, encoding="utf-8")


def _draft(root: Path) -> None:
    _edit(root, DIRECTOR, lambda t: t.replace("language: en\n", "language: en\nstatus: draft\n"))


def _edited(root: Path) -> None:
    _edit(
        root, MANAGER, lambda t: t.replace("title: Sales Manager", "title: Sales Manager (m/f/d)")
    )


def _fails_to_load(root: Path) -> None:
    _edit(root, MANAGER, lambda t: t.replace("remote: onsite", "remote: [onsite"))


def _renamed(root: Path) -> None:
    _edit(root, MANAGER, lambda t: t.replace(f"id: {MANAGER}", f"id: {MANAGER}-geneva"))


def _deleted(root: Path) -> None:
    _posting(root, MANAGER).unlink()


def _no_state(root: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (root / ".syndicate" / f"state.db{suffix}").unlink(missing_ok=True)


def _collision_without_state(root: Path) -> None:
    _no_state(root)
    _collision(root)


def _nothing(root: Path) -> None:
    pass


CASES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    # what is done to the built project, and what the report must then show
    "as built (cached warnings)": (_nothing, "[linkedin]"),
    "an unknown board": (_unknown_board, "'lnkedin' is not a configured target"),
    "a reference collision": (_collision, "reference number"),
    "a draft": (_draft, None),
    "a file edited since the cache": (_edited, None),
    "a file that fails to load": (_fails_to_load, "kept the version built at"),
    "an id changed since publishing": (_renamed, "id changed from"),
    "a file deleted": (_deleted, None),
    "no state (numbers by the rule, cached)": (_no_state, "[indeed]"),
    "a reference collision without a state": (_collision_without_state, "reference number"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validate_gives_what_the_full_path_gives(
    case: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change, shown = CASES[case]
    change(project)
    found = _both(monkeypatch)
    (code, text), (json_code, data) = found["fast"]
    assert found["fast"] == found["full"]
    assert code == json_code
    report = json.loads(data[: data.rindex("}") + 1])
    assert report["summary"]["files"] >= 4
    if shown is not None:
        assert shown in text, text
    if case == "an unknown board":
        assert any(p.get("field") == "boards.lnkedin" for p in report["problems"])
    if "reference collision" in case:
        assert code == 1


def test_a_merge_key_may_bring_boards(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A posting whose front matter merges a mapping in (``<<:``) is read back for its boards:
    the cache's lines show no ``boards`` key for it."""

    _edit(
        project,
        MANAGER,
        lambda t: t.replace("language: en\n", "language: en\n<<: {boards: {nowhere: {}}}\n"),
    )
    found = _both(monkeypatch)
    assert found["fast"] == found["full"]
    assert "'nowhere' is not a configured target" in found["fast"][0][1]
