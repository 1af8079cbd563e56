"""The local job board, over real HTTP: the three APIs as documented, the board's view, faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from syndicate.testing import BoardServer, BoardView
from tests.helpers import LINKEDIN_VERSION, jobs_api, wait_for

TOKEN = "board-token-5d1e"
INDEX_TOKEN = "index-token-8a2f"
SECRET = "hook-secret-3c9b"
BATCH = {"X-Restli-Method": "batch_create"}
JOBS, TASKS = "/rest/simpleJobPostings", "/rest/simpleJobPostingTasks"


@pytest.fixture(scope="module")
def server() -> Iterator[BoardServer]:
    with BoardServer(token=TOKEN, indexing_token=INDEX_TOKEN, hook_secret=SECRET) as running:
        yield running


def job(external_id: str, operation: str = "CREATE", **fields: Any) -> dict[str, Any]:
    """A complete element, as LinkedIn's schema requires it for every operation."""
    element = {
        "externalJobPostingId": external_id,
        "jobPostingOperationType": operation,
        "integrationContext": "urn:li:organization:123",
        "companyApplyUrl": "https://jobs.example.com/apply",
        "title": "Sales Manager",
        "description": "<p>Sell.</p>" + "<p>A description long enough for LinkedIn.</p>" * 3,
        "listedAt": 1_700_000_000_000,
        "location": "Geneva, Switzerland",
        "workplaceTypes": ["On-site"],
        "posterEmail": "jobs@example.com",
        "listingType": "BASIC",
    }
    return element | fields


def send(client: httpx.Client, *elements: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(JOBS, headers=BATCH, json={"elements": list(elements)})
    assert response.status_code == 200, response.text
    results = response.json()["elements"]
    assert len(results) == len(elements)
    return results


def poll(client: httpx.Client, *urns: str) -> dict[str, Any]:
    response = client.get(TASKS, params=[("ids", urn) for urn in urns])
    assert response.status_code == 200, response.text
    return response.json()


def task_of(client: httpx.Client, result: dict[str, Any]) -> dict[str, Any]:
    """The task an accepted element became, polled once."""
    return poll(client, result["id"])["results"][result["id"]]


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- the jobs API (its rules in detail: test_board_linkedin.py) ----------------------------------


def test_a_create_becomes_a_task_that_succeeds(board: BoardServer, api: httpx.Client) -> None:
    [result] = send(api, job("sales-manager"))
    assert result["status"] == 202
    assert result["id"].startswith("urn:li:simpleJobPostingTask:")
    task = task_of(api, result)
    assert task["status"] == "SUCCEEDED"
    state = board.state()
    listed = state.jobs["sales-manager"]
    assert task["jobPosting"] == listed.urn and listed.urn.startswith("urn:li:jobPosting:")
    assert (listed.state, listed.creates) == ("LISTED", 1)
    assert listed.fields["title"] == "Sales Manager"
    assert listed.fields["location"] == "Geneva, Switzerland"
    [create, polled] = state.requests
    assert (create.method, create.path, create.status, create.fault) == ("POST", JOBS, 200, None)
    assert create.headers["authorization"] == "Bearer ****"
    assert create.headers["x-restli-method"] == "batch_create"
    assert create.headers["linkedin-version"] == "202603"
    assert create.body["elements"][0]["externalJobPostingId"] == "sales-manager"
    assert (polled.method, polled.path) == ("GET", TASKS)


def test_a_careless_board_applies_a_duplicate_create() -> None:
    with (
        BoardServer(token=TOKEN, reject_duplicate_creates=False) as careless,
        jobs_api(careless, TOKEN) as api,
    ):
        send(api, job("sales-manager"))
        [again] = send(api, job("sales-manager"))
        assert task_of(api, again)["status"] == "SUCCEEDED"
        assert careless.state().jobs["sales-manager"].creates == 2


def test_update_close_and_renew(board: BoardServer, api: httpx.Client) -> None:
    send(api, job("sales-manager"))
    [updated] = send(api, job("sales-manager", "UPDATE", title="Senior Sales Manager"))
    assert task_of(api, updated)["status"] == "SUCCEEDED"
    assert board.state().jobs["sales-manager"].fields["title"] == "Senior Sales Manager"
    [closed] = send(api, job("sales-manager", "CLOSE"))
    assert task_of(api, closed)["status"] == "SUCCEEDED"
    assert board.state().jobs["sales-manager"].state == "CLOSED"
    assert board.state().listed() == {}
    [renewed] = send(api, job("sales-manager", "RENEW"))
    assert task_of(api, renewed)["status"] == "SUCCEEDED"
    listed = board.state().jobs["sales-manager"]
    assert (listed.state, listed.updates, listed.closes, listed.renewals) == ("LISTED", 1, 1, 1)


def test_wrong_or_missing_tokens_get_401_and_change_nothing(board: BoardServer) -> None:
    body = {"elements": [job("a")]}
    with httpx.Client(base_url=board.url, headers=LINKEDIN_VERSION) as anonymous:
        assert anonymous.post(JOBS, headers=BATCH, json=body).status_code == 401
        wrong = {**BATCH, "Authorization": "Bearer nope"}
        response = anonymous.post(JOBS, headers=wrong, json=body)
        assert response.status_code == 401
        assert response.json() == {
            "message": "Invalid access token",
            "status": 401,
            "serviceErrorCode": 65600,
        }
        tasks = anonymous.get(TASKS, params={"ids": "urn:li:simpleJobPostingTask:1"}, headers=wrong)
        assert tasks.status_code == 401
        # The indexing API has its own token: the jobs API's is wrong there.
        notify = {"url": "https://jobs.example.com/a.html", "type": "URL_UPDATED"}
        jobs_token = {"Authorization": f"Bearer {TOKEN}"}
        response = anonymous.post("/v3/urlNotifications:publish", json=notify, headers=jobs_token)
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    state = board.state()
    assert state.jobs == {} and state.notifications == []
    assert [r.status for r in state.requests] == [401, 401, 401, 401]


# -- faults ---------------------------------------------------------------------------------------


def test_status_faults_answer_without_applying(board: BoardServer, api: httpx.Client) -> None:
    board.add_faults({"path": JOBS, "kind": "status", "status": 500, "times": 2})
    body = {"elements": [job("a")]}
    codes = [api.post(JOBS, headers=BATCH, json=body).status_code for _ in "123"]
    assert codes == [500, 500, 200]
    state = board.state()
    assert state.jobs["a"].creates == 1
    assert state.create_requests == {"a": 1}  # the refused requests never reached the board
    assert [r.fault for r in state.requests] == ["status", "status", None]
    assert state.faults == []


def test_a_429_says_when_to_retry_and_faults_follow_their_path(
    board: BoardServer, api: httpx.Client
) -> None:
    board.add_faults(
        {"path": "/v3/urlNotifications:publish", "kind": "status", "status": 429, "retry_after": 7}
    )
    send(api, job("a"))  # another path: not affected
    notify = {"url": "https://jobs.example.com/a.html", "type": "URL_UPDATED"}
    headers = {"Authorization": f"Bearer {INDEX_TOKEN}"}
    limited = api.post("/v3/urlNotifications:publish", json=notify, headers=headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["error"] == {
        "code": 429,
        "message": "injected fault",
        "status": "RESOURCE_EXHAUSTED",
    }
    assert api.post("/v3/urlNotifications:publish", json=notify, headers=headers).is_success
    assert len(board.state().notifications) == 1


def test_a_slow_answer_past_the_client_timeout_is_still_applied(
    board: BoardServer, api: httpx.Client
) -> None:
    board.add_faults({"kind": "delay", "seconds": 1.0})
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        api.post(JOBS, headers=BATCH, json={"elements": [job("a")]}, timeout=0.2)
    assert time.monotonic() - started < 0.9
    wait_for(lambda: "a" in board.state().jobs)
    wait_for(lambda: len(board.state().requests) == 1)
    assert board.state().requests[0].fault == "delay"
    [again] = send(api, job("a"))  # the client's retry learns that it was applied
    assert "already exists" in task_of(api, again)["errorMessage"]


def test_a_dropped_connection_after_applying_leaves_the_job_created(
    board: BoardServer, api: httpx.Client
) -> None:
    board.add_faults({"kind": "drop_after_apply"})
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(JOBS, headers=BATCH, json={"elements": [job("a")]})
    state = board.state()
    assert state.jobs["a"].creates == 1
    assert (state.requests[0].status, state.requests[0].fault) == (None, "drop_after_apply")
    [again] = send(api, job("a"))
    assert task_of(api, again)["status"] == "FAILED"
    assert board.state().jobs["a"].creates == 1


def test_an_element_error_refuses_only_its_element(board: BoardServer, api: httpx.Client) -> None:
    board.add_faults(
        {"kind": "element_error", "external_id": "b", "status": 422, "message": "bad location"}
    )
    a, b = send(api, job("a"), job("b"))
    assert a["status"] == 202
    assert b == {"error": {"message": "bad location", "status": 422}, "status": 422}
    assert set(board.state().jobs) == {"a"}
    [retried] = send(api, job("b"))  # used up: the next one goes through
    assert retried["status"] == 202


def test_a_task_can_stay_in_progress_for_some_polls(board: BoardServer, api: httpx.Client) -> None:
    board.add_faults({"kind": "task_in_progress", "polls": 3})
    [result] = send(api, job("a"))
    assert board.state().jobs["a"].state == "LISTED"  # applied on receipt all the same
    statuses = [poll(api, result["id"])["results"][result["id"]]["status"] for _ in range(5)]
    assert statuses == ["IN_PROGRESS"] * 3 + ["SUCCEEDED"] * 2
    assert board.state().tasks[result["id"]].polls == 5


def test_a_failed_task_is_not_applied(board: BoardServer, api: httpx.Client) -> None:
    board.add_faults({"kind": "task_failed", "external_id": "b", "message": "rejected by review"})
    a, b = send(api, job("a"), job("b"))
    answer = poll(api, a["id"], b["id"])["results"]
    assert answer[a["id"]]["status"] == "SUCCEEDED"
    assert answer[b["id"]] == {
        "id": b["id"],
        "externalJobPostingId": "b",
        "status": "FAILED",
        "errorMessage": "rejected by review",
    }
    assert set(board.state().jobs) == {"a"}


def test_faults_through_the_control_api(board: BoardServer) -> None:
    with httpx.Client(base_url=board.url) as control:
        faults = [
            {"kind": "status", "status": 503, "path": "/hook"},
            {"kind": "task_in_progress", "polls": 2},
        ]
        response = control.post("/_control/faults", json=faults)
        assert response.status_code == 200
        assert [f["kind"] for f in response.json()["faults"]] == ["status", "task_in_progress"]
        view = BoardView.model_validate(control.get("/_control/state").json())
        assert [f.kind for f in view.faults] == ["status", "task_in_progress"]
        bad = control.post("/_control/faults", json={"kind": "status", "status": 200})
        assert bad.status_code == 400 and bad.json()["problems"]
        unknown = control.post("/_control/faults", json=[{"kind": "meteor"}])
        assert unknown.status_code == 400
        assert control.delete("/_control/faults").json() == {"faults": []}
        assert board.state().faults == []
        control.post("/_control/faults", json={"kind": "delay", "seconds": 1})
        assert control.post("/_control/reset").status_code == 200
        assert board.state() == BoardView()


# -- Google Indexing API --------------------------------------------------------------------------


def test_indexing_notifications_are_recorded(board: BoardServer) -> None:
    url = "https://jobs.example.com/careers/jobs/sales-manager.html"
    headers = {"Authorization": f"Bearer {INDEX_TOKEN}"}
    with httpx.Client(base_url=board.url, headers=headers) as google:
        updated = google.post(
            "/v3/urlNotifications:publish", json={"url": url, "type": "URL_UPDATED"}
        )
        assert updated.status_code == 200
        metadata = updated.json()["urlNotificationMetadata"]
        assert metadata["url"] == url
        assert metadata["latestUpdate"]["url"] == url
        assert metadata["latestUpdate"]["type"] == "URL_UPDATED"
        assert metadata["latestUpdate"]["notifyTime"].endswith("Z")
        deleted = google.post(
            "/v3/urlNotifications:publish", json={"url": url, "type": "URL_DELETED"}
        )
        metadata = deleted.json()["urlNotificationMetadata"]
        assert metadata["latestRemove"]["type"] == "URL_DELETED"
        assert metadata["latestUpdate"]["type"] == "URL_UPDATED"
        wrong_type = google.post("/v3/urlNotifications:publish", json={"url": url, "type": "X"})
        assert wrong_type.status_code == 400
        assert wrong_type.json()["error"]["status"] == "INVALID_ARGUMENT"
        relative = google.post(
            "/v3/urlNotifications:publish", json={"url": "/a", "type": "URL_UPDATED"}
        )
        assert relative.status_code == 400
    notifications = board.state().notifications
    assert [(n.url, n.type) for n in notifications] == [(url, "URL_UPDATED"), (url, "URL_DELETED")]
    assert notifications[0].notify_time <= notifications[1].notify_time


# -- webhooks -------------------------------------------------------------------------------------


def test_legacy_webhook_deliveries_are_checked_and_duplicates_marked(board: BoardServer) -> None:
    # The legacy signature counts only on a board set to accept it (the default board refuses
    # it); Standard Webhooks deliveries are tested in test_webhook.py.
    body = json.dumps({"id": "sales-manager", "operation": "CREATE"}).encode()
    key = "sales-manager:abc123"
    headers = {
        "Content-Type": "application/json",
        "X-Syndicate-Signature": signed(body),
        "Idempotency-Key": key,
    }
    assert httpx.post(board.hook_url, content=body, headers=headers).status_code == 401
    assert board.state().deliveries == []
    with (
        BoardServer(hook_secret=SECRET, hook_signatures="legacy") as legacy,
        httpx.Client(base_url=legacy.url) as hook,
    ):
        first = hook.post("/hook", content=body, headers=headers)
        assert first.json() == {"received": True, "duplicate": False}
        again = hook.post("/hook", content=body, headers=headers)
        assert (again.status_code, again.json()["duplicate"]) == (200, True)
        forged = {**headers, "X-Syndicate-Signature": signed(body, "other-secret")}
        assert hook.post("/hook", content=body, headers=forged).status_code == 401
        tampered = hook.post("/hook", content=body + b" ", headers=headers)
        assert tampered.status_code == 401
        unsigned = {k: v for k, v in headers.items() if k != "X-Syndicate-Signature"}
        assert hook.post("/hook", content=body, headers=unsigned).status_code == 401
        no_key = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
        assert hook.post("/hook", content=body, headers=no_key).status_code == 400
        other = hook.post("/hook/team-b", content=body, headers={**headers, "Idempotency-Key": "x"})
        assert other.json() == {"received": True, "duplicate": False}
    deliveries = legacy.state().deliveries
    assert [(d.path, d.idempotency_key, d.duplicate, d.scheme) for d in deliveries] == [
        ("/hook", key, False, "legacy"),
        ("/hook", key, True, "legacy"),
        ("/hook/team-b", "x", False, "legacy"),
    ]
    assert deliveries[0].body == {"id": "sales-manager", "operation": "CREATE"}
    assert legacy.hook_url == legacy.url + "/hook"


# -- running it -----------------------------------------------------------------------------------


def test_latency_delays_every_api_answer() -> None:
    with BoardServer(hook_secret=SECRET, latency=0.3) as slow, httpx.Client() as client:
        started = time.monotonic()
        client.post(slow.hook_url, content=b"{}", headers={"Idempotency-Key": "k"})
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        client.get(slow.url + "/_control/state")  # control answers are not delayed
        assert time.monotonic() - started < 0.3


def test_the_board_runs_standalone() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "syndicate.testing.board", "--port", str(port)]
    command += ["--token", "cli-token"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"

        wait_for(lambda: httpx.get(url + "/_control/state").status_code == 200, 20, "the board")
        headers = {**BATCH, **LINKEDIN_VERSION, "Authorization": "Bearer cli-token"}
        body = {"elements": [job("a")]}
        response = httpx.post(url + JOBS, headers=headers, json=body)
        assert response.json()["elements"][0]["status"] == 202
        assert "a" in httpx.get(url + "/_control/state").json()["jobs"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"job board on http://127.0.0.1:{port}" in output
    assert "RuntimeWarning" not in output
