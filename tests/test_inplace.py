"""The careers folder updated in place (`syndicate.inplace.FolderInPlace`): a new page is in
place before the index that links it, a removed page goes only once no published file links
it, a page named as when it was written is not even made, a failed build leaves the folder as
it was, and a record from another boot of the machine is not trusted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate import inplace
from syndicate.inplace import FolderInPlace, published_root, read_record, save_record
from syndicate.output import FolderVersion
from syndicate.splice import Piece

OLD = {
    "index.html": b'<a href="jobs/a.html">a</a><a href="jobs/b.html">b</a>',
    "jobs/a.html": b"<p>a</p>",
    "jobs/b.html": b"<p>b</p>",
}
NAMES = {"jobs/a.html": "id-a", "jobs/b.html": "id-b"}


def _never() -> Iterator[bytes]:
    raise AssertionError("an unchanged page was made again")
    yield b""  # pragma: no cover


@pytest.fixture
def output(tmp_path: Path) -> Path:
    version = FolderVersion(tmp_path, "careers")
    for name, data in OLD.items():
        version.write(name, [data], NAMES.get(name))
    assert version.publish()
    root = published_root(tmp_path, "careers")
    assert root is not None
    save_record(tmp_path, "careers", root, version.identities)
    return tmp_path


def _folder(output: Path) -> FolderInPlace:
    root = published_root(output, "careers")
    assert root is not None
    return FolderInPlace(output, "careers", root)


def test_new_pages_come_before_the_index_and_removals_after(
    output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    careers = output / "careers"
    events: list[str] = []
    replace, unlink = os.replace, os.unlink

    def replacing(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "index.html":
            # The new index appears: the page it links is there, the one it drops still is.
            assert (careers / "jobs" / "c.html").read_bytes() == b"<p>c</p>"
            assert (careers / "jobs" / "b.html").exists()
            events.append("index")
        replace(source, target)

    def unlinking(path: str | Path, *args: object, **kwargs: object) -> None:
        if Path(path).name == "b.html":
            assert b"jobs/b.html" not in (careers / "index.html").read_bytes()
            events.append("removed b")
        unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replacing)
    monkeypatch.setattr(os, "unlink", unlinking)
    link = os.readlink(careers)
    before = os.stat(careers / "jobs" / "a.html")
    folder = _folder(output)
    folder.write("index.html", [b'<a href="jobs/a.html">a</a><a href="jobs/c.html">c</a>'])
    folder.write("jobs/a.html", _never(), "id-a")
    folder.write("jobs/c.html", [b"<p>c</p>"], "id-c")
    assert folder.finish()
    assert events == ["index", "removed b"]
    assert os.readlink(careers) == link
    assert sorted(p.name for p in (careers / "jobs").iterdir()) == ["a.html", "c.html"]
    after = os.stat(careers / "jobs" / "a.html")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    record = read_record(output, "careers", careers.resolve())
    assert record is not None and record.files["jobs/c.html"] == "id-c"
    assert "jobs/b.html" not in record.files


def test_the_same_files_change_nothing(output: Path) -> None:
    folder = _folder(output)
    for name, data in OLD.items():
        folder.write(name, [data], NAMES.get(name))
    assert not folder.finish()


def test_a_failed_build_leaves_the_folder_as_it_was(output: Path) -> None:
    careers = output / "careers"
    folder = _folder(output)
    folder.write("index.html", [b"<p>new index</p>"])
    folder.write("jobs/c.html", [b"<p>c</p>"], "id-c")
    folder.discard()
    found = {str(p.relative_to(careers)): p.read_bytes() for p in careers.rglob("*") if p.is_file()}
    assert found == OLD
    assert read_record(output, "careers", careers.resolve()) is not None
    assert not [p for p in (output / ".versions").iterdir() if ".building-" in p.name]


def test_a_record_of_another_boot_is_not_trusted(
    output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inplace, "boot_id", lambda: "another boot")
    folder = _folder(output)
    with pytest.raises(AssertionError, match="made again"):
        folder.write("jobs/a.html", _never(), "id-a")
    folder.discard()
    # Without a record the pages are compared by their bytes, and what the build no longer
    # writes is found by walking the folder.
    folder = _folder(output)
    folder.write("index.html", [b'<a href="jobs/a.html">a</a>'])
    folder.write("jobs/a.html", [b"<p>a, edited</p>"], "id-a2")
    assert folder.finish()
    assert not (output / "careers" / "jobs" / "b.html").exists()
    assert (output / "careers" / "jobs" / "a.html").read_bytes() == b"<p>a, edited</p>"


def test_what_a_killed_build_left_is_removed_once_a_day_old(output: Path) -> None:
    versions = output / ".versions"
    old, recent = versions / "careers.building-old", versions / "careers.building-recent"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "page.html").write_bytes(b"<p>half</p>")
    os.utime(old, (0, 0))
    _folder(output).discard()
    assert not old.exists()
    assert recent.exists()  # a build still running may be writing it


def _cards(*names: str) -> list[bytes | Piece]:
    pieces: list[bytes | Piece] = [b"<ul>"]
    for name in names:
        pieces += [b"\n", Piece(f"card-{name}", lambda name=name: f"<li>{name}</li>".encode())]
    return [*pieces, b"</ul>\n"]


def _fetched(pieces: list[bytes | Piece], log: list[str]) -> list[bytes | Piece]:
    def counted(piece: Piece) -> Piece:
        return Piece(piece.identity, lambda: log.append(piece.identity) or piece.fetch())

    return [counted(p) if isinstance(p, Piece) else p for p in pieces]


def test_a_file_of_pieces_is_copied_from_the_published_one_and_put_in_place_last(
    output: Path, tmp_path: Path
) -> None:
    layout = tmp_path / "layouts" / "index.json"
    folder = _folder(output)
    folder.write_pieces("index.html", _cards("a", "b", "c"), layout)  # no layout: whole
    folder.finish()
    published = output / "careers" / "index.html"
    assert published.read_bytes() == b"<ul>\n<li>a</li>\n<li>b</li>\n<li>c</li></ul>\n"
    fetched: list[str] = []
    folder = _folder(output)
    pieces = _cards("a", "c", "d")
    pieces[4] = Piece("card-c2", lambda: b"<li>c, edited</li>")
    folder.write_pieces("index.html", _fetched(pieces, fetched), layout)
    assert b"<li>b</li>" in published.read_bytes()  # the old one until `finish`
    folder.finish()
    assert published.read_bytes() == b"<ul>\n<li>a</li>\n<li>c, edited</li>\n<li>d</li></ul>\n"
    assert fetched == ["card-c2", "card-d"]  # "a" and the literals copied from the old file
    # Unchanged: left alone (same inode); touched by hand: written whole, never copied from.
    inode = published.stat().st_ino
    folder = _folder(output)
    folder.write_pieces("index.html", _fetched(pieces, fetched := []), layout)
    folder.finish()
    assert published.stat().st_ino == inode and fetched == []
    published.write_bytes(b"<ul>by hand</ul>\n")
    folder = _folder(output)
    folder.write_pieces("index.html", _fetched(pieces, fetched), layout)
    folder.finish()
    assert published.read_bytes() == b"<ul>\n<li>a</li>\n<li>c, edited</li>\n<li>d</li></ul>\n"
    assert fetched == ["card-a", "card-c2", "card-d"]
