"""The profile format: its schema, located errors, the engine's options, and a project with a
profile of its own (no Python), driven through the ``syndicate`` command."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from syndicate.adapters import RenderContext
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget, finding, loader
from syndicate.adapters.profiles.schema import SCHEMA_FILE, schema_text
from syndicate.config import Settings, settings_from_data
from syndicate.errors import ConfigError, Severity
from syndicate.model import Posting
from tests.cli import run

MYBOARD = """\
name: myboard
summary: My Board feed
spec: https://myboard.example/feed-spec
unverified: ["everything: it is a test board"]
document:
  root: feed/jobs
  attributes: {version: "2"}
  header:
    - {element: generated, path: build_time, type: date, format: utc}
  item: job
  per: location
defaults: {text: escaped, empty: omit}
limits: {items_per_file: 3}
references: {scheme: myboard}
url_params: {ref: myboard}
overrides:
  bid: {type: number, minimum: 0, maximum: 5}
fields:
  - {element: "@key", path: reference}
  - {element: title, path: posting.title, rules: {required: true, max_length: 30}}
  - {element: when, path: posting.date_posted, type: date, format: "%d.%m.%Y"}
  - {element: where/city, path: location.city, rules: {required: true}}
  - {element: where/country, expr: "location.country | country_name", source: location.country}
  - element: kind
    path: posting.employment_type
    map: {FULL_TIME: full}
    on_missing: error
  - {element: link, path: url}
  - {element: blurb, path: description_html, type: html, text: cdata,
     html: {tags: [p, b], rename: {strong: b}}, rules: {min_length: 20}}
  - {element: pay, expr: "posting.salary | money_range(symbols={'EUR': '€'})", source: salary}
  - {element: bid, path: board.bid, type: number, decimals: 2, when: "board.bid is defined"}
  - {element: state, expr: "location.region or ''", empty: keep}
"""


def posting(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "job-1",
        "title": "Engineer",
        "date_posted": "2026-11-20",
        "employment_type": "FULL_TIME",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
        "apply": {"url": "https://example.com/apply"},
        "description": "A **strong** job description, long enough.\n\n1. one",
    }
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


@pytest.fixture
def project(tmp_path: Path, settings: Settings) -> Path:
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "myboard.yaml").write_text(MYBOARD)
    (tmp_path / "postings").mkdir()
    config = textwrap.dedent(
        """\
        organization: {name: ACME, url: https://acme.example, email: jobs@acme.example}
        site: {base_url: https://jobs.acme.example}
        timezone: Europe/Zurich
        targets:
          mine: {type: profile, profile: myboard, tagging: true}
          adzuna: {type: profile, profile: adzuna}
        """
    )
    (tmp_path / "config.yaml").write_text(config)
    body = "A job description that is long enough for every board here. " * 6
    for number, extra in enumerate(["", "boards: {mine: {bid: 9}}\n", "boards: {mine: false}\n"]):
        (tmp_path / "postings" / f"job-{number}.md").write_text(
            f"---\nid: job-{number}\ntitle: Engineer {number}\ndate_posted: 2026-11-20\n"
            "employment_type: FULL_TIME\n"
            "locations:\n  - {city: Geneva, region: GE, country: CH}\n"
            "  - {city: Zug, country: CH}\n"
            f"apply: {{url: 'https://acme.example/apply'}}\n{extra}---\n{body}\n"
        )
    return tmp_path


def project_settings(project: Path) -> Settings:
    return settings_from_data(
        {
            "organization": {"name": "ACME", "url": "https://acme.example"},
            "site": {"base_url": "https://jobs.acme.example"},
            "timezone": "Europe/Zurich",
            "targets": {"mine": {"type": "profile", "profile": "myboard"}},
        },
        root=project,
    )


# ---------------------------------------------------------------------------------- format


def test_shipped_schema_is_the_one_the_models_give() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "run .venv/bin/python -m syndicate.adapters.profiles.schema"
    )


def test_every_builtin_profile_passes_the_schema() -> None:
    for found in finding.available(None).values():
        assert loader.problems_in(loader.read(found.path), found.path) == []


def test_a_broken_profile_gives_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "name: broken\nsummary: B\nspec: https://b.example\n"
        "document: {root: jobs, item: job, per: everywhere}\n"
        "fields:\n"
        "  - {element: title, path: posting.title, tittle: x}\n"
        "  - {element: id, expr: 'posting.id +'}\n"
    )
    with pytest.raises(ConfigError) as raised:
        loader.load(path)
    shown = [str(problem) for problem in raised.value.problems]
    assert any(s.startswith(f"{path}:4: document.per: ") for s in shown), shown
    assert any(s.startswith(f"{path}:6: fields[0]: ") and "tittle" in s for s in shown), shown


def test_an_expression_that_does_not_compile_is_located(tmp_path: Path) -> None:
    path = tmp_path / "expr.yaml"
    path.write_text(
        "name: expr\nsummary: E\nspec: https://e.example\ndocument: {root: jobs, item: job}\n"
        "fields:\n  - {element: title, path: posting.title}\n"
        "  - element: id\n    expr: 'posting.id +'\n"
    )
    with pytest.raises(ConfigError) as raised:
        loader.load(path)
    [problem] = raised.value.problems
    assert (problem.line, problem.field) == (8, "fields[1].expr")
    assert "does not compile" in problem.message


def test_html_is_never_written_escaped(tmp_path: Path) -> None:
    path = tmp_path / "escaped.yaml"
    path.write_text(
        "name: escaped\nsummary: E\nspec: https://e.example\ndocument: {root: jobs, item: job}\n"
        "fields:\n  - {element: d, path: description_html, type: html, text: escaped}\n"
    )
    with pytest.raises(ConfigError) as raised:
        loader.load(path)
    assert "entities" in raised.value.problems[0].message
    assert raised.value.problems[0].line == 6


def test_the_sandbox_refuses_python_internals(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "evil.yaml").write_text(
        "name: evil\nsummary: E\nspec: https://e.example\ndocument: {root: jobs, item: job}\n"
        'fields:\n  - {element: x, expr: "posting.__class__.__mro__"}\n'
        "  - {element: y, expr: \"''.__class__.__subclasses__()\"}\n"
    )
    target = ProfileTarget(
        "evil",
        ProfileOptions(type="profile", profile="evil"),
        settings.model_copy(update={"root": tmp_path}),
    )
    context = RenderContext(settings=settings, build_time=settings_time())
    with pytest.raises(Exception, match=r"unsafe|not safely|access"):
        target.preview(posting(settings), context)


def settings_time() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 23, 9, tzinfo=UTC)


# ---------------------------------------------------------------------------------- engine


def test_engine_options_on_a_project_profile(project: Path) -> None:
    settings = project_settings(project)
    target = ProfileTarget("mine", settings.targets["mine"], settings)
    context = RenderContext(settings=settings, build_time=settings_time())
    job = posting(
        settings,
        salary={"min": 50000, "max": 60000, "currency": "EUR", "period": "YEAR"},
        boards={"mine": {"bid": 1.5}},
        locations=[{"city": "Geneva", "country": "CH"}, {"city": "A & <B>", "country": "FR"}],
    )
    [data] = [b"".join(document.chunks) for document in target.render([job], context)]
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "feed" and root.get("version") == "2"
    assert root.findtext("generated") == "2026-11-23T09:00:00Z"
    jobs = root.findall("jobs/job")
    assert [j.get("key") for j in jobs] == ["job-1", "job-1-a-b-fr"]
    assert jobs[0].findtext("when") == "20.11.2026"
    assert jobs[0].findtext("where/country") == "Switzerland"
    assert jobs[1].findtext("where/city") == "A & <B>"
    assert b"A &amp; &lt;B&gt;" in data  # escaped text, as the profile says
    assert jobs[0].findtext("kind") == "full"
    assert jobs[0].findtext("pay") == "€50,000 - €60,000 per year"
    assert jobs[0].findtext("bid") == "1.50"
    # An empty value of a field with empty: keep is an empty element; omitted ones are absent.
    assert jobs[0].find("state") is not None and jobs[0].findtext("state") == ""
    assert jobs[0].findtext("link") == "https://jobs.acme.example/jobs/job-1.html"
    blurb = jobs[0].findtext("blurb")
    assert blurb is not None and "<b>strong</b>" in blurb and "<ol>" not in blurb


def test_rules_of_a_project_profile_are_tagged_and_located(project: Path) -> None:
    settings = project_settings(project)
    target = ProfileTarget("mine", settings.targets["mine"], settings)
    job = posting(
        settings,
        title="A title that is far too long for my board",
        employment_type=["FULL_TIME", "INTERN"],
        locations=[{"region": "GE", "country": "CH"}],
        boards={"mine": {"bid": 9, "colour": "red"}},
        description="Short.",
    )
    found = {(p.field, p.severity): p.message for p in target.rules(job)}
    assert "at most 30" in found[("title", Severity.ERROR)]
    assert "is required" in found[("locations[0].city", Severity.ERROR)]
    assert "INTERN" in found[("employment_type", Severity.ERROR)]
    assert "at most 5" in found[("boards.mine.bid", Severity.ERROR)]
    assert "not an option" in found[("boards.mine.colour", Severity.ERROR)]
    assert "at least 20" in found[("description", Severity.ERROR)]
    assert all(p.target == "mine" for p in target.rules(job))


def test_items_per_file_splits_the_feed_without_splitting_a_posting(project: Path) -> None:
    settings = project_settings(project)
    target = ProfileTarget("mine", settings.targets["mine"], settings)
    context = RenderContext(settings=settings, build_time=settings_time())
    two = [{"city": "Geneva", "country": "CH"}, {"city": "Bern", "country": "CH"}]
    jobs = [posting(settings, id=f"job-{n}", locations=two) for n in range(3)]
    files = [(d.path, b"".join(d.chunks)) for d in target.render(jobs, context)]
    assert [name for name, _ in files] == ["myboard.xml", "myboard-2.xml", "myboard-3.xml"]
    for _, data in files:
        assert len(etree.fromstring(data).findall("jobs/job")) == 2


def test_gzip_gives_the_same_feed_compressed(settings: Settings, context: RenderContext) -> None:
    plain = ProfileTarget("adzuna", ProfileOptions(type="profile", profile="adzuna"), settings)
    zipped = ProfileTarget(
        "adzuna", ProfileOptions(type="profile", profile="adzuna", gzip=True), settings
    )
    job = posting(settings, locations=[{"city": "London", "country": "GB"}])
    [document] = list(zipped.render([job], context))
    assert document.path == "adzuna.xml.gz"
    data = b"".join(document.chunks)
    [again] = list(zipped.render([job], context))
    assert data == b"".join(again.chunks)  # deterministic: no time in the gzip header
    [flat] = list(plain.render([job], context))
    assert gzip.decompress(data) == b"".join(flat.chunks)


def test_tagging_changes_only_the_target_that_turns_it_on(settings: Settings) -> None:
    context = RenderContext(settings=settings, build_time=settings_time())
    job = posting(settings)
    off = ProfileTarget("t", ProfileOptions(type="profile", profile="talent"), settings)
    on = ProfileTarget(
        "t", ProfileOptions(type="profile", profile="talent", tagging=True), settings
    )
    assert "source=talent" not in off.preview(job, context)
    assert "?source=talent" in on.preview(job, context)
    assert off.fingerprint() != on.fingerprint()


# ----------------------------------------------------------------------- a project, by CLI


def test_project_profile_validates_builds_and_previews(project: Path) -> None:
    validated = run("validate", cwd=project)
    assert validated.returncode == 1, validated.stderr
    # job-1's bid is above the profile's maximum: an error at its boards line, tagged.
    assert "postings/job-1.md:10: boards.mine.bid: must be at most 5 [mine]" in validated.stderr
    assert "[adzuna]" in validated.stderr  # CH is no Adzuna country
    built = run("build", cwd=project)
    assert built.returncode == 1
    feed = etree.fromstring((project / "feeds" / "myboard.xml").read_bytes())
    keys = [job.get("key") for job in feed.iter("job")]
    # job-1 is refused (its bid), job-2 opts out: only job-0's two places, split at 3 a file.
    assert keys == ["job-0", "job-0-zug-ch"]
    assert "?ref=myboard" in (feed.findtext("jobs/job/link") or "")
    shown = run("preview", "job-0", "--target", "mine", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert '<job key="job-0">' in shown.stdout


def test_a_project_profile_replaces_a_builtin_one_with_a_notice(project: Path) -> None:
    text = (finding.builtin_folder() / "adzuna.yaml").read_text()
    (project / "adapters" / "adzuna.yaml").write_text(
        text.replace("summary: Adzuna XML feed", "summary: Our own Adzuna")
    )
    listed = run("boards", cwd=project)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if " adzuna " in line)
    assert "replaces the built-in profile" in row
    assert "myboard" in listed.stdout and "indeed_xml" in listed.stdout
    validated = run("validate", cwd=project)
    assert "replaces the built-in profile adzuna" in validated.stderr


def test_boards_show_prints_fields_rules_and_unverified(project: Path) -> None:
    shown = run("boards", "show", "linkedin", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert "partnerJobId" in shown.stdout and "≤ 40 chars" in shown.stdout
    assert "unverified:" in shown.stdout


def test_boards_check_reports_file_line_key_message(project: Path) -> None:
    broken = project / "adapters" / "broken.yaml"
    broken.write_text("name: broken\nsummary: B\nspec: x\ndocument: {root: jobs}\nfields: []\n")
    checked = run("boards", "check", str(broken), str(project / "adapters" / "myboard.yaml"),
                  cwd=project)  # fmt: skip
    assert checked.returncode == 1
    assert f"{broken}:4: document: 'item' is a required property" in checked.stderr
    assert "ok " in checked.stdout
