"""Webhooks signed per Standard Webhooks, and the local board that verifies them.

The first part sends deliveries through the webhook target with an `httpx.MockTransport` and
checks each header against the spec's recipe, recomputed here from the spec
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
"Signature scheme" and "Webhook headers") rather than with the target's own functions.  The
second part publishes to a real `BoardServer` over HTTP, which verifies as strictly as a
Standard Webhooks receiver: a wrong secret, a replayed delivery and a tampered body are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from syndicate.adapters import create_targets
from syndicate.adapters import webhook as webhook_module
from syndicate.adapters.base import Outgoing
from syndicate.adapters.webhook import Webhook
from syndicate.config import settings_from_data
from syndicate.errors import ConfigError, PushError
from syndicate.operations import OperationKind

ROOT = Path(__file__).resolve().parent.parent
HOOK_URL = "https://hooks.example.com/jobs"
RAW_SECRET = "a-raw-shared-secret-of-32-bytes!"  # 32 bytes, used as its UTF-8 bytes
NEW_KEY = bytes(range(32))
OLD_KEY = bytes(range(100, 132))
NEW_SECRET = "whsec_" + base64.b64encode(NEW_KEY).decode()
OLD_SECRET = "whsec_" + base64.b64encode(OLD_KEY).decode()
PAYLOAD = {"operation": "CREATE", "id": "acme.sales-manager", "url": "https://jobs/x.html"}


# -- the spec's recipe, written out here ----------------------------------------------------------


def spec_key(secret: str) -> bytes:
    """The key of a secret: base64-decoded after ``whsec_``, else (syndicate's rule) UTF-8."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_") :])
    return secret.encode("utf-8")


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """``v1,`` and the base64 HMAC-SHA256 of ``msg_id.timestamp.payload``."""
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(spec_key(secret), signed, "sha256").digest()).decode()


def receiver_accepts(secret: str, request: httpx.Request) -> bool:
    """What a Standard Webhooks receiver holding only ``secret`` does: any v1 entry matches."""
    headers = request.headers
    expected = spec_signature(
        secret, headers["webhook-id"], headers["webhook-timestamp"], request.content
    )
    entries = headers["webhook-signature"].split(" ")
    return any(hmac.compare_digest(entry, expected) for entry in entries)


# -- the target, with a fake network --------------------------------------------------------------


@dataclass
class Receiver:
    """A MockTransport that keeps every request and answers with ``answers`` in turn (200
    once they run out), or 401 when ``secret`` is set and no signature verifies with it."""

    answers: list[int] = field(default_factory=list)
    secret: str | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.secret is not None and not receiver_accepts(self.secret, request):
            return httpx.Response(401, json={"message": "bad signature"})
        status = self.answers.pop(0) if self.answers else 200
        return httpx.Response(status, json={})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def make_target(**options: Any) -> Webhook:
    """A webhook target named ``hook`` with ``options`` over the defaults."""
    settings = settings_from_data(
        {
            "organization": {"name": "Acme", "url": "https://acme.example", "email": "j@acme.ch"},
            "site": {"base_url": "https://jobs.example.com"},
            "targets": {"hook": {"type": "webhook", "url": HOOK_URL, **options}},
        }
    )
    [target] = create_targets(settings)
    assert isinstance(target, Webhook)
    return target


def operation(key: int = 7, kind: OperationKind = OperationKind.CREATE) -> Outgoing:
    return Outgoing(
        key=key, kind=kind, posting_id="acme.sales-manager", content_hash="c0ffee", payload=PAYLOAD
    )


def deliver(target: Webhook, receiver: Receiver, op: Outgoing | None = None) -> httpx.Request:
    """Send one operation through ``target`` to ``receiver``; the request it received."""
    with target.client(httpx.MockTransport(receiver)) as client:
        target.send(client, [op or operation()])
    return receiver.last


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOOK_SECRET", RAW_SECRET)
    return RAW_SECRET


STANDARD = {"webhook-id", "webhook-timestamp", "webhook-signature"}
LEGACY = {"x-syndicate-signature", "idempotency-key"}


@pytest.mark.parametrize(
    ("mode", "present", "absent"),
    [
        ("standard", STANDARD, LEGACY),
        ("legacy", LEGACY, STANDARD),
        ("both", STANDARD | LEGACY, set()),
        (None, STANDARD | LEGACY, set()),  # the default, for one release
    ],
)
def test_the_signature_option_chooses_the_headers(
    secret: str, mode: str | None, present: set[str], absent: set[str]
) -> None:
    target = make_target(**({"signature": mode} if mode else {}))
    sent = deliver(target, Receiver())
    assert present <= set(sent.headers)
    assert not absent & set(sent.headers)
    assert sent.headers["content-type"] == "application/json"


def test_the_standard_signature_is_the_specs_recipe_over_the_exact_bytes_sent(
    secret: str,
) -> None:
    sent = deliver(make_target(signature="standard"), Receiver())
    headers = sent.headers
    expected = spec_signature(
        RAW_SECRET, headers["webhook-id"], headers["webhook-timestamp"], sent.content
    )
    assert headers["webhook-signature"] == expected
    assert (
        sent.content
        == b'{"id":"acme.sales-manager","operation":"CREATE","url":"https://jobs/x.html"}'
    )


def test_the_legacy_signature_is_unchanged(secret: str) -> None:
    sent = deliver(make_target(), Receiver())
    digest = hmac.new(RAW_SECRET.encode(), sent.content, hashlib.sha256).hexdigest()
    assert sent.headers["x-syndicate-signature"] == f"sha256={digest}"
    assert sent.headers["idempotency-key"] == "acme.sales-manager:c0ffee:7"


def test_a_whsec_secret_signs_with_its_decoded_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", NEW_SECRET)
    sent = deliver(make_target(), Receiver())
    headers = sent.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + sent.content
    with_decoded_key = hmac.new(NEW_KEY, signed, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(with_decoded_key).decode()
    unpadded = NEW_SECRET.rstrip("=")
    monkeypatch.setenv("HOOK_SECRET", unpadded)  # padding is optional, as in the libraries
    assert deliver(make_target(), Receiver(secret=NEW_SECRET)) is not None


def test_during_a_rotation_both_signatures_are_sent_and_either_key_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", NEW_SECRET)
    monkeypatch.setenv("HOOK_SECRET_OLD", OLD_SECRET)
    target = make_target(previous_secret_env="HOOK_SECRET_OLD")
    old_receiver = Receiver(secret=OLD_SECRET)
    sent = deliver(target, old_receiver)  # raises if the receiver answered 401
    headers = sent.headers
    signatures = headers["webhook-signature"].split(" ")
    args = (headers["webhook-id"], headers["webhook-timestamp"], sent.content)
    assert signatures == [spec_signature(NEW_SECRET, *args), spec_signature(OLD_SECRET, *args)]
    assert receiver_accepts(NEW_SECRET, sent)
    assert not receiver_accepts(RAW_SECRET, sent)
    # The legacy header has room for one signature: the current secret's.
    digest = hmac.new(NEW_SECRET.encode(), sent.content, hashlib.sha256).hexdigest()
    assert headers["x-syndicate-signature"] == f"sha256={digest}"


def test_a_receiver_with_another_key_refuses_and_the_target_fails_authentication(
    secret: str,
) -> None:
    from syndicate.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match="HTTP 401"):
        deliver(make_target(), Receiver(secret=OLD_SECRET))


def test_the_id_is_the_same_for_every_retry_and_new_for_a_new_operation(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([1_800_000_000, 1_800_000_007, 1_800_000_030, 1_800_000_031])
    monkeypatch.setattr(webhook_module, "attempt_time", lambda: next(clock))
    receiver = Receiver(answers=[503])
    target = make_target()
    with pytest.raises(PushError):
        deliver(target, receiver)  # the publisher sends the batch again
    deliver(target, receiver)
    first, retry = receiver.requests
    resumed = deliver(make_target(), receiver)  # another run, the same queued operation
    reopened = deliver(make_target(), receiver, operation(key=12))  # same content, new operation

    ids = [r.headers["webhook-id"] for r in (first, retry, resumed, reopened)]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert all("." not in i and i.startswith("msg_") for i in ids)  # though the posting id has one
    stamps = [r.headers["webhook-timestamp"] for r in (first, retry, resumed)]
    assert stamps == ["1800000000", "1800000007", "1800000030"]  # this attempt's time
    signatures = {r.headers["webhook-signature"] for r in (first, retry, resumed)}
    assert len(signatures) == 3
    # The legacy key stays what it was: the same for every retry, new for a new operation.
    keys = [r.headers["idempotency-key"] for r in (first, retry, reopened)]
    assert keys == ["acme.sales-manager:c0ffee:7"] * 2 + ["acme.sales-manager:c0ffee:12"]


def test_the_id_of_a_close_differs_from_the_create_of_the_same_content(secret: str) -> None:
    create = deliver(make_target(), Receiver(), operation(key=3))
    close = deliver(make_target(), Receiver(), operation(key=3, kind=OperationKind.CLOSE))
    assert create.headers["webhook-id"] != close.headers["webhook-id"]


def test_the_timestamp_is_an_integer_within_a_second_of_now(secret: str) -> None:
    before = time.time()
    stamp = deliver(make_target(), Receiver()).headers["webhook-timestamp"]
    assert stamp.isdigit()
    assert before - 1 <= int(stamp) <= time.time() + 1


# -- secrets and options --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("whsec_" + base64.b64encode(b"k" * 16).decode(), "decodes to 16 bytes"),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), "decodes to 65 bytes"),
        ("whsec_not*base64!", "is not base64 after whsec_"),
        ("whsec_", "decodes to 0 bytes"),
    ],
)
def test_a_whsec_secret_outside_the_spec_disables_the_target(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("HOOK_SECRET", value)
    disabled = make_target().disabled_reason()
    assert disabled is not None and reason in disabled and "HOOK_SECRET" in disabled
    encoded = value.removeprefix("whsec_")
    assert not encoded or encoded not in disabled


def test_a_raw_secret_of_another_length_is_used_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    short = "short-legacy-secret"  # 19 bytes, as existing receivers may hold
    monkeypatch.setenv("HOOK_SECRET_SHORT", short)
    target = make_target(secret_env="HOOK_SECRET_SHORT")
    with caplog.at_level(logging.WARNING, logger="syndicate.webhook"):
        assert target.disabled_reason() is None
        sent = deliver(target, Receiver(secret=short))
    warnings = [r.getMessage() for r in caplog.records if r.name == "syndicate.webhook"]
    assert len(warnings) == 1  # once per variable
    assert "HOOK_SECRET_SHORT is 19 bytes" in warnings[0] and short not in warnings[0]
    assert receiver_accepts(short, sent)


def test_unset_secrets_disable_the_target(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.delenv("HOOK_SECRET_OLD", raising=False)
    target = make_target(previous_secret_env="HOOK_SECRET_OLD")
    assert target.disabled_reason() == "environment variable HOOK_SECRET_OLD is not set"
    monkeypatch.delenv("HOOK_SECRET")
    assert make_target().disabled_reason() == "environment variable HOOK_SECRET is not set"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"previous_secret_env": "HOOK_SECRET"}, "another variable"),
        ({"previous_secret_env": "OLD", "signature": "legacy"}, "does not send"),
        ({"signature": "v2"}, "signature"),
    ],
)
def test_inconsistent_options_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        make_target(**options)
    assert any(message in str(problem) for problem in error.value.problems)


def test_changing_how_deliveries_are_signed_resends_nothing() -> None:
    plain = make_target().fingerprint()
    assert make_target(signature="standard").fingerprint() == plain
    assert make_target(previous_secret_env="HOOK_SECRET_OLD").fingerprint() == plain


def test_the_signer_never_shows_its_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", NEW_SECRET)
    signer = make_target().signer()
    assert repr(NEW_KEY) not in repr(signer) and NEW_SECRET.encode() not in repr(signer).encode()
