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
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from syndicate.adapters import create_targets
from syndicate.adapters import webhook as webhook_module
from syndicate.adapters.base import Outgoing
from syndicate.adapters.webhook import Webhook
from syndicate.config import Settings, settings_from_data
from syndicate.errors import AuthenticationError, ConfigError, PushError
from syndicate.loading import load_postings
from syndicate.operations import OperationKind
from syndicate.publish import PublishReport, publish
from syndicate.state import StateStore
from syndicate.status import status_rows
from syndicate.testing import BoardServer

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


# -- over real HTTP, against the local board ------------------------------------------------------


class Recording(httpx.BaseTransport):
    """The network, keeping every request exactly as sent (its bytes and headers)."""

    def __init__(self) -> None:
        self.network = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.network.handle_request(request)

    def close(self) -> None:
        self.network.close()


class Project:
    """The example postings, a config.yaml whose only target is the board's webhook, a state."""

    def __init__(self, root: Path, board: BoardServer, **hook: Any) -> None:
        self.root = root
        self.board = board
        shutil.copytree(ROOT / "postings", root / "postings")
        config = {
            "organization": {"name": "SixSq", "url": "https://sixsq.com", "email": "j@sixsq.com"},
            "site": {"base_url": "https://jobs.example.com"},
            "state": "sqlite:///state/state.db",
            "targets": {"hook": {"type": "webhook", "url": board.hook_url, **hook}},
            "retry": {"max_attempts": 2, "backoff": "10ms", "max_backoff": "100ms"},
        }
        (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.recording = Recording()

    @property
    def settings(self) -> Settings:
        data = yaml.safe_load((self.root / "config.yaml").read_text())
        return settings_from_data(data, root=self.root)

    def publish(self) -> PublishReport:
        """One publish, its requests kept in ``recording``."""
        settings = self.settings
        loaded = load_postings(settings.postings_dir, settings.timezone)
        with StateStore(settings.state_url) as store:
            return publish(settings, loaded, store, transport=lambda _target: self.recording)

    def open_ids(self) -> set[str]:
        """Ids of the postings listed now: those the webhook is told about."""
        settings = self.settings
        loaded = load_postings(settings.postings_dir, settings.timezone)
        now = datetime.now(UTC)
        return {p.id for p in loaded.postings if p.is_listed(now, settings.timezone)}

    def states(self) -> dict[str, str]:
        """Each posting's delivery state on the webhook (``status``)."""
        with StateStore(self.settings.state_url) as store:
            return {row["posting"]: row["state"] for row in status_rows(store)}


BOARD_SECRET = "board-hook-secret-of-some-length"


@pytest.fixture
def board() -> Iterator[BoardServer]:
    """A board with the default, strict verification: Standard Webhooks only."""
    with BoardServer(hook_secret=BOARD_SECRET) as running:
        yield running


@pytest.fixture
def project(tmp_path: Path, board: BoardServer, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("HOOK_SECRET", BOARD_SECRET)
    return Project(tmp_path, board)


def delivered(board: BoardServer) -> list[str]:
    """The posting ids of the deliveries the board accepted, in order."""
    return [d.body["id"] for d in board.state().deliveries]


def test_every_delivery_is_verified_by_the_board(project: Project, board: BoardServer) -> None:
    started = time.time()
    report = project.publish()

    wanted = project.open_ids()
    assert report.targets["hook"].succeeded == len(wanted) > 0 and report.queued == 0
    deliveries = board.state().deliveries
    assert sorted(delivered(board)) == sorted(wanted)
    for delivery in deliveries:
        assert delivery.scheme == "standard" and not delivery.duplicate
        assert delivery.webhook_id and delivery.webhook_id.startswith("msg_")
        assert delivery.timestamp is not None
        assert started - 1 <= delivery.timestamp <= time.time() + 1
        assert delivery.idempotency_key  # sent too by signature: both, the default
    assert len({d.webhook_id for d in deliveries}) == len(deliveries)
    assert project.publish().plan.operations == []


@pytest.mark.parametrize(
    ("board_accepts", "sent", "verified"),
    [
        ("standard", "standard", "standard"),
        ("standard", "both", "standard"),
        ("both", "both", "both"),
        ("both", "legacy", "legacy"),
        ("both", "standard", "standard"),
        ("legacy", "legacy", "legacy"),  # a receiver written before Standard Webhooks
        ("legacy", "both", "both"),
    ],
)
def test_each_signature_option_reaches_a_board_accepting_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    board_accepts: str,
    sent: str,
    verified: str,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", BOARD_SECRET)
    with BoardServer(hook_secret=BOARD_SECRET, hook_signatures=board_accepts) as board:
        project = Project(tmp_path, board, signature=sent)
        report = project.publish()
        assert report.queued == 0 and report.failed == 0
        deliveries = board.state().deliveries
        assert len(deliveries) == len(project.open_ids())
        assert {d.scheme for d in deliveries} == {verified}


def test_legacy_deliveries_are_refused_by_a_standard_board_and_stay_queued(
    tmp_path: Path, board: BoardServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", BOARD_SECRET)
    project = Project(tmp_path, board, signature="legacy")
    report = project.publish()
    result = report.targets["hook"]
    assert result.auth_error and "webhook-id" in result.auth_error
    assert report.queued == len(project.open_ids()) and board.state().deliveries == []


def test_a_wrong_secret_is_refused_and_everything_waits_for_the_fix(
    project: Project, board: BoardServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "not-the-board-secret-at-all-no")
    report = project.publish()

    result = report.targets["hook"]
    assert result.auth_error is not None
    assert "HTTP 401" in result.auth_error and "credentials refused" in result.auth_error
    assert "no v1 signature" in result.auth_error
    assert "not-the-board-secret" not in " ".join(result.errors)
    wanted = project.open_ids()
    assert report.queued == len(wanted) and report.failed == 0
    assert board.state().deliveries == []
    assert [r.status for r in board.state().requests] == [401]  # nothing more was sent
    assert set(project.states().values()) == {"pending"}

    monkeypatch.setenv("HOOK_SECRET", BOARD_SECRET)  # fixed; no posting edited
    report = project.publish()
    assert report.queued == 0 and report.targets["hook"].auth_error is None
    assert sorted(delivered(board)) == sorted(wanted)
    assert not any(d.duplicate for d in board.state().deliveries)


def captured(project: Project) -> httpx.Request:
    """A delivery syndicate sent and the board accepted, exactly as it went on the wire."""
    project.publish()
    [first, *_] = project.recording.sent
    return first


def resend(board: BoardServer, request: httpx.Request, **changes: Any) -> httpx.Response:
    """``request`` sent again to the board: its bytes and headers, with ``changes``."""
    content: bytes = changes.pop("content", request.content)
    headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
    headers.update(changes.pop("headers", {}))
    for name in changes.pop("drop", ()):
        headers.pop(name)
    return httpx.post(board.hook_url, content=content, headers=headers)


def test_a_replayed_delivery_is_refused_once_outside_the_tolerance(
    project: Project, board: BoardServer
) -> None:
    delivery = captured(project)
    count = len(board.state().deliveries)

    again = resend(board, delivery)  # within the tolerance: a duplicate, answered 200
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    repeat = board.state().deliveries[-1]
    assert repeat.duplicate and repeat.webhook_id == delivery.headers["webhook-id"]

    board.board.shift_clock(6 * 60)  # six minutes later
    replay = resend(board, delivery)
    assert replay.status_code == 401
    assert "outside the 300 s tolerance" in replay.json()["error"]
    assert re.search(r"\b36\d s old", replay.json()["error"])  # 360 s, and the test's own time
    # Without its webhook-* headers, only the legacy signature is left: not enough here.
    stripped = resend(
        board, delivery, drop=("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    assert stripped.status_code == 401

    board.board.shift_clock(-12 * 60)  # or a delivery from six minutes ahead
    early = resend(board, delivery)
    assert early.status_code == 401 and "in the future" in early.json()["error"]
    assert len(board.state().deliveries) == count + 1


def test_a_delivery_outside_the_tolerance_stays_queued(
    project: Project, board: BoardServer
) -> None:
    board.board.shift_clock(6 * 60)  # the board's clock is six minutes ahead of ours
    report = project.publish()
    assert report.targets["hook"].auth_error and "tolerance" in report.targets["hook"].auth_error
    assert report.queued == len(project.open_ids())
    board.board.shift_clock(-6 * 60)
    assert project.publish().queued == 0


def test_a_tampered_delivery_is_refused(project: Project, board: BoardServer) -> None:
    delivery = captured(project)
    body = delivery.content
    count = len(board.state().deliveries)
    for position in (0, len(body) // 3, len(body) // 2, len(body) - 1):
        flipped = bytes([body[position] ^ 0x01])
        tampered = body[:position] + flipped + body[position + 1 :]
        answer = resend(board, delivery, content=tampered)
        assert answer.status_code == 401, position
        assert "no v1 signature" in answer.json()["error"]
    stamp = str(int(delivery.headers["webhook-timestamp"]) + 1)
    assert resend(board, delivery, headers={"webhook-timestamp": stamp}).status_code == 401
    other_id = delivery.headers["webhook-id"][:-1] + "0"
    assert resend(board, delivery, headers={"webhook-id": other_id}).status_code == 401
    dotted = {"webhook-id": delivery.headers["webhook-id"] + ".1"}
    assert "'.'" in resend(board, delivery, headers=dotted).json()["error"]
    unsigned = resend(board, delivery, drop=("webhook-signature",))
    assert unsigned.status_code == 401 and "webhook-signature" in unsigned.json()["error"]
    assert len(board.state().deliveries) == count  # none of them was accepted
    assert resend(board, delivery).json()["duplicate"] is True  # the untouched one still is


def test_rotating_keys_keeps_every_receiver_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", NEW_SECRET)
    monkeypatch.setenv("HOOK_SECRET_OLD", OLD_SECRET)
    receivers = {"not-yet-moved": OLD_SECRET, "moved": NEW_SECRET}
    for name, board_secret in receivers.items():
        with BoardServer(hook_secret=board_secret) as board:
            project = Project(tmp_path / name, board, previous_secret_env="HOOK_SECRET_OLD")
            assert project.publish().queued == 0
            assert len(board.state().deliveries) == len(project.open_ids())
    # A receiver holding both keys accepts a sender still on the old one.
    monkeypatch.setenv("HOOK_SECRET", OLD_SECRET)
    with BoardServer(hook_secret=NEW_SECRET, hook_previous_secret=OLD_SECRET) as board:
        project = Project(tmp_path / "late", board)
        assert project.publish().queued == 0
        assert {d.scheme for d in board.state().deliveries} == {"standard"}
