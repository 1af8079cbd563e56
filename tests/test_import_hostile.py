"""Hostile and broken inputs fail cleanly, for their file only: XXE, billion laughs, a 50 MB
file, broken encodings, binary files, pathological nesting.  Every case is imported beside a
good file, which must still be written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from syndicate.importing import ImportOptions, import_sources
from syndicate.importing.sources import MAX_INPUT_BYTES

GOOD = "Good Job\nLocation: Geneva, Switzerland\n\nA paragraph that describes the good job.\n"
SECRET = "s3cret-marker-in-a-local-file"

XXE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE source [<!ENTITY xxe SYSTEM "file://{path}">]>
<source><job><title>&xxe;</title><referencenumber>x</referencenumber>
<description>&xxe;</description></job></source>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE source [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<source><job><title>&lol9;</title><description>&lol9;</description></job></source>
"""
YAML_BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
title: *h
location: *h
summary: *h
---
Body.
"""


def run_beside_good(tmp_path: Path, name: str, content: bytes | str, **options: object):
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "good.txt").write_text(GOOD, encoding="utf-8")
    bad = sources / name
    if isinstance(content, str):
        bad.write_text(content, encoding="utf-8")
    else:
        bad.write_bytes(content)
    started = time.monotonic()
    report = import_sources([sources], ImportOptions(out=tmp_path / "out", **options))
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s"
    good = [s for s in report.sources if s.path.name == "good.txt"]
    assert good and good[0].postings and good[0].postings[0].action == "written"
    [result] = [s for s in report.sources if s.path.name == name]
    return result


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def everything_written(tmp_path: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.md"))


def test_xxe_is_refused(tmp_path: Path, secret_file: Path) -> None:
    result = run_beside_good(tmp_path, "feed.xml", XXE_FEED.format(path=secret_file))
    assert result.problem is not None
    assert "DOCTYPE" in result.problem.message
    assert str(result.problem).startswith(f"{result.path}:1: ")
    assert not result.postings
    assert SECRET not in everything_written(tmp_path)


def test_xxe_is_refused_when_the_format_is_forced(tmp_path: Path, secret_file: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_text(XXE_FEED.format(path=secret_file), encoding="utf-8")
    report = import_sources([feed], ImportOptions(out=tmp_path / "out", format="indeed-xml"))
    [source] = report.failed
    assert source.problem is not None and "DOCTYPE" in source.problem.message
    assert not (tmp_path / "out").exists()


def test_xxe_in_html_is_inert(tmp_path: Path, secret_file: Path) -> None:
    page = (
        f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
        "<html><body><h1>Title</h1><p>Hello &xxe; world, a job in Geneva.</p></body></html>\n"
    )
    result = run_beside_good(tmp_path, "page.html", page)
    assert SECRET not in everything_written(tmp_path)
    # The HTML parser knows no entity declarations: the reference stays as text.
    assert result.problem is None
    assert "Hello \\&xxe; world" in result.postings[0].fields["description"]


def test_billion_laughs_fails_cleanly(tmp_path: Path) -> None:
    result = run_beside_good(tmp_path, "feed.xml", BILLION_LAUGHS)
    assert result.problem is not None
    assert "DOCTYPE" in result.problem.message or "XML" in result.problem.message
    assert "lollollol" not in everything_written(tmp_path)


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    result = run_beside_good(tmp_path, "page.md", YAML_BOMB)
    assert result.problem is not None
    assert "aliases expand to more than 10000 values" in result.problem.message
    assert str(result.problem).startswith(f"{result.path}:2: ")
    assert not result.postings


def test_modest_yaml_aliases_still_import(tmp_path: Path) -> None:
    page = "---\nplace: &p Geneva, Switzerland\ntitle: Analyst\nlocation: *p\n---\nText.\n"
    result = run_beside_good(tmp_path, "page.md", page)
    assert result.problem is None
    assert result.postings[0].fields["locations"] == [{"city": "Geneva", "country": "CH"}]


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "good.txt").write_text(GOOD, encoding="utf-8")
    with (sources / "huge.xml").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # a sparse file: quick to make, 50 MB to read
    started = time.monotonic()
    report = import_sources([sources], ImportOptions(out=tmp_path / "out"))
    assert time.monotonic() - started < 5
    [failed] = report.failed
    assert failed.path.name == "huge.xml"
    assert failed.problem is not None
    assert failed.problem.message.startswith("is 50.0 MB; import reads files of at most 10 MB")
    assert report.summary()["written"] == 1


def test_the_size_limit_is_a_setting(tmp_path: Path) -> None:
    result = run_beside_good(tmp_path, "posting.txt", "Title\n" + "x" * 5000, max_bytes=1000)
    assert result.problem is not None and "at most" in result.problem.message
    assert MAX_INPUT_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("latin1.txt", "Ingénieur\nÀ Genève\n".encode("latin-1"), "byte 0xe9"),
        ("truncated.txt", "Title\nOK line\ncaf\u00e9".encode()[:-1], "line 3"),
        ("binary.txt", b"PK\x03\x04\x00\x00binary\x00", "NUL"),
        (
            "bad-charset.html",
            b'<html><head><meta charset="klingon-8"></head><body><h1>T</h1></body></html>',
            "unknown charset",
        ),
        (
            "feed.xml",
            b'<?xml version="1.0" encoding="utf-8"?>\n<source><job><title>Caf\xe9</title>'
            b"</job></source>",
            "XML",
        ),
        ("broken.json", b'{"jobs": [{"title": "x",', "not valid JSON"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("shapeless.json", b'{"hello": "world"}', "no known shape"),
        ("other.xml", b'<?xml version="1.0"?><rss><channel/></rss>', "not an Indeed feed"),
        ("empty.txt", b"  \n\n", "is empty"),
    ],
)
def test_broken_files_fail_cleanly(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    result = run_beside_good(tmp_path, name, content)
    assert result.problem is not None, name
    text = str(result.problem)
    if expected == "line 3":
        assert text.startswith(f"{result.path}:3: ")
    else:
        assert expected in text, text
    assert text.startswith(str(result.path))


def test_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    result = run_beside_good(
        tmp_path, "utf16.txt", "Ingénieur\n\nUn poste à Genève.\n".encode("utf-16")
    )
    assert result.problem is None
    assert result.postings[0].fields["title"] == "Ingénieur"


def test_html_declaring_its_charset_is_read(tmp_path: Path) -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><h1>Ingénieur</h1><p>Genève</p>'
    result = run_beside_good(tmp_path, "page.html", page.encode("latin-1"))
    assert result.problem is None
    assert result.postings[0].fields["title"] == "Ingénieur"


def test_deeply_nested_html_is_inert(tmp_path: Path) -> None:
    page = "<h1>Deep</h1>" + "<div>" * 20_000 + "deep text" + "</div>" * 20_000
    result = run_beside_good(tmp_path, "deep.html", page)
    # libxml2 stops nesting at its depth limit; the rest is dropped, nothing recurses away.
    assert result.problem is None
    assert result.postings[0].fields["title"] == "Deep"


def test_script_and_event_handlers_never_reach_a_posting(tmp_path: Path) -> None:
    page = (
        '<h1>Title</h1><p onclick="alert(1)">Text <a href="javascript:alert(1)">link</a>'
        "<script>alert('x')</script><img src=x onerror=alert(1)></p>"
    )
    result = run_beside_good(tmp_path, "page.html", page)
    description = result.postings[0].fields["description"]
    assert description == "Text link\n"
    for bad in ("javascript", "alert", "onerror", "<script"):
        assert bad not in description


def test_a_missing_source_is_an_error_for_it_only(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    report = import_sources([tmp_path / "nope.txt", good], ImportOptions(out=tmp_path / "out"))
    [missing] = report.failed
    assert str(missing.problem).endswith("nope.txt: does not exist")
    assert report.summary()["written"] == 1
