"""`syndicate build`, `validate` and `preview` through the real console script in a subprocess."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from lxml import etree

from syndicate.adapters import TargetKind, target_class
from syndicate.config import load_settings
from tests.cli import run

ROOT = Path(__file__).resolve().parent.parent
IDS = (
    "8x8-inside-sales-manager",
    "canonical-channel-sales-manager",
    "canonical-sales-director-iot-devices",
    "sixsq-sales-director",
    "sixsq-sales-manager",
)
# The Canonical examples are remote jobs open worldwide; they opt out of Indeed's feed.
ON_INDEED = tuple(i for i in IDS if not i.startswith("canonical-"))
# The repository config's enabled pull targets, by the kind their registered type declares.
PULL_TARGETS = tuple(
    name
    for name, options in load_settings(ROOT / "config.yaml").targets.items()
    if target_class(options.type).kind is TargetKind.PULL and options.enabled
)
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# 12 characters of HTML once rendered: every board but LinkedIn (100 at least) takes it.
SHORT_POSTING = """\
---
id: zz-short
title: Short Engineer
date_posted: 2026-11-20
locations:
  - {city: Bern, region: BE, postal_code: "3011", country: CH}
apply: {url: "https://example.com/apply", email: jobs@example.com}
---
Short text.
"""
SCRIPT_ONLY_POSTING = """\
---
id: zz-script
title: Script Only
date_posted: 2026-11-20
locations:
  - {city: Bern, region: BE, postal_code: "3011", country: CH}
apply: {url: "https://example.com/apply", email: jobs@example.com}
---
<script>alert(1)</script>
"""
NOWHERE_POSTING = """\
---
id: zz-nowhere
title: Remote Anywhere
date_posted: 2026-11-20
remote: remote
apply: {url: "https://example.com/apply", email: jobs@example.com}
---
A remote job that says nothing about where applicants may live, long enough for any board.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's config.yaml and example postings."""
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    return tmp_path


def strict_xml(path: Path) -> etree._Element:
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(path.read_bytes(), parser)


def parse_html(path: Path) -> str:
    text = path.read_text("utf-8")
    parser = HTMLParser()
    parser.feed(text)
    parser.close()
    assert text.rstrip().endswith("</html>"), path
    return text


def table_row(stdout: str, target: str) -> list[str]:
    """The cells of ``target``'s row in the build summary table."""
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│|]", line)]
        if len(cells) > 2 and cells[1] == target:
            return cells[1:-1]
    raise AssertionError(f"no row for {target} in:\n{stdout}")


def tagged(stderr: str, file: str, field: str, target: str) -> list[str]:
    """The problem lines ``file:line: field: message [target]`` of stderr."""
    pattern = re.compile(rf"^postings/{re.escape(file)}:\d+: {re.escape(field)}: .+ \[{target}\]$")
    return [line for line in stderr.splitlines() if pattern.match(line)]


# ----------------------------------------------------------------------------------- build


def test_build_examples_writes_every_file_and_exits_0(project: Path) -> None:
    result = run("build", cwd=project)
    assert result.returncode == 0, result.stderr
    feeds = project / "feeds"
    indeed = strict_xml(feeds / "indeed.xml")
    assert {job.findtext("requisitionid") for job in indeed.iter("job")} == set(ON_INDEED)
    graph = json.loads((feeds / "jobs.jsonld").read_bytes())["@graph"]
    assert sorted(node["identifier"]["value"] for node in graph) == sorted(IDS)
    elements = json.loads((feeds / "linkedin.json").read_bytes())["elements"]
    assert sorted(element["externalJobPostingId"] for element in elements) == sorted(IDS)
    careers = feeds / "careers"
    index = parse_html(careers / "index.html")
    for posting_id in IDS:
        assert f"jobs/{posting_id}.html" in index
        assert "application/ld+json" in parse_html(careers / "jobs" / f"{posting_id}.html")
    locations = [loc.text for loc in strict_xml(careers / "sitemap.xml").iter(f"{SITEMAP}loc")]
    assert all(any(loc.endswith(f"/{i}.html") for loc in locations) for i in IDS), locations
    assert len(strict_xml(careers / "feed.atom").findall(f"{ATOM}entry")) == 5
    assert (careers / "style.css").stat().st_size > 0
    for target in PULL_TARGETS:
        # target, included, left out, files, changed
        row = table_row(result.stdout, target)
        included = str(len(ON_INDEED if target == "indeed" else IDS))
        assert row[:3] == [target, included, "0"] and row[4] == "1", result.stdout
    assert table_row(result.stdout, "indeed")[5] == "2 opted out (boards: {indeed: false})"
    assert table_row(result.stdout, "careers")[3] == "10"  # index, 5 jobs, gone, sitemap, feed, css
    # Built again with nothing changed: exit 0, nothing rewritten.
    again = run("build", cwd=project)
    assert again.returncode == 0, again.stderr
    assert {table_row(again.stdout, target)[4] for target in PULL_TARGETS} == {"0"}


def test_build_leaves_a_rule_breaking_posting_out_of_that_target_and_exits_1(
    project: Path,
) -> None:
    (project / "postings" / "short.md").write_text(SHORT_POSTING)
    result = run("build", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = tagged(result.stderr, "short.md", "description", "linkedin_feed")
    assert "100 to 25,000" in line
    # Left out of LinkedIn's feed only; no other target has anything against it.
    short_lines = [line for line in result.stderr.splitlines() if "short.md" in line]
    assert short_lines == [line], short_lines
    feeds = project / "feeds"
    elements = json.loads((feeds / "linkedin.json").read_bytes())["elements"]
    assert "zz-short" not in {element["externalJobPostingId"] for element in elements}
    indeed = strict_xml(feeds / "indeed.xml")
    assert "zz-short" in {job.findtext("requisitionid") for job in indeed.iter("job")}
    assert (feeds / "careers" / "jobs" / "zz-short.html").is_file()
    assert b'"zz-short"' in (feeds / "jobs.jsonld").read_bytes()
    assert table_row(result.stdout, "linkedin_feed")[1:3] == ["5", "1"]
    assert table_row(result.stdout, "indeed")[1:3] == ["4", "0"]  # 2 examples opt out


def test_build_of_an_unknown_target_is_a_usage_error(project: Path) -> None:
    result = run("build", "--target", "nope", cwd=project)
    assert result.returncode == 2
    assert "'nope' is not a configured target; pull targets: indeed, jsonld" in result.stderr
    assert not (project / "feeds").exists()


# -------------------------------------------------------------------------------- validate


def test_validate_tags_target_rule_problems(project: Path) -> None:
    (project / "postings" / "script.md").write_text(SCRIPT_ONLY_POSTING)
    (project / "postings" / "nowhere.md").write_text(NOWHERE_POSTING)
    result = run("validate", cwd=project)
    assert result.returncode == 1
    # A description that is only a script is empty for every target.
    for target in (*PULL_TARGETS, "linkedin"):
        assert tagged(result.stderr, "script.md", "description", target), (target, result.stderr)
    for target in ("indeed", "jsonld"):
        assert tagged(result.stderr, "nowhere.md", "applicant_locations", target), target
    # LinkedIn locates it at the headquarters (organization.location); the careers page needs
    # no location.
    for target in ("careers", "linkedin_feed"):
        assert not tagged(result.stderr, "nowhere.md", "applicant_locations", target), target
    assert "7 posting file(s): 5 valid, 2 invalid" in result.stdout


def test_validate_locates_description_problems_at_the_body(project: Path) -> None:
    (project / "postings" / "script.md").write_text(SCRIPT_ONLY_POSTING)
    result = run("validate", cwd=project)
    body_line = SCRIPT_ONLY_POSTING.splitlines().index("<script>alert(1)</script>") + 1
    [line] = tagged(result.stderr, "script.md", "description", "careers")
    assert line.startswith(f"postings/script.md:{body_line}: "), line


# --------------------------------------------------------------------------------- preview


def test_preview_prints_one_posting_as_well_formed_xml(project: Path) -> None:
    result = run("preview", "sixsq-sales-director", "--target", "indeed", cwd=project)
    assert result.returncode == 0, result.stderr
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    wrapped = etree.fromstring(f"<source>{result.stdout}</source>".encode(), parser)
    jobs = wrapped.findall("job")
    assert [job.findtext("city") for job in jobs] == ["Paris", "Brussels", "Geneva"]
    assert {job.findtext("requisitionid") for job in jobs} == {"sixsq-sales-director"}
    assert len(wrapped) == 3  # nothing but the posting's jobs
    for other in IDS:
        if other != "sixsq-sales-director":
            assert other not in result.stdout


def test_preview_for_linkedin_prints_the_json_element(project: Path) -> None:
    result = run("preview", "canonical-channel-sales-manager", "-t", "linkedin_feed", cwd=project)
    assert result.returncode == 0, result.stderr
    element = json.loads(result.stdout)
    assert element["externalJobPostingId"] == "canonical-channel-sales-manager"
    assert element["workplaceTypes"] == ["Remote"]


def test_preview_of_an_unknown_posting_or_target_fails_clearly(project: Path) -> None:
    unknown_id = run("preview", "nope", "--target", "indeed", cwd=project)
    assert unknown_id.returncode == 2
    assert "no posting with id 'nope'" in unknown_id.stderr
    assert "sixsq-sales-manager" in unknown_id.stderr  # the ids that do exist
    assert unknown_id.stdout == ""
    unknown_target = run("preview", "sixsq-sales-manager", "--target", "nope", cwd=project)
    assert unknown_target.returncode == 2
    assert "'nope' is not a configured target; pull targets: indeed" in unknown_target.stderr
    assert unknown_target.stdout == ""
