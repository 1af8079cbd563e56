"""`BoardServer`: the local board served by uvicorn in a thread; and the command line."""

from __future__ import annotations

import argparse
import socket
import threading
from typing import Any

import uvicorn

from syndicate.testing.board.app import create_app
from syndicate.testing.board.config import DEFAULT_HOOK_SECRET, DEFAULT_TOKEN, BoardConfig
from syndicate.testing.board.core import Board
from syndicate.testing.board.faults import Fault
from syndicate.testing.board.hooks import HOOK_PATH
from syndicate.testing.board.records import BoardView


class BoardServer:
    """The board served by uvicorn in a background thread on a free port of 127.0.0.1.

    ``with BoardServer() as board:`` starts it and stops it; ``board.url`` is where it listens,
    ``board.board`` its `Board`, for direct reads and faults without HTTP.  Options are those of
    `BoardConfig` (or a ``config``), plus ``host`` and ``port``.
    """

    def __init__(
        self,
        config: BoardConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.config = config or BoardConfig.of(**options)
        self.app = create_app(self.config)
        self.board: Board = self.app.state.board
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The server's base URL: the jobs API and indexing API endpoint."""
        return f"http://{self.host}:{self.port}"

    @property
    def hook_url(self) -> str:
        """A webhook URL on this server."""
        return self.url + HOOK_PATH

    def start(self) -> BoardServer:
        """Start serving; returns once the server accepts connections."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            http="h11",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"board-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        for _ in range(1000):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            self._thread.join(0.01)
        self.stop()
        raise RuntimeError(f"the board server did not start on {self.url}")

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> BoardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def state(self) -> BoardView:
        """A copy of everything the board holds."""
        return self.board.view()

    def add_faults(self, *faults: Fault | dict[str, Any]) -> list[Fault]:
        """Queue faults (see `syndicate.testing.board.faults`); the faults now waiting."""
        return self.board.add_faults(faults)

    def reset(self) -> None:
        """Forget everything the board holds."""
        self.board.reset()


def main(argv: list[str] | None = None) -> None:
    """``python -m syndicate.testing.board``: serve the board until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m syndicate.testing.board",
        description="A local job board (LinkedIn-style jobs API, Google Indexing API, webhooks) "
        "with fault injection, for trying and testing syndicate.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="bearer token the APIs expect")
    parser.add_argument("--indexing-token", default=None, help="default: --token")
    parser.add_argument("--hook-secret", default=DEFAULT_HOOK_SECRET, help="webhook secret")
    parser.add_argument(
        "--hook-previous-secret", default=None, help="a second webhook secret (key rotation)"
    )
    parser.add_argument(
        "--hook-signatures",
        choices=("standard", "legacy", "both"),
        default="standard",
        help="which webhook signatures the board accepts (default: standard)",
    )
    parser.add_argument(
        "--linkedin-client-id", default=None, help="LinkedIn OAuth client (2-legged flow)"
    )
    parser.add_argument("--linkedin-client-secret", default=None)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument(
        "--allow-duplicate-creates",
        action="store_true",
        help="apply a CREATE of an existing id again instead of refusing it",
    )
    args = parser.parse_args(argv)
    config = BoardConfig(
        token=args.token,
        hook_secret=args.hook_secret,
        hook_previous_secret=args.hook_previous_secret,
        hook_signatures=args.hook_signatures,
        linkedin_client_id=args.linkedin_client_id,
        linkedin_client_secret=args.linkedin_client_secret,
        indexing_token=args.indexing_token,
        latency=args.latency,
        reject_duplicate_creates=not args.allow_duplicate_creates,
    )
    app = create_app(config)
    print(f"job board on http://{args.host}:{args.port}  (state: /_control/state)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="off")
