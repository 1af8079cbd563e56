"""The Indeed profile against the coded Indeed target: the same feed, byte for byte.

On the examples, on a hostile posting, on remote and hybrid jobs, and in a real build with the
publish state: both take their reference numbers from the state's ``indeed`` scheme.  Their
rules report the same fields with the same severities (the wording differs; docs/profiles.md
says where).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.adapters import RenderContext
from syndicate.adapters.indeed_xml import IndeedXml
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.build import build
from syndicate.config import Settings, load_settings
from syndicate.errors import Severity
from syndicate.loading import load_project
from syndicate.model import Posting
from syndicate.state import StateStore
from tests.test_indeed_xml import HOSTILE_DESCRIPTION, HOSTILE_TEXT, for_indeed


def coded(settings: Settings) -> IndeedXml:
    return IndeedXml("indeed", settings.targets["indeed"], settings)


def profiled(settings: Settings) -> ProfileTarget:
    return ProfileTarget("indeed", ProfileOptions(type="profile", profile="indeed"), settings)


def feed(target: Any, postings: list[Posting], context: RenderContext) -> bytes:
    return b"".join(
        chunk for document in target.render(postings, context) for chunk in document.chunks
    )


def make(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "job",
        "title": "Engineer",
        "date_posted": "2026-11-20T09:30:00",
        "valid_through": "2027-01-31",
        "employment_type": ["FULL_TIME", "PART_TIME", "OTHER"],
        "category": "Engineering",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH", "postal_code": "1202"}],
        "salary": {"min": 10, "max": 20.5, "currency": "USD", "period": "HOUR"},
        "apply": {"url": "https://example.com/apply", "email": "apply@example.com"},
        "description": "A job description that is long enough to be published. " * 3,
    }
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


VARIANTS: dict[str, dict[str, Any]] = {
    "onsite": {},
    "remote": {"remote": "remote", "locations": [], "applicant_locations": ["US", "CA", "US"]},
    "hybrid": {"remote": "hybrid", "locations": [
        {"city": "Paris", "region": "IDF", "country": "FR"},
        {"city": "Paris", "region": "IDF", "country": "FR"},
        {"city": "Zug", "region": "ZG", "country": "CH", "street": "1 Main St", "ref": "zug-1"},
    ]},
    "hostile": {"title": f"T {HOSTILE_TEXT}", "company": f"C {HOSTILE_TEXT}",
                "description": HOSTILE_DESCRIPTION,
                "locations": [{"city": "Ville <&> ]]>", "region": "A&B", "country": "US"}]},
    "other company": {"company": "Other Co", "apply": {"url": "https://other.example/apply"}},
    "no salary, plain date": {"salary": None, "date_posted": "2026-11-20", "valid_through": None},
}  # fmt: skip


def test_examples_feed_is_byte_for_byte_the_coded_one(
    settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    postings = for_indeed(examples)
    assert feed(profiled(settings), postings, context) == feed(coded(settings), postings, context)


def test_examples_previews_are_the_coded_ones(
    settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    for posting in examples:
        assert profiled(settings).preview(posting, context) == coded(settings).preview(
            posting, context
        ), posting.id


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_kind_of_job_is_written_alike(
    variant: str, settings: Settings, context: RenderContext
) -> None:
    posting = make(settings, **VARIANTS[variant])
    assert feed(profiled(settings), [posting], context) == feed(coded(settings), [posting], context)


@pytest.mark.parametrize("variant", VARIANTS)
def test_rules_report_the_same_fields(variant: str, settings: Settings) -> None:
    posting = make(settings, **VARIANTS[variant])
    missing = make(
        settings,
        id="bare",
        apply={"url": "https://example.com/a"},
        company="Other",
        locations=[{"country": "CH"}],
    )
    for each in (posting, missing):
        ours = {(p.field, p.severity) for p in profiled(settings).rules(each)}
        theirs = {(p.field, p.severity) for p in coded(settings).rules(each)}
        assert ours == theirs, each.id


def test_remembered_reference_numbers_are_shared(
    settings: Settings, context: RenderContext
) -> None:
    posting = make(settings, locations=VARIANTS["hybrid"]["locations"])
    known = RenderContext(
        settings=settings, build_time=context.build_time, references={"job": ["a1", "b2", "zug-1"]}
    )
    written = feed(profiled(settings), [posting], known)
    assert written == feed(coded(settings), [posting], known)
    assert b"<referencenumber><![CDATA[b2]]></referencenumber>" in written
    assert profiled(settings).reference_scheme == coded(settings).reference_scheme == "indeed"
    assert profiled(settings).spots(posting) == coded(settings).spots(posting)


def test_a_build_with_the_state_writes_both_feeds_alike(tmp_path: Path, settings: Settings) -> None:
    root = Path(__file__).resolve().parent.parent
    config = (root / "config.yaml").read_text()
    config = config.replace(
        "  indeed:        {type: indeed_xml, file: indeed.xml}\n",
        "  indeed:        {type: indeed_xml, file: indeed.xml}\n"
        "  indeed_profile: {type: profile, profile: indeed, file: indeed-profile.xml}\n",
    ).replace("postings: postings ", f"postings: {root / 'postings'} ")
    (tmp_path / "config.yaml").write_text(config)
    ours = load_settings(tmp_path / "config.yaml")
    loaded = load_project(ours)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with StateStore(ours.state_url) as store:
        report = build(ours, loaded, now=now, store=store)
        numbers = store.references.all("indeed")
    assert {t.name: t.included for t in report.targets}["indeed_profile"] == 3
    coded_feed = (tmp_path / "feeds" / "indeed.xml").read_bytes()
    assert (tmp_path / "feeds" / "indeed-profile.xml").read_bytes() == coded_feed
    assert set(numbers) == {
        "8x8-inside-sales-manager",
        "sixsq-sales-director",
        "sixsq-sales-manager",
    }
    # The Canonical jobs opt out of the target named indeed only: on the other, their missing
    # email is the error it is on Indeed.
    errors = {(p.target, p.posting_id) for p in report.problems if p.severity is Severity.ERROR}
    assert errors == {
        ("indeed_profile", "canonical-channel-sales-manager"),
        ("indeed_profile", "canonical-sales-director-iot-devices"),
    }
