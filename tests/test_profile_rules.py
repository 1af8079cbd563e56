"""Each built-in profile's documented rules, one test per board (sources: docs/boards.md,
"Board profiles", and each profile's ``spec:``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from syndicate.adapters import RenderContext
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.model import Posting

BUILT = datetime(2026, 11, 23, 9, tzinfo=UTC)


def board(name: str, settings: Settings, **options: Any) -> ProfileTarget:
    return ProfileTarget(name, ProfileOptions(type="profile", profile=name, **options), settings)


def job(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "job", "title": "Engineer", "date_posted": "2026-03-05",
        "valid_through": "2026-12-19", "employment_type": "FULL_TIME", "company": "ACME",
        "locations": [{"city": "London", "region": "Greater London", "country": "GB",
                       "postal_code": "SW1A 2AA"}],
        "salary": {"min": 30000, "max": 33000, "currency": "GBP", "period": "YEAR"},
        "apply": {"url": "https://acme.example/apply", "email": "jobs@acme.example"},
        "description": "A job description that is long enough for every board we know. " * 6,
    }  # fmt: skip
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


def item(target: ProfileTarget, posting: Posting) -> etree._Element:
    context = RenderContext(settings=target.settings, build_time=BUILT)
    root = etree.fromstring(f"<r>{target.preview(posting, context)}</r>".encode())
    for element in root.iter():
        element.tag = etree.QName(element).localname
    return root[0]


def frame(target: ProfileTarget) -> etree._Element:
    context = RenderContext(settings=target.settings, build_time=BUILT)
    data = b"".join(c for d in target.render([], context) for c in d.chunks)
    return etree.fromstring(data)


def errors(target: ProfileTarget, posting: Posting) -> dict[str | None, str]:
    return {p.field: p.message for p in target.rules(posting) if p.severity is Severity.ERROR}


def test_ziprecruiter_rules(settings: Settings) -> None:
    zip_ = board("ziprecruiter", settings)
    written = item(zip_, job(settings))
    assert written.findtext("country") == "GB" and written.findtext("date") == "2026-03-05"
    assert "locations[0].region" in errors(
        zip_, job(settings, locations=[{"city": "X", "country": "US"}])
    )
    assert "company" in errors(zip_, job(settings, company="Confidential"))
    assert frame(zip_).findtext("lastBuildDate") == "Mon, 23 Nov 2026 09:00:00 GMT"


def test_talent_rules(settings: Settings) -> None:
    talent = board("talent", settings, tagging=True)
    written = item(talent, job(settings))
    assert written.findtext("dateposted") == "2026-03-04T23:00:00Z"  # midnight in Zurich
    assert written.findtext("country") == "United Kingdom"
    assert (written.findtext("url") or "").endswith("?source=talent")
    assert "description" in errors(talent, job(settings, description="Too short for Talent."))
    assert frame(talent).findtext("lastbuilddate") == "2026-11-23T09:00:00Z"


def test_adzuna_rules(settings: Settings) -> None:
    adzuna = board("adzuna", settings)
    written = item(adzuna, job(settings, boards={"adzuna": {"cpc": 0.2}}))
    assert written.findtext("country") == "UK" and written.findtext("cpc") == "0.20"
    assert written.findtext("salary_frequency") == "year"
    assert (written.findtext("contract_type"), written.findtext("contract_time")) == (
        "permanent", "full_time")  # fmt: skip
    weekly = job(settings, salary={"min": 500, "currency": "GBP", "period": "WEEK"})
    assert item(adzuna, weekly).find("salary_frequency") is None  # Adzuna has no week
    assert "locations[0].country" in errors(
        adzuna, job(settings, locations=[{"city": "Bern", "country": "CH"}])
    )
    assert "description" in errors(adzuna, job(settings, description="Only a few words."))


def test_jooble_rules(settings: Settings) -> None:
    jooble = board("jooble", settings)
    written = item(jooble, job(settings))
    assert written.get("id") == "job"
    assert (written.findtext("pubdate"), written.findtext("expire")) == ("05.03.2026", "19.12.2026")
    assert (
        b"<![CDATA[Engineer]]>"
        in jooble.preview(
            job(settings), RenderContext(settings=settings, build_time=BUILT)
        ).encode()
    )


def test_jooble_lists_only_jobs_posted_less_than_45_days_ago(settings: Settings) -> None:
    """ "published less than 45 days ago" (Jooble's spec, section 02): a warning at
    date_posted, the job kept in the feed; checked against today, so the day is part of the
    target's fingerprint (its cached checks are made again each day)."""
    jooble = board("jooble", settings)
    today = datetime.now(settings.timezone).date()

    def warnings(days: int) -> dict[str | None, str]:
        posting = job(settings, date_posted=(today - timedelta(days=days)).isoformat(),
                      valid_through=(today + timedelta(days=30)).isoformat())  # fmt: skip
        problems = jooble.rules(posting)
        assert not [p for p in problems if p.severity is Severity.ERROR]
        return {p.field: p.message for p in problems if p.severity is Severity.WARNING}

    assert "date_posted" not in warnings(44)
    assert (
        "Jooble indexes only jobs published or updated less than 45 days"
        in (warnings(45)["date_posted"])
    )
    assert today.isoformat() in jooble.fingerprint()
    assert today.isoformat() not in board("adzuna", settings).fingerprint()


def test_careerjet_rules(settings: Settings) -> None:
    careerjet = board("careerjet", settings)
    written = item(careerjet, job(settings, boards={"careerjet": {"bid": 2.5, "currency": "GBP"}}))
    assert written.findtext("location/country") == "United Kingdom"
    assert written.findtext("programmatic/bid/amount") == "2.50"
    assert written.findtext("programmatic/bid/cost_model") == "CPC"
    assert item(careerjet, job(settings)).find("programmatic") is None
    assert "boards.careerjet.currency" in errors(
        careerjet, job(settings, boards={"careerjet": {"bid": 1}})
    )


def test_talroo_rules(settings: Settings) -> None:
    talroo = board("talroo", settings)
    written = item(talroo, job(settings))
    assert written.findtext("date") == "Thu, 05 Mar 2026 00:00:00 CET"
    statewide = item(talroo, job(settings, locations=[{"region": "TX", "country": "US"}]))
    assert statewide.find("city") is not None and statewide.findtext("city") == ""


def test_jobadx_rules(settings: Settings) -> None:
    jobadx = board("jobadx", settings)
    assert frame(jobadx).findtext("last-build-date") == "2026-11-23 09:00:00 +0000"
    assert jobadx.profile.limits.items_per_file == 100_000
    written = item(jobadx, job(settings, remote="hybrid", employment_type="CONTRACTOR"))
    assert (written.findtext("job-type"), written.findtext("remote-type")) == (
        "CONTRACT",
        "WFH_FLEXIBLE",
    )


def test_jobrapido_rules(settings: Settings) -> None:
    jobrapido = board("jobrapido", settings)
    written = item(jobrapido, job(settings))
    assert (written.findtext("publishdate"), written.findtext("expirydate")) == (
        "05/03/2026",
        "19/12/2026",
    )
    assert "title" in errors(jobrapido, job(settings, title="QA"))
    assert "locations[0].region" in errors(
        jobrapido, job(settings, locations=[{"city": "X", "country": "US"}])
    )


def test_joblookup_rules(settings: Settings) -> None:
    joblookup = board("joblookup", settings)
    written = item(joblookup, job(settings))
    assert (
        written.findtext("expiration-date") == "2026-12-19" and written.findtext("country") == "UK"
    )
    assert "description" in errors(
        joblookup, job(settings, description="Fewer than 300 characters.")
    )
    warned = {p.field for p in joblookup.rules(job(settings, apply={"url": "https://a.example"}))
              if p.severity is Severity.WARNING}  # fmt: skip
    assert "apply.email" in warned


def test_workcircle_rules(settings: Settings) -> None:
    workcircle = board("workcircle", settings)
    text = workcircle.preview(
        job(settings, title="A & B <C>"), RenderContext(settings=settings, build_time=BUILT)
    )
    assert "CDATA" not in text and "A &amp; B &lt;C&gt;" in text
    assert item(workcircle, job(settings)).findtext("salary_per") == "annum"
    hourly = {"min": 50, "currency": "GBP", "period": "HOUR"}
    assert item(workcircle, job(settings, salary=hourly)).find("salary_per") is None
    contract = job(settings, salary=hourly, employment_type="CONTRACTOR")
    assert item(workcircle, contract).findtext("salary_per") == "hour"


def test_linkedin_rules(settings: Settings) -> None:
    linkedin = board("linkedin", settings)
    long_id = "a-posting-id-that-is-much-longer-than-forty-characters"
    assert "locations" in errors(linkedin, job(settings, id=long_id))
    assert "apply.url" in errors(linkedin, job(settings, apply={"url": "http://acme.example/a"}))
    written = item(linkedin, job(settings, description="Some <u>text</u> *em* <h3>head</h3> " * 10))
    description = written.findtext("description") or ""
    assert "<i>em</i>" in description and "<h3>" not in description
    assert written.findtext("salaries/salary/period") == "YEARLY"
    assert written.findtext("location") == "London, United Kingdom"
    us = item(
        linkedin,
        job(settings, locations=[{"city": "San Francisco", "region": "CA", "country": "US"}]),
    )
    assert us.findtext("location") == "San Francisco, CA"


def test_xing_rules(settings: Settings) -> None:
    xing = board("xing", settings)
    root = frame(xing)
    assert root.tag == "feed" and root.find("postings") is not None
    written = item(xing, job(settings, salary={"min": 50000, "currency": "EUR", "period": "YEAR"}))
    assert written.findtext("salary/range_start") == written.findtext("salary/range_end") == "50000"
    assert written.findtext("job_locations/job_location/country") == "GB"
    assert "title" in errors(xing, job(settings, title="x" * 256))
