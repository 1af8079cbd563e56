"""The feed server under load while the output is rebuilt: no errors, no partial bodies.

Three processes: the server (uvicorn on a build of the examples), a client on loopback firing
many concurrent full and conditional GETs, and this test rebuilding the output over and over
from two posting sets (every title changed, one posting dropped).  Every 200 must be a whole
document of its kind whose SHA-256 is its ETag; every 304 must be empty; a 404 is accepted
only for the page of the posting that one set drops.

The load lasts ``SYNDICATE_LOAD_SECONDS`` (15 s by default, to keep the suite quick; the issue
asks for a minute: ``SYNDICATE_LOAD_SECONDS=60 pytest tests/test_serving_load.py``) with
``SYNDICATE_LOAD_CONCURRENCY`` requests in flight (50 by default).  The figures are printed
(``pytest -s``) and written to the JSON report of the run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import socket
import ssl
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest
from lxml import etree

from syndicate.build import build
from syndicate.config import Settings
from syndicate.model import Posting

LOAD_SECONDS = float(os.environ.get("SYNDICATE_LOAD_SECONDS", "15"))
CONCURRENCY = int(os.environ.get("SYNDICATE_LOAD_CONCURRENCY", "50"))
MAX_ERRORS_KEPT = 20


# -- the server process ---------------------------------------------------------------------------


def serve(output: str, conn: Connection) -> None:
    """Run the feed server on ``output`` on a free port; send the port through ``conn``."""
    import uvicorn

    from syndicate.serving import ServerStatus, create_app

    app = create_app(Path(output), status=ServerStatus(timedelta(minutes=15)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    conn.send(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", backlog=1024
    )
    uvicorn.Server(config).run(sockets=[sock])


# -- the client process ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What the client saw."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    conditional: int = 0
    gzipped: int = 0
    body_bytes: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    versions: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERRORS_KEPT:
            self.error_samples.append(text)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["statuses"] = {str(k): v for k, v in self.statuses.items()}
        data["versions"] = {path: len(tags) for path, tags in self.versions.items()}
        data["requests_per_second"] = round(self.requests / self.seconds, 1)
        return data


def _whole(path: str, body: bytes) -> str | None:
    """Why ``body`` is not a whole document of the kind ``path`` names, or None."""
    try:
        if path.endswith((".xml", ".atom")):
            parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
            etree.fromstring(body, parser)
        elif path.endswith((".json", ".jsonld")):
            json.loads(body)
        elif path.endswith((".html", "/")):
            if not body.rstrip().endswith(b"</html>"):
                return "HTML not ending with </html>"
            lxml.html.document_fromstring(body)
        elif path.endswith(".css") and body.count(b"{") != body.count(b"}"):
            return "unbalanced CSS"
    except (etree.XMLSyntaxError, json.JSONDecodeError, ValueError) as error:
        return f"does not parse: {error}"
    return None


def _check(
    tally: Tally,
    path: str,
    sent: dict[str, str],
    response: httpx.Response,
    may_vanish: frozenset[str],
) -> None:
    status = response.status_code
    tally.statuses[status] += 1
    etag = response.headers.get("etag", "")
    if status == 304:
        if response.content:
            tally.error(f"{path}: 304 with a {len(response.content)}-byte body")
        if "If-None-Match" in sent and etag != sent["If-None-Match"]:
            tally.error(f"{path}: 304 for {sent['If-None-Match']} but ETag {etag}")
        return
    if status == 404 and path in may_vanish:
        return
    if status != 200:
        tally.error(f"{path}: status {status}")
        return
    gzipped = response.headers.get("content-encoding") == "gzip"
    tally.gzipped += gzipped
    tally.body_bytes += len(response.content)
    expected = f'"{hashlib.sha256(response.content).hexdigest()}{"-gzip" if gzipped else ""}"'
    if etag != expected:
        tally.error(f"{path}: body of {len(response.content)} bytes does not hash to {etag}")
    if problem := _whole(path, response.content):
        tally.error(f"{path}: {problem}")
    # One version of the file, whichever its representation.
    tally.versions.setdefault(path, set()).add(etag.replace("-gzip", ""))


async def _worker(
    base_url: str,
    paths: list[str],
    may_vanish: frozenset[str],
    deadline: float,
    tally: Tally,
    rng: random.Random,
    tls: ssl.SSLContext,
) -> None:
    """One connection's worth of requests, until ``deadline``."""
    known: dict[tuple[str, bool], tuple[str, str]] = {}  # (path, gzip) -> ETag, Last-Modified
    # A client per worker: httpcore's pool scans every connection on each request, which made
    # one shared pool of 50 connections slower than the server it was measuring.
    async with httpx.AsyncClient(base_url=base_url, timeout=30, verify=tls) as client:
        while time.monotonic() < deadline:
            path = rng.choice(paths)
            gzipped = rng.random() < 0.5
            headers = {"Accept-Encoding": "gzip" if gzipped else "identity"}
            validators = known.get((path, gzipped))
            draw = rng.random()
            if validators and draw < 0.4:
                headers["If-None-Match"] = validators[0]
            elif validators and draw < 0.6:
                headers["If-Modified-Since"] = validators[1]
            tally.conditional += len(headers) > 1
            tally.requests += 1
            try:
                response = await client.get(path, headers=headers)
            except httpx.HTTPError as error:
                tally.error(f"{path}: {type(error).__name__}: {error}")
                continue
            _check(tally, path, headers, response, may_vanish)
            if response.status_code == 200:
                known[(path, gzipped)] = (
                    response.headers["etag"],
                    response.headers["last-modified"],
                )


async def _hammer(
    base_url: str, paths: list[str], may_vanish: frozenset[str], seconds: float, concurrency: int
) -> Tally:
    tally = Tally()
    tls = ssl.create_default_context()  # unused on plain HTTP, but loading it 50 times is slow
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _worker(base_url, paths, may_vanish, deadline, tally, random.Random(seed), tls)
            for seed in range(concurrency)
        )
    )
    tally.seconds = time.monotonic() - started
    return tally


def hammer(
    base_url: str,
    paths: list[str],
    may_vanish: list[str],
    seconds: float,
    concurrency: int,
    conn: Connection,
) -> None:
    """The client process: load the server, then send the tally's summary through ``conn``."""
    _remember_that_sniffio_is_missing()
    tally = asyncio.run(_hammer(base_url, paths, frozenset(may_vanish), seconds, concurrency))
    conn.send(tally.summary())


def _remember_that_sniffio_is_missing() -> None:
    """Make a missing ``sniffio`` fail to import at once.

    httpcore imports sniffio on every async request; when it is not installed each attempt
    searches sys.path again, which costs milliseconds and made the client, not the server, the
    bottleneck of this test.
    """
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


# -- the test -------------------------------------------------------------------------------------


def _revised(postings: list[Posting]) -> list[Posting]:
    """The second posting set: every title changed, the last posting dropped."""
    return [p.model_copy(update={"title": f"{p.title} (revised)"}) for p in postings[:-1]]


@pytest.mark.slow
def test_the_server_under_load_during_rebuilds_sends_only_whole_bodies(
    tmp_path: Path, settings: Settings, examples: list[Posting], record_property: Any
) -> None:
    configured = settings.model_copy(update={"root": tmp_path, "output": Path("feeds")})
    sets = [examples, _revised(examples)]
    report = build(configured, sets[0])
    assert report.ok
    output = configured.output_dir
    pages = sorted({n for t in report.targets for n in t.files if n.startswith("careers/jobs/")})
    dropped = f"careers/jobs/{examples[-1].id}.html"
    assert dropped in pages
    paths = ["/" + name for name in ("indeed.xml", "jobs.jsonld", "linkedin.json")]
    paths += ["/careers/", "/careers/index.html", "/careers/sitemap.xml", "/careers/feed.atom"]
    paths += ["/careers/style.css", *("/" + page for page in pages)]

    spawn = multiprocessing.get_context("spawn")
    port_in, port_out = spawn.Pipe(duplex=False)
    server = spawn.Process(target=serve, args=(str(output), port_out), daemon=True)
    server.start()
    client = None
    try:
        assert port_in.poll(30), "the server process did not start"
        base_url = f"http://127.0.0.1:{port_in.recv()}"
        _wait_until_serving(base_url)
        result_in, result_out = spawn.Pipe(duplex=False)
        client = spawn.Process(
            target=hammer,
            args=(base_url, paths, ["/" + dropped], LOAD_SECONDS, CONCURRENCY, result_out),
            daemon=True,
        )
        client.start()
        builds = 0
        while not result_in.poll(0.05):
            assert client.is_alive() or result_in.poll(), "the client process died"
            assert server.is_alive(), "the server process died"
            report = build(configured, sets[builds % 2 == 0])
            assert report.ok
            builds += 1
        summary = result_in.recv()
        client.join(10)
    finally:
        for process in (client, server):
            if process is not None and process.is_alive():
                process.terminate()
                process.join(10)

    summary["builds"] = builds
    print("\nload:", json.dumps(summary, sort_keys=True))
    record_property("load", summary)
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["requests"] >= 100, summary
    statuses = summary["statuses"]
    assert statuses.get("200", 0) > 0 and statuses.get("304", 0) > 0, statuses
    assert summary["gzipped"] > 0 and summary["conditional"] > 0
    # The output really changed under the load: both versions of each feed were served.
    assert builds >= 4
    for path in ("/indeed.xml", "/careers/index.html", "/careers/feed.atom"):
        assert summary["versions"].get(path, 0) >= 2, (path, summary["versions"])


def _wait_until_serving(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base_url + "/indeed.xml", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server never answered"
        time.sleep(0.05)
