"""Source tagging on every target that sends job or apply URLs (`syndicate.adapters.tagging`).

Off by default; turned on for one target, it changes that target's feed or payloads only, and
the plan gives the change its own reason.  Goldens: ``tests/golden/tagging/`` (regenerate with
``pytest tests/test_tagging.py --update-goldens`` and review the diff).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from pydantic import ValidationError

from syndicate.adapters.base import PullTarget, RenderContext
from syndicate.adapters.google_indexing import GoogleIndexingOptions
from syndicate.adapters.indeed_xml import IndeedXml, IndeedXmlOptions
from syndicate.adapters.jsonld import JsonLd, JsonLdOptions
from syndicate.adapters.linkedin_json import LinkedInJson, LinkedInJsonOptions
from syndicate.adapters.tagging import add_params, params_for, tagged
from syndicate.adapters.webhook import WebhookOptions
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.model import Posting
from syndicate.plan import Reason
from syndicate.testing.board import BoardServer
from tests.cli import copy_examples
from tests.cli import run as run_cli
from tests.conftest import Golden
from tests.test_status import HOOK_SECRET, TOKEN, project  # noqa: F401

SECRETS = {"LINKEDIN_TOKEN": TOKEN, "GOOGLE_INDEXING_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}


# ------------------------------------------------------------------------------- the option


def test_tagging_is_off_by_default_and_true_takes_the_boards_documented_parameters() -> None:
    assert params_for(False, {"source": "Indeed"}, "indeed") is None
    assert params_for(True, {"source": "Indeed"}, "indeed") == {"source": "Indeed"}
    assert params_for(True, None, "partner") == {"utm_source": "partner"}  # our default
    assert params_for({"ref": "x"}, {"source": "Indeed"}, "indeed") == {"ref": "x"}


def test_a_url_keeps_its_query_and_a_parameter_it_already_has() -> None:
    url = "https://jobs.example.com/a.html?lang=fr&source=mine"
    assert tagged(url, {"source": "Indeed", "utm_medium": "feed"}) == (
        "https://jobs.example.com/a.html?lang=fr&source=mine&utm_medium=feed"
    )
    assert tagged(url, None) == url
    assert add_params(None, source="x") is None


@pytest.mark.parametrize("given", [{}, {"bad key": "x"}, {"ok": ""}, "yes"])
def test_tagging_parameters_are_checked(given: object) -> None:
    with pytest.raises(ValidationError):
        IndeedXmlOptions(type="indeed_xml", tagging=given)  # type: ignore[arg-type]


def test_google_indexing_refuses_tagging() -> None:
    """Google is told our own page's URL; a tagged URL would be another URL to index."""
    with pytest.raises(ValidationError, match="tagging"):
        GoogleIndexingOptions(type="google_indexing", tagging=True)  # type: ignore[call-arg]


def test_every_target_that_sends_urls_offers_tagging() -> None:
    for options in (IndeedXmlOptions, JsonLdOptions, LinkedInJsonOptions, WebhookOptions):
        assert "tagging" in options.model_fields, options


# ----------------------------------------------------------------------------- pull feeds


def _rendered(target: PullTarget, postings: list[Posting], context: RenderContext) -> bytes:
    listed = [
        p
        for p in postings
        if not any(x.severity in (Severity.ERROR, Severity.OMIT) for x in target.rules(p))
    ]
    [document] = list(target.render(listed, context))
    return b"".join(document.chunks)


PULL = {
    "indeed_xml": (IndeedXml, IndeedXmlOptions, "indeed.xml", {"source": ["Indeed"]}),
    "jsonld": (JsonLd, JsonLdOptions, "jobs.jsonld", {"utm_source": ["jsonld"]}),
    "linkedin_json": (LinkedInJson, LinkedInJsonOptions, "linkedin.json",
                      {"utm_source": ["linkedin_json"]}),
}  # fmt: skip


@pytest.mark.parametrize("type_name", sorted(PULL))
def test_a_tagged_feed_differs_from_the_untagged_one_in_its_urls_only(
    type_name: str,
    settings: Settings,
    examples: list[Posting],
    context: RenderContext,
    golden: Golden,
) -> None:
    cls, options, name, wanted = PULL[type_name]
    plain = _rendered(cls(type_name, options(type=type_name), settings), examples, context)
    target = cls(type_name, options(type=type_name, tagging=True), settings)
    tagged_feed = _rendered(target, examples, context)
    golden.check(f"tagging/{name}", tagged_feed)
    urls = {u for u in _urls(tagged_feed) if "utm_source=" in u or "source=Indeed" in u}
    assert urls, "no URL was tagged"
    for url in urls:
        assert {k: v for k, v in parse_qs(urlsplit(url).query).items() if k in wanted} == wanted
    # Undo the tags: the untagged feed, byte for byte.
    tags = "&".join(f"{k}={v[0]}" for k, v in wanted.items())
    untagged, count = re.subn(rf"[?&]{tags}(?=[\]\"<\s])", "", tagged_feed.decode())
    assert count >= len(urls)
    assert untagged.encode() == plain


def _urls(feed: bytes) -> set[str]:
    text = feed.decode()
    found: set[str] = set()
    for piece in text.replace("]]>", " ").replace('"', " ").replace("<", " ").split():
        start = piece.find("http")
        if start >= 0:
            found.add(piece[start:])
    return found


def test_turning_tagging_on_for_one_feed_changes_only_that_feeds_bytes(tmp_path: Path) -> None:
    examples = copy_examples(tmp_path)
    out = examples / "feeds"
    assert run_cli("build", cwd=examples).returncode == 0
    before = _files(out)
    _set_option(examples, "indeed", "tagging", True)
    built = run_cli("build", cwd=examples)
    assert built.returncode == 0, built.stderr
    after = _files(out)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"indeed.xml"}
    assert b"source=Indeed" in after["indeed.xml"]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def _set_option(folder: Path, target: str, key: str, value: object) -> None:
    config_file = folder / "config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["targets"][target][key] = value
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


# ---------------------------------------------------------------------------- push targets


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=SECRETS, timeout=120)


def _plan(folder: Path) -> list[dict[str, Any]]:
    planned = _run("publish", "--plan", "--format", "json", cwd=folder)
    assert planned.returncode == 0, planned.stderr
    plan: list[dict[str, Any]] = json.loads(planned.stdout)["plan"]
    return plan


def test_tagging_one_push_target_updates_that_target_only_and_the_plan_says_why(
    project: Path,  # noqa: F811
    board: BoardServer,
) -> None:
    published = _run("publish", cwd=project)
    assert published.returncode == 0, published.stderr
    assert _plan(project) == []
    listed = set(board.state().listed())
    notifications = len(board.state().notifications)
    deliveries = len(board.state().deliveries)

    _set_option(project, "linkedin", "tagging", True)
    plan = _plan(project)
    assert {(op["target"], op["operation"], op["reason"]) for op in plan} == {
        ("linkedin", "UPDATE", str(Reason.TAGGING))
    }
    assert {op["posting"] for op in plan} == listed
    text = _run("publish", "--plan", cwd=project).stdout
    assert f"{len(listed)} posting(s)" in text and str(Reason.TAGGING) in text

    assert _run("publish", cwd=project).returncode == 0
    view = board.state()
    for job in view.listed().values():
        query = parse_qs(urlsplit(job.fields["companyApplyUrl"]).query)
        assert query["utm_source"] == ["linkedin"], job.external_id
    assert len(view.notifications) == notifications  # google: nothing sent
    assert len(view.deliveries) == deliveries  # the webhook: nothing sent
    assert _plan(project) == []

    _set_option(project, "hook", "tagging", {"ref": "partner"})
    plan = _plan(project)
    assert {(op["target"], op["reason"]) for op in plan} == {("hook", str(Reason.TAGGING))}
    assert _run("publish", cwd=project).returncode == 0
    sent = board.state().deliveries[deliveries:]
    assert sent and all(d.body["url"].endswith("?ref=partner") for d in sent)
    for delivery in sent:
        apply_url = delivery.body["posting"]["apply"]["url"]
        assert apply_url is None or "ref=partner" in apply_url
