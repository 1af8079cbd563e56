"""The feed server over real HTTP: a build of the examples served by uvicorn on a free port.

Each documented behaviour is checked from the client's side: media types of every kind of file
a build writes, ETag and Last-Modified with both conditional headers, gzip, HEAD, 301 for a
folder, 410 for closed jobs, 404 for every way out of ``output``, bearer tokens on private
feeds, ``/healthz`` through its states and ``/metrics`` parsed back line by line.  The file
tests run twice: files held in memory, and files streamed from their open descriptor.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest
import uvicorn
from lxml import etree
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.applications import Starlette

from syndicate.build import build
from syndicate.config import Server, Settings, settings_from_data
from syndicate.errors import ConfigError
from syndicate.model import Posting
from syndicate.output import VERSIONS_DIR, write_atomic
from syndicate.serving import (
    GonePaths,
    Metrics,
    PrivateFiles,
    PrivateRule,
    ServerStatus,
    create_app,
    create_app_for,
    job_page_path,
)
from syndicate.serving.conditional import accepts_gzip, none_match, not_modified_since
from syndicate.serving.files import Digests, OpenFile, open_served, request_path

TOKEN = "partner-token-0123456789"
SECRET_MARK = "TOP-SECRET-CONFIG"
# What each kind of file a build writes must be served as (independent of the server's table).
EXPECTED_TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".atom": "application/atom+xml",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


# -- running a server -----------------------------------------------------------------------------


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port of 127.0.0.1; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_get(base_url: str, target: str, method: str = "GET") -> RawResponse:
    """Send ``target`` exactly as written (no normalising of ``..`` or percent-escapes)."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        headers = {key.lower(): value for key, value in response.getheaders()}
        return RawResponse(response.status, headers, body)
    finally:
        connection.close()


# -- the served output ----------------------------------------------------------------------------


@dataclass
class Site:
    """A build of the examples in a temporary folder, with traps around it."""

    root: Path
    output: Path
    settings: Settings
    files: list[str]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, examples: list[Posting]
) -> Site:
    root = tmp_path_factory.mktemp("serving")
    configured = settings.model_copy(
        update={
            "root": root,
            "output": Path("feeds"),
            "server": Server.model_validate(
                {"private": {"partners/": {"token_env": "SERVING_TEST_PARTNER_TOKEN"}}}
            ),
        }
    )
    report = build(configured, examples)
    assert report.ok, [str(p) for p in report.problems]
    output = configured.output_dir
    files = [name for target in report.targets for name in target.files]
    # Things that must never be reachable: a file beside output, links out of it.
    (root / "config.yaml").write_text(f"secret: {SECRET_MARK}\n")
    (output / "outside").symlink_to(root, target_is_directory=True)
    (output / "leak.xml").symlink_to(root / "config.yaml")
    (output / ".hidden.xml").write_text(f"<x>{SECRET_MARK}</x>")
    # A private partner feed, and a public-looking name that links to it.
    (output / "partners").mkdir()
    shutil.copy(output / "indeed.xml", output / "partners" / "indeed.xml")
    (output / "alias.xml").symlink_to(Path("partners") / "indeed.xml")
    return Site(root, output, configured, files)


@dataclass
class Served:
    url: str
    client: httpx.Client
    gone: GonePaths
    status: ServerStatus
    metrics: Metrics


@pytest.fixture(scope="module", params=["in-memory", "streamed"])
def served(request: pytest.FixtureRequest, site: Site) -> Iterator[Served]:
    """The site served; ``streamed``: every file above 1 KiB streamed from its descriptor."""
    stream_above = 1 << 20 if request.param == "in-memory" else 1024
    status = ServerStatus(timedelta(minutes=15))
    metrics = Metrics(status, site.output)
    gone = GonePaths()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SERVING_TEST_PARTNER_TOKEN", TOKEN)
        private = PrivateFiles.from_config(site.settings.server.private)
    app = create_app(
        site.output,
        status=status,
        metrics=metrics,
        gone=gone,
        private=private,
        stream_above=stream_above,
        gone_page=site.settings.careers_gone_page(),
    )
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Served(url, client, gone, status, metrics)


def sha_tag(data: bytes, suffix: str = "") -> str:
    return f'"{hashlib.sha256(data).hexdigest()}{suffix}"'


def strict_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def assert_parses(name: str, data: bytes) -> None:
    """The body is a whole document of its kind."""
    suffix = Path(name).suffix
    if suffix in (".xml", ".atom"):
        strict_xml(data)
    elif suffix in (".json", ".jsonld"):
        json.loads(data)
    elif suffix == ".html":
        assert data.rstrip().endswith(b"</html>")
        assert lxml.html.document_fromstring(data).find(".//title") is not None
    elif suffix == ".css":
        assert data.count(b"{") == data.count(b"}") > 0


# -- files, media types, validators ---------------------------------------------------------------


def test_every_kind_of_file_a_build_writes_has_its_media_type(served: Served, site: Site) -> None:
    kinds = {Path(name).suffix for name in site.files}
    assert kinds <= set(EXPECTED_TYPES), f"no expected media type for {kinds - set(EXPECTED_TYPES)}"
    assert {".xml", ".json", ".jsonld", ".atom", ".html", ".css"} <= kinds
    for name in site.files:
        response = served.client.get("/" + name, headers=IDENTITY)
        assert response.status_code == 200, name
        assert response.headers["content-type"] == EXPECTED_TYPES[Path(name).suffix], name
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (site.output / name).read_bytes(), name
        assert_parses(name, response.content)


def test_folders_serve_their_index_and_need_their_slash(served: Served, site: Site) -> None:
    assert (site.output / "careers").is_symlink()
    assert (site.output / "careers").resolve().parent.name == VERSIONS_DIR
    response = served.client.get("/careers/", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (site.output / "careers" / "index.html").read_bytes()
    redirect = served.client.get("/careers?x=1", follow_redirects=False)
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/careers/?x=1"
    assert served.client.get("/").status_code == 404  # no index.html at the root, no listing


def test_etag_is_the_hash_of_the_bytes_and_last_modified_the_mtime(
    served: Served, site: Site
) -> None:
    for name in ("indeed.xml", "jobs.jsonld", "careers/feed.atom"):
        path = site.output / name
        response = served.client.get("/" + name, headers=IDENTITY)
        assert response.headers["etag"] == sha_tag(path.read_bytes())
        assert response.headers["last-modified"] == formatdate(path.stat().st_mtime, usegmt=True)
        assert response.headers["cache-control"] == "public, max-age=60"
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["content-length"] == str(path.stat().st_size)


@pytest.mark.parametrize("encoding", [IDENTITY, GZIP], ids=["identity", "gzip"])
def test_if_none_match_gives_304_without_a_body(served: Served, encoding: dict[str, str]) -> None:
    first = served.client.get("/indeed.xml", headers=encoding)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = served.client.get("/indeed.xml", headers={**encoding, "If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert "content-length" not in response.headers or response.headers["content-length"] == "0"
        assert response.headers["etag"] == etag
        assert response.headers["vary"] == "Accept-Encoding"
    changed = served.client.get("/indeed.xml", headers={**encoding, "If-None-Match": '"nope"'})
    assert changed.status_code == 200
    assert changed.content == first.content


def test_the_gzip_and_identity_representations_do_not_validate_each_other(
    served: Served,
) -> None:
    identity = served.client.get("/indeed.xml", headers=IDENTITY).headers["etag"]
    zipped = served.client.get("/indeed.xml", headers=GZIP).headers["etag"]
    assert zipped == identity[:-1] + '-gzip"'
    cross = served.client.get("/indeed.xml", headers={**GZIP, "If-None-Match": identity})
    assert cross.status_code == 200
    cross = served.client.get("/indeed.xml", headers={**IDENTITY, "If-None-Match": zipped})
    assert cross.status_code == 200


def test_if_modified_since_gives_304_and_if_none_match_takes_precedence(served: Served) -> None:
    first = served.client.get("/jobs.jsonld", headers=IDENTITY)
    modified = first.headers["last-modified"]
    same = served.client.get("/jobs.jsonld", headers={"If-Modified-Since": modified})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"]
    later = formatdate(time.time() + 3600, usegmt=True)
    assert (
        served.client.get("/jobs.jsonld", headers={"If-Modified-Since": later}).status_code == 304
    )
    older = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    stale = served.client.get("/jobs.jsonld", headers={**IDENTITY, "If-Modified-Since": older})
    assert stale.status_code == 200
    assert stale.content == first.content
    garbage = served.client.get("/jobs.jsonld", headers={"If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200
    # A non-matching If-None-Match wins over a matching If-Modified-Since.
    both = served.client.get(
        "/jobs.jsonld", headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
    )
    assert both.status_code == 200


def test_gzip_body_decompresses_to_the_file(served: Served, site: Site) -> None:
    for name in ("indeed.xml", "linkedin.json", "careers/index.html", "careers/style.css"):
        data = (site.output / name).read_bytes()
        with served.client.stream("GET", "/" + name, headers=GZIP) as response:
            raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["etag"] == sha_tag(data, "-gzip")
        assert gzip.decompress(raw) == data
        if "content-length" in response.headers:
            assert int(response.headers["content-length"]) == len(raw)
        assert len(raw) < len(data)


@pytest.mark.parametrize("header", ["gzip;q=0", "identity", "br", "*;q=0", ""])
def test_gzip_only_when_accepted(served: Served, site: Site, header: str) -> None:
    response = served.client.get("/indeed.xml", headers={"Accept-Encoding": header})
    assert "content-encoding" not in response.headers
    assert response.content == (site.output / "indeed.xml").read_bytes()


@pytest.mark.parametrize("encoding", [IDENTITY, GZIP], ids=["identity", "gzip"])
def test_head_has_the_headers_of_get_and_no_body(served: Served, encoding: dict[str, str]) -> None:
    for name in ("/indeed.xml", "/careers/", "/careers/sitemap.xml"):
        with served.client.stream("GET", name, headers=encoding) as response:
            get_body = b"".join(response.iter_raw())
            get_headers = dict(response.headers)
        head = served.client.head(name, headers=encoding)
        assert head.status_code == 200
        assert head.content == b""
        head_headers = dict(head.headers)
        for headers in (get_headers, head_headers):
            headers.pop("date")
        assert head_headers == get_headers
        if "content-length" in get_headers:
            assert int(get_headers["content-length"]) == len(get_body)


def test_only_get_and_head(served: Served) -> None:
    response = served.client.post("/indeed.xml")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


# -- gone, not found, traversal -------------------------------------------------------------------


def test_closed_job_pages_answer_410_until_the_set_changes(served: Served, site: Site) -> None:
    closed = job_page_path(site.settings, "closed-last-week")
    assert closed == "careers/jobs/closed-last-week.html"
    assert served.client.get("/" + closed).status_code == 404
    served.gone.update([closed, "/" + job_page_path(site.settings, "sixsq-sales-manager")])
    try:
        gone = served.client.get("/" + closed)
        assert gone.status_code == 410
        # Job seekers following an old link get the careers site's page, not a bare error.
        assert gone.headers["content-type"].startswith("text/html")
        assert gone.content == (site.output / "careers" / "gone.html").read_bytes()
        assert b"This job is no longer open" in gone.content
        assert served.client.head("/" + closed).status_code == 410
        # A page that exists is served whatever the set says (a job opened again).
        assert served.client.get("/careers/jobs/sixsq-sales-manager.html").status_code == 200
    finally:
        served.gone.update([])
    assert served.client.get("/" + closed).status_code == 404


def test_without_a_gone_page_a_closed_job_answers_410_in_text(site: Site) -> None:
    gone = GonePaths(["careers/jobs/closed.html"])
    app = create_app(
        site.output,
        status=ServerStatus(timedelta(minutes=1)),
        gone=gone,
        gone_page="careers/missing-gone.html",
    )
    with running(app) as url:
        response = httpx.get(url + "/careers/jobs/closed.html")
    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Gone\n"


TRAVERSALS = [
    "/../config.yaml",
    "/../../../../etc/passwd",
    "/%2e%2e/config.yaml",
    "/%2e%2e/",
    "/%2E%2E%2Fconfig.yaml",
    "/careers/../../config.yaml",
    "/careers/..%2F..%2Fconfig.yaml",
    "/careers/%2e%2e/%2e%2e/config.yaml",
    "/careers%2Findex.html",
    "/careers\\..\\..\\config.yaml",
    "/careers%5c..%5c..%5cconfig.yaml",
    "/indeed.xml%00.html",
    "//etc/passwd",
    "/./indeed.xml",
    "/careers/./index.html",
    "/.versions/",
    "/.hidden.xml",
    "/.syndicate/build.json",
    "/outside/config.yaml",
    "/leak.xml",
    "/indeed.xml/",
    "/no-such-file.xml",
    "/careers/jobs/no-such-job.html",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_nothing_outside_output_and_no_hidden_file_is_served(served: Served, target: str) -> None:
    for method in ("GET", "HEAD"):
        response = raw_get(served.url, target, method)
        assert response.status == 404, (method, target, response.status)
        assert SECRET_MARK.encode() not in response.body


def test_the_versions_folder_is_not_served_even_by_its_real_name(
    served: Served, site: Site
) -> None:
    version = (site.output / "careers").resolve().name
    for target in (f"/{VERSIONS_DIR}/{version}/index.html", f"/{VERSIONS_DIR}/{version}/"):
        assert raw_get(served.url, target).status == 404
    assert served.client.get("/careers/index.html").status_code == 200


# -- private feeds --------------------------------------------------------------------------------


def test_a_private_feed_needs_its_bearer_token(served: Served, site: Site) -> None:
    data = (site.output / "partners" / "indeed.xml").read_bytes()
    for path in ("/partners/indeed.xml", "/alias.xml", "/partners/missing.xml"):
        anonymous = served.client.get(path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert "error" not in anonymous.headers["www-authenticate"]
        for wrong in (
            f"Bearer {TOKEN}x",
            "Bearer",
            f"Basic {TOKEN}",
            TOKEN,
            f"Bearer {TOKEN[:-1]}",
        ):
            refused = served.client.get(path, headers={"Authorization": wrong})
            assert refused.status_code == 401, (path, wrong)
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
            assert data not in refused.content
    for path in ("/partners/indeed.xml", "/alias.xml"):
        allowed = served.client.get(path, headers={"Authorization": f"Bearer {TOKEN}", **IDENTITY})
        assert allowed.status_code == 200, path
        assert allowed.content == data
        assert allowed.headers["cache-control"] == "private, no-cache"
        conditional = served.client.get(
            path,
            headers={"Authorization": f"bearer {TOKEN}", "If-None-Match": allowed.headers["etag"]},
        )
        assert conditional.status_code in (200, 304)  # gzip by default: another ETag
    assert served.client.get("/indeed.xml").status_code == 200  # the public feed stays public


def test_a_private_feed_whose_token_is_unset_is_closed_to_everyone(
    monkeypatch: pytest.MonkeyPatch, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SERVING_TEST_UNSET_TOKEN", raising=False)
    settings = site.settings.model_copy(
        update={
            "server": Server.model_validate(
                {"private": {"/indeed.xml": {"token_env": "SERVING_TEST_UNSET_TOKEN"}}}
            )
        }
    )
    with caplog.at_level(logging.WARNING, logger="syndicate.serving.private"):
        app = create_app_for(settings, status=ServerStatus(timedelta(minutes=1)))
    assert "SERVING_TEST_UNSET_TOKEN is unset" in caplog.text
    with running(app) as url:
        for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer None"}):
            assert httpx.get(url + "/indeed.xml", headers=header).status_code == 401
        assert httpx.get(url + "/jobs.jsonld").status_code == 200


def test_private_rules_match_files_and_folders() -> None:
    folder = PrivateRule("partners/", "X", SecretStr("t"))
    assert folder.covers("partners/a.xml") and folder.covers("partners")
    assert not folder.covers("partners-public.xml")
    single = PrivateRule("partners/a.xml", "X", SecretStr("t"))
    assert single.covers("partners/a.xml") and not single.covers("partners/b.xml")
    assert single.allows("Bearer t") and single.allows("bearer  t ")
    assert not single.allows("Bearer T") and not single.allows(None)
    assert not PrivateRule("a.xml", "X", None).allows("Bearer ")


# -- health ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_healthz_follows_the_syncs(tmp_path: Path) -> None:
    clock = Clock()
    status = ServerStatus(timedelta(minutes=1), grace=timedelta(seconds=30), clock=clock)
    with running(create_app(tmp_path, status=status)) as url:

        def health() -> tuple[int, dict]:
            response = httpx.get(url + "/healthz")
            assert response.headers["content-type"] == "application/json"
            assert response.headers["cache-control"] == "no-store"
            return response.status_code, response.json()

        code, body = health()
        assert (code, body["status"], body["last_sync_at"]) == (200, "ok", None)
        clock.advance(seconds=89)  # the first sync may take one interval plus the grace
        assert health()[0] == 200
        clock.advance(seconds=2)
        code, body = health()
        assert (code, body["status"]) == (503, "failing")
        assert "no sync" in body["reason"]

        status.sync_started()
        assert health()[1]["syncing"] is True
        status.sync_finished("ok", duration=1.5)
        status.set_queue_depth(3)
        status.set_next_sync(clock.now + timedelta(minutes=1))
        code, body = health()
        assert code == 200
        assert body["syncing"] is False
        assert body["last_sync_at"] == clock.now.isoformat()
        assert body["last_sync_result"] == "ok"
        assert body["last_sync_duration_seconds"] == 1.5
        assert body["queue_depth"] == 3
        assert body["next_sync_at"] == (clock.now + timedelta(minutes=1)).isoformat()

        clock.advance(seconds=150)  # 2 × 1 min + 30 s: still in time
        assert health()[0] == 200
        clock.advance(seconds=1)
        code, body = health()
        assert code == 503
        assert "overdue" in body["reason"]

        status.sync_finished("failed", error=f"board said no to {TOKEN}")
        code, body = health()
        assert (code, body["last_sync_result"]) == (503, "failed")

        status.sync_finished("ok")
        assert health()[0] == 200


def test_sync_errors_in_healthz_are_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from syndicate.secret import read_secret

    monkeypatch.setenv("SERVING_TEST_SECRET", "s3cr3t-value")
    read_secret("SERVING_TEST_SECRET")
    status = ServerStatus(timedelta(minutes=1))
    status.sync_finished("failed", error="401 with token s3cr3t-value")
    with running(create_app(tmp_path, status=status)) as url:
        response = httpx.get(url + "/healthz")
    assert response.status_code == 503
    assert "s3cr3t-value" not in response.text
    assert response.json()["last_sync_error"] == "401 with token ****"


# -- metrics --------------------------------------------------------------------------------------

SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>[-+0-9.eEInfNa]+)$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """The Prometheus text format, strictly: every line a HELP, a TYPE or a sample."""
    samples: dict[tuple[str, frozenset], float] = {}
    declared: dict[str, str] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge")
            declared[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert match["name"] in declared, f"{match['name']} has no TYPE"
        labels = frozenset(LABEL.findall(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_parse_and_count(site: Site) -> None:
    status = ServerStatus(timedelta(minutes=15))
    metrics = Metrics(status, site.output)
    with running(create_app(site.output, status=status, metrics=metrics)) as url:
        before = parse_metrics(httpx.get(url + "/metrics").text)
        for _ in range(3):
            assert httpx.get(url + "/nothing-here.xml").status_code == 404
        assert httpx.get(url + "/indeed.xml").status_code == 200
        assert httpx.head(url + "/indeed.xml").status_code == 200
        assert httpx.delete(url + "/indeed.xml").status_code == 405
        metrics.syncs.inc(result="ok")
        metrics.syncs.inc(result="failed")
        metrics.pushes.inc(target="linkedin", outcome="succeeded")
        metrics.pushes.inc(2, target='we"ird\\name', outcome="failed")
        status.set_queue_depth(7)
        status.sync_finished("ok")
        response = httpx.get(url + "/metrics")
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    after = parse_metrics(response.text)
    requests = "syndicate_http_requests_total"
    assert (
        value(after, requests, code="404", method="GET")
        - value(before, requests, code="404", method="GET")
        == 3
    )
    assert value(after, requests, code="200", method="HEAD") == 1
    assert value(after, requests, code="405", method="other") == 1
    # The first scrape and the feed: two 200 GETs counted before the second scrape.
    assert value(after, requests, code="200", method="GET") == 2
    assert value(before, "syndicate_syncs_total", result="ok") == 0  # declared from the start
    assert value(after, "syndicate_syncs_total", result="ok") == 1
    assert value(after, "syndicate_syncs_total", result="failed") == 1
    assert value(after, "syndicate_pushes_total", target="linkedin", outcome="succeeded") == 1
    assert value(after, "syndicate_pushes_total", target='we\\"ird\\\\name', outcome="failed") == 2
    assert value(after, "syndicate_queued_operations") == 7
    assert value(after, "syndicate_last_sync_timestamp_seconds") == pytest.approx(
        time.time(), abs=60
    )
    sizes = {
        dict(labels)["path"]: number
        for (name, labels), number in after.items()
        if name == "syndicate_feed_bytes"
    }
    expected = {
        name: float((site.output / name).stat().st_size)
        for name in site.files
        if Path(name).suffix in (".xml", ".json", ".jsonld", ".atom")
    }
    expected["partners/indeed.xml"] = float((site.output / "partners/indeed.xml").stat().st_size)
    expected["alias.xml"] = expected["partners/indeed.xml"]
    assert sizes == expected  # no job pages, no hidden files, nothing outside output


def test_metrics_parse_back_with_prometheus_client(site: Site) -> None:
    """Every family of ``/metrics`` read by the library's own parser: its type and a sample."""
    status = ServerStatus(timedelta(minutes=15))
    metrics = Metrics(status, site.output)
    with running(create_app(site.output, status=status, metrics=metrics)) as url:
        assert httpx.get(url + "/indeed.xml").status_code == 200
        metrics.syncs.inc(result="ok")
        metrics.pushes.inc(3, target="linkedin", outcome="succeeded")
        status.set_queue_depth(4)
        status.sync_finished("ok")
        text = httpx.get(url + "/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    # The parser drops a counter's ``_total`` from the family's name, not from its samples.
    expected = {
        "syndicate_syncs": "counter",
        "syndicate_pushes": "counter",
        "syndicate_queued_operations": "gauge",
        "syndicate_held_postings": "gauge",
        "syndicate_last_sync_timestamp_seconds": "gauge",
        "syndicate_feed_bytes": "gauge",
        "syndicate_http_requests": "counter",
    }
    # prometheus_client's creation time of each counter series.
    created = {name + "_created": "gauge" for name, kind in expected.items() if kind == "counter"}
    assert {name: family.type for name, family in families.items()} == expected | created

    def sample(family: str, **labels: str) -> float:
        (found,) = [s.value for s in families[family].samples if s.labels == labels]
        return found

    def names(family: str) -> set[str]:
        return {s.name for s in families[family].samples}

    assert names("syndicate_syncs") == {"syndicate_syncs_total"}
    assert sample("syndicate_syncs", result="ok") == 1
    assert sample("syndicate_syncs", result="failed") == 0
    assert names("syndicate_pushes") == {"syndicate_pushes_total"}
    assert sample("syndicate_pushes", target="linkedin", outcome="succeeded") == 3
    assert sample("syndicate_queued_operations") == 4
    assert sample("syndicate_held_postings") == 0
    assert sample("syndicate_last_sync_timestamp_seconds") == pytest.approx(time.time(), abs=60)
    assert (
        sample("syndicate_feed_bytes", path="indeed.xml")
        == (site.output / "indeed.xml").stat().st_size
    )
    assert names("syndicate_http_requests") == {"syndicate_http_requests_total"}
    assert sample("syndicate_http_requests", code="200", method="GET") == 1
    assert sample("syndicate_syncs_created", result="ok") == pytest.approx(time.time(), abs=60)


def test_metrics_of_two_apps_are_apart(site: Site) -> None:
    """Each `Metrics` has its own registry: a second one neither clashes nor shares counts."""
    first = Metrics(ServerStatus(timedelta(minutes=15)), site.output)
    second = Metrics(ServerStatus(timedelta(minutes=15)), site.output)
    first.syncs.inc(result="ok")
    assert first.syncs.value(result="ok") == 1
    assert second.syncs.value(result="ok") == 0
    assert 'syndicate_syncs_total{result="ok"} 0.0' in second.render()


# -- one version per response ---------------------------------------------------------------------


def test_a_file_replaced_or_deleted_while_it_is_sent_is_sent_whole(tmp_path: Path) -> None:
    # Larger than the socket buffers on loopback, so that the server is still reading it.
    old = b"<feed>" + (b"<job>" + b"old " * 250 + b"</job>") * 16_000 + b"</feed>"
    new = b"<feed>" + (b"<job>" + b"new! " * 100 + b"</job>") * 8_000 + b"</feed>"
    path = tmp_path / "big.xml"
    write_atomic(path, [old])
    status = ServerStatus(timedelta(minutes=1))
    with running(create_app(tmp_path, status=status, stream_above=1024)) as url:
        for change in ("replace", "delete"):
            write_atomic(path, [old])
            with httpx.stream("GET", url + "/big.xml", headers=IDENTITY) as response:
                chunks = response.iter_raw(65536)
                received = next(chunks)
                if change == "replace":
                    write_atomic(path, [new])
                else:
                    os.unlink(path)
                received += b"".join(chunks)
            assert response.headers["etag"] == sha_tag(old)
            assert received == old
            strict_xml(received)
        write_atomic(path, [new])
        assert httpx.get(url + "/big.xml", headers=IDENTITY).content == new


# -- the parts on their own -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *;q=1", False),
        ("*;q=0", False),
        ("deflate", False),
        (None, False),
    ],
)
def test_accept_encoding(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_validators() -> None:
    assert none_match('"a", W/"b"', '"b"')
    assert not none_match('"a"', '"b"')
    stamp = 1_700_000_000.75
    assert not_modified_since(formatdate(stamp, usegmt=True), stamp)
    assert not not_modified_since(formatdate(stamp - 1, usegmt=True), stamp)
    assert not not_modified_since("not a date", stamp)


def test_access_log_lines(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="syndicate.serving.access"):
        served.client.get("/indeed.xml")
        raw_get(served.url, "/a%22b%0Ac")
    records = [r for r in caplog.records if r.name == "syndicate.serving.access"]
    assert [r.getMessage() for r in records][-2:] == [
        "GET /indeed.xml 200",
        "GET /a%22b%0Ac 404",
    ]
    fields = records[-2].syndicate_fields
    assert fields["status"] == 200 and fields["path"] == "/indeed.xml" and fields["bytes"] > 0


def test_the_etag_is_computed_once_per_version_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    write_atomic(path, [b"<a/>"])
    digests = Digests()
    where = request_path("/feed.xml")
    assert where is not None
    first = open_served(tmp_path, where)
    assert isinstance(first, OpenFile)
    assert digests.sha256(first) == hashlib.sha256(b"<a/>").hexdigest()
    # Same device, inode, mtime and size: the cached digest, whatever the bytes given.
    assert digests.sha256(first, b"ignored") == hashlib.sha256(b"<a/>").hexdigest()
    first.close()
    write_atomic(path, [b"<b/>"])
    second = open_served(tmp_path, where)
    assert isinstance(second, OpenFile)
    assert second.identity != first.identity
    assert digests.sha256(second) == hashlib.sha256(b"<b/>").hexdigest()
    second.close()


def test_private_paths_in_the_configuration_stay_under_output(settings: Settings) -> None:
    data = settings.model_dump(mode="json", include={"organization", "site"})
    good = settings_from_data(
        {**data, "server": {"private": {"/partners/": {"token_env": "PARTNER_TOKEN"}}}}
    )
    assert list(good.server.private) == ["partners/"]
    for bad in ("../indeed.xml", "partners/../../x", ".versions/a.xml", "a//b.xml", "a\\b.xml"):
        with pytest.raises(ConfigError) as caught:
            settings_from_data({**data, "server": {"private": {bad: {"token_env": "T"}}}})
        assert [p.field for p in caught.value.problems] == ["server.private"], bad
    with pytest.raises(ConfigError) as caught:
        settings_from_data({**data, "server": {"private": {"a.xml": {"token_env": "not a name"}}}})
    assert "environment variable" in str(caught.value.problems[0])
