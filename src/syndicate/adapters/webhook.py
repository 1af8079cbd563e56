"""A signed JSON POST per operation to a URL of the team's choosing (push), per Standard Webhooks.

Each delivery is signed as the Standard Webhooks specification says (version 1.0.0,
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md;
line numbers below are those of commit b2fa7b8719fb75d326b591077f5d1b385cfcdfae):

``webhook-id``
    ``msg_`` and 32 hex digits: a digest (128 bits of SHA-256) of the operation's idempotency key
    ``<posting id>:<content hash>[:close]:<operation>``.  Every retry of one operation, also after
    a killed run resumes it, carries the same id, and a new operation (say a job reopened with the
    content it had before) a new one ("Webhook metadata", L137).  A digest, because the id must
    not contain ``.`` ("Signature scheme", L163) and posting ids may.
``webhook-timestamp``
    The integer unix time of *this attempt*, fresh on every retry ("Webhook metadata", L135;
    "Webhook headers", L212).
``webhook-signature``
    ``v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` over the exact bytes sent
    ("Signature scheme", L141-143, L165, L173-177, L194).  While keys are rotated
    (``previous_secret_env`` set) it carries two signatures, space-separated, the current key's
    first: ``v1,<new> v1,<old>``; a receiver tries each until one matches ("Webhook headers",
    L213-217).

The secret, read from ``secret_env`` (and ``previous_secret_env``), is either in the spec's
``whsec_<base64>`` form, whose key is the base64-decoded bytes ("Signature scheme", L175), or
raw, used as its UTF-8 bytes.  The spec asks for 24 to 64 random bytes (L174).  A ``whsec_``
secret that is not base64 or decodes to another length is a mistake (often a truncated paste):
the target is disabled with the reason, before anything is sent.  A raw secret of another
length is what existing receivers share with us, so it is used, with a warning (once per
variable) to replace it with a ``whsec_`` one of 32 random bytes.

``signature`` chooses the headers, for receivers written before Standard Webhooks ("Migrating to
Standard Webhooks", L331, says to send both sets side by side):

``standard``
    Only the three ``webhook-*`` headers.
``legacy``
    Only what syndicate sent before: ``X-Syndicate-Signature: sha256=<hex HMAC-SHA256 of the
    body>``, keyed with the current secret's value as UTF-8 bytes (a ``whsec_`` value too, as it
    is written), and ``Idempotency-Key: <posting id>:<content hash>[:close]:<operation>``.
    No timestamp is signed: a captured delivery can be replayed at any time.
``both`` (the default for this release)
    Both sets.

A receiver verifies the signature with a constant-time comparison, refuses timestamps outside a
tolerance (the spec names no number, L233; the reference libraries use 5 minutes) and drops a
``webhook-id`` it has seen (L234): docs/webhooks-receiver.md shows how.  A receiver that answers
401 or 403 makes the target fail authentication: its operations stay queued.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import model_validator

from syndicate.adapters.base import (
    OperationKind,
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.http import request
from syndicate.errors import AuthenticationError
from syndicate.model import HttpUrl, Posting
from syndicate.registry import SECRET, TRANSPORT
from syndicate.secret import EnvName, read_secret

if TYPE_CHECKING:
    import httpx  # imported where a request is sent (`syndicate.adapters.base`)

SignatureMode = Literal["standard", "legacy", "both"]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
SIGNATURE_HEADER = "X-Syndicate-Signature"  # legacy
IDEMPOTENCY_HEADER = "Idempotency-Key"  # legacy
SECRET_PREFIX = "whsec_"
KEY_BYTES = range(24, 65)  # the spec's 24 to 64 bytes
log = logging.getLogger("syndicate.webhook")
_WARNED: set[str] = set()


class WebhookOptions(PushOptions):
    """``{type: webhook, url: https://…, secret_env: HOOK_SECRET}``, plus ``signature:
    standard | legacy | both`` (default ``both``) and, while keys are rotated,
    ``previous_secret_env: HOOK_SECRET_OLD``."""

    type: Literal["webhook"]
    url: Annotated[HttpUrl, TRANSPORT]
    secret_env: Annotated[EnvName, SECRET] = "HOOK_SECRET"
    previous_secret_env: Annotated[EnvName | None, TRANSPORT] = None
    signature: Annotated[SignatureMode, TRANSPORT] = "both"

    @model_validator(mode="after")
    def _rotation_makes_sense(self) -> WebhookOptions:
        if self.previous_secret_env is None:
            return self
        if self.previous_secret_env == self.secret_env:
            raise ValueError("previous_secret_env must name another variable than secret_env")
        if self.signature == "legacy":
            raise ValueError(
                "previous_secret_env signs the webhook-signature header, which signature: "
                "legacy does not send (use standard or both)"
            )
        return self


class KeyProblem(ValueError):
    """A secret that cannot sign; the message names its variable, never its value."""


def signing_key(secret: str) -> bytes:
    """The HMAC key ``secret`` stands for: the base64-decoded bytes of ``whsec_<base64>``
    (padding optional), the UTF-8 bytes of any other secret.

    Raises `ValueError` (without quoting the secret) when a ``whsec_`` secret is not base64.
    """
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode()
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("is not base64 after whsec_") from None


def read_key(env_name: str) -> bytes:
    """The signing key of the secret in ``env_name``, read now (and registered for masking).

    Raises `KeyProblem` when the variable is unset, or holds a ``whsec_`` secret that is not
    base64 or not 24 to 64 bytes long; warns, once per variable, of a raw one of another length.
    """
    secret = read_secret(env_name)
    if secret is None:
        raise KeyProblem(f"environment variable {env_name} is not set")
    value = secret.get_secret_value()
    try:
        key = signing_key(value)
    except ValueError as error:
        raise KeyProblem(f"the secret in {env_name} {error}") from None
    if len(key) not in KEY_BYTES:
        if value.startswith(SECRET_PREFIX):
            raise KeyProblem(
                f"the whsec_ secret in {env_name} decodes to {len(key)} bytes; Standard Webhooks "
                "keys are 24 to 64 bytes"
            )
        _warn_raw_length(env_name, len(key))
    return key


def _warn_raw_length(env_name: str, length: int) -> None:
    if env_name in _WARNED:
        return
    _WARNED.add(env_name)
    log.warning(
        "the secret in %s is %d bytes; Standard Webhooks asks for 24 to 64 random bytes: it is "
        "used as it is, but replace it with whsec_ and the base64 of 32 random bytes",
        env_name,
        length,
    )


def webhook_id(op: Outgoing) -> str:
    """``msg_<32 hex digits>``, a digest of the operation's idempotency key: the same for every
    retry of one operation, never containing ``.``."""
    return "msg_" + hashlib.sha256(idempotency_key(op).encode()).hexdigest()[:32]


def idempotency_key(op: Outgoing) -> str:
    """``<posting id>:<content hash>[:close]:<operation number>``."""
    suffix = ":close" if op.kind is OperationKind.CLOSE else ""
    return f"{op.posting_id}:{op.content_hash}{suffix}:{op.key}"


def standard_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{msg_id}.{timestamp}.{body}`` with ``key``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def legacy_signature(key: bytes, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256>`` of ``body`` with ``key``: the signature before v1."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def attempt_time() -> int:
    """The integer unix time of the attempt being made."""
    return int(time.time())


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent, and signed: compact, sorted JSON."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs deliveries: ``keys`` are the Standard Webhooks keys, current first; ``legacy_key``
    the key of the legacy header."""

    mode: SignatureMode
    keys: tuple[bytes, ...] = field(repr=False)
    legacy_key: bytes = field(repr=False)

    def headers(self, op: Outgoing, body: bytes, timestamp: int) -> dict[str, str]:
        """The signature headers of one attempt to deliver ``body`` for ``op``."""
        headers: dict[str, str] = {}
        if self.mode in ("standard", "both"):
            msg_id = webhook_id(op)
            signatures = (standard_signature(k, msg_id, timestamp, body) for k in self.keys)
            headers[ID_HEADER] = msg_id
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[STANDARD_SIGNATURE_HEADER] = " ".join(signatures)
        if self.mode in ("legacy", "both"):
            headers[SIGNATURE_HEADER] = legacy_signature(self.legacy_key, body)
            headers[IDEMPOTENCY_HEADER] = idempotency_key(op)
        return headers


class Webhook(PushTarget):
    """Posts each create, update and close as signed JSON."""

    summary: ClassVar[str] = "webhook"
    spec_url: ClassVar[str | None] = (
        "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md"
    )
    Options: ClassVar[type[TargetOptions]] = WebhookOptions
    options: WebhookOptions

    operation_keys: ClassVar[frozenset[str]] = frozenset({"operation"})

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "operation": str(kind),
            "id": posting_id,
            "url": context.settings.job_url(posting_id),
        }
        if posting is not None and kind is not OperationKind.CLOSE:
            body["posting"] = posting.model_dump(mode="json", exclude={"description"}) | {
                "company": context.company(posting),
                "description_html": posting.description_html,
                "description_text": posting.description_text,
            }
        return body

    def make_credentials(self) -> None:
        return None  # deliveries are signed, not sent with a bearer token

    def disabled_reason(self) -> str | None:
        reason = super().disabled_reason()
        if reason is not None:
            return reason
        try:
            self.signer()
        except KeyProblem as problem:
            return str(problem)
        return None

    def signer(self) -> Signer:
        """A `Signer` with the secrets in the environment now; raises `KeyProblem`."""
        options = self.options
        secret = read_secret(options.secret_env)
        if secret is None:
            raise KeyProblem(f"environment variable {options.secret_env} is not set")
        keys: tuple[bytes, ...] = ()
        if options.signature != "legacy":
            names = [options.secret_env, options.previous_secret_env]
            keys = tuple(read_key(name) for name in names if name is not None)
        return Signer(options.signature, keys, secret.get_secret_value().encode())

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        try:
            signer = self.signer()
        except KeyProblem as problem:
            raise AuthenticationError(str(problem), target=self.name) from None
        outcomes = []
        for op in batch:
            body = encode(op.payload)
            request(
                client,
                "POST",
                self.options.url,
                target=self.name,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    **signer.headers(op, body, attempt_time()),
                },
            )
            outcomes.append(Outcome(op.key, ok=True))
        return outcomes
