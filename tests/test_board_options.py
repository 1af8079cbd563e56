"""Per-target options every multiposter has: ``select:``, per-posting opt-outs and options, and
private feeds behind HTTP Basic as well as a bearer token."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.config import PrivateFeed, Settings
from syndicate.errors import Severity
from syndicate.model import Posting
from syndicate.serving.private import PrivateRule


def posting(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "job", "title": "Engineer", "date_posted": "2026-11-20", "department": "Sales",
        "employment_type": "FULL_TIME", "apply": {"url": "https://example.com/apply"},
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
        "description": "A job description that is long enough to be published. " * 3,
    }  # fmt: skip
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


def target(settings: Settings, **options: Any) -> ProfileTarget:
    return ProfileTarget(
        "jooble", ProfileOptions(type="profile", profile="jooble", **options), settings
    )


def omitted(found: list[Any]) -> bool:
    return any(p.severity is Severity.OMIT for p in found)


def test_select_keeps_jobs_off_exactly_the_boards_they_are_not_meant_for(
    settings: Settings,
) -> None:
    board = target(settings, select={"department": ["sales"], "country": ["US", "CH"]})
    assert not omitted(board.rules(posting(settings)))
    elsewhere = posting(settings, locations=[{"city": "Paris", "country": "FR"}])
    [problem] = board.rules(elsewhere)
    assert problem.severity is Severity.OMIT and problem.field == "country"
    assert omitted(board.rules(posting(settings, department="Engineering")))
    remote = posting(settings, remote="remote", locations=[], applicant_locations=["US"])
    assert not omitted(board.rules(remote))
    assert not omitted(target(settings).rules(posting(settings, department="Engineering")))


def test_select_takes_only_posting_fields(settings: Settings) -> None:
    with pytest.raises(ValidationError):
        ProfileOptions(type="profile", profile="jooble", select={"salary": ["1"]})


def test_select_does_not_change_what_a_target_sends(settings: Settings) -> None:
    assert (
        target(settings).fingerprint()
        == target(settings, select={"remote": ["remote"]}).fingerprint()
    )


def test_per_posting_opt_out_and_options(settings: Settings) -> None:
    board = target(settings)
    assert omitted(board.rules(posting(settings, boards={"jooble": False})))
    assert not omitted(board.rules(posting(settings, boards={"adzuna": False})))
    careerjet = ProfileTarget(
        "careerjet", ProfileOptions(type="profile", profile="careerjet"), settings
    )
    found = {
        p.field: p.message
        for p in careerjet.rules(posting(settings, boards={"careerjet": {"bid": "high"}}))
    }
    assert found["boards.careerjet.bid"] == "must be a number"
    assert "boards.careerjet.currency" in {
        p.field for p in careerjet.rules(posting(settings, boards={"careerjet": {"bid": 0.5}}))
    }


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_private_feed_takes_http_basic_as_well_as_bearer() -> None:
    both = PrivateRule("a.xml", "T", SecretStr("tok"), "adzuna", SecretStr("pw"))
    assert both.allows("Bearer tok") and both.allows(basic("adzuna", "pw"))
    for wrong in (basic("adzuna", "pwx"), basic("other", "pw"), "Basic !!!", basic("adzunapw", ""),
                  "Basic " + base64.b64encode(b"adzuna").decode(), "Bearer pw"):  # fmt: skip
        assert not both.allows(wrong), wrong
    assert "Basic" in both.challenge(None) and "Bearer" in both.challenge(None)
    only_basic = PrivateRule("a.xml", None, None, "adzuna", SecretStr("pw"))
    assert not only_basic.allows("Bearer pw") and only_basic.challenge(None).startswith("Basic")
    unset = PrivateRule("a.xml", None, None, "adzuna", None)
    assert not unset.allows(basic("adzuna", ""))


def test_private_feed_config_needs_a_whole_way_in() -> None:
    assert PrivateFeed.model_validate({"username": "adzuna", "password_env": "ADZUNA_PW"})
    for wrong in (
        {},
        {"username": "adzuna"},
        {"password_env": "X"},
        {"username": "a:b", "password_env": "X"},
    ):
        with pytest.raises(ValidationError):
            PrivateFeed.model_validate(wrong)
