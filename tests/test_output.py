"""A folder's versions (`syndicate.output.FolderVersion`): a new version that holds exactly the
published files is not published, whatever mix of linked and written files made it, and any
difference (a file's bytes, a file more or less) is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.output import FolderVersion

PUBLISHED = {"a.html": b"<p>a</p>", "jobs/b.html": b"<p>b</p>", "index.html": b"<ul></ul>"}


def _streamed(data: bytes) -> Iterator[bytes]:
    yield data  # a generator: never linked, always written and compared by its digest


def _publish(output: Path, files: dict[str, bytes], *, stream: set[str] = frozenset()) -> bool:
    version = FolderVersion(output, "careers")
    for name, data in files.items():
        version.write(name, _streamed(data) if name in stream else [data])
    return version.publish()


@pytest.fixture
def output(tmp_path: Path) -> Path:
    assert _publish(tmp_path, PUBLISHED)
    return tmp_path


@pytest.mark.parametrize("stream", [set(), {"index.html"}, set(PUBLISHED)])
def test_the_same_files_are_not_published_again(output: Path, stream: set[str]) -> None:
    before = (output / "careers").resolve()
    assert not _publish(output, PUBLISHED, stream=stream)
    assert (output / "careers").resolve() == before


@pytest.mark.parametrize(
    "files",
    [
        {**PUBLISHED, "jobs/b.html": b"<p>b, edited</p>"},
        {**PUBLISHED, "c.html": b"<p>c</p>"},
        {name: data for name, data in PUBLISHED.items() if name != "a.html"},
    ],
    ids=["edited", "added", "removed"],
)
@pytest.mark.parametrize("stream", [set(), set(PUBLISHED)])
def test_any_difference_is_published(
    output: Path, files: dict[str, bytes], stream: set[str]
) -> None:
    assert _publish(output, files, stream=stream)
    published = output / "careers"
    assert {str(p.relative_to(published)) for p in published.rglob("*") if p.is_file()} == set(
        files
    )
    assert all((published / name).read_bytes() == data for name, data in files.items())
