"""`syndicate.splice.write_pieces`: the file is always exactly the pieces' bytes in order, while
only the pieces the previous file lacks are fetched; an unchanged document leaves the file
alone; a layout that does not describe the file on disk (touched, or from another boot) is
not used."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from syndicate import splice
from syndicate.splice import Piece, framed, write_pieces


class Source:
    """Pieces named ``n<i>`` whose bytes say so, counting the fetches."""

    def __init__(self) -> None:
        self.fetched: list[str] = []
        self.edits: dict[str, bytes] = {}

    def piece(self, name: str) -> Piece:
        data = self.edits.get(name, f'{{"job":"{name}","pad":"{"x" * (len(name) * 7)}"}}'.encode())
        version = "2" if name in self.edits else "1"

        def fetch() -> bytes:
            self.fetched.append(name)
            return data

        return Piece(f"{name}.{version}", fetch)


def _document(source: Source, names: list[str], head: bytes = b"[") -> list[bytes | Piece]:
    return list(framed(head, [source.piece(name) for name in names], b"\n]\n"))


def _expected(pieces: list[bytes | Piece]) -> bytes:
    return b"".join(p if isinstance(p, bytes) else p.fetch() for p in pieces)


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "feed.json", tmp_path / "layouts" / "feed.json"


def test_a_file_made_from_the_previous_one_is_the_pieces_in_order(
    paths: tuple[Path, Path],
) -> None:
    path, layout = paths
    source = Source()
    names = [f"n{i}" for i in range(200)]
    write_pieces(path, _document(source, names), layout)
    assert path.read_bytes() == _expected(_document(Source(), names))
    rng = random.Random(7)
    for round_ in range(12):
        names = [n for n in names if rng.random() > 0.05]  # some removed
        names.insert(rng.randrange(len(names)), f"new{round_}")  # one added
        if round_ % 3 == 0:
            rng.shuffle(names)  # the order changed
        edited = rng.choice(names)
        source.edits[edited] = f'{{"job":"{edited}","edited":{round_}}}'.encode()
        source.fetched.clear()
        pieces = _document(source, names, head=f"[{round_}".encode())
        written = write_pieces(path, pieces, layout)
        assert written.changed
        # Only what the old file lacked was fetched: the new piece and the edited one.
        assert set(source.fetched) <= {f"new{round_}", edited}, source.fetched
        assert path.read_bytes() == _expected(_document(source, names, f"[{round_}".encode()))


def test_an_unchanged_document_leaves_the_file_alone(paths: tuple[Path, Path]) -> None:
    path, layout = paths
    names = [f"n{i}" for i in range(30)]
    write_pieces(path, _document(Source(), names), layout)
    before = os.stat(path)
    source = Source()
    assert not write_pieces(path, _document(source, names), layout).changed
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert source.fetched == []


@pytest.mark.parametrize("how", ["touched", "another boot", "no layout"])
def test_a_layout_that_does_not_describe_the_file_is_not_used(
    paths: tuple[Path, Path], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, layout = paths
    names = [f"n{i}" for i in range(30)]
    write_pieces(path, _document(Source(), names), layout)
    if how == "touched":
        path.write_bytes(path.read_bytes().replace(b"n1", b"N1"))
    elif how == "another boot":
        monkeypatch.setattr(splice, "boot_id", lambda: "another boot")
    else:
        layout.unlink()
    source = Source()
    source.edits["n3"] = b'{"edited":true}'
    write_pieces(path, _document(source, names), layout)
    assert len(source.fetched) == len(names)  # every piece fetched: written whole
    assert path.read_bytes() == _expected(_document(source, names))
