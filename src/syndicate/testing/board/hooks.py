"""The webhook receiver of the local board: ``POST /hook`` (or ``/hook/<anything>``).

It verifies as strictly as a Standard Webhooks receiver (the reference libraries' rules,
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"Verifying signatures"), with the board's own code so that a mistake of the sender is not
mirrored here.  Every failure is a 401 with the reason:

- ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` are all required when any of
  them is sent, and always on a board accepting only ``standard`` signatures;
- the id contains no ``.``; the timestamp is an integer unix time at most ``hook_tolerance``
  seconds (300) away from the board's clock, before or after: a captured delivery replayed
  later is refused;
- one ``v1,<base64>`` entry of the space-separated ``webhook-signature`` is the HMAC-SHA256 of
  ``{id}.{timestamp}.{body}`` with the key of ``hook_secret`` or ``hook_previous_secret`` (the
  base64-decoded bytes of ``whsec_<base64>``, the UTF-8 bytes of a raw secret), compared in
  constant time; entries of other versions are skipped;
- ``X-Syndicate-Signature: sha256=<hex HMAC-SHA256 of the body>`` with ``hook_secret``'s UTF-8
  bytes counts only on a board accepting ``legacy`` signatures; there it is required (``legacy``)
  or, on a ``both`` board, checked when sent or when no ``webhook-*`` header is.

An accepted delivery is recorded (`HookDelivery`) and answered 200 ``{"received": true,
"duplicate": …}``; a repeat of a ``webhook-id`` (for a delivery verified by its legacy signature
alone: of its ``Idempotency-Key``, then required, else 400) is marked ``duplicate`` and still
answered 200, as the spec's idempotency advice implies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syndicate.testing.board.core import Board, now
from syndicate.testing.board.http import Api, Problem, json_body
from syndicate.testing.board.records import HookDelivery

HOOK_PATH = "/hook"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
LEGACY_HEADER = "x-syndicate-signature"
Scheme = Literal["standard", "legacy", "both"]


@dataclass(frozen=True, slots=True)
class Verified:
    """What a delivery's verification established."""

    scheme: Scheme
    webhook_id: str | None = None
    timestamp: int | None = None


def error(status: int, message: str) -> dict[str, Any]:
    return {"error": message, "status": status}


def key_of(secret: str) -> bytes:
    """The HMAC key of a board secret: ``whsec_<base64>`` decoded, else its UTF-8 bytes."""
    if not secret.startswith("whsec_"):
        return secret.encode()
    encoded = secret[len("whsec_") :]
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("the board's whsec_ secret is not base64") from None


def signature_ok(board: Board, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<HMAC of body with the hook secret>`` (legacy)."""
    expected = "sha256=" + hmac.new(board.hook_secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(header.strip(), expected)


def standard_problem(board: Board, headers: Mapping[str, str], body: bytes) -> Problem | None:
    """Why a delivery's ``webhook-*`` headers do not verify, or None."""
    missing = [name for name in STANDARD_HEADERS if not headers.get(name, "").strip()]
    if missing:
        return (401, f"{', '.join(STANDARD_HEADERS)} are all required; missing {missing[0]}")
    msg_id = headers["webhook-id"].strip()
    stamp = headers["webhook-timestamp"].strip()
    if "." in msg_id:
        return (401, "webhook-id must not contain '.'")
    if not re.fullmatch(r"[0-9]+", stamp):
        return (401, "webhook-timestamp must be an integer unix time")
    offset = int(stamp) - board.now().timestamp()
    if abs(offset) > board.config.hook_tolerance:
        when = "in the future" if offset > 0 else "old"
        return (
            401,
            f"webhook-timestamp is {abs(offset):.0f} s {when}, outside the "
            f"{board.config.hook_tolerance:.0f} s tolerance: a replayed or delayed delivery",
        )
    secrets = [board.config.hook_secret, board.config.hook_previous_secret]
    content = f"{msg_id}.{stamp}.".encode() + body
    expected = [
        "v1," + base64.b64encode(hmac.new(key_of(s), content, hashlib.sha256).digest()).decode()
        for s in secrets
        if s is not None
    ]
    sent = [entry for entry in headers["webhook-signature"].split() if entry.startswith("v1,")]
    # Every pair is compared, so that the time taken says nothing about which one matched.
    matches = [hmac.compare_digest(s.encode(), e.encode()) for s in sent for e in expected]
    if not any(matches):
        return (401, "no v1 signature in webhook-signature matches the body")
    return None


def verify(board: Board, headers: Mapping[str, str], body: bytes) -> Verified | Problem:
    """The delivery's verified scheme, or the problem that refuses it (see the module)."""
    accepts = board.config.hook_signatures
    standard_sent = any(name in headers for name in STANDARD_HEADERS)
    standard = standard_sent or accepts == "standard"
    if standard:
        problem = standard_problem(board, headers, body)
        if problem is not None:
            return problem
    legacy = accepts == "legacy" or (
        accepts == "both" and (LEGACY_HEADER in headers or not standard_sent)
    )
    if legacy and not signature_ok(board, body, headers.get(LEGACY_HEADER)):
        return (401, "X-Syndicate-Signature is missing or does not match the body")
    scheme: Scheme = "both" if standard and legacy else "standard" if standard else "legacy"
    if not standard:
        return Verified(scheme)
    return Verified(scheme, headers["webhook-id"].strip(), int(headers["webhook-timestamp"]))


def receive(
    board: Board, path: str, verified: Verified, key: str | None, body: Any
) -> HookDelivery:
    """Record a verified delivery, a duplicate when its webhook-id (or, without one, its
    idempotency key) was seen before."""
    seen = verified.webhook_id or key or ""
    with board.lock:
        delivery = HookDelivery(
            path=path,
            idempotency_key=key,
            webhook_id=verified.webhook_id,
            timestamp=verified.timestamp,
            scheme=verified.scheme,
            body=body,
            duplicate=seen in board.seen_keys,
            received_at=now(),
        )
        board.seen_keys.add(seen)
        board.state.deliveries.append(delivery)
        return delivery


def _authenticate(board: Board, request: Request, body: bytes) -> Problem | None:
    result = verify(board, request.headers, body)
    if isinstance(result, Verified):
        request.state.hook_verified = result
        return None
    return result


def _receive(board: Board, request: Request, body: bytes) -> Response:
    verified: Verified = request.state.hook_verified
    key = request.headers.get("idempotency-key", "").strip() or None
    if verified.webhook_id is None and key is None:
        return JSONResponse(error(400, "Idempotency-Key is required"), 400)
    data = json_body(body)
    if data is None:
        return JSONResponse(error(400, "the body must be JSON"), 400)
    delivery = receive(board, request.url.path, verified, key, data)
    return JSONResponse({"received": True, "duplicate": delivery.duplicate})


HOOK = Api(error, _authenticate, _receive)
