"""A local job board: the three push APIs syndicate talks to, with faults injected on request.

Tests, benchmarks and people trying syndicate run it instead of the real services::

    with BoardServer(token="t", hook_secret="s") as board:
        # linkedin_api endpoint: board.url; google_indexing endpoint: board.url;
        # webhook url: board.hook_url
        board.add_faults({"kind": "status", "status": 429, "retry_after": 1})
        ...
        assert board.state().jobs["sales-manager"].creates == 1

or standalone: ``python -m syndicate.testing.board --port 8765 --token t --hook-secret s``.

The APIs, as the boards document them (one server, all at its root):

``POST /simpleJobPostings`` (LinkedIn-style jobs API)
    Headers ``Authorization: Bearer <token>`` and ``X-Restli-Method: batch_create``; body
    ``{"elements": [...]}``, 1 to 100 elements, each with ``externalJobPostingId``,
    ``jobPostingOperationType`` (CREATE, UPDATE, RENEW, CLOSE) and, for CREATE and UPDATE, the
    job's fields (``title`` and ``description`` at least).  HTTP 200 with ``{"elements": [...]}``,
    one result per element in order: ``{"id": "urn:li:simpleJobPostingTask:N", "status": 202}``
    or ``{"error": {"message": …}, "status": 4xx}``.  A CREATE whose id exists is a 409 ("…
    already exists"); UPDATE, RENEW or CLOSE of an unknown id a 404.  An accepted element is
    applied when the request is received (a connection dropped afterwards leaves it applied);
    UPDATE and RENEW list a closed job again; CLOSE of a closed job is accepted.
``GET /simpleJobPostingTasks?ids=List(urn1,urn2)``
    ``{"results": {urn: {"status": "SUCCEEDED", "jobPosting": "urn:li:jobPosting:N"} |
    {"status": "IN_PROGRESS"} | {"status": "FAILED", "errorMessage": …}}, "errors": {urn: …}}``.
``POST /v3/urlNotifications:publish`` (Google Indexing API)
    Bearer token (``indexing_token``, by default the same ``token``, or one the token endpoint
    issued and not expired); ``Content-Type: application/json`` (else 400); body ``{"url": …,
    "type": "URL_UPDATED" | "URL_DELETED"}``; 200 with ``{"urlNotificationMetadata": {"url": …,
    "latestUpdate": {"url", "type", "notifyTime"}}}``, and ``latestRemove`` once the URL was
    deleted, as Google answers.  Errors are Google-shaped: ``{"error": {"code", "message",
    "status"}}``; past ``indexing_daily_quota`` notifications in a Pacific day, 429
    ``RESOURCE_EXHAUSTED``.
``POST /batch`` (Google Indexing API)
    ``multipart/mixed``, 1 to 100 ``application/http`` parts, each a publish call with its own
    ``Content-ID`` (calls take the outer ``Authorization`` unless they carry one); 200 with a
    ``multipart/mixed`` answer, one part per call with ``Content-ID: <response-…>`` and its own
    status line, in ``batch_answer_order`` (reversed unless configured).
``POST /token`` (Google's OAuth token endpoint, for service accounts)
    ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>`` signed by a
    service account in ``service_accounts``; ``{"access_token", "expires_in", "token_type"}``
    living ``indexing_token_lifetime`` seconds, or 400 with an OAuth error.  Point a key file's
    ``token_uri`` at it (see `syndicate.testing.board.indexing`).
``POST /hook`` or ``POST /hook/<anything>`` (webhook)
    A JSON body signed per Standard Webhooks: ``webhook-id``, ``webhook-timestamp`` (at most
    ``hook_tolerance``, 300 s, off the board's ``clock``) and ``webhook-signature: v1,<base64
    HMAC-SHA256 of id.timestamp.body>`` with the hook secret (or ``hook_previous_secret``), else
    401 with the reason.  A board set with ``hook_signatures="legacy"`` or ``"both"`` accepts
    the legacy ``X-Syndicate-Signature: sha256=<hex HMAC-SHA256 of the body>`` with an
    ``Idempotency-Key`` (else 400) too (see `syndicate.testing.board.hooks`).  Every delivery is
    kept, marked ``duplicate`` when its ``webhook-id`` (or legacy key) was seen before; the
    answer is 200 either way.

Missing or wrong bearer tokens get a 401.  Test control, no authentication:

``POST /_control/faults``
    A fault or a JSON list of faults (see `Fault`), consumed in order as requests come: e.g.
    ``{"path": "/simpleJobPostings", "kind": "status", "status": 500, "times": 2}``,
    ``{"kind": "status", "status": 429, "retry_after": 1}``, ``{"kind": "delay", "seconds": 5}``,
    ``{"kind": "drop_after_apply"}``, ``{"kind": "element_error", "external_id": "x", "status":
    422, "message": "…"}``, ``{"kind": "task_in_progress", "polls": 3}``, ``{"kind":
    "task_failed", "message": "…"}``.  ``DELETE /_control/faults`` clears them.
``GET /_control/state``
    The board's view (`BoardView`): jobs by external id (fields, LISTED/CLOSED, how many CREATEs
    were applied), CREATE elements received per id, tasks, indexing notifications, webhook
    deliveries, every API request received, the indexing quota used per Pacific day, the
    tokens granted (not the tokens themselves), and the faults still waiting.
``POST /_control/reset``
    Forget everything.

``latency`` (seconds) delays every API answer, for benchmarks.

The package: `config` (`BoardConfig`), `faults`, `records` (`BoardView`), `core` (`Board`), one
module per API (`linkedin`, `indexing`, `hooks`), `http` (what the APIs share), `app` and
`server` (`BoardServer`, the command line).
"""

from syndicate.testing.board.app import create_app
from syndicate.testing.board.config import DEFAULT_HOOK_SECRET, DEFAULT_TOKEN, BoardConfig
from syndicate.testing.board.core import Board
from syndicate.testing.board.faults import FAULTS, Fault
from syndicate.testing.board.records import (
    BoardView,
    HookDelivery,
    Job,
    Notification,
    RequestRecord,
    Task,
    TokenGrant,
)
from syndicate.testing.board.server import BoardServer, main

__all__ = [
    "DEFAULT_HOOK_SECRET",
    "DEFAULT_TOKEN",
    "FAULTS",
    "Board",
    "BoardConfig",
    "BoardServer",
    "BoardView",
    "Fault",
    "HookDelivery",
    "Job",
    "Notification",
    "RequestRecord",
    "Task",
    "TokenGrant",
    "create_app",
    "main",
]
