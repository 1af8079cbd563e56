"""deploy/compose.yaml: valid YAML, and in step with the set-up tests/test_daemons.py runs.

No container engine runs where these tests run, so the file is never started here; this checks
what can be checked without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from syndicate.testing.cluster import DAEMON_COMMAND, DAEMON_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
DAEMONS = ("d1", "d2", "d3")  # as DaemonCluster names the three of tests/test_daemons.py


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_compose_runs_postgresql_and_three_daemons_with_their_own_ids() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", *DAEMONS}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["postgres"]["environment"]["POSTGRES_USER"] == "syndicate"
    for name in DAEMONS:
        daemon = services[name]
        assert tuple(daemon["command"]) == DAEMON_COMMAND  # as the tests start them
        assert daemon["environment"]["SYNDICATE_DAEMON_ID"] == name
        assert set(daemon["environment"]) == set(DAEMON_ENVIRONMENT)
        assert daemon["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_daemon_has_its_own_checkout_and_output_and_no_password_in_the_file() -> None:
    document = compose()
    services = document["services"]
    mounts = {name: services[name]["volumes"] for name in DAEMONS}
    for name, volumes in mounts.items():
        targets = {volume.split(":")[1]: volume.split(":")[0] for volume in volumes}
        assert targets["/srv/syndicate/postings"] == f"{name}-postings"
        assert targets["/srv/syndicate/feeds"] == f"{name}-feeds"
        assert f"{name}-postings" in document["volumes"]
    ports = [services[name]["ports"][0].split(":")[0] for name in DAEMONS]
    assert len(set(ports)) == len(DAEMONS)
    for name in (*DAEMONS, "postgres"):
        for key, value in services[name]["environment"].items():
            if "PASSWORD" in key:
                assert str(value).startswith("${PGPASSWORD"), (name, key)
