"""The feed server: ``output`` over HTTP for the aggregators, plus ``/healthz`` and ``/metrics``.

`create_app` builds the Starlette application the daemon serves with uvicorn (give uvicorn
``access_log=False``: requests are logged here, on the ``syndicate.serving.access`` logger).

Files answer with their media type, a strong ``ETag`` (the SHA-256 of the bytes; with ``-gzip``
appended for the gzip representation), ``Last-Modified``, ``Cache-Control`` and, for text,
``Vary: Accept-Encoding``.  ``If-None-Match`` (which takes precedence) or ``If-Modified-Since``
give ``304`` with no body; ``HEAD`` gives the headers of the GET without its body.  A folder
serves its ``index.html`` (``/careers`` redirects to ``/careers/``).  Unknown and refused paths
answer ``404``; the paths of closed jobs ``410`` (see `GonePaths`); private files without their
token ``401`` (see `PrivateFiles`).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Container, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicate.config import Settings
from syndicate.logs import event
from syndicate.serving import conditional
from syndicate.serving.files import (
    CHUNK,
    INDEX,
    Digests,
    OpenFile,
    RecordedTypes,
    RequestPath,
    SlashNeeded,
    compressible,
    media_type,
    open_served,
    request_path,
)
from syndicate.serving.gone import GonePaths
from syndicate.serving.health import ServerStatus
from syndicate.serving.metrics import CONTENT_TYPE, Metrics
from syndicate.serving.private import PrivateFiles, PrivateRule

if TYPE_CHECKING:
    from syndicate.live import LiveTarget, LiveView

access_log = logging.getLogger("syndicate.serving.access")
log = logging.getLogger(__name__)

STREAM_ABOVE = 1 << 20  # files larger than this are streamed, not read whole
PUBLIC_MAX_AGE = 60


def create_app(
    output_dir: Path,
    *,
    status: ServerStatus,
    metrics: Metrics | None = None,
    gone: Container[str] | None = None,
    private: PrivateFiles | None = None,
    max_age: int = PUBLIC_MAX_AGE,
    stream_above: int = STREAM_ABOVE,
    gone_page: str | None = None,
    home: str | None = None,
    live: LiveView | None = None,
) -> Starlette:
    """The feed server for ``output_dir``.

    ``home`` (a folder under output, ``careers/``) is where ``/`` redirects when the output
    has no ``index.html`` of its own: a person opening the server's address finds the jobs.

    ``gone`` tells which paths under output answer 410 (a `GonePaths` the daemon updates), with
    the file ``gone_page`` under output as their body when it exists;
    ``metrics`` is created when not given; both, with ``status``, are also on ``app.state``.
    ``live`` (the daemon's, with ``watch``) serves the documents an edit changed from the build
    cache until their files are written (`syndicate.live`).
    """
    metrics = metrics or Metrics(status, output_dir)
    files = FeedFiles(
        output_dir,
        gone=gone if gone is not None else GonePaths(),
        private=private or PrivateFiles(),
        max_age=max_age,
        stream_above=stream_above,
        gone_page=gone_page,
        live=live,
    )

    async def healthz(request: Request) -> Response:
        health = status.health()
        return JSONResponse(
            health.as_json(),
            status_code=200 if health.healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def metrics_text(request: Request) -> Response:
        text = await run_in_threadpool(metrics.render)
        return Response(text, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    async def root(request: Request) -> Response:
        if home and not (output_dir / "index.html").is_file():
            return RedirectResponse(f"/{home}", status_code=302)
        return await files.serve(request)

    app = Starlette(
        routes=[
            Route("/", root, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics_text, methods=["GET", "HEAD"]),
            Route("/{path:path}", files.serve, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(AccessLog, metrics=metrics)],
    )
    app.state.status = status
    app.state.metrics = metrics
    app.state.gone = files.gone
    app.state.output_dir = output_dir
    return app


def create_app_for(
    settings: Settings,
    *,
    status: ServerStatus,
    metrics: Metrics | None = None,
    gone: Container[str] | None = None,
    live: LiveView | None = None,
) -> Starlette:
    """The feed server for ``settings``: its output folder and its private feeds."""
    return create_app(
        settings.output_dir,
        status=status,
        metrics=metrics,
        gone=gone,
        private=PrivateFiles.from_config(settings.server.private),
        gone_page=settings.careers_gone_page(),
        home=settings.careers_home(),
        live=live,
    )


@dataclass(frozen=True, slots=True)
class _Described:
    sha256: str
    data: bytes | None  # the whole file, when small enough to be held


class FeedFiles:
    """The endpoint serving the files of ``output``."""

    def __init__(
        self,
        output: Path,
        *,
        gone: Container[str],
        private: PrivateFiles,
        max_age: int,
        stream_above: int,
        gone_page: str | None = None,
        live: LiveView | None = None,
    ) -> None:
        self.output = output
        self.live = live
        self.gone = gone
        self.gone_page = gone_page  # under output: the body of a 410
        self.private = private
        self.max_age = max_age
        self.stream_above = stream_above
        self.digests = Digests()
        self.media_types = RecordedTypes(output)

    async def serve(self, request: Request) -> Response:
        """Answer one GET or HEAD for a file."""
        path = request_path(request.scope["path"], request.scope.get("raw_path"))
        if path is None:
            return _not_found()
        authorization = request.headers.get("authorization")
        rule = self.private.rule_for(path.relative)
        if rule is not None and not rule.allows(authorization):
            return _unauthorized(rule, authorization)
        if self.live is not None:
            response = await self._live_or_none(request, path, rule, authorization)
            if response is not None:
                return response
        opened = await run_in_threadpool(open_served, self.output, path)
        if opened is None:
            if path.relative in self.gone:
                return await self._gone()
            return _not_found()
        if isinstance(opened, SlashNeeded):
            return _add_slash(request)
        try:
            rule = rule or self._rule_after_resolving(opened)
            if rule is not None and not rule.allows(authorization):
                opened.close()
                return _unauthorized(rule, authorization)
            return await self._respond(request, opened, private=rule is not None)
        except BaseException:
            opened.close()
            raise

    async def _live_or_none(
        self,
        request: Request,
        path: RequestPath,
        rule: PrivateRule | None,
        authorization: str | None,
    ) -> Response | None:
        """The answer for a document an edit changed (None: serve the file), private rules
        applied to its path as to the file's (a folder's with its ``index.html``)."""
        assert self.live is not None
        wanted = "/".join((*path.parts, INDEX)) if path.folder else path.relative
        served = self.live.document(wanted)
        if served is None:
            return None
        rule = rule or self.private.rule_for(wanted)
        if rule is not None and not rule.allows(authorization):
            return _unauthorized(rule, authorization)
        return await self._live(request, served, wanted, private=rule is not None)

    async def _live(
        self, request: Request, served: LiveTarget, relative: str, *, private: bool
    ) -> Response | None:
        """A document an edit changed, assembled from the cache (None: serve the file).  It has
        no ETag or Last-Modified: its bytes are known only once sent."""
        assert self.live is not None
        document = await run_in_threadpool(self.live.open, served, relative)
        if document is None:
            return None
        content_type = media_type(relative, {PurePosixPath(relative).suffix: document.media_type})
        varies = compressible(content_type)
        gzipped = varies and conditional.accepts_gzip(request.headers.get("accept-encoding"))
        headers = {
            "Cache-Control": "private, no-cache" if private else f"public, max-age={self.max_age}",
            "Content-Type": content_type,
            "X-Content-Type-Options": "nosniff",
        }
        if varies:
            headers["Vary"] = "Accept-Encoding"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            _close(document.chunks)
            return Response(b"", headers=headers)
        blocks = _blocks(document.chunks, CHUNK)
        return StreamingResponse(_packed(blocks, gzipped), headers=headers)

    async def _gone(self) -> Response:
        """410 for a job no longer open: the careers site's page for job seekers when the build
        wrote one (read under ``output`` like any served file), else a line of text."""
        page = None
        if self.gone_page is not None:
            page = await run_in_threadpool(_read_served, self.output, self.gone_page)
        headers = {"Cache-Control": f"public, max-age={self.max_age}"}
        if page is None:
            return PlainTextResponse("Gone\n", status_code=410, headers=headers)
        return Response(page, status_code=410, media_type="text/html", headers=headers)

    def _rule_after_resolving(self, opened: OpenFile) -> PrivateRule | None:
        if not self.private:
            return None
        base = str(self.output.resolve())
        return self.private.rule_for(opened.relative) or self.private.rule_for_real(
            opened.real, base
        )

    def _describe(self, file: OpenFile) -> _Described:
        data = file.read_all() if file.size <= self.stream_above else None
        return _Described(self.digests.sha256(file, data), data)

    async def _respond(self, request: Request, file: OpenFile, *, private: bool) -> Response:
        content_type = media_type(file.relative, self.media_types.current())
        varies = compressible(content_type)
        gzipped = varies and conditional.accepts_gzip(request.headers.get("accept-encoding"))
        described = await run_in_threadpool(self._describe, file)
        etag = conditional.entity_tag(described.sha256, gzipped)
        headers = {
            "ETag": etag,
            "Last-Modified": conditional.http_date(file.mtime),
            "Cache-Control": "private, no-cache" if private else f"public, max-age={self.max_age}",
        }
        if varies:
            headers["Vary"] = "Accept-Encoding"
        if conditional.not_modified(
            request.headers.get("if-none-match"),
            request.headers.get("if-modified-since"),
            etag,
            file.mtime,
        ):
            file.close()
            return Response(status_code=304, headers=headers)
        headers["Content-Type"] = content_type
        headers["X-Content-Type-Options"] = "nosniff"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        head = request.method == "HEAD"
        if described.data is not None:
            file.close()
            body = described.data
            if gzipped:
                body = await run_in_threadpool(self.digests.gzipped, file, body)
            headers["Content-Length"] = str(len(body))
            return Response(b"" if head else body, headers=headers)
        if not gzipped:
            headers["Content-Length"] = str(file.size)
        if head:
            file.close()
            response = Response(b"", headers=headers)
            if gzipped:  # the length of a gzip made on the fly is not known in advance
                del response.headers["content-length"]
            return response
        return StreamingResponse(_stream(file, gzipped), headers=headers)


def _stream(file: OpenFile, gzipped: bool) -> Iterator[bytes]:
    """The bytes of ``file`` (gzipped on the fly), then the file closed."""
    try:
        yield from _packed(file.chunks(), gzipped)
    finally:
        file.close()


def _close(chunks: Iterator[bytes]) -> None:
    """End a generator of chunks that its reader stopped reading early (its cleanup runs)."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _blocks(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """``chunks`` joined into blocks of about ``size`` bytes (a render yields many small
    pieces; each block handed to the server costs a hop to and from its thread pool)."""
    try:
        pending: list[bytes] = []
        held = 0
        for chunk in chunks:
            pending.append(chunk)
            held += len(chunk)
            if held >= size:
                yield b"".join(pending)
                pending, held = [], 0
        if pending:
            yield b"".join(pending)
    finally:
        _close(chunks)


def _packed(chunks: Iterator[bytes], gzipped: bool) -> Iterator[bytes]:
    """``chunks``, gzipped on the fly when asked; closed when the reader stops early."""
    try:
        if not gzipped:
            yield from chunks
            return
        packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        for block in chunks:
            packed = packer.compress(block)
            if packed:
                yield packed
        yield packer.flush()
    finally:
        _close(chunks)


def _read_served(output: Path, relative: str) -> bytes | None:
    """The bytes of the file ``relative`` under ``output``, if it is one served (None else)."""
    path = request_path("/" + relative)
    opened = open_served(output, path) if path is not None else None
    if not isinstance(opened, OpenFile):
        return None
    with opened.handle:
        return opened.handle.read()


def _not_found() -> Response:
    return PlainTextResponse("Not Found\n", status_code=404)


def _unauthorized(rule: PrivateRule, authorization: str | None) -> Response:
    challenge = rule.challenge(authorization)
    return PlainTextResponse(
        "Unauthorized\n",
        status_code=401,
        headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"},
    )


def _add_slash(request: Request) -> Response:
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    location = raw.decode("latin-1") + "/"
    query = request.scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    return Response(status_code=301, headers={"Location": location})


@dataclass(slots=True)
class _Exchange:
    started: float
    status: int = 0
    size: int = 0
    done: bool = False


class AccessLog:
    """ASGI middleware: one log line and one request count per HTTP response.

    The request is counted just before its last byte is handed to the server, so a client that
    has the response can rely on it being counted.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(time.perf_counter())

        def record(code: int) -> None:
            exchange.done = True
            self._record(scope, code, exchange.size, time.perf_counter() - exchange.started)

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
            elif message["type"] == "http.response.body":
                exchange.size += len(message.get("body", b""))
                if not message.get("more_body", False) and not exchange.done:
                    record(exchange.status)
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except BaseException:
            if not exchange.done:
                record(500)
            raise
        if not exchange.done:
            record(exchange.status or 500)

    def _record(self, scope: Scope, code: int, size: int, seconds: float) -> None:
        method = scope["method"]
        self.metrics.requests.inc(
            code=str(code), method=method if method in ("GET", "HEAD") else "other"
        )
        client = scope.get("client")
        address = client[0] if client else "-"
        target = _printable(scope.get("raw_path") or scope["path"].encode())
        if scope.get("query_string"):
            target += "?" + _printable(scope["query_string"])
        event(
            access_log,
            f"{_printable(method.encode())} {target} {code}",
            client=address,
            method=method,
            path=target,
            http_version=scope.get("http_version"),
            status=code,
            bytes=size,
            duration_ms=round(seconds * 1000, 2),
        )


def _printable(raw: bytes) -> str:
    """Request bytes safe for a log line: anything unprintable escaped."""
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() and c != '"' else f"\\x{ord(c):02x}" for c in text)
