"""The LinkedIn push target: unit tests with `httpx.MockTransport` (injected, not patched), and
runs against the strict local board over real HTTP (tokens, versions, tasks, lost answers).

Sources of each rule: `syndicate.adapters.linkedin_api` and docs/boards.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from syndicate.adapters import create_targets
from syndicate.adapters.auth import ClientCredentials, usable_for
from syndicate.adapters.base import Outgoing
from syndicate.adapters.linkedin_api import LinkedInApi
from syndicate.config import Settings, settings_from_data
from syndicate.errors import AuthenticationError
from syndicate.model import Posting
from syndicate.operations import OperationKind
from syndicate.testing import BoardServer
from tests.test_board_server import job

CLIENT_ID, CLIENT_SECRET = "client-7f3a9c", "secret-WPL_AP1.9b1e4d"
STATIC = "static-token-4c8e2d"


def settings_with(**linkedin: Any) -> Settings:
    options = {
        "type": "linkedin_api",
        "organization": "urn:li:organization:123",
        "poll_interval": "1ms",
        "poll_timeout": "200ms",
        **linkedin,
    }
    return settings_from_data(
        {
            "organization": {"name": "SixSq", "email": "jobs@sixsq.com"},
            "site": {"base_url": "https://jobs.example.com"},
            "targets": {"linkedin": options},
        }
    )


def target_of(settings: Settings) -> LinkedInApi:
    [target] = create_targets(settings)
    assert isinstance(target, LinkedInApi)
    return target


def outgoing(key: int, kind: str = "CREATE", **overrides: Any) -> Outgoing:
    payload = job(f"job-{key}", kind)
    return Outgoing(key, OperationKind(kind), f"job-{key}", "hash", payload, **overrides)


class Recorder:
    """A MockTransport that answers with ``answer(request)`` and keeps every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)


def board_like(results: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """Accept every element as a task and answer polls with ``results`` by external id."""
    tasks: dict[str, str] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            elements = json.loads(request.content)["elements"]
            out = []
            for element in elements:
                urn = f"urn:li:simpleJobPostingTask:{100 + len(tasks)}"
                tasks[urn] = (
                    f"{element['externalJobPostingId']}:{element['jobPostingOperationType']}"
                )
                out.append({"id": urn, "status": 202})
            return httpx.Response(200, json={"elements": out})
        ids = parse_qs(urlsplit(str(request.url)).query)["ids"]
        done = {"status": "SUCCEEDED"}
        found = {urn: results.get(tasks.get(urn, ""), done) for urn in ids}
        return httpx.Response(200, json={"results": found, "statuses": {}, "errors": {}})

    return answer


@pytest.fixture
def static(monkeypatch: pytest.MonkeyPatch) -> LinkedInApi:
    monkeypatch.setenv("LINKEDIN_TOKEN", STATIC)
    return target_of(settings_with(endpoint="https://api.linkedin.com/rest"))


# -- requests as LinkedIn documents them ----------------------------------------------------------


def test_versioned_requests_carry_the_version_and_poll_with_repeated_ids(
    static: LinkedInApi,
) -> None:
    recorder = Recorder(board_like({}))
    with static.client(recorder.transport) as client:
        outcomes = static.send(client, [outgoing(1), outgoing(2)])
    assert all(o.ok for o in outcomes)
    post, poll = recorder.requests
    assert post.url == "https://api.linkedin.com/rest/simpleJobPostings"
    assert post.headers["LinkedIn-Version"] == "202603"
    assert post.headers["X-Restli-Method"] == "batch_create"
    assert post.headers["Authorization"] == f"Bearer {STATIC}"
    assert poll.url.path == "/rest/simpleJobPostingTasks"
    assert parse_qs(poll.url.query.decode())["ids"] == [
        "urn:li:simpleJobPostingTask:100",
        "urn:li:simpleJobPostingTask:101",
    ]
    assert "List(" not in str(poll.url) and "x-restli-method" not in poll.headers
    assert "x-restli-protocol-version" not in poll.headers
    assert poll.headers["LinkedIn-Version"] == "202603"


def test_the_unversioned_api_gets_no_version_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKEDIN_TOKEN", STATIC)
    target = target_of(settings_with(endpoint="https://api.linkedin.com/v2"))
    recorder = Recorder(board_like({}))
    with target.client(recorder.transport) as client:
        target.send(client, [outgoing(1)])
    assert all("linkedin-version" not in r.headers for r in recorder.requests)


def test_many_tasks_are_polled_within_4_kb_queries(static: LinkedInApi) -> None:
    recorder = Recorder(board_like({}))
    with static.client(recorder.transport) as client:
        outcomes = static.send(client, [outgoing(n) for n in range(100)])
    assert all(o.ok for o in outcomes)
    polls = [r for r in recorder.requests if r.method == "GET"]
    assert len(polls) > 1
    assert all(len(r.url.query) <= 4000 for r in polls)
    assert sum(len(parse_qs(r.url.query.decode())["ids"]) for r in polls) == 100


# -- answers ------------------------------------------------------------------------------------


def test_a_create_the_board_has_continues_as_an_update(static: LinkedInApi) -> None:
    """*Check job task status*: a duplicate CREATE fails as a task that says it already exists."""
    message = "Trying to create a job with same partnerIdentifier already exists. Dropping it."
    recorder = Recorder(board_like({"job-1:CREATE": {"status": "FAILED", "errorMessage": message}}))
    with static.client(recorder.transport) as client:
        [outcome] = static.send(client, [outgoing(1)])
    assert outcome.ok
    sent = [
        json.loads(r.content)["elements"][0]["jobPostingOperationType"]
        for r in recorder.requests
        if r.method == "POST"
    ]
    assert sent == ["CREATE", "UPDATE"]


def test_an_update_of_a_job_the_board_lacks_is_sent_as_a_create(static: LinkedInApi) -> None:
    message = "Operation type UPDATE is not allowed for a non-existing job of partner urn"
    recorder = Recorder(board_like({"job-1:UPDATE": {"status": "FAILED", "errorMessage": message}}))
    with static.client(recorder.transport) as client:
        [outcome] = static.send(client, [outgoing(1, "UPDATE")])
    assert outcome.ok


def test_processed_tasks(static: LinkedInApi) -> None:
    """*Check job task status*: PROCESSED without an error is done; with one, it failed."""
    results = {
        "job-1:CREATE": {"status": "PROCESSED"},
        "job-2:CREATE": {"status": "PROCESSED", "errorMessage": "Invalid Field: /city"},
    }
    with static.client(Recorder(board_like(results)).transport) as client:
        done, failed = static.send(client, [outgoing(1), outgoing(2)])
    assert done.ok and not failed.ok and failed.error == "Invalid Field: /city"


def test_a_task_older_than_its_lifespan_is_sent_again(static: LinkedInApi) -> None:
    """OAS 167: task ids live 24 hours; there is no lookup by external id."""
    recorder = Recorder(board_like({}))
    old = outgoing(
        1,
        task_id="urn:li:simpleJobPostingTask:77",
        task_accepted_at=datetime.now(UTC) - timedelta(hours=25),
    )
    fresh = outgoing(
        2,
        task_id="urn:li:simpleJobPostingTask:1",
        task_accepted_at=datetime.now(UTC) - timedelta(hours=1),
    )
    answer = board_like({})

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "77" in str(request.url):
            raise AssertionError("a lapsed task was polled")
        return answer(request)

    recorder = Recorder(respond)
    with static.client(recorder.transport) as client:
        outcomes = static.send(client, [old, fresh])
    posted = [json.loads(r.content)["elements"] for r in recorder.requests if r.method == "POST"]
    assert [e["externalJobPostingId"] for batch in posted for e in batch] == ["job-1"]
    assert all(o.ok for o in outcomes)


def test_a_close_the_board_cannot_apply_because_the_job_is_gone_is_done(
    static: LinkedInApi,
) -> None:
    """*Create jobs*: 409 "Cannot close job which is already closed or does not exist"."""

    def answer(request: httpx.Request) -> httpx.Response:
        error = {"message": "Cannot close job which is already closed or does not exist"}
        return httpx.Response(200, json={"elements": [{"error": error, "status": 409}]})

    with static.client(Recorder(answer).transport) as client:
        [outcome] = static.send(client, [outgoing(1, "CLOSE")])
    assert outcome.ok


def test_a_close_of_an_unknown_job_is_retried_while_a_create_sent_without_answer_may_land(
    static: LinkedInApi,
) -> None:
    """The same 409, for a job whose CREATE got no answer: sent again once `landing_window`
    has passed since that CREATE, then done."""

    def answer(request: httpx.Request) -> httpx.Response:
        error = {"message": "Cannot close job which is already closed or does not exist"}
        return httpx.Response(200, json={"elements": [{"error": error, "status": 409}]})

    window = static.options.landing_window
    recent = datetime.now(UTC) - window / 2
    lapsed = datetime.now(UTC) - window - timedelta(seconds=1)
    with static.client(Recorder(answer).transport) as client:
        [waiting] = static.send(client, [outgoing(1, "CLOSE", create_in_doubt_since=recent)])
        [done] = static.send(client, [outgoing(2, "CLOSE", create_in_doubt_since=lapsed)])
    assert not waiting.ok and waiting.retryable and "may still land" in (waiting.error or "")
    # Not before the window ends: by then the CREATE has landed, or never will.
    assert waiting.retry_after is not None
    assert window.total_seconds() / 2 - 5 <= waiting.retry_after <= window.total_seconds() / 2
    assert done.ok


def test_element_errors_belong_to_their_element(static: LinkedInApi) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return board_like({})(request)
        bad = {"error": {"message": "ERROR :: /title :: field is required"}, "status": 422}
        return httpx.Response(
            200, json={"elements": [bad, {"id": "urn:li:simpleJobPostingTask:1", "status": 202}]}
        )

    with static.client(Recorder(answer).transport) as client:
        first, second = static.send(client, [outgoing(1), outgoing(2)])
    assert not first.ok and not first.retryable and "/title" in (first.error or "")
    assert second.ok


# -- tokens ---------------------------------------------------------------------------------------


@pytest.fixture
def oauth_board() -> Iterator[BoardServer]:
    with BoardServer(
        token="not-used-here-5c2e",
        linkedin_client_id=CLIENT_ID,
        linkedin_client_secret=CLIENT_SECRET,
        linkedin_token_lifetime=600,
    ) as board:
        yield board


def oauth_target(board: BoardServer, monkeypatch: pytest.MonkeyPatch) -> LinkedInApi:
    monkeypatch.setenv("LI_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("LI_CLIENT_SECRET", CLIENT_SECRET)
    return target_of(
        settings_with(
            endpoint=board.url + "/rest",
            client_id_env="LI_CLIENT_ID",
            client_secret_env="LI_CLIENT_SECRET",
            token_url=board.url + "/oauth/v2/accessToken",
        )
    )


def test_oauth_tokens_are_fetched_once_and_again_when_they_expire(
    oauth_board: BoardServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = oauth_target(oauth_board, monkeypatch)
    assert target.disabled_reason() is None
    with target.client() as client:
        assert all(o.ok for o in target.send(client, [outgoing(1), outgoing(2)]))
        assert all(o.ok for o in target.send(client, [outgoing(3)]))
        assert oauth_board.state().token_requests == 1  # cached in memory
        oauth_board.board.shift_clock(601)  # the board's token lapsed, ours looks fresh
        assert all(o.ok for o in target.send(client, [outgoing(4)]))
    assert oauth_board.state().token_requests == 2  # a 401, one new token, the same request
    assert set(oauth_board.state().listed()) == {"job-1", "job-2", "job-3", "job-4"}


@pytest.mark.parametrize(
    ("lifetime", "used_for"), [(1800, 1740), (3600, 3540), (600, 540), (30, 27), (0, 0)]
)
def test_a_token_is_used_until_a_tenth_of_its_life_or_a_minute_is_left(
    lifetime: float, used_for: float
) -> None:
    assert usable_for(lifetime) == pytest.approx(used_for)


def test_a_short_lived_client_credentials_token_is_reused_until_its_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same expiry policy as the Google service account's: a 30-second token is used for
    27 seconds, then fetched again (over real HTTP, from the local board's token endpoint)."""
    monkeypatch.setenv("LI_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("LI_CLIENT_SECRET", CLIENT_SECRET)
    clock = [1000.0]
    with (
        BoardServer(
            linkedin_client_id=CLIENT_ID,
            linkedin_client_secret=CLIENT_SECRET,
            linkedin_token_lifetime=30,
        ) as board,
        httpx.Client() as client,
    ):
        credentials = ClientCredentials(
            board.url + "/oauth/v2/accessToken",
            "LI_CLIENT_ID",
            "LI_CLIENT_SECRET",
            target="linkedin",
            clock=lambda: clock[0],
        )
        first = credentials.headers(client)
        clock[0] += 26.9
        assert credentials.headers(client) == first
        clock[0] += 0.2
        assert credentials.headers(client) != first
        assert board.state().token_requests == 2


def test_tokens_are_never_printed_stored_or_logged(
    oauth_board: BoardServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.secret import mask

    target = oauth_target(oauth_board, monkeypatch)
    with target.client() as client:
        target.send(client, [outgoing(1)])
    [issued] = [r for r in oauth_board.board.tokens]
    assert mask(f"token {issued} here") == "token **** here"


def test_refused_client_credentials_fail_authentication(
    oauth_board: BoardServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = oauth_target(oauth_board, monkeypatch)
    monkeypatch.setenv("LI_CLIENT_SECRET", "the-wrong-secret")
    with target.client() as client, pytest.raises(AuthenticationError, match="client credentials"):
        target.send(client, [outgoing(1)])
    assert oauth_board.state().jobs == {}


def test_one_way_to_authenticate_is_configured() -> None:
    from syndicate.errors import ConfigError

    with pytest.raises(ConfigError, match="not both"):
        settings_with(token_env="A", client_id_env="B", client_secret_env="C")
    with pytest.raises(ConfigError, match="both client_id_env and client_secret_env"):
        settings_with(client_id_env="B")
    assert settings_with().targets["linkedin"].token_env == "LINKEDIN_TOKEN"  # type: ignore[union-attr]


def test_without_its_variables_the_target_is_disabled_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LI_CLIENT_ID", raising=False)
    target = target_of(
        settings_with(client_id_env="LI_CLIENT_ID", client_secret_env="LI_CLIENT_SECRET")
    )
    assert target.disabled_reason() == "environment variable LI_CLIENT_ID is not set"


def test_the_targets_poster_email_satisfies_the_poster_rule(examples: list[Posting]) -> None:
    def without_organization_email(**linkedin: Any) -> LinkedInApi:
        settings = settings_with(token_env="LI_TOKEN", **linkedin)
        organization = settings.organization.model_copy(update={"email": None})
        return target_of(settings.model_copy(update={"organization": organization}))

    posting = examples[0]
    unset = without_organization_email()
    assert "job poster email" in " ".join(p.message for p in unset.check(posting))
    configured = without_organization_email(poster_email="hr@example.com")
    assert not [p for p in configured.check(posting) if "poster email" in p.message]
