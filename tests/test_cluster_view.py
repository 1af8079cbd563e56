"""What people and monitors see of several daemons on one state, on SQLite and PostgreSQL:
``syndicate status`` (text and JSON) naming the planner, the push leases and each daemon's last
sync; ``/metrics`` labelled by daemon id; and a daemon refusing a schema newer than it knows."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from syndicate.operations import OperationKind
from syndicate.serving import Metrics, ServerStatus
from syndicate.state import NewOperation, StateStore
from syndicate.state.coordination import PLANNING
from syndicate.status import cluster_lines, cluster_view
from tests.cli import run as run_cli
from tests.test_serving import parse_metrics

ROOT = Path(__file__).resolve().parent.parent
STARTED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SYNCED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def two_daemons(store: StateStore) -> None:
    """d1 plans and synced at `SYNCED`; d2 never synced yet and leases two webhook operations."""
    coordination = store.coordination
    assert coordination.acquire(PLANNING, "d1", timedelta(minutes=5))
    assert not coordination.acquire(PLANNING, "d2", timedelta(minutes=5))
    coordination.report("d1", host="alpha", pid=11, started_at=STARTED, synced=(SYNCED, "ok"),
                        revision="0123456789abcdef")  # fmt: skip
    coordination.report("d2", host="beta", pid=22, started_at=STARTED)
    store.enqueue(
        [NewOperation(f"job-{n}", "hook", OperationKind.CREATE, f"h{n}") for n in range(3)]
    )
    leased = store.lease_due("hook", "d2", limit=2, duration=timedelta(minutes=5))
    assert len(leased) == 2


@pytest.fixture
def project(tmp_path: Path, state_url: str) -> Path:
    """A project whose state is ``state_url`` (SQLite or PostgreSQL) and holds two daemons."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["state"] = state_url
    config["postings"] = str(ROOT / "postings")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with StateStore(state_url) as store:
        two_daemons(store)
    return tmp_path


def test_cluster_view_names_the_planner_the_leases_and_each_daemons_last_sync(
    state_url: str,
) -> None:
    with StateStore(state_url) as store:
        two_daemons(store)
        view = cluster_view(store, "d2")
    assert view["daemon"] == "d2" and view["planner"] == "d1"
    assert datetime.fromisoformat(view["planning_lease_expires_at"]) > datetime.now(UTC)
    [lease] = view["push_leases"]
    assert (lease["holder"], lease["target"], lease["operations"]) == ("d2", "hook", 2)
    daemons = {d["id"]: d for d in view["daemons"]}
    assert daemons["d1"]["last_sync_at"] == SYNCED.isoformat(timespec="seconds")
    assert daemons["d1"]["last_sync_result"] == "ok" and daemons["d1"]["host"] == "alpha"
    assert daemons["d2"]["last_sync_at"] is None
    lines = cluster_lines(view)
    assert lines[0].startswith("planning: d1 (lease until ")
    assert lines[1].startswith("push lease: d2 has 2 operation(s) of hook until ")
    assert (
        f"daemon d1 on alpha: last synced {SYNCED.isoformat(timespec='seconds')} (ok)" in (lines[2])
    )
    assert lines[2].endswith("revision 0123456789ab")
    assert lines[3].startswith("daemon d2 on beta: never synced, seen ")


def test_a_state_no_daemon_ran_on_shows_no_cluster_lines(state_url: str) -> None:
    with StateStore(state_url) as store:
        view = cluster_view(store)
    assert view == {"planner": None, "planning_lease_expires_at": None, "push_leases": [],
                    "daemons": []}  # fmt: skip
    assert cluster_lines(view) == []


def test_status_shows_the_daemons_in_text_and_json(project: Path) -> None:
    shown = run_cli("status", "--format", "json", cwd=project)
    assert shown.returncode == 0, shown.stderr
    cluster = json.loads(shown.stdout)["cluster"]
    assert cluster["planner"] == "d1"
    assert [(row["holder"], row["operations"]) for row in cluster["push_leases"]] == [("d2", 2)]
    assert [d["id"] for d in cluster["daemons"]] == ["d1", "d2"]
    text = run_cli("status", cwd=project)
    assert text.returncode == 0, text.stderr
    assert "planning: d1 (lease until " in text.stdout
    assert "push lease: d2 has 2 operation(s) of hook until " in text.stdout
    assert f"daemon d1 on alpha: last synced {SYNCED.isoformat(timespec='seconds')} (ok)" in (
        text.stdout
    )
    assert "daemon d2 on beta: never synced" in text.stdout


def test_metrics_carry_the_daemon_id_and_say_whether_it_plans(tmp_path: Path) -> None:
    status = ServerStatus(timedelta(minutes=1))
    metrics = Metrics(status, tmp_path, daemon="d2")
    metrics.syncs.inc(result="ok")
    metrics.pushes.inc(3, target="hook", outcome="succeeded")
    status.set_cluster({
        "daemon": "d2", "planner": "d1",
        "push_leases": [{"holder": "d2", "target": "hook", "operations": 2},
                        {"holder": "d1", "target": "hook", "operations": 5},
                        {"holder": "d2", "target": "linkedin", "operations": 1}],
    })  # fmt: skip
    samples = parse_metrics(metrics.render())
    unlabelled = [name for name, labels in samples if ("daemon", "d2") not in labels]
    assert not unlabelled, unlabelled
    assert samples[("syndicate_syncs_total", frozenset({("daemon", "d2"), ("result", "ok")}))] == 1
    assert samples[("syndicate_pushes_total", frozenset(
        {("daemon", "d2"), ("target", "hook"), ("outcome", "succeeded")}))] == 3  # fmt: skip
    assert samples[("syndicate_planning", frozenset({("daemon", "d2")}))] == 0
    assert samples[("syndicate_leased_operations", frozenset({("daemon", "d2")}))] == 3
    assert metrics.syncs.value(result="ok") == 1
    status.set_cluster({"daemon": "d2", "planner": "d2", "push_leases": []})
    samples = parse_metrics(metrics.render())
    assert samples[("syndicate_planning", frozenset({("daemon", "d2")}))] == 1


def test_a_bare_metrics_has_no_daemon_label_nor_cluster_gauges(tmp_path: Path) -> None:
    samples = parse_metrics(Metrics(ServerStatus(timedelta(minutes=1)), tmp_path).render())
    assert all(("daemon", "d2") not in labels and not any(k == "daemon" for k, _ in labels)
               for _, labels in samples)  # fmt: skip
    assert not any(name in ("syndicate_planning", "syndicate_leased_operations")
                   for name, _ in samples)  # fmt: skip


def test_a_daemon_refuses_a_schema_newer_than_it_knows(project: Path, state_url: str) -> None:
    with StateStore(state_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    daemon = subprocess.run(
        [str(Path(sys.executable).parent / "syndicate"), "daemon"],
        cwd=project, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert daemon.returncode == 1, daemon.stderr
    message = " ".join(daemon.stderr.split())
    assert "has schema version 99, newer than this syndicate knows" in message
    assert "upgrade syndicate to use it" in message
    assert "Traceback" not in daemon.stderr
    status = run_cli("status", cwd=project)  # every command refuses it the same way
    assert status.returncode == 1 and "schema version 99" in " ".join(status.stderr.split())
