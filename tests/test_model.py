"""The canonical posting: its rules one by one, its round trips, its hash."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from syndicate.model import EmploymentType, Posting, Remote, SalaryPeriod, Status

ZURICH = ZoneInfo("Europe/Zurich")
NEW_YORK = ZoneInfo("America/New_York")


def posting_data(**changes: Any) -> dict[str, Any]:
    """A valid posting's data with ``changes`` applied (a value of None removes the key)."""
    data: dict[str, Any] = {
        "id": "sales-manager",
        "title": "Sales Manager",
        "date_posted": "2026-11-20",
        "locations": [{"city": "Geneva", "country": "CH"}],
        "apply": {"email": "jobs@example.com"},
        "description": "The Sales Manager sells.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def make(tz: ZoneInfo = ZURICH, **changes: Any) -> Posting:
    return Posting.model_validate(posting_data(**changes), context={"timezone": tz})


def errors(**changes: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """(location, message) of every error the changed data gives."""
    with pytest.raises(ValidationError) as caught:
        make(**changes)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


def error_locs(**changes: Any) -> list[tuple[int | str, ...]]:
    return [loc for loc, _ in errors(**changes)]


def test_the_base_data_is_valid_and_defaults_apply() -> None:
    posting = make()
    assert posting.status is Status.OPEN
    assert posting.remote is Remote.ONSITE
    assert posting.employment_type == []
    assert posting.date_posted == date(2026, 11, 20)


@pytest.mark.parametrize("value", ["a", "sales-manager_2026.v2", "8x8-inside", "a" * 75])
def test_ids_of_the_allowed_form_are_accepted(value: str) -> None:
    assert make(id=value).id == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("Sales-Manager", "lowercase letters"),
        ("sales manager", "lowercase letters"),
        ("sales/manager", "lowercase letters"),
        ("ventes-genève", "lowercase letters"),
        ("", "lowercase letters"),
        ("a" * 76, "76 characters long; at most 75"),
    ],
)
def test_ids_outside_the_form_are_refused(value: str, fragment: str) -> None:
    [(loc, message)] = errors(id=value)
    assert loc == ("id",)
    assert fragment in message


def test_countries_are_iso_3166_codes_normalized_to_upper_case() -> None:
    posting = make(locations=[{"country": "ch"}], remote="remote", applicant_locations=["us"])
    assert posting.locations[0].country == "CH"
    assert posting.applicant_locations == ["US"]
    assert error_locs(locations=[{"country": "XX"}]) == [("locations", 0, "country")]
    assert error_locs(locations=[{"country": "CHE"}]) == [("locations", 0, "country")]
    assert error_locs(applicant_locations=["US", "USA"]) == [("applicant_locations", 1)]


def test_a_bare_no_read_by_yaml_as_false_is_explained_as_norway() -> None:
    [(loc, message)] = errors(locations=[{"city": "Oslo", "country": False}])
    assert loc == ("locations", 0, "country")
    assert "'NO'" in message and "quotes" in message


def test_currencies_are_iso_4217_and_periods_an_enum() -> None:
    salary = {"min": 100, "max": 120, "currency": "chf", "period": "YEAR"}
    assert make(salary=salary).salary.currency == "CHF"
    assert make(salary=salary).salary.period is SalaryPeriod.YEAR
    assert error_locs(salary={**salary, "currency": "EURO"}) == [("salary", "currency")]
    assert error_locs(salary={**salary, "period": "YEARLY"}) == [("salary", "period")]
    assert error_locs(salary={**salary, "min": -1}) == [("salary", "min")]


def test_salary_min_may_equal_max_but_not_exceed_it() -> None:
    assert make(salary={"min": 5, "max": 5, "currency": "USD", "period": "HOUR"}).salary.max == 5
    assert make(salary={"min": 5, "currency": "USD", "period": "HOUR"}).salary.max is None
    [(loc, message)] = errors(salary={"min": 6, "max": 5, "currency": "USD", "period": "HOUR"})
    assert loc == ("salary",)
    assert "min (6) is greater than max (5)" in message


def test_employment_type_is_one_or_a_list_of_the_enum() -> None:
    assert make(employment_type="FULL_TIME").employment_type == [EmploymentType.FULL_TIME]
    both = make(employment_type=["PART_TIME", "CONTRACTOR"]).employment_type
    assert both == [EmploymentType.PART_TIME, EmploymentType.CONTRACTOR]
    assert error_locs(employment_type="FULLTIME") == [("employment_type", 0)]
    assert error_locs(employment_type=["FULL_TIME", "full-time"]) == [("employment_type", 1)]


def test_status_and_remote_are_enums() -> None:
    assert error_locs(status="published") == [("status",)]
    assert error_locs(remote="sometimes") == [("remote",)]


def test_valid_through_must_be_after_date_posted() -> None:
    # A plain date is valid through its whole day, so the same day is fine.
    assert make(valid_through="2026-11-20").valid_through == date(2026, 11, 20)
    [(loc, message)] = errors(valid_through="2026-11-19")
    assert loc == ("valid_through",)
    assert "after date_posted (2026-11-20)" in message
    aware = {"date_posted": "2026-11-20T10:00:00+01:00"}
    assert error_locs(**aware, valid_through="2026-11-20T09:59:59+01:00") == [("valid_through",)]
    assert error_locs(**aware, valid_through="2026-11-20T10:00:00+01:00") == [("valid_through",)]
    assert make(**aware, valid_through="2026-11-20T10:00:01+01:00").valid_through


def test_onsite_and_hybrid_jobs_need_a_location_remote_jobs_do_not() -> None:
    for remote in ("onsite", "hybrid"):
        [(loc, message)] = errors(remote=remote, locations=[])
        assert loc == ("locations",)
        assert message.startswith(f"{remote} jobs need at least one location")
    assert error_locs(locations=None) == [("locations",)]
    assert make(remote="remote", locations=[]).locations == []


def test_apply_needs_a_url_or_an_email() -> None:
    assert make(apply={"url": "https://example.com/apply"}).apply.email is None
    assert make(apply={"email": "mailto:jobs@example.com"}).apply.email == "jobs@example.com"
    [(loc, message)] = errors(apply={})
    assert loc == ("apply",)
    assert "url or an email" in message
    assert error_locs(apply=None) == [("apply",)]
    assert error_locs(apply={"email": "jobs-at-example.com"}) == [("apply", "email")]
    assert error_locs(apply={"url": "javascript:alert(1)"}) == [("apply", "url")]
    assert error_locs(apply={"url": "www.example.com"}) == [("apply", "url")]


def test_required_fields_and_blank_text() -> None:
    for name in ("id", "title", "date_posted", "apply", "description"):
        assert error_locs(**{name: None}) == [(name,)], name
    assert error_locs(title="   ") == [("title",)]
    assert error_locs(description="\n\n") == [("description",)]


def test_unknown_fields_are_errors_at_every_level() -> None:
    assert error_locs(tittle="x") == [("tittle",)]
    assert error_locs(locations=[{"cty": "Geneva", "country": "CH"}]) == [("locations", 0, "cty")]
    assert error_locs(apply={"email": "jobs@example.com", "phone": "1"}) == [("apply", "phone")]


def test_language_is_a_language_tag() -> None:
    assert make(language="pt-BR").language == "pt-BR"
    assert error_locs(language="English") == [("language",)]


def test_dates_and_datetimes() -> None:
    assert make(date_posted=date(2026, 11, 20)).date_posted == date(2026, 11, 20)
    assert error_locs(date_posted="20 November 2026") == [("date_posted",)]
    assert error_locs(date_posted="2026-02-30") == [("date_posted",)]
    aware = make(date_posted="2026-11-20T09:00:00-05:00", tz=ZURICH).date_posted
    assert aware.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    "naive", ["2026-11-20T09:00:00", "2026-11-20 09:00", datetime(2026, 11, 20, 9, 0)]
)
def test_naive_datetimes_take_the_configured_timezone(naive: str | datetime) -> None:
    posting = make(date_posted=naive, tz=NEW_YORK)
    assert posting.date_posted == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert posting.date_posted.utcoffset() == timedelta(hours=-5)


def test_the_configured_timezone_decides_a_naive_valid_through() -> None:
    # 00:30 on the 21st in Zurich is 23:30 on the 20th in UTC: before the posting date.
    changes = {"date_posted": "2026-11-20T23:45:00+00:00", "valid_through": "2026-11-21T00:30:00"}
    assert make(tz=ZoneInfo("UTC"), **changes).valid_through
    with pytest.raises(ValidationError, match="after date_posted"):
        make(tz=ZURICH, **changes)


def test_is_listed_only_while_open_and_not_expired() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=ZURICH)
    assert make().is_listed(now, ZURICH)
    assert not make(status="draft").is_listed(now, ZURICH)
    assert not make(status="closed").is_listed(now, ZURICH)
    assert make(valid_through="2026-12-01").is_listed(now, ZURICH)
    assert not make(valid_through="2026-11-30").is_listed(now, ZURICH)


def test_postings_are_frozen() -> None:
    posting = make()
    with pytest.raises(ValidationError):
        posting.title = "Other"  # type: ignore[misc]


def test_content_hash_follows_every_field_and_copies_recompute_it() -> None:
    posting = make()
    assert posting.content_hash == make().content_hash
    assert len(posting.content_hash) == 64
    for changes in (
        {"title": "Sales Director"},
        {"description": "The Sales Manager sells more."},
        {"locations": [{"city": "Paris", "country": "FR"}]},
        {"salary": {"min": 1, "currency": "CHF", "period": "YEAR"}},
        {"status": "closed"},
    ):
        assert make(**changes).content_hash != posting.content_hash, changes
    # A copy with changes must not keep the original's cached hash and HTML.
    changed = posting.model_copy(update={"title": "Other", "description": "Other text."})
    assert changed.content_hash == make(title="Other", description="Other text.").content_hash
    assert changed.content_hash != posting.content_hash
    assert "Other text." in changed.description_html
    assert posting.model_copy().content_hash == posting.content_hash


def test_every_example_round_trips_through_json(examples: list[Posting]) -> None:
    assert len(examples) == 5
    for posting in examples:
        again = Posting.model_validate(posting.model_dump(mode="json"))
        assert again == posting, posting.id
        assert again.content_hash == posting.content_hash, posting.id
        assert Posting.model_validate_json(posting.model_dump_json()) == posting


def test_every_example_round_trips_through_python(examples: list[Posting]) -> None:
    for posting in examples:
        again = Posting.model_validate(posting.model_dump())
        assert again == posting, posting.id
        assert again.content_hash == posting.content_hash, posting.id


def test_a_datetime_round_trips_with_its_offset() -> None:
    posting = make(date_posted="2026-11-20T09:00:00", valid_through="2027-01-31T18:00:00")
    dumped = posting.model_dump(mode="json")
    assert dumped["date_posted"] == "2026-11-20T09:00:00+01:00"
    again = Posting.model_validate(dumped, context={"timezone": NEW_YORK})
    assert again == posting
    assert again.content_hash == posting.content_hash
