"""Google's Indexing API: URL_UPDATED / URL_DELETED notifications for job pages (push).

The rules followed, each with its source (docs/boards.md has the table, with the tests
that check each rule and whether the source is Google's own page or a secondary one):

- ``POST https://indexing.googleapis.com/v3/urlNotifications:publish`` with the JSON body
  ``{"url": …, "type": "URL_UPDATED" | "URL_DELETED"}``, and every call "MUST use
  "application/json" as the Content-Type header": developers.google.com/search/apis/
  indexing-api/v3/using-api, "Guidelines" and "Update a URL" / "Remove a URL".
- "combine up to 100 requests in a batch" (same page, "Guidelines"): ``max_batch`` is 100.
- The batch is ``POST {endpoint}/batch`` with a ``multipart/mixed`` body, one part per
  publish call, each ``Content-Type: application/http`` with a ``Content-ID`` and a nested
  ``POST /v3/urlNotifications:publish`` request; the answer is ``multipart/mixed`` with one
  part per call, holding a full HTTP status line, and "a matching Content-ID header" prefixed
  ``response-``.  Google's generic batch format (developers.google.com/webmaster-tools/v1/
  how-tos/batch and developers.google.com/glass/batch, "Format of a batch request" / "Format of
  a batch response"); the ``/batch`` URL of the Indexing API itself comes from public clients
  (googleapis/google-api-php-client#1567 and many samples): secondary.
- "the server may perform your requests in any order" (cloud.google.com/storage/docs/batch):
  each answer is mapped back by its Content-ID, never by its position.
- A batch answered 200 can hold parts with their own errors, so each part's status decides its
  operation: 2xx done, 429 and 5xx queued (with the part's ``Retry-After``, if any), 401/403 the
  target's credentials (`AuthenticationError`), another 4xx failed.  A part answered 401 is sent
  once more with a freshly fetched token, as googleapiclient's ``BatchHttpRequest.execute``
  does (googleapis/google-api-python-client, googleapiclient/http.py): secondary.
- The daily quota (200 by default, "includes both URL_UPDATED and URL_DELETED request types")
  "resets at midnight Pacific Time" (developers.google.com/search/apis/indexing-api/v3/
  quota-pricing): the quota day is the calendar day in ``America/Los_Angeles`` (DST-aware).
  Batched calls count one each ("A set of n requests batched together counts toward your usage
  limit as n requests", webmaster-tools batch doc; secondary for this API).
- A job whose URL changed (``previous_url`` in the payload): Google documents no "moved"
  notification, so the old URL gets URL_DELETED ("The given URL (Web document) has been
  deleted", …/v3/reference/indexing/rest/v3/urlNotifications, ``URL_DELETED``) and the new one
  URL_UPDATED; both count against the quota (an inference, unverified: /work/notes §1.6).
- Credentials: a service account's key file (`syndicate.adapters.google_auth`), or a static
  bearer token for tests and proxies.  ``credentials_env`` names the variable holding the key
  file's path (``GOOGLE_APPLICATION_CREDENTIALS``, google.aip.dev/auth/4112); when it is set it
  wins, else ``token_env``'s token is used; with neither the target is disabled.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, NamedTuple, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field

from syndicate.adapters.auth import Credentials, StaticBearer, authorized
from syndicate.adapters.base import (
    RENDERED_SETTINGS,
    OperationKind,
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.http import AUTH_STATUS, RETRYABLE_STATUS, board_message, retry_after
from syndicate.errors import AuthenticationError, PushError
from syndicate.model import HttpUrl, Posting
from syndicate.registry import SECRET, TRANSPORT
from syndicate.secret import EnvName

if TYPE_CHECKING:
    import httpx  # imported where a request is sent (`syndicate.adapters.base`)

URL_UPDATED, URL_DELETED = "URL_UPDATED", "URL_DELETED"
PUBLISH_PATH = "/v3/urlNotifications:publish"
BATCH_PATH = "/batch"
BATCH_LIMIT = 100  # publish calls in one batch request
PACIFIC = ZoneInfo("America/Los_Angeles")


def pacific_day(now: datetime) -> date:
    """The quota day ``now`` falls on: the calendar day at Google's, in Pacific Time."""
    return now.astimezone(PACIFIC).date()


def next_pacific_midnight(now: datetime) -> datetime:
    """The next midnight in Pacific Time after ``now``, when Google's daily quota resets."""
    return datetime.combine(pacific_day(now) + timedelta(days=1), time(), tzinfo=PACIFIC)


def notifications(payload: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The publish calls one operation makes, each with the suffix of its Content-ID: the
    previous URL's URL_DELETED first when the job's URL changed, then the URL's own."""
    own = {"url": str(payload["url"]), "type": str(payload["type"])}
    previous = payload.get("previous_url")
    if previous and previous != own["url"]:
        return [("-previous", {"url": str(previous), "type": URL_DELETED}), ("", own)]
    return [("", own)]


class GoogleIndexingOptions(PushOptions):
    """``{type: google_indexing, credentials_env: GOOGLE_APPLICATION_CREDENTIALS,
    token_env: GOOGLE_INDEXING_TOKEN, daily_quota: 200, batch: true}``"""

    type: Literal["google_indexing"]
    endpoint: Annotated[HttpUrl, TRANSPORT] = "https://indexing.googleapis.com"
    # The variable holding the path of a service-account JSON key file; when it is set, it wins
    # over token_env (a static bearer token, for tests and proxies).
    credentials_env: Annotated[EnvName, TRANSPORT] = "GOOGLE_APPLICATION_CREDENTIALS"
    token_env: Annotated[EnvName, SECRET] = "GOOGLE_INDEXING_TOKEN"
    daily_quota: Annotated[int, TRANSPORT] = Field(default=200, ge=1)
    # Up to 100 notifications per request; false: one request per URL.
    batch: Annotated[bool, TRANSPORT] = True


@dataclass(frozen=True, slots=True)
class BatchPart:
    """One publish call inside a batch request."""

    content_id: str
    key: int  # the operation it belongs to
    body: dict[str, str]


class PartResult(NamedTuple):
    """What the board answered for one publish call (``status`` None: no answer at all)."""

    status: int | None
    message: str = ""
    retryable: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def encode_batch(parts: Sequence[BatchPart], boundary: str, path: str = PUBLISH_PATH) -> bytes:
    """A ``multipart/mixed`` body of publish calls (CRLF line endings, as MIME wants)."""
    chunks: list[bytes] = []
    for part in parts:
        body = json.dumps(part.body, ensure_ascii=False, separators=(",", ":")).encode()
        head = (
            f"--{boundary}\r\n"
            "Content-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{part.content_id}>\r\n"
            "\r\n"
            f"POST {path} HTTP/1.1\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        )
        chunks += [head.encode(), body, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def decode_batch(content_type: str, body: bytes) -> dict[str, httpx.Response]:
    """The parts of a ``multipart/mixed`` batch answer, by the Content-ID of the request each
    answers (``<response-X>`` answers ``<X>``); parts without one are dropped.  ValueError when
    the body is not such an answer."""
    # Imported here: only a push to Google parses a batch answer, and the email package is a
    # hundredth of a second of every command's start-up (the registry imports this module).
    import email.message
    import email.parser
    import email.policy

    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(head + body)
    if message.get_content_type() != "multipart/mixed" or not message.get_boundary():
        raise ValueError(f"the answer is {content_type or 'untyped'}, not multipart/mixed")
    parts = message.get_payload()
    if not isinstance(parts, list):  # the body never shows the boundary: no parts
        raise ValueError("the multipart/mixed answer has no parts")
    answers: dict[str, httpx.Response] = {}
    for part in cast(list[email.message.Message], parts):
        content_id = response_content_id(part.get("Content-ID", ""))
        if content_id is not None:
            payload = part.get_payload(decode=True)  # bytes, or None for a nested multipart
            answers[content_id] = parse_http_response(
                payload if isinstance(payload, bytes) else b""
            )
    return answers


def response_content_id(header: str) -> str | None:
    """``X`` from a response part's ``<response-X>`` (or a bare ``response-X``)."""
    value = header.strip().removeprefix("<").removesuffix(">")
    return value.removeprefix("response-") or None


def parse_http_response(raw: bytes) -> httpx.Response:
    """One ``application/http`` part: a status line, headers, a blank line, the body."""
    import http.client  # as the email package above

    stream = io.BytesIO(raw.lstrip(b"\r\n"))
    version, _, rest = stream.readline().decode("latin-1").strip().partition(" ")
    code = rest.split(" ", 1)[0]
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError("a part of the batch answer is not an HTTP response")
    try:
        headers = http.client.parse_headers(stream)
    except http.client.HTTPException as error:
        raise ValueError(f"a part of the batch answer has bad headers: {error}") from None
    content = stream.read()
    length = headers.get("Content-Length", "")
    if length.isdigit():
        content = content[: int(length)]
    kept = [(name, value) for name, value in headers.items() if name.lower() != "content-length"]
    import httpx

    return httpx.Response(int(code), headers=kept, content=content)


def part_result(response: httpx.Response, what: str = "") -> PartResult:
    """How one part's own status decides its publish call."""
    if response.is_success:
        return PartResult(response.status_code)
    return PartResult(
        response.status_code,
        f"{what}HTTP {response.status_code}: {board_message(response)}",
        retryable=response.status_code in RETRYABLE_STATUS,
        retry_after=retry_after(response),
    )


class GoogleIndexing(PushTarget):
    """Tells Google when a job page appears, changes (URL_UPDATED) or goes away (URL_DELETED)."""

    summary: ClassVar[str] = "Google Indexing API"
    spec_url: ClassVar[str | None] = (
        "https://developers.google.com/search/apis/indexing-api/v3/using-api"
    )
    Options: ClassVar[type[TargetOptions]] = GoogleIndexingOptions
    quota_unit: ClassVar[str] = "notifications"
    options: GoogleIndexingOptions

    # PushTarget.max_batch is a ClassVar; here it depends on the options, and it is only ever
    # read from an instance.
    @property
    def max_batch(self) -> int:  # type: ignore[override]
        """Operations per `send`: a batch request's worth, or one when batching is off."""
        return BATCH_LIMIT if self.options.batch else 1

    def daily_quota(self) -> int | None:
        return self.options.daily_quota

    wants_previous_payload: ClassVar[bool] = True

    def quota_cost(self, operation: Any) -> int:
        """Two notifications for a job whose URL changed (the old URL's deletion too)."""
        payload = getattr(operation, "payload", None) or {}
        previous = payload.get("previous_url")
        return 2 if previous and previous != payload.get("url") else 1

    def quota_day(self, now: datetime) -> date:
        return pacific_day(now)

    def quota_resets_at(self, now: datetime) -> datetime:
        return next_pacific_midnight(now)

    def uses_service_account(self) -> bool:
        """Whether the key file named by ``credentials_env`` is used (its variable is set)."""
        return bool(os.environ.get(self.options.credentials_env))

    def secret_env(self) -> str | None:
        return self.options.credentials_env if self.uses_service_account() else super().secret_env()

    def make_credentials(self) -> Credentials | None:
        if self.uses_service_account():
            # Imported here: google-auth and cryptography cost 0.2 s to import, which every
            # command would pay (`syndicate --version`, `validate`) for the one that sends.
            from syndicate.adapters.google_auth import shared_service_account

            return shared_service_account(self.options.credentials_env, target=self.name)
        return StaticBearer(self.options.token_env)

    def disabled_reason(self) -> str | None:
        options = self.options
        if options.enabled and not (
            self.uses_service_account() or os.environ.get(options.token_env)
        ):
            return (
                f"neither {options.credentials_env} (the path of a service-account key file) "
                f"nor {options.token_env} (an access token) is set"
            )
        return super().disabled_reason()

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``{"url", "type"}``; an update of a job whose URL changed also carries the URL Google
        was told before (``previous_url``), which is then reported deleted."""
        kind_name = URL_DELETED if kind is OperationKind.CLOSE else URL_UPDATED
        url = context.settings.job_url(posting_id)
        body: dict[str, Any] = {"url": url, "type": kind_name}
        before = previous.get("url") if previous else None
        if kind is not OperationKind.CLOSE and before and before != url:
            body["previous_url"] = before
        return body

    def payload_digest(self, payload: dict[str, Any], posting: Posting | None) -> str:
        """The URL Google was told of and what its page is rendered from (the posting, the
        organization and site, the careers site's options): an edit of any of these updates
        the page, though the notification itself reads the same."""
        settings = self.settings
        careers = [o for o in settings.targets.values() if o.type == "careers_site"]
        page = {
            "posting": posting.content_hash if posting is not None else "",
            "site": settings.model_dump_json(include=RENDERED_SETTINGS),
            "careers": [options.model_dump_json() for options in careers],
        }
        return super().payload_digest({"url": payload["url"], "page": page}, None)

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        credentials = self.credentials()
        assert credentials is not None  # make_credentials always makes some
        if not self.options.batch:
            return [self._send_alone(client, credentials, op) for op in batch]
        parts = [
            BatchPart(f"op-{op.key}{suffix}", op.key, body)
            for op in batch
            for suffix, body in notifications(op.payload)
        ]
        results = self._post_all(client, credentials, parts)
        refused = [part for part in parts if results[part.content_id].status == 401]
        if refused and credentials.invalidate():  # the token lapsed: once more with a new one
            results.update(self._post_all(client, credentials, refused))
        return [
            self._outcome(op, [results[p.content_id] for p in parts if p.key == op.key])
            for op in batch
        ]

    def _url(self, path: str) -> str:
        return f"{str(self.options.endpoint).rstrip('/')}{path}"

    def _send_alone(self, client: httpx.Client, credentials: Credentials, op: Outgoing) -> Outcome:
        """One request per URL; a failure raises, as for any single request."""
        for _suffix, body in notifications(op.payload):
            authorized(
                credentials, client, "POST", self._url(PUBLISH_PATH), target=self.name, json=body
            )
        return Outcome(op.key, ok=True, remote_id=op.payload["url"])

    def _post_all(
        self, client: httpx.Client, credentials: Credentials, parts: Sequence[BatchPart]
    ) -> dict[str, PartResult]:
        """Every part's result, in batch requests of at most 100 parts.  A request that fails
        whole raises when nothing was answered yet (so that the batch is retried whole), else
        its parts are queued with its error."""
        results: dict[str, PartResult] = {}
        for chunk in _chunks(parts, BATCH_LIMIT):
            try:
                results.update(self._post_batch(client, credentials, chunk))
            except AuthenticationError:
                raise
            except PushError as error:
                if not results:
                    raise
                failed = PartResult(
                    error.status_code, error.message, error.retryable, error.retry_after
                )
                results.update({part.content_id: failed for part in chunk})
        return results

    def _post_batch(
        self, client: httpx.Client, credentials: Credentials, parts: Sequence[BatchPart]
    ) -> dict[str, PartResult]:
        boundary = f"batch_{secrets.token_hex(16)}"
        inner_path = urlsplit(str(self.options.endpoint)).path.rstrip("/") + PUBLISH_PATH
        response = authorized(
            credentials,
            client,
            "POST",
            self._url(BATCH_PATH),
            target=self.name,
            content=encode_batch(parts, boundary, inner_path),
            headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
        )
        try:
            answers = decode_batch(response.headers.get("content-type", ""), response.content)
        except ValueError as error:
            raise PushError(
                f"the batch answer could not be read: {error}", target=self.name, retryable=True
            ) from None
        results = {}
        for part in parts:
            answer = answers.get(part.content_id)
            previous = part.content_id.endswith("-previous")
            what = f"URL_DELETED of the previous URL {part.body['url']}: " if previous else ""
            results[part.content_id] = (
                part_result(answer, what)
                if answer is not None
                else PartResult(None, f"the batch answer has no part for <{part.content_id}>", True)
            )
        return results

    def _outcome(self, op: Outgoing, results: Sequence[PartResult]) -> Outcome:
        """One operation's outcome from its parts' results (two when its URL changed)."""
        refused = next((r for r in results if r.status in AUTH_STATUS), None)
        if refused is not None:
            raise AuthenticationError(refused.message, target=self.name, status_code=refused.status)
        failed = [r for r in results if not r.ok]
        if not failed:
            return Outcome(op.key, ok=True, remote_id=op.payload["url"])
        final = next((r for r in failed if not r.retryable), None)
        if final is not None:
            return Outcome(op.key, ok=False, error=final.message)
        waits = [r.retry_after for r in failed if r.retry_after is not None]
        return Outcome(
            op.key,
            ok=False,
            error=failed[0].message,
            retryable=True,
            retry_after=max(waits) if waits else None,
        )


def _chunks(parts: Sequence[BatchPart], size: int) -> Iterator[Sequence[BatchPart]]:
    for start in range(0, len(parts), size):
        yield parts[start : start + size]
