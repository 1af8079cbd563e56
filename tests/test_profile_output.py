"""A profile target's output across builds: reference numbers seeded from its own feed when
the publish state has none, and split files left over from a larger build removed (only the
target's own, as the build manifest records them)."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from syndicate.adapters import RenderContext
from syndicate.adapters.indeed_xml import IndeedXml, IndeedXmlOptions
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.config import Settings
from syndicate.model import Posting
from tests.cli import run
from tests.test_indeed_xml import for_indeed
from tests.test_profile_indeed import feed
from tests.test_profiles_format import project  # noqa: F401

OUT = "feeds"


def _build(folder: Path) -> None:
    """``syndicate build``; the fixture's postings break Adzuna's country rule (exit 1), and
    nothing else may fail."""
    built = run("build", cwd=folder)
    assert built.returncode in (0, 1), built.stderr
    assert "Traceback" not in built.stderr and "[mine]" not in built.stderr, built.stderr


def _numbers(feed: Path) -> dict[str, str]:
    """``<where/city>`` → ``@key`` of each item of the test profile's feed."""
    jobs = etree.parse(str(feed)).getroot().findall("jobs/job")
    return {job.findtext("where/city") or "": job.get("key") or "" for job in jobs}


def _posting(folder: Path, number: int, cities: list[str]) -> None:
    places = "".join(f"  - {{city: {city}, region: GE, country: CH}}\n" for city in cities)
    body = "A job description that is long enough for every board here. " * 6
    (folder / "postings" / f"job-{number}.md").write_text(
        f"---\nid: job-{number}\ntitle: Engineer {number}\ndate_posted: 2026-11-20\n"
        f"employment_type: FULL_TIME\nlocations:\n{places}"
        f"apply: {{url: 'https://acme.example/apply'}}\n---\n{body}\n"
    )


def _only_job_0(folder: Path) -> None:
    for name in ("job-1.md", "job-2.md"):  # refused by mine (its bid), opted out of mine
        (folder / "postings" / name).unlink()


def test_a_new_state_takes_the_numbers_the_feed_as_written_gives(
    project: Path,  # noqa: F811
) -> None:
    _only_job_0(project)
    _posting(project, 0, ["Geneva", "Zug"])
    _build(project)
    feed = project / OUT / "myboard.xml"
    assert _numbers(feed) == {"Geneva": "job-0", "Zug": "job-0-zug-ch"}
    # The feed as an earlier version wrote it: other numbers, which the board knows.
    text = feed.read_text().replace('key="job-0-zug-ch"', 'key="legacy-7"')
    feed.write_text(text.replace('key="job-0"', 'key="legacy-3"'))
    state = project / ".syndicate" / "state.db"
    state.unlink()  # a state that has no numbers of the scheme yet
    # The places swap order: the numbers follow the places, not their order.
    _posting(project, 0, ["Zug", "Geneva", "Lausanne"])
    _build(project)
    assert _numbers(feed) == {
        "Zug": "legacy-7",
        "Geneva": "legacy-3",
        "Lausanne": "job-0-lausanne-ch",
    }
    # Now the state remembers them: the feed is no longer read.
    feed.unlink()
    _build(project)
    assert _numbers(feed)["Zug"] == "legacy-7"


def test_split_files_a_smaller_build_no_longer_needs_are_removed(
    project: Path,  # noqa: F811
) -> None:
    _only_job_0(project)
    for number in range(3, 7):
        _posting(project, number, ["Geneva", "Zug"])
    out = project / OUT
    _build(project)
    parts = sorted(p.name for p in out.glob("myboard*.xml"))
    assert parts == ["myboard-2.xml", "myboard-3.xml", "myboard-4.xml", "myboard-5.xml",
                     "myboard.xml"]  # fmt: skip
    (out / "myboard-9.xml").write_text("<not-ours/>")  # a file the target never wrote
    for number in range(3, 7):  # closed (files deleted at once would meet the mass-close guard)
        posting = project / "postings" / f"job-{number}.md"
        posting.write_text(posting.read_text().replace("\ntitle:", "\nstatus: closed\ntitle:", 1))
    _build(project)
    assert sorted(p.name for p in out.glob("myboard*.xml")) == ["myboard-9.xml", "myboard.xml"]
    assert len(etree.parse(str(out / "myboard.xml")).getroot().findall("jobs/job")) == 2
    assert (out / "adzuna.xml").is_file()  # another target's file stays


def test_boards_at_80_columns_prints_every_spec_url_whole_on_one_line(
    project: Path,  # noqa: F811
) -> None:
    listed = run("boards", "--format", "json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["schema"] == "syndicate.boards/1"
    specs = {board["name"]: board["spec"] for board in document["boards"]}
    assert specs["myboard"] == "https://myboard.example/feed-spec"
    assert specs["indeed_xml"] == "https://docs.indeed.com/indeed-apply/xml-feed"
    text = run("boards", cwd=project, env={"COLUMNS": "80"})
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert max(len(line) for line in lines if "│" in line) <= 80  # the table fits
    for name, url in specs.items():
        assert url and any(line.split() == [name, url] for line in lines), (name, url)


def test_the_indeed_profile_reads_the_same_numbers_from_a_feed_as_the_coded_target(
    tmp_path: Path, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    coded = IndeedXml("indeed", IndeedXmlOptions(type="indeed_xml"), settings)
    profile = ProfileTarget("indeed", ProfileOptions(type="profile", profile="indeed"), settings)
    postings = for_indeed(examples)
    # A feed with numbers no rule gives: the state of a board that has known them for long.
    text = feed(coded, postings, context).decode()
    for posting in postings:
        number = f"<referencenumber><![CDATA[{posting.id}"
        text = text.replace(number + "]]>", number + "-old]]>")  # each first place
    (tmp_path / "indeed.xml").write_text(text)
    by_coded = coded.reference_seed(tmp_path)
    by_profile = profile.reference_seed(tmp_path)
    assert any(v.endswith("-old") for seeded in by_coded.values() for v in seeded.values())
    for posting in postings:
        seeded = by_profile.get(posting.id, {})
        assert profile.seed_keys(posting, seeded) == by_coded[posting.id], posting.id
