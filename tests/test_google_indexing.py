"""Google's Indexing API: service-account tokens, the batch endpoint, the Pacific quota day, moved
job URLs, and the local board as strict as Google's documentation.

Unit tests give the target an ``httpx.MockTransport``; the others run over real HTTP against a
`BoardServer` whose token endpoint knows the test's service account (a key pair generated here).
The rules and their sources are in docs/boards.md.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from google.auth import crypt, jwt

from syndicate.adapters.base import Outgoing
from syndicate.adapters.google_auth import INDEXING_SCOPE, ServiceAccount
from syndicate.adapters.google_indexing import (
    GoogleIndexing,
    GoogleIndexingOptions,
    decode_batch,
    next_pacific_midnight,
    pacific_day,
)
from syndicate.config import Settings, load_settings
from syndicate.errors import AuthenticationError, PushError
from syndicate.loading import load_postings
from syndicate.operations import OperationKind
from syndicate.publish import PublishReport, _Applier, publish
from syndicate.secret import MASK, mask
from syndicate.state import NewOperation, StateStore
from syndicate.status import quota_rows, status_rows
from syndicate.testing import BoardServer
from tests.cli import run as run_cli

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT = "https://indexing.googleapis.com"
STATIC_TOKEN = "static-indexing-token-5e1d"
EMAIL = "syndicate@jobs-project.iam.gserviceaccount.com"
SITE = "https://jobs.example.com"
PACIFIC = ZoneInfo("America/Los_Angeles")


# -- keys -----------------------------------------------------------------------------------------


def rsa_key_pair() -> tuple[str, str]:
    """A new 2048-bit RSA key: (private key PEM, public key PEM in PKCS#1, which both of
    google-auth's RSA backends read).  With ``cryptography`` (google-auth's dependency since
    2.4x) if it is installed, else with ``rsa`` (its dependency before)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:  # an older google-auth, on python-rsa
        import rsa as python_rsa  # type: ignore[import-not-found]

        public, private = python_rsa.newkeys(2048)
        return private.save_pkcs1().decode(), public.save_pkcs1().decode()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    return private_pem, public_pem


def write_key_file(path: Path, private_pem: str, token_uri: str, client_email: str = EMAIL) -> Path:
    """A service-account JSON key file as Google's console makes them."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "jobs-project",
                "private_key_id": "0123456789abcdef",
                "private_key": private_pem,
                "client_email": client_email,
                "client_id": "100000000000000000001",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def key() -> tuple[str, str]:
    """The service account's key pair, registered with the boards below."""
    return rsa_key_pair()


@pytest.fixture(scope="module")
def stranger_key() -> tuple[str, str]:
    """A key pair no board knows."""
    return rsa_key_pair()


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says which credentials it uses."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_INDEXING_TOKEN", raising=False)


def assertion(private_pem: str, **claims: Any) -> str:
    """A JWT-bearer assertion signed with ``private_pem``; ``claims`` replace the good ones."""
    issued = int(time.time())
    payload = {
        "iss": EMAIL,
        "scope": INDEXING_SCOPE,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": issued,
        "exp": issued + 3600,
    } | claims
    return jwt.encode(crypt.RSASigner.from_string(private_pem), payload).decode()


# -- the target, with a fake transport ------------------------------------------------------------


def target(settings: Settings, **options: Any) -> GoogleIndexing:
    google_options = GoogleIndexingOptions(type="google_indexing", endpoint=ENDPOINT, **options)
    return GoogleIndexing("google", google_options, settings)


def outgoing(key: int, url: str, kind: str = "URL_UPDATED", **extra: Any) -> Outgoing:
    return Outgoing(
        key, OperationKind.UPDATE, f"job-{key}", "hash", {"url": url, "type": kind} | extra
    )


def parse_batch_request(request: httpx.Request) -> list[dict[str, Any]]:
    """Every part of a batch request, read back with the stdlib ``email`` package."""
    content_type = request.headers["content-type"]
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    assert message.get_content_type() == "multipart/mixed"
    parts = []
    for part in message.iter_parts():
        raw = part.get_payload(decode=True)
        request_line, _, rest = raw.partition(b"\r\n")
        inner_head, _, body = rest.partition(b"\r\n\r\n")
        inner = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(inner_head)
        parts.append(
            {
                "content_type": part.get_content_type(),
                "content_id": part["Content-ID"],
                "transfer_encoding": part["Content-Transfer-Encoding"],
                "request_line": request_line.decode(),
                "inner_content_type": inner["Content-Type"],
                "inner_length": int(inner["Content-Length"]),
                "body_bytes": body.rstrip(b"\r\n"),
                "body": json.loads(body),
            }
        )
    return parts


def batch_answer(
    answers: list[tuple[str, int, dict[str, Any]]],
    *,
    headers: dict[str, dict[str, str]] | None = None,
) -> httpx.Response:
    """A multipart/mixed batch answer, the parts in the order given: (request Content-ID,
    status, JSON body); ``headers`` adds headers to the part answering a Content-ID."""
    boundary = "batch_answer_7f3a"
    chunks = []
    for content_id, status, body in answers:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).get(content_id, {}).items())
        data = json.dumps(body)
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-ID: <response-{content_id}>\r\n\r\n"
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=UTF-8\r\n{extra}"
            f"Content-Length: {len(data)}\r\n\r\n{data}\r\n"
        )
    body = "".join(chunks) + f"--{boundary}--\r\n"
    return httpx.Response(
        200, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"}, content=body
    )


def ok(url: str) -> dict[str, Any]:
    return {"urlNotificationMetadata": {"url": url, "latestUpdate": {"url": url}}}


def google_error(status: int, message: str, code: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code}}


class FakeGoogle:
    """An ``httpx.MockTransport`` handler answering batch requests by a rule per Content-ID."""

    def __init__(self, answer: Callable[[int, str, dict[str, Any]], tuple[int, dict[str, Any]]]):
        self.answer = answer
        self.requests: list[httpx.Request] = []
        self.order = random.Random(7)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        parts = parse_batch_request(request)
        answers = [
            (
                p["content_id"].strip("<>"),
                *self.answer(len(self.requests), p["content_id"], p["body"]),
            )
            for p in parts
        ]
        self.order.shuffle(answers)
        return batch_answer(answers)

    def client(self, google: GoogleIndexing) -> httpx.Client:
        return google.client(httpx.MockTransport(self))


@pytest.fixture
def static_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GOOGLE_INDEXING_TOKEN", STATIC_TOKEN)
    return STATIC_TOKEN


def test_a_batch_is_one_multipart_request_with_an_http_part_per_notification(
    settings: Settings, static_token: str
) -> None:
    google = target(settings)
    fake = FakeGoogle(lambda _n, _cid, body: (200, ok(body["url"])))
    urls = [f"{SITE}/jobs/job-{n}.html" for n in range(3)]
    ops = [
        outgoing(10 + n, url, "URL_DELETED" if n == 2 else "URL_UPDATED")
        for n, url in enumerate(urls)
    ]

    with fake.client(google) as client:
        outcomes = google.send(client, ops)

    assert [(o.key, o.ok, o.remote_id) for o in outcomes] == [
        (10 + n, True, u) for n, u in enumerate(urls)
    ]
    [request] = fake.requests
    assert (request.method, str(request.url)) == ("POST", f"{ENDPOINT}/batch")
    assert request.headers["authorization"] == f"Bearer {static_token}"
    boundary = request.headers["content-type"].partition("boundary=")[2]
    assert request.headers["content-type"].startswith("multipart/mixed; boundary=") and boundary
    # CRLF everywhere, the closing delimiter last.
    assert b"\n" not in request.content.replace(b"\r\n", b"")
    assert request.content.endswith(f"\r\n--{boundary}--\r\n".encode())
    parts = parse_batch_request(request)
    assert len(parts) == 3
    for n, part in enumerate(parts):
        assert part["content_type"] == "application/http"
        assert part["content_id"] == f"<op-{10 + n}>"
        assert part["transfer_encoding"] == "binary"
        assert part["request_line"] == "POST /v3/urlNotifications:publish HTTP/1.1"
        assert part["inner_content_type"] == "application/json"
        assert part["inner_length"] == len(part["body_bytes"])
        kind = "URL_DELETED" if n == 2 else "URL_UPDATED"
        assert part["body"] == {"url": urls[n], "type": kind}


def test_answers_are_mapped_by_content_id_whatever_their_order(
    settings: Settings, static_token: str
) -> None:
    google = target(settings)
    refused = f"{SITE}/jobs/job-3.html"

    def answer(_n: int, _cid: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body["url"] == refused:
            return 400, google_error(400, "url is not in the verified property", "INVALID_ARGUMENT")
        return 200, ok(body["url"])

    fake = FakeGoogle(answer)  # shuffles the answer's parts
    ops = [outgoing(n, f"{SITE}/jobs/job-{n}.html") for n in range(8)]
    with fake.client(google) as client:
        outcomes = google.send(client, ops)

    assert [o.key for o in outcomes] == list(range(8))
    for outcome in outcomes:
        url = f"{SITE}/jobs/job-{outcome.key}.html"
        if url == refused:
            assert not outcome.ok and not outcome.retryable
            assert outcome.error == "HTTP 400: url is not in the verified property"
        else:
            assert outcome.ok and outcome.remote_id == url


def test_a_part_answered_429_is_queued_while_the_others_succeed(
    settings: Settings, static_token: str
) -> None:
    google = target(settings)

    def handler(request: httpx.Request) -> httpx.Response:
        parts = parse_batch_request(request)
        statuses = {"<op-1>": 429, "<op-2>": 503}
        answers = [
            (p["content_id"].strip("<>"), statuses.get(p["content_id"], 200), ok(p["body"]["url"]))
            for p in reversed(parts)
        ]
        return batch_answer(answers, headers={"op-1": {"Retry-After": "30"}})

    ops = [outgoing(n, f"{SITE}/jobs/job-{n}.html") for n in range(4)]
    with google.client(httpx.MockTransport(handler)) as client:
        outcomes = {o.key: o for o in google.send(client, ops)}

    assert outcomes[0].ok and outcomes[3].ok
    assert (outcomes[1].ok, outcomes[1].retryable, outcomes[1].retry_after) == (False, True, 30.0)
    assert outcomes[1].error.startswith("HTTP 429")
    assert (outcomes[2].ok, outcomes[2].retryable, outcomes[2].retry_after) == (False, True, None)


def test_a_part_answered_403_is_the_targets_credentials(
    settings: Settings, static_token: str
) -> None:
    google = target(settings)
    message = "Permission denied. Failed to verify the URL ownership."
    fake = FakeGoogle(
        lambda _n, _cid, _body: (403, google_error(403, message, "PERMISSION_DENIED"))
    )
    with fake.client(google) as client, pytest.raises(AuthenticationError) as refused:
        google.send(client, [outgoing(1, f"{SITE}/jobs/a.html")])
    assert refused.value.status_code == 403
    assert message in refused.value.message


class CountingCredentials:
    """Credentials that hand out a new token after each `invalidate`."""

    def __init__(self) -> None:
        self.tokens = 1

    def missing(self) -> str | None:
        return None

    def headers(self, client: httpx.Client) -> dict[str, str]:
        return {"Authorization": f"Bearer token-{self.tokens}"}

    def invalidate(self) -> bool:
        self.tokens += 1
        return True


def test_parts_answered_401_are_sent_once_more_with_a_new_token(settings: Settings) -> None:
    google = target(settings)
    google._credentials = credentials = CountingCredentials()
    seen: list[tuple[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        parts = parse_batch_request(request)
        seen.append((request.headers["authorization"], [p["content_id"] for p in parts]))
        lapsed = request.headers["authorization"] == "Bearer token-1"
        answers = [
            (p["content_id"].strip("<>"), 401 if lapsed and p["content_id"] == "<op-2>" else 200,
             ok(p["body"]["url"]))
            for p in parts
        ]  # fmt: skip
        return batch_answer(answers)

    ops = [outgoing(n, f"{SITE}/jobs/job-{n}.html") for n in (1, 2, 3)]
    with google.client(httpx.MockTransport(handler)) as client:
        outcomes = google.send(client, ops)
        assert all(o.ok for o in outcomes)
        assert seen == [
            ("Bearer token-1", ["<op-1>", "<op-2>", "<op-3>"]),
            ("Bearer token-2", ["<op-2>"]),
        ]

        # Refused again with the new token: the credentials are wrong, not stale.
        always = FakeGoogle(lambda _n, _cid, _b: (401, google_error(401, "bad", "UNAUTHENTICATED")))
        with always.client(google) as refusing, pytest.raises(AuthenticationError):
            google.send(refusing, ops[:1])
        assert len(always.requests) == 2 and credentials.tokens == 3


def test_a_moved_job_deletes_its_previous_url_and_costs_two_notifications(
    settings: Settings, static_token: str, tmp_path: Path
) -> None:
    google = target(settings)
    old, new = f"{SITE}/jobs/sales-manager.html", f"{SITE}/jobs/senior-sales-manager.html"
    fake = FakeGoogle(lambda _n, _cid, body: (200, ok(body["url"])))
    moved = outgoing(7, new, previous_url=old)

    with fake.client(google) as client:
        [outcome] = google.send(client, [moved])

    assert (outcome.ok, outcome.remote_id) == (True, new)
    parts = parse_batch_request(fake.requests[0])
    assert [(p["content_id"], p["body"]) for p in parts] == [
        ("<op-7-previous>", {"url": old, "type": "URL_DELETED"}),
        ("<op-7>", {"url": new, "type": "URL_UPDATED"}),
    ]
    # The cost is read from the state's Operation, as publish passes it.
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        payloads = [dict(moved.payload), {"url": new, "type": "URL_UPDATED"}]
        store.enqueue(
            [
                NewOperation(f"job-{n}", "google", OperationKind.UPDATE, "h", p)
                for n, p in enumerate(payloads)
            ]
        )
        costs = [google.quota_cost(op) for op in store.pending("google")]
    assert costs == [2, 1]

    # Without batching: two requests, the deletion first.
    single = target(settings, batch=False)
    sent: list[httpx.Request] = []

    def one_by_one(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=ok(json.loads(request.content)["url"]))

    with single.client(httpx.MockTransport(one_by_one)) as client:
        [alone] = single.send(client, [moved])
    assert alone.ok and single.max_batch == 1 and google.max_batch == 100
    publish_url = f"{ENDPOINT}/v3/urlNotifications:publish"
    assert [(str(r.url), r.headers["content-type"], json.loads(r.content)) for r in sent] == [
        (publish_url, "application/json", {"url": old, "type": "URL_DELETED"}),
        (publish_url, "application/json", {"url": new, "type": "URL_UPDATED"}),
    ]


def test_publish_admits_operations_within_the_daily_quota_by_their_cost(
    settings: Settings, static_token: str, tmp_path: Path
) -> None:
    google = target(settings, daily_quota=3)
    moved = {"url": f"{SITE}/jobs/b.html", "type": "URL_UPDATED", "previous_url": f"{SITE}/x.html"}
    payloads = [
        {"url": f"{SITE}/jobs/a.html", "type": "URL_UPDATED"},
        moved,  # 1 + 2: the quota of 3 is used up
        {"url": f"{SITE}/jobs/c.html", "type": "URL_UPDATED"},
    ]
    now = utc(2026, 12, 2, 12)
    with StateStore(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.enqueue(
            [
                NewOperation(f"job-{n}", "google", OperationKind.UPDATE, "h", p)
                for n, p in enumerate(payloads)
            ]
        )
        applier = _Applier(google, store, settings, now)
        [batch] = list(applier._due_batches(page=10))
        assert [op.posting_id for op in batch] == ["job-0", "job-1"]
        [carried] = store.pending("google", now=datetime.max.replace(tzinfo=UTC))[-1:]
        assert carried.posting_id == "job-2"
        assert carried.next_attempt_at == next_pacific_midnight(now) == utc(2026, 12, 3, 8)


def test_more_than_100_notifications_go_in_several_batch_requests(
    settings: Settings, static_token: str
) -> None:
    google = target(settings)
    fake = FakeGoogle(lambda _n, _cid, body: (200, ok(body["url"])))
    ops = [outgoing(n, f"{SITE}/jobs/job-{n}.html") for n in range(99)]
    ops.append(outgoing(99, f"{SITE}/jobs/new.html", previous_url=f"{SITE}/jobs/old.html"))
    ops.append(outgoing(100, f"{SITE}/jobs/job-100.html"))

    with fake.client(google) as client:
        outcomes = google.send(client, ops)

    assert all(o.ok for o in outcomes) and len(outcomes) == 101
    sizes = [len(parse_batch_request(r)) for r in fake.requests]
    assert sizes == [100, 2]  # 102 notifications


def test_an_answer_that_is_not_multipart_is_retried(settings: Settings, static_token: str) -> None:
    google = target(settings)
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, json={"kind": "not a batch"}))
    with google.client(transport) as client, pytest.raises(PushError) as failed:
        google.send(client, [outgoing(1, f"{SITE}/jobs/a.html")])
    assert failed.value.retryable and "not multipart/mixed" in failed.value.message


# -- the quota day --------------------------------------------------------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_quota_day_turns_at_midnight_pacific_time(settings: Settings) -> None:
    google = target(settings)
    # 23:59:59 PST on 1 December is 07:59:59 UTC on the 2nd: still the 1st for Google.
    assert google.quota_day(utc(2026, 12, 2, 7, 59, 59)).isoformat() == "2026-12-01"
    assert google.quota_resets_at(utc(2026, 12, 2, 7, 59, 59)) == utc(2026, 12, 2, 8)
    assert (
        google.quota_resets_at(utc(2026, 12, 2, 7, 59, 59)).isoformat()
        == "2026-12-02T00:00:00-08:00"
    )
    # Midnight PST: a new day, which ends at the next midnight.
    assert google.quota_day(utc(2026, 12, 2, 8)).isoformat() == "2026-12-02"
    assert google.quota_resets_at(utc(2026, 12, 2, 8)) == utc(2026, 12, 3, 8)
    # A UTC day would already have turned at 00:00 UTC, eight hours earlier.
    assert google.quota_day(utc(2026, 12, 2, 3)).isoformat() == "2026-12-01"
    # Summer time: midnight PDT is 07:00 UTC.
    assert pacific_day(utc(2026, 7, 1, 6, 59)).isoformat() == "2026-06-30"
    assert next_pacific_midnight(utc(2026, 6, 30, 12)) == utc(2026, 7, 1, 7)


def test_the_quota_day_follows_daylight_saving_changes() -> None:
    # 14 March 2027, clocks go forward at 02:00 PST: that Pacific day lasts 23 hours.
    start = next_pacific_midnight(utc(2027, 3, 13, 20))
    assert start == utc(2027, 3, 14, 8) and start.isoformat() == "2027-03-14T00:00:00-08:00"
    end = next_pacific_midnight(start)
    assert end == utc(2027, 3, 15, 7) and end.isoformat() == "2027-03-15T00:00:00-07:00"
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    assert pacific_day(utc(2027, 3, 15, 6, 59)).isoformat() == "2027-03-14"
    # 1 November 2026, clocks go back at 02:00 PDT: that Pacific day lasts 25 hours.
    start = next_pacific_midnight(utc(2026, 10, 31, 20))
    end = next_pacific_midnight(start)
    assert (start, end) == (utc(2026, 11, 1, 7), utc(2026, 11, 2, 8))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)
    assert pacific_day(utc(2026, 11, 2, 7, 30)).isoformat() == "2026-11-01"  # 23:30 PST


# -- service-account credentials, unit ------------------------------------------------------------


class FakeTokenEndpoint:
    """A token endpoint granting a new token per request, with ``expires_in``."""

    def __init__(self, expires_in: int = 3600, status: int = 200) -> None:
        self.expires_in = expires_in
        self.status = status
        self.forms: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        from urllib.parse import parse_qs

        self.forms.append(parse_qs(request.content.decode()))
        if self.status != 200:
            return httpx.Response(
                self.status,
                json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            )
        token = f"ya29.granted-token-{len(self.forms)}"
        return httpx.Response(
            200, json={"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )


def test_a_service_account_token_is_kept_until_shortly_before_it_expires(
    tmp_path: Path, key: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token_uri = "https://oauth2.example.test/token"
    monkeypatch.setenv("SA_KEY", str(write_key_file(tmp_path / "key.json", key[0], token_uri)))
    clock = [1000.0]
    account = ServiceAccount("SA_KEY", target="google", clock=lambda: clock[0])
    endpoint = FakeTokenEndpoint(expires_in=3600)
    with httpx.Client(transport=httpx.MockTransport(endpoint)) as client:
        assert account.missing() is None
        first = account.headers(client)
        assert account.headers(client) == first and len(endpoint.forms) == 1
        clock[0] += 3600 - 61  # the margin is a minute before the announced expiry
        assert account.headers(client) == first
        clock[0] += 2
        second = account.headers(client)
        assert second != first and len(endpoint.forms) == 2
        assert account.invalidate() is True  # after a 401: a new token at once
        assert account.headers(client) not in (first, second) and len(endpoint.forms) == 3
    form = endpoint.forms[0]
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], certs=key[1], verify=True)
    assert (claims["iss"], claims["scope"]) == (EMAIL, INDEXING_SCOPE)
    assert account.client_email == EMAIL
    # Tokens are masked in any output; so is the private key.
    token = first["Authorization"].removeprefix("Bearer ")
    assert mask(f"token {token}") == f"token {MASK}"
    assert MASK in mask(key[0]) and "PRIVATE KEY" not in mask(key[0])


def test_the_token_endpoint_refusing_the_key_is_an_authentication_error(
    tmp_path: Path, key: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "SA_KEY", str(write_key_file(tmp_path / "k.json", key[0], "https://t/token"))
    )
    account = ServiceAccount("SA_KEY", target="google")
    refusing = httpx.MockTransport(FakeTokenEndpoint(status=400))
    with httpx.Client(transport=refusing) as client, pytest.raises(AuthenticationError) as refused:
        account.headers(client)
    assert "Invalid JWT Signature" in refused.value.message and EMAIL in refused.value.message

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    down = httpx.MockTransport(unreachable)
    with httpx.Client(transport=down) as client, pytest.raises(PushError) as failed:
        account.headers(client)
    assert failed.value.retryable and not isinstance(failed.value, AuthenticationError)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot be read"),
        ("{not json", "is not a JSON key file"),
        ('{"type": "authorized_user"}', 'no "type": "service_account"'),
        ('{"type": "service_account", "client_email": "a@b"}', "no private_key, token_uri"),
        (
            '{"type": "service_account", "client_email": "a@b", "token_uri": "https://t",'
            ' "private_key": "-----BEGIN PRIVATE KEY-----\\nc2VjcmV0LWtleS1ieXRlcw==\\n'
            '-----END PRIVATE KEY-----\\n"}',
            "holds a private_key that cannot be read",
        ),
    ],
)
def test_an_unusable_key_file_disables_the_target_with_a_reason_naming_the_variable(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    says: str,
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("GOOGLE_INDEXING_TOKEN", STATIC_TOKEN)  # the key file still wins
    reason = target(settings).disabled_reason()
    assert reason is not None and reason.startswith(
        f"the file named by GOOGLE_APPLICATION_CREDENTIALS ({path})"
    )
    assert says in reason
    assert "c2VjcmV0" not in reason and "a@b" not in reason  # nothing of the file's content


def test_which_credentials_a_google_target_uses(
    settings: Settings, tmp_path: Path, key: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert target(settings).disabled_reason() == (
        "neither GOOGLE_APPLICATION_CREDENTIALS (the path of a service-account key file) nor "
        "GOOGLE_INDEXING_TOKEN (an access token) is set"
    )
    monkeypatch.setenv("GOOGLE_INDEXING_TOKEN", STATIC_TOKEN)
    static = target(settings)
    assert static.disabled_reason() is None and not static.uses_service_account()
    assert static.secret_env() == "GOOGLE_INDEXING_TOKEN"
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS",
        str(write_key_file(tmp_path / "k.json", key[0], "https://t")),
    )
    keyed = target(settings)
    assert keyed.disabled_reason() is None and keyed.uses_service_account()
    assert isinstance(keyed.credentials(), ServiceAccount)
    assert keyed.secret_env() == "GOOGLE_APPLICATION_CREDENTIALS"
    # Choosing other credentials or batching re-sends nothing.
    assert (
        target(settings, batch=False, credentials_env="OTHER_KEY").fingerprint()
        == keyed.fingerprint()
    )


# -- over real HTTP -------------------------------------------------------------------------------


class GoogleSite:
    """A project whose only push target is google_indexing, pointed at a board."""

    def __init__(self, root: Path, board: BoardServer, **google: Any) -> None:
        self.root = root
        shutil.copytree(ROOT / "postings", root / "postings")
        targets = {"google": {"type": "google_indexing", "endpoint": board.url, **google}}
        config = {
            "organization": {
                "name": "SixSq",
                "url": "https://sixsq.com",
                "email": "jobs@sixsq.com",
            },
            "site": {"base_url": SITE},
            "timezone": "Europe/Zurich",
            "state": "sqlite:///state/state.db",
            "targets": targets,
            "retry": {"max_attempts": 2, "backoff": "10ms", "max_backoff": "100ms"},
        }
        (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def publish(self, now: datetime | None = None) -> PublishReport:
        settings = load_settings(self.root / "config.yaml")
        loaded = load_postings(settings.postings_dir, settings.timezone)
        with StateStore(settings.state_url) as store:
            return publish(settings, loaded, store, now=now)

    def rows(self) -> list[dict[str, Any]]:
        settings = load_settings(self.root / "config.yaml")
        with StateStore(settings.state_url) as store:
            return status_rows(store)

    def edit(self, name: str, sentence: str) -> None:
        path = self.root / "postings" / f"{name}.md"
        path.write_text(path.read_text().rstrip("\n") + f"\n\n{sentence}\n")


@pytest.fixture
def google_board(key: tuple[str, str]) -> Iterator[Callable[..., BoardServer]]:
    """Start a board knowing the service account, with the options given."""
    started: list[BoardServer] = []

    def start(**options: Any) -> BoardServer:
        board = BoardServer(service_accounts={EMAIL: key[1]}, **options).start()
        started.append(board)
        return board

    yield start
    for board in started:
        board.stop()


def test_publish_fetches_tokens_from_the_key_files_token_uri_and_again_once_they_lapse(
    tmp_path: Path, key: tuple[str, str], google_board: Callable[..., BoardServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    board = google_board(indexing_token_lifetime=1.0)
    key_file = write_key_file(tmp_path / "key.json", key[0], f"{board.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    site = GoogleSite(tmp_path / "site", board)

    first = site.publish()

    assert first.disabled == {} and first.targets["google"].succeeded == 5
    view = board.state()
    assert [(g.client_email, g.scope) for g in view.token_grants] == [(EMAIL, INDEXING_SCOPE)]
    assert [(r.path, r.status) for r in view.requests] == [("/token", 200), ("/batch", 200)]
    assert view.requests[1].headers["authorization"] == "Bearer ****"
    assert len(view.notifications) == 5

    time.sleep(1.3)  # the board's token has lapsed
    site.edit("sixsq-sales-manager", "Fluent French is a plus.")
    second = site.publish()

    assert second.targets["google"].succeeded == 1
    view = board.state()
    assert len(view.token_grants) == 2
    # The new token was fetched before the lapsed one was used: no request was refused.
    assert [(r.path, r.status) for r in view.requests][2:] == [("/token", 200), ("/batch", 200)]
    assert len(view.notifications) == 6
    assert {r["state"] for r in site.rows()} == {"published"}


def test_a_key_the_board_does_not_know_fails_authentication_and_the_jobs_stay_queued(
    tmp_path: Path, key: tuple[str, str], stranger_key: tuple[str, str],
    google_board: Callable[..., BoardServer], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    board = google_board()
    key_file = write_key_file(tmp_path / "key.json", stranger_key[0], f"{board.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    site = GoogleSite(tmp_path / "site", board)

    refused = site.publish()

    google = refused.targets["google"]
    assert (google.succeeded, google.failed, google.queued) == (0, 0, 5)
    assert google.auth_error and "Invalid JWT Signature" in google.auth_error
    assert "$GOOGLE_APPLICATION_CREDENTIALS" in google.auth_error
    view = board.state()
    assert [(r.path, r.status) for r in view.requests] == [("/token", 400)]
    assert view.token_grants == [] and view.notifications == []
    assert {r["state"] for r in site.rows()} == {"pending"}

    write_key_file(key_file, key[0], f"{board.url}/token")  # the right key: nothing else to do
    fixed = site.publish()

    assert fixed.targets["google"].succeeded == 5 and fixed.queued == 0
    assert len(board.state().notifications) == 5
    assert {r["state"] for r in site.rows()} == {"published"}


def test_the_boards_daily_quota_answers_429_and_the_rest_stays_queued(
    tmp_path: Path, key: tuple[str, str], google_board: Callable[..., BoardServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    board = google_board(indexing_daily_quota=3)
    key_file = write_key_file(tmp_path / "key.json", key[0], f"{board.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    site = GoogleSite(tmp_path / "site", board, daily_quota=10)

    report = site.publish()

    google = report.targets["google"]
    assert (google.succeeded, google.failed, google.queued) == (3, 0, 2)
    view = board.state()
    assert len(view.notifications) == 3
    assert view.indexing_quota == {datetime.now(PACIFIC).date().isoformat(): 3}
    queued = [r for r in site.rows() if r["state"] == "pending"]
    assert len(queued) == 2
    assert all("HTTP 429: Quota exceeded" in r["error"] and r["queued_until"] for r in queued)
    # syndicate counted what the board accepted, on the same Pacific day.
    settings = load_settings(site.root / "config.yaml")
    with StateStore(settings.state_url) as store:
        [google_target] = [GoogleIndexing("google", settings.targets["google"], settings)]
        [quota] = quota_rows(store, [google_target]).values()
    assert (quota["used"], quota["limit"], quota["unit"]) == (3, 10, "notifications")
    assert quota["day"] == datetime.now(PACIFIC).date().isoformat()
    assert quota["resets_at"] == next_pacific_midnight(datetime.now(UTC)).isoformat()
    assert len(view.token_grants) == 1
    # And so does `syndicate status`.
    text = run_cli("status", cwd=site.root)
    line = r"google: 3 of 10 notifications used today \(resets \d{4}-\d\d-\d\dT00:00:00-0[78]:00\)"
    assert re.search(line, text.stdout), text.stdout
    document = json.loads(run_cli("status", "--format", "json", cwd=site.root).stdout)
    assert document["quota"] == {"google": quota}


# -- the board, strict ----------------------------------------------------------------------------


@pytest.fixture
def strict_board(google_board: Callable[..., BoardServer]) -> BoardServer:
    return google_board(
        indexing_token=STATIC_TOKEN, indexing_token_lifetime=1.0, indexing_daily_quota=4
    )


def token_request(board: BoardServer, **form: str) -> httpx.Response:
    return httpx.post(f"{board.url}/token", data=form)


def test_the_token_endpoint_checks_the_assertion(
    strict_board: BoardServer, key: tuple[str, str], stranger_key: tuple[str, str]
) -> None:
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    good = token_request(strict_board, grant_type=grant, assertion=assertion(key[0]))
    assert good.status_code == 200 and good.headers["cache-control"] == "no-store"
    assert good.json()["token_type"] == "Bearer" and good.json()["expires_in"] == 1
    assert good.json()["access_token"].startswith("ya29.")
    own_uri = f"{strict_board.url}/token"  # what older google-auth releases put in aud
    assert (
        token_request(
            strict_board, grant_type=grant, assertion=assertion(key[0], aud=own_uri)
        ).status_code
        == 200
    )

    now = int(time.time())

    def signed(private_pem: str = key[0], **claims: Any) -> dict[str, str]:
        return {"grant_type": grant, "assertion": assertion(private_pem, **claims)}

    refusals = {
        "unsupported_grant_type": [signed() | {"grant_type": "client_credentials"}],
        "invalid_request": [{"grant_type": grant}],
        "invalid_scope": [signed(scope="https://www.googleapis.com/auth/cloud-platform")],
        "invalid_grant": [
            signed(stranger_key[0]),  # the signature
            signed(iss="someone@else.iam.gserviceaccount.com"),
            signed(aud="https://elsewhere.example/token"),
            signed(iat=now - 7200, exp=now - 3600),  # expired
            signed(iat=now, exp=now + 7200),  # longer than an hour
            {"grant_type": grant, "assertion": "not.a-jwt"},
        ],
    }
    for code, forms in refusals.items():
        for form in forms:
            answer = token_request(strict_board, **form)
            assert (answer.status_code, answer.json()["error"]) == (400, code), form
    messages = [
        token_request(strict_board, **f).json()["error_description"]
        for f in refusals["invalid_grant"][:2]
    ]
    assert messages == ["Invalid JWT Signature.", "Invalid grant: account not found"]
    assert len(strict_board.state().token_grants) == 2


def test_publish_wants_json_and_a_live_token(
    strict_board: BoardServer, key: tuple[str, str]
) -> None:
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion(key[0]),
    }
    token = token_request(strict_board, **form).json()["access_token"]
    url = f"{strict_board.url}/v3/urlNotifications:publish"
    notice = {"url": f"{SITE}/jobs/a.html", "type": "URL_UPDATED"}
    bearer = {"Authorization": f"Bearer {token}"}

    assert httpx.post(url, json=notice, headers=bearer).status_code == 200
    as_text = httpx.post(
        url, content=json.dumps(notice), headers={**bearer, "Content-Type": "text/plain"}
    )
    assert as_text.status_code == 400 and "application/json" in as_text.json()["error"]["message"]
    static = {"Authorization": f"Bearer {STATIC_TOKEN}"}
    assert httpx.post(url, json=notice, headers=static).status_code == 200  # as before
    time.sleep(1.2)
    lapsed = httpx.post(url, json=notice, headers=bearer)
    assert lapsed.status_code == 401
    assert lapsed.json()["error"]["status"] == "UNAUTHENTICATED"
    assert lapsed.json()["error"]["code"] == 401
    unknown = httpx.post(url, json=notice, headers={"Authorization": "Bearer ya29.made-up"})
    assert unknown.status_code == 401
    assert len(strict_board.state().notifications) == 2


def raw_batch(board: BoardServer, parts: list[str], *, token: str = STATIC_TOKEN) -> httpx.Response:
    """POST /batch with ``parts`` (each a part's text after its boundary line)."""
    boundary = "b0undary"
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return httpx.post(
        f"{board.url}/batch",
        content=body.encode(),
        headers={
            "Content-Type": f"multipart/mixed; boundary={boundary}",
            "Authorization": f"Bearer {token}",
        },
    )


def call(content_id: str, url: str, *, path: str = "/v3/urlNotifications:publish",
         content_type: str = "application/json", headers: str = "") -> str:  # fmt: skip
    body = json.dumps({"url": url, "type": "URL_UPDATED"})
    return (
        f"Content-Type: application/http\r\nContent-ID: <{content_id}>\r\n\r\n"
        f"POST {path} HTTP/1.1\r\nContent-Type: {content_type}\r\n{headers}\r\n{body}"
    )


def answered_parts(response: httpx.Response) -> list[tuple[str, int, dict[str, Any]]]:
    """(Content-ID, status, JSON body) of each part of a batch answer, in the answer's order."""
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + response.content)
    parts = []
    for part in message.iter_parts():
        status_line, _, rest = part.get_payload(decode=True).partition(b"\r\n")
        body = rest.partition(b"\r\n\r\n")[2]
        parts.append((part["Content-ID"], int(status_line.split()[1]), json.loads(body)))
    return parts


def test_the_batch_endpoint_answers_each_part_by_content_id(strict_board: BoardServer) -> None:
    answer = raw_batch(
        strict_board,
        [
            call("a", f"{SITE}/jobs/a.html"),
            call("b", f"{SITE}/jobs/b.html", content_type="text/plain"),
            call("c", f"{SITE}/jobs/c.html", path="/v3/urlNotifications/metadata"),
            call("d", f"{SITE}/jobs/d.html", headers="Authorization: Bearer ya29.made-up\r\n"),
            call("e", "/relative.html"),
            call("f", f"{SITE}/jobs/f.html"),
        ],
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("multipart/mixed; boundary=")
    parts = answered_parts(answer)
    # Answered in reverse order (Google may use any): the Content-IDs say which is which.
    assert [(cid, status) for cid, status, _ in parts] == [
        ("<response-f>", 200), ("<response-e>", 400), ("<response-d>", 401),
        ("<response-c>", 404), ("<response-b>", 400), ("<response-a>", 200),
    ]  # fmt: skip
    assert parts[0][2]["urlNotificationMetadata"]["url"] == f"{SITE}/jobs/f.html"
    assert parts[2][2]["error"]["status"] == "UNAUTHENTICATED"  # its own token, not the outer
    assert [n.url for n in strict_board.state().notifications] == [
        f"{SITE}/jobs/a.html",
        f"{SITE}/jobs/f.html",
    ]


def test_malformed_batches_are_refused_whole(strict_board: BoardServer) -> None:
    url = f"{SITE}/jobs/a.html"
    too_many = raw_batch(strict_board, [call(str(n), url) for n in range(101)])
    assert too_many.status_code == 400 and "at most 100" in too_many.json()["error"]["message"]
    assert raw_batch(strict_board, []).status_code == 400
    not_http = raw_batch(strict_board, ['Content-Type: application/json\r\n\r\n{"url": "x"}'])
    assert not_http.status_code == 400 and "application/http" in not_http.json()["error"]["message"]
    plain = httpx.post(
        f"{strict_board.url}/batch",
        json={"url": url},
        headers={"Authorization": f"Bearer {STATIC_TOKEN}"},
    )
    assert plain.status_code == 400 and "multipart/mixed" in plain.json()["error"]["message"]
    assert strict_board.state().notifications == []
    full = raw_batch(strict_board, [call(str(n), url) for n in range(100)])
    assert full.status_code == 200 and len(answered_parts(full)) == 100


def test_the_daily_quota_counts_publish_calls_and_batch_parts_alike(
    strict_board: BoardServer,
) -> None:
    url = f"{SITE}/jobs/a.html"
    static = {"Authorization": f"Bearer {STATIC_TOKEN}"}
    publish_url = f"{strict_board.url}/v3/urlNotifications:publish"
    assert (
        httpx.post(
            publish_url, json={"url": url, "type": "URL_DELETED"}, headers=static
        ).status_code
        == 200
    )
    statuses = [
        status
        for _, status, _ in reversed(
            answered_parts(raw_batch(strict_board, [call(str(n), url) for n in range(4)]))
        )
    ]
    assert statuses == [200, 200, 200, 429]  # the quota is 4
    limited = httpx.post(publish_url, json={"url": url, "type": "URL_UPDATED"}, headers=static)
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "Publish requests per day" in limited.json()["error"]["message"]
    assert strict_board.state().indexing_quota == {datetime.now(PACIFIC).date().isoformat(): 4}


def test_a_batch_answer_without_its_boundary_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no parts"):
        decode_batch("multipart/mixed; boundary=batch_x", b"HTTP/1.1 200 OK\r\n\r\n{}")
