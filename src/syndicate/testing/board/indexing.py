"""The Google Indexing API of the local board: publish, batch, and a service-account token
endpoint, as strict as Google's documentation.

Each rule and its source (docs/boards.md has the table, with the tests):

- ``POST /v3/urlNotifications:publish`` with ``{"url": <absolute URL>, "type": "URL_UPDATED" |
  "URL_DELETED"}``; calls "MUST use "application/json" as the Content-Type header" (400
  otherwise): developers.google.com/search/apis/indexing-api/v3/using-api, "Guidelines".  The
  answer is ``{"urlNotificationMetadata": {"url", "latestUpdate", "latestRemove"}}``:
  …/v3/reference/indexing/rest/v3/urlNotifications/publish and ``UrlNotificationMetadata``.
- ``POST /batch``: "combine up to 100 requests in a batch" (using-api, "Guidelines"): 1 to 100
  parts, else 400.  The body is ``multipart/mixed``, each part ``Content-Type:
  application/http`` with an optional ``Content-ID`` and a nested request; the nested requests
  take the outer request's ``Authorization`` unless they carry their own; the answer is
  ``multipart/mixed``, one part per call with its own HTTP status line and ``Content-ID:
  <response-…>``: Google's generic batch format (developers.google.com/webmaster-tools/v1/
  how-tos/batch, developers.google.com/glass/batch), secondary for this API.  "The server may
  perform your requests in any order" (cloud.google.com/storage/docs/batch): the parts are
  answered in ``batch_answer_order`` (reversed by default).
- ``POST /token``: OAuth 2.0's JWT-bearer grant (RFC 7523 §2.1: ``grant_type=urn:ietf:params:
  oauth:grant-type:jwt-bearer`` and ``assertion``).  The assertion is an RS256 JWT signed by
  the key of a service account in ``service_accounts`` (``iss`` its ``client_email``), whose
  ``scope`` holds the indexing scope, whose ``aud`` is Google's token URI (or this endpoint's
  own URL, which older google-auth releases sent), and whose ``exp`` has not passed and is at
  most an hour after ``iat``: developers.google.com/identity/protocols/oauth2/service-account,
  "Forming the JWT claim set" (quoted by secondary copies).  A refusal is 400 with ``{"error",
  "error_description"}`` (RFC 6749 §5.2: ``invalid_grant``, ``invalid_scope``,
  ``unsupported_grant_type``, ``invalid_request``); a grant is ``{"access_token",
  "expires_in", "token_type": "Bearer"}`` (RFC 6749 §5.1), the token living
  ``indexing_token_lifetime`` seconds.
- The publish and batch calls take those tokens, or the static ``indexing_token``; an unknown
  or expired token is 401 ``UNAUTHENTICATED`` in Google's error shape ``{"error": {"code",
  "message", "status"}}`` (secondary: public issue reports of Indexing API errors).
- At most ``indexing_daily_quota`` (200) notifications a day, URL_UPDATED and URL_DELETED alike,
  the day ending at midnight Pacific Time (…/indexing-api/v3/quota-pricing), counted across
  publish calls and batch parts (each part counts, webmaster-tools batch doc); past it, 429
  ``RESOURCE_EXHAUSTED`` with the message users report (secondary: goenning/google-indexing-
  script#8).  Only accepted notifications count (Google's own counting is not documented).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import http
import io
import json
import math
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from http.client import HTTPException, parse_headers
from itertools import pairwise
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from google.auth import crypt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.http import Api, Problem, json_body
from syndicate.testing.board.records import Notification, TokenGrant

PUBLISH_PATH = "/v3/urlNotifications:publish"
BATCH_PATH = "/batch"
TOKEN_PATH = "/token"
BATCH_LIMIT = 100
INDEXING_SCOPE = "https://www.googleapis.com/auth/indexing"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
MAX_ASSERTION_LIFETIME_S = 3600
CLOCK_SKEW_S = 30
PACIFIC = ZoneInfo("America/Los_Angeles")
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
QUOTA_EXCEEDED = (
    "Quota exceeded for quota metric 'Publish requests' and limit 'Publish requests per day' "
    "of service 'indexing.googleapis.com'"
)
BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
Answer = tuple[int, dict[str, Any]]  # a status and its JSON body


def error(status: int, message: str) -> dict[str, Any]:
    """Google's error body."""
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "")}}


def oauth_error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """An OAuth 2.0 token endpoint's error body (RFC 6749 §5.2)."""
    named = code or ("invalid_request" if status < 500 else "server_error")
    return {"error": named, "error_description": message}


def pacific_day() -> str:
    """Today in Pacific Time, as an ISO date: the day Google's quota counts."""
    return now().astimezone(PACIFIC).date().isoformat()


def notify(board: Board, url: str, kind: Literal["URL_UPDATED", "URL_DELETED"]) -> dict[str, Any]:
    """Record an indexing notification; the URL's notification metadata."""
    with board.lock:
        return _record(board, url, kind)


def _record(board: Board, url: str, kind: Literal["URL_UPDATED", "URL_DELETED"]) -> dict[str, Any]:
    # The caller holds board.lock.
    notification = Notification(url=url, type=kind, notify_time=board.now())
    latest = {
        "url": url,
        "type": kind,
        "notifyTime": notification.notify_time.isoformat().replace("+00:00", "Z"),
    }
    board.state.notifications.append(notification)
    metadata = board.index_metadata.setdefault(url, {"url": url})
    metadata["latestUpdate" if kind == "URL_UPDATED" else "latestRemove"] = latest
    return dict(metadata)


# -- access tokens ---------------------------------------------------------------------------


def token_problem(board: Board, authorization: str) -> Problem | None:
    """401 unless ``authorization`` is ``Bearer`` with the static indexing token or a token
    the token endpoint issued that has not expired."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return (401, UNAUTHENTICATED)
    if hmac.compare_digest(token.encode(), board.config.indexing_bearer.encode()):
        return None
    with board.lock:
        expires = board.access_tokens.get(token)
    if expires is None or expires <= board.now():
        return (401, UNAUTHENTICATED)
    return None


class GrantRefused(Exception):
    """The token endpoint refuses an assertion: an OAuth error code and its description."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_assertion(board: Board, assertion: str, token_uri: str) -> dict[str, Any]:
    """The claims of a service account's JWT assertion, checked; `GrantRefused` otherwise."""
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header, claims = json.loads(_b64(header_b64)), json.loads(_b64(claims_b64))
        signature = _b64(signature_b64)
    except (ValueError, binascii.Error):
        raise GrantRefused("invalid_grant", "Invalid JWT: the assertion is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise GrantRefused("invalid_grant", "Invalid JWT: the assertion is not a JWT")
    if header.get("alg") != "RS256":
        raise GrantRefused("invalid_grant", "Invalid JWT: the signature must be RS256")
    email = claims.get("iss")
    public_key = board.config.service_accounts.get(email) if isinstance(email, str) else None
    if public_key is None:
        raise GrantRefused("invalid_grant", "Invalid grant: account not found")
    signed = f"{header_b64}.{claims_b64}".encode()
    if not crypt.RSAVerifier.from_string(public_key).verify(signed, signature):
        raise GrantRefused("invalid_grant", "Invalid JWT Signature.")
    if INDEXING_SCOPE not in str(claims.get("scope", "")).split():
        raise GrantRefused("invalid_scope", f"the scope must include {INDEXING_SCOPE}")
    if claims.get("aud") not in (GOOGLE_TOKEN_URI, token_uri):
        raise GrantRefused("invalid_grant", f"Invalid JWT: aud must be {GOOGLE_TOKEN_URI}")
    _check_times(claims)
    return claims


def _check_times(claims: dict[str, Any]) -> None:
    issued, expires = claims.get("iat"), claims.get("exp")
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in (issued, expires)):
        raise GrantRefused("invalid_grant", BAD_TIMES)
    moment = time.time()
    # The all(...) above made both numbers; mypy does not narrow through it.
    if (
        expires <= moment - CLOCK_SKEW_S  # type: ignore[operator]
        or issued > moment + CLOCK_SKEW_S  # type: ignore[operator]
        or expires - issued > MAX_ASSERTION_LIFETIME_S  # type: ignore[operator]
    ):
        raise GrantRefused("invalid_grant", BAD_TIMES)


def _token(board: Board, request: Request, body: bytes) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        message = "the body must be application/x-www-form-urlencoded"
        return JSONResponse(oauth_error(400, message), 400)
    form = parse_qs(body.decode("utf-8", "replace"))
    grant_type = form.get("grant_type", [""])[0]
    assertion = form.get("assertion", [""])[0]
    if grant_type != JWT_BEARER:
        message = f"grant_type must be {JWT_BEARER}"
        return JSONResponse(oauth_error(400, message, "unsupported_grant_type"), 400)
    if not assertion:
        return JSONResponse(oauth_error(400, "assertion is required"), 400)
    token_uri = str(request.url.replace(query=""))
    try:
        claims = verify_assertion(board, assertion, token_uri)
    except GrantRefused as refused:
        return JSONResponse(oauth_error(400, refused.description, refused.code), 400)
    return JSONResponse(_grant(board, claims), headers={"Cache-Control": "no-store"})


def _grant(board: Board, claims: dict[str, Any]) -> dict[str, Any]:
    lifetime = board.config.indexing_token_lifetime
    token = f"ya29.local-{secrets.token_urlsafe(32)}"
    issued = board.now()
    expires = issued + timedelta(seconds=lifetime)
    grant = TokenGrant(
        client_email=claims["iss"], scope=claims["scope"], issued_at=issued, expires_at=expires
    )
    with board.lock:
        board.access_tokens[token] = expires
        board.state.token_grants.append(grant)
    return {"access_token": token, "expires_in": math.ceil(lifetime), "token_type": "Bearer"}


# -- publish ---------------------------------------------------------------------------------


def publish_call(board: Board, content_type: str, body: bytes) -> Answer:
    """One authenticated publish call, alone or in a batch: validated, counted, recorded."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        return 400, error(400, "Content-Type must be application/json")
    data = json_body(body)
    url = data.get("url") if isinstance(data, dict) else None
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(url, str) or not _absolute_http(url):
        return 400, error(400, "url must be an absolute http(s) URL")
    if kind not in ("URL_UPDATED", "URL_DELETED"):
        return 400, error(400, "type must be URL_UPDATED or URL_DELETED")
    with board.lock:
        day = pacific_day()
        used = board.state.indexing_quota.get(day, 0)
        if used >= board.config.indexing_daily_quota:
            return 429, error(429, QUOTA_EXCEEDED)
        board.state.indexing_quota[day] = used + 1
        return 200, {"urlNotificationMetadata": _record(board, url, kind)}


def _absolute_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _publish(board: Board, request: Request, body: bytes) -> Response:
    status, answer = publish_call(board, request.headers.get("content-type", ""), body)
    return JSONResponse(answer, status)


# -- batch -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InnerRequest:
    """One HTTP request inside a batch."""

    content_id: str | None
    method: str
    target: str
    headers: Message
    body: bytes


def split_multipart(content_type: str, body: bytes) -> list[bytes]:
    """The parts of a ``multipart/mixed`` body (RFC 2046 §5.1.1), each its headers and content;
    ValueError when it is not one."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/mixed" or not isinstance(boundary, str):
        raise ValueError("Content-Type must be multipart/mixed with a boundary")
    delimiter = re.compile(
        rb"(?:\A|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|\Z)"
    )
    marks = list(delimiter.finditer(body))
    if not marks or marks[-1].group(1) is None:
        raise ValueError("the multipart body has no closing boundary")
    parts = []
    for mark, following in pairwise(marks):
        if mark.group(1):
            break
        parts.append(body[mark.end() : following.start()])
    return parts


def parse_inner_request(part: bytes) -> InnerRequest:
    """One ``application/http`` part: its MIME headers, then the request line, the request's
    headers and its body; ValueError when it is not one."""
    stream = io.BytesIO(part)
    try:
        mime = parse_headers(stream)
        if mime.get_content_type() != "application/http":
            raise ValueError("each part must be Content-Type: application/http")
        line = stream.readline()
        while line in (b"\r\n", b"\n"):
            line = stream.readline()
        method, target, *version = line.decode("latin-1").split()
        headers = parse_headers(stream)
    except (HTTPException, UnicodeDecodeError, ValueError) as problem:
        raise ValueError(f"a part is not an HTTP request: {problem}") from None
    if len(version) > 1 or (version and not version[0].startswith("HTTP/")):
        raise ValueError(f"a part's request line is not METHOD PATH HTTP/x.y: {line!r}")
    content = stream.read()
    length = headers.get("Content-Length", "")
    content = content[: int(length)] if length.isdigit() else content.rstrip(b"\r\n")
    content_id = mime.get("Content-ID", "").strip().removeprefix("<").removesuffix(">") or None
    return InnerRequest(content_id, method.upper(), target, headers, content)


def answer_call(board: Board, call: InnerRequest, authorization: str) -> Answer:
    """What the batch answers for one call: its own authentication, then the publish."""
    if call.method != "POST" or urlsplit(call.target).path != PUBLISH_PATH:
        return 404, error(404, f"no such method: {call.method} {call.target}")
    problem = token_problem(board, call.headers.get("Authorization") or authorization)
    if problem is not None:
        return problem[0], error(*problem)
    return publish_call(board, call.headers.get("Content-Type", ""), call.body)


def encode_answers(
    answers: Sequence[tuple[str | None, int, dict[str, Any]]], boundary: str
) -> bytes:
    """A ``multipart/mixed`` batch answer: per call, ``Content-ID: <response-…>``, a status
    line, JSON headers and the body."""
    chunks = []
    for content_id, status, answer in answers:
        body = json.dumps(answer).encode()
        named = f"Content-ID: <response-{content_id}>\r\n" if content_id else ""
        phrase = http.HTTPStatus(status).phrase
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/http\r\n{named}\r\n"
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _batch(board: Board, request: Request, body: bytes) -> Response:
    try:
        parts = split_multipart(request.headers.get("content-type", ""), body)
        calls = [parse_inner_request(part) for part in parts]
    except ValueError as problem:
        return JSONResponse(error(400, str(problem)), 400)
    if not calls:
        return JSONResponse(error(400, "a batch must hold at least one request"), 400)
    if len(calls) > BATCH_LIMIT:
        message = f"at most {BATCH_LIMIT} requests per batch, got {len(calls)}"
        return JSONResponse(error(400, message), 400)
    outer = request.headers.get("authorization", "")
    answers = [(call.content_id, *answer_call(board, call, outer)) for call in calls]
    if board.config.batch_answer_order == "reversed":
        answers.reverse()
    boundary = f"batch_{secrets.token_hex(12)}"
    return Response(
        encode_answers(answers, boundary), media_type=f"multipart/mixed; boundary={boundary}"
    )


def _no_outer_check(board: Board, request: Request, body: bytes) -> Problem | None:
    return None  # a batch's calls are authenticated one by one


PUBLISH = Api(
    error,
    lambda board, request, _: token_problem(board, request.headers.get("authorization", "")),
    _publish,
)
BATCH = Api(error, _no_outer_check, _batch)
TOKEN = Api(oauth_error, _no_outer_check, _token)
