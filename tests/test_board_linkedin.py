"""The local board's LinkedIn Job Posting API refuses what LinkedIn documents it refuses.

Each test names the rule and its source (OAS = ``job_posting_v2.yaml`` of
`linkedin-developers/job-posting-development-tools`; *Create jobs*, *Check job task status*,
*Client credentials flow*, *release notes* = the Microsoft Learn pages; SDK = LinkedIn's Java
SDK).  A test of syndicate that passes against this board passes against rules as strict as
LinkedIn's own; docs/boards.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from syndicate.testing import BoardServer
from tests.helpers import LINKEDIN_VERSION, ms
from tests.test_board_server import BATCH, JOBS, TASKS, TOKEN, job, poll, send, task_of

CLIENT_ID, CLIENT_SECRET = "86f2client7q", "WPL_AP1.secret.4b2f9e"


@pytest.fixture(scope="module")
def server() -> Iterator[BoardServer]:
    with BoardServer(
        token=TOKEN,
        linkedin_client_id=CLIENT_ID,
        linkedin_client_secret=CLIENT_SECRET,
        linkedin_token_lifetime=1800,
    ) as running:
        yield running


def refused(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    """The element result of a CREATE with ``fields`` changed (None removes one)."""
    element = {k: v for k, v in (job("a") | fields).items() if v is not None}
    [result] = send(api, element)
    return result


# -- versions and headers -------------------------------------------------------------------------


def test_the_versioned_api_requires_an_active_linkedin_version(board: BoardServer) -> None:
    """*LinkedIn Talent versioning*: "All requests to versioned APIs will require a new
    LinkedIn-Version header" (YYYYMM)."""
    body = {"elements": [job("a")]}
    headers = {"Authorization": f"Bearer {TOKEN}", **BATCH}
    with httpx.Client(base_url=board.url, headers=headers) as client:
        missing = client.post(JOBS, json=body)
        assert missing.status_code == 400 and "LinkedIn-Version" in missing.json()["message"]
        stale = client.post(JOBS, json=body, headers={"LinkedIn-Version": "202212"})
        assert stale.status_code == 400 and "202212" in stale.json()["message"]
        # The unversioned /v2 API takes no version header (OAS 13-15).
        assert client.post("/v2/simpleJobPostings", json=body).status_code == 200
    assert set(board.state().jobs) == {"a"}


def test_a_batch_needs_batch_create_and_at_most_100_distinct_elements(
    board: BoardServer, api: httpx.Client
) -> None:
    """OAS 19-33 (x-restli-method required); *Create jobs*: at most 100 per call, no two
    updates for one externalJobPostingId in a request; 403 when the method header is missing."""
    response = api.post(JOBS, json={"elements": [job("a")]})
    assert response.status_code == 403
    assert response.json()["message"] == "Not enough permissions to access: POST /simpleJobPostings"
    too_many = api.post(JOBS, headers=BATCH, json={"elements": [job(f"j{n}") for n in range(101)]})
    assert too_many.status_code == 400 and "at most 100" in too_many.json()["message"]
    twice = api.post(JOBS, headers=BATCH, json={"elements": [job("a"), job("a", "UPDATE")]})
    assert twice.status_code == 400
    assert all(r["status"] == 202 for r in send(api, *[job(f"j{n}") for n in range(100)]))


# -- the element schema ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["companyApplyUrl", "externalJobPostingId", "jobPostingOperationType", "description",
     "title", "listedAt", "location"],
)  # fmt: skip
def test_every_required_field_is_required(api: httpx.Client, field: str) -> None:
    """OAS 423-430; *Create jobs*: "ERROR :: /title :: field is required but not found and has
    no default value" (status 422 inside the 200)."""
    result = refused(api, **{field: None})
    assert result["status"] == 422
    assert result["error"]["message"] == (
        f"ERROR :: /{field} :: field is required but not found and has no default value"
    )


def test_a_close_is_refused_without_the_required_fields(
    board: BoardServer, api: httpx.Client
) -> None:
    """OAS 423-430 hold for every operation, and every CLOSE sample of *Close jobs* is the
    whole element: a CLOSE of only the id and the operation is refused."""
    send(api, job("a"))
    [bare] = send(api, {"externalJobPostingId": "a", "jobPostingOperationType": "CLOSE"})
    assert bare["status"] == 422
    assert board.state().jobs["a"].state == "LISTED"
    [whole] = send(api, job("a", "CLOSE"))
    assert task_of(api, whole)["status"] == "SUCCEEDED"
    assert board.state().jobs["a"].state == "CLOSED"


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"listedAt": "yesterday"}, 422, "cannot be coerced to Long"),
        ({"title": 42}, 422, "cannot be coerced to String"),
        ({"description": ["a list"] * 40}, 422, "cannot be coerced to String"),
        ({"location": {"city": "Geneva"}}, 422, "cannot be coerced to String"),
        ({"employmentStatus": "FULL-TIME"}, 422, "is not an enum symbol"),
        ({"experienceLevel": "SENIOR"}, 422, "is not an enum symbol"),
        ({"jobPostingOperationType": "DELETE"}, 422, "is not an enum symbol"),
        ({"title": "T" * 201}, 422, "200 characters"),
        ({"externalJobPostingId": "x" * 76}, 422, "75 characters"),
        ({"workplaceTypes": ["Remote", "Hybrid"]}, 400, "more than one value"),
        ({"workplaceTypes": ["remote-ish"]}, 422, "is not an enum symbol"),
        ({"workRemoteAllowed": True}, 422, "no longer supported"),
        ({"state": "GE"}, 422, "no longer supported"),
        ({"countryCode": "CH"}, 422, "no longer supported"),
        ({"postalCode": "1202"}, 422, "no longer supported"),
        ({"posterEmail": None}, 422, "poster email"),
        ({"alternateLocations": [f"Town {n}, France" for n in range(8)]}, 422, "seven"),
        ({"integrationContext": None}, 400, "companyName must be provided"),
        ({"companyApplyUrl": "mailto:jobs@example.com"}, 400, "Invalid company apply url"),
    ],
)
def test_element_rules(api: httpx.Client, fields: dict[str, Any], status: int, words: str) -> None:
    """OAS 287-420 (types, enums, lengths); *Create jobs* (one workplaceTypes value, seven
    alternateLocations, company, apply URL); release notes (Nov 2023: retired fields; June
    2025: poster email); the versioned schema page and SDK (ids of at most 75 on /rest)."""
    result = refused(api, **fields)
    assert result["status"] == status, result
    assert words in result["error"]["message"]


@pytest.mark.parametrize("spelling", ["Remote", "remote", "REMOTE", "On-site", "On-Site"])
def test_workplace_types_in_any_documented_case(api: httpx.Client, spelling: str) -> None:
    """*Create jobs* samples write ``["remote"]``, the SDK ``"Remote"``, the error text
    ``On-Site``: the case rule is not documented, so every case of the three is taken."""
    assert refused(api, workplaceTypes=[spelling])["status"] == 202


def test_listed_at_may_not_be_in_the_future(api: httpx.Client) -> None:
    """OAS 322-326: listedAt "should not be a future time"."""
    later = ms(datetime.now(UTC) + timedelta(hours=2))
    assert refused(api, listedAt=later)["status"] == 422
    assert refused(api, listedAt=ms(datetime.now(UTC) - timedelta(days=1)))["status"] == 202


@pytest.mark.parametrize(("days", "accepted"), [(0.5, False), (2, True), (180, True), (181, False)])
def test_expire_at_between_24_hours_and_180_days(
    api: httpx.Client, days: float, accepted: bool
) -> None:
    """OAS 409: "Value greater than 180 days is not allowed"; SDK: "greater than the current
    timestamp + 24 hours"."""
    expire_at = ms(datetime.now(UTC) + timedelta(days=days) - timedelta(minutes=1))
    result = refused(api, expireAt=expire_at)
    assert (result["status"] == 202) is accepted, result


def test_ids_of_up_to_200_characters_on_the_unversioned_api(board: BoardServer) -> None:
    """OAS 287-291: maxLength 200 (the versioned schema: 75)."""
    headers = {"Authorization": f"Bearer {TOKEN}", **BATCH}
    with httpx.Client(base_url=board.url, headers=headers) as client:
        body = {"elements": [job("x" * 200)]}
        [result] = client.post("/v2/simpleJobPostings", json=body).json()["elements"]
    assert result["status"] == 202


# -- tasks ---------------------------------------------------------------------------------------


def test_what_fails_as_a_task_is_worded_as_linkedin_words_it(
    board: BoardServer, api: httpx.Client
) -> None:
    """*Check job task status*, error codes: a CREATE of an id the board has, an UPDATE or RENEW
    of one it has not, and a description under 100 characters fail as tasks."""
    send(api, job("a"))
    duplicate, update, renew, short = send(
        api,
        job("a"),
        job("nobody", "UPDATE"),
        job("nobody-2", "RENEW"),
        job("short", description="<p>Too short.</p>"),
    )
    assert (
        "Trying to create a job with same partnerIdentifier already exists"
        in (task_of(api, duplicate)["errorMessage"])
    )
    assert (
        "Operation type UPDATE is not allowed for a non-existing job"
        in (task_of(api, update)["errorMessage"])
    )
    assert (
        "Operation type RENEW is not allowed for a non-existing job"
        in (task_of(api, renew)["errorMessage"])
    )
    assert "at least 100 characters" in task_of(api, short)["errorMessage"]
    state = board.state()
    assert state.jobs["a"].creates == 1 and set(state.jobs) == {"a"}


def test_a_close_of_a_closed_or_unknown_job_is_a_409(board: BoardServer, api: httpx.Client) -> None:
    """*Create jobs*: 409 "Cannot close job which is already closed or does not exist"."""
    [unknown] = send(api, job("nobody", "CLOSE"))
    assert unknown["status"] == 409
    assert (
        unknown["error"]["message"] == "Cannot close job which is already closed or does not exist"
    )


def test_tasks_are_polled_with_repeated_ids(board: BoardServer, api: httpx.Client) -> None:
    """OAS 165-181: ``ids`` with ``explode: true`` (``ids=a&ids=b``); *Protocol version*: the
    Rest.li 2.0 ``List(…)`` syntax needs ``X-Restli-Protocol-Version: 2.0.0``."""
    first, second = send(api, job("a"), job("b"))
    answer = poll(api, first["id"], second["id"], "urn:li:simpleJobPostingTask:999")
    assert set(answer["results"]) == {first["id"], second["id"]}
    assert answer["errors"]["urn:li:simpleJobPostingTask:999"]["status"] == 404
    listed = f"List({first['id']},{second['id']})"
    assert api.get(TASKS, params={"ids": listed}).status_code == 400
    protocol_2 = api.get(
        TASKS, params={"ids": listed}, headers={"X-Restli-Protocol-Version": "2.0.0"}
    )
    assert protocol_2.status_code == 200 and len(protocol_2.json()["results"]) == 2
    assert api.get(TASKS, params={"ids": "not-a-task"}).status_code == 400


def test_a_task_query_longer_than_4_kb_is_refused(api: httpx.Client) -> None:
    """*Check job task status*: the query is "limited to a maximum length of 4KB"."""
    urns = [f"urn:li:simpleJobPostingTask:{n:06d}" for n in range(150)]
    response = api.get(TASKS, params=[("ids", urn) for urn in urns])
    assert response.status_code == 414


def test_tasks_live_24_hours(board: BoardServer, api: httpx.Client) -> None:
    """OAS 167: "The task IDs returned will have a lifespan of 24 hours"."""
    [result] = send(api, job("a"))
    board.board.shift_clock(23 * 3600)
    assert poll(api, result["id"])["results"][result["id"]]["status"] == "SUCCEEDED"
    board.board.shift_clock(3600)
    answer = poll(api, result["id"])
    assert answer["results"] == {} and answer["errors"][result["id"]]["status"] == 404


def test_renew_extends_the_listing_by_30_days(board: BoardServer, api: httpx.Client) -> None:
    """OAS 304: RENEW extends "the expiry date of the listed job by 30 days"; OAS 409: without
    expireAt a job expires after 180 days."""
    send(api, job("a"))
    created = board.state().jobs["a"].expires_at
    assert created is not None
    send(api, job("a", "RENEW"))
    assert board.state().jobs["a"].expires_at == created + timedelta(days=30)


# -- tokens --------------------------------------------------------------------------------------


def test_client_credentials_give_a_token_that_expires(board: BoardServer) -> None:
    """*Client credentials flow*: POST the form to /oauth/v2/accessToken; the token "has a
    30-minute lifespan" (``expires_in`` shown as a string); an expired token is 401 with
    serviceErrorCode 65602 (OAS 118-122)."""
    with httpx.Client(base_url=board.url, headers=LINKEDIN_VERSION) as client:
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        issued = client.post("/oauth/v2/accessToken", data=form).json()
        assert issued["expires_in"] == "1800" and issued["access_token"]
        bearer = {"Authorization": f"Bearer {issued['access_token']}", **BATCH}
        assert client.post(JOBS, headers=bearer, json={"elements": [job("a")]}).status_code == 200
        board.board.shift_clock(1801)
        expired = client.post(JOBS, headers=bearer, json={"elements": [job("b")]})
        assert expired.status_code == 401
        assert expired.json()["serviceErrorCode"] == 65602
        wrong = client.post("/oauth/v2/accessToken", data=form | {"client_secret": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client_id"
        missing = client.post("/oauth/v2/accessToken", data={"grant_type": "client_credentials"})
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert board.state().token_requests == 1
