"""The local board as one ASGI application: its APIs at the root, plus test control."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syndicate.testing.board import hooks, indexing, linkedin
from syndicate.testing.board.config import BoardConfig
from syndicate.testing.board.core import Board
from syndicate.testing.board.faults import FAULTS
from syndicate.testing.board.http import endpoint, json_body


async def _control_faults(request: Request) -> Response:
    board: Board = request.app.state.board
    if request.method == "DELETE":
        board.clear_faults()
        return JSONResponse({"faults": []})
    data = json_body(await request.body())
    try:
        waiting = board.add_faults(data if isinstance(data, list) else [data])
    except ValidationError as error:
        problems = json.loads(error.json(include_url=False, include_input=False))
        return JSONResponse({"error": "invalid faults", "problems": problems}, 400)
    return JSONResponse({"faults": FAULTS.dump_python(waiting, mode="json")})


async def _control_state(request: Request) -> Response:
    board: Board = request.app.state.board
    return JSONResponse(board.view().model_dump(mode="json"))


async def _control_reset(request: Request) -> Response:
    request.app.state.board.reset()
    return JSONResponse({"reset": True})


def create_app(config: BoardConfig | None = None, **options: Any) -> Starlette:
    """The board as an ASGI app (its `Board` is ``app.state.board``), set up by ``config``
    or by the same options as keywords (see `BoardConfig`)."""
    board = Board(config or BoardConfig.of(**options))
    routes = [
        *(
            Route(base + linkedin.JOBS_PATH, endpoint(linkedin.JOBS), methods=["POST"])
            for base in linkedin.BASES
        ),
        *(
            Route(base + linkedin.TASKS_PATH, endpoint(linkedin.TASKS), methods=["GET"])
            for base in linkedin.BASES
        ),
        Route(linkedin.TOKEN_PATH, linkedin.token_endpoint, methods=["POST"]),
        Route(indexing.PUBLISH_PATH, endpoint(indexing.PUBLISH), methods=["POST"]),
        Route(indexing.BATCH_PATH, endpoint(indexing.BATCH), methods=["POST"]),
        Route(indexing.TOKEN_PATH, endpoint(indexing.TOKEN), methods=["POST"]),
        Route(hooks.HOOK_PATH, endpoint(hooks.HOOK), methods=["POST"]),
        Route(hooks.HOOK_PATH + "/{name:path}", endpoint(hooks.HOOK), methods=["POST"]),
        Route("/_control/faults", _control_faults, methods=["POST", "DELETE"]),
        Route("/_control/state", _control_state, methods=["GET"]),
        Route("/_control/reset", _control_reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.board = board
    return app
