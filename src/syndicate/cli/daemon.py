"""``syndicate daemon``: keep the boards in sync on a schedule and serve the feeds."""

from __future__ import annotations

from typing import Annotated

import typer

from syndicate.cli.base import EXIT_OK, app, runtime_of
from syndicate.cli.group import Command
from syndicate.logs import LogFormat, configure_logging


@app.command(cls=Command)
def daemon(
    ctx: typer.Context,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text for people, json for log collectors.")
    ] = "text",
) -> None:
    """Sync on a schedule (config `schedule`), retry what failed, close expired jobs, and serve
    the output folder with /healthz and /metrics (config `server`).  Stops on SIGTERM or SIGINT.

    [b]Example[/b]: LINKEDIN_TOKEN=… syndicate daemon --log-format json
    """
    from syndicate.daemon import Daemon  # the scheduler and server load only for this command

    if log_format not in ("text", "json"):
        raise typer.BadParameter(f"{log_format!r}: use text or json", param_hint="--log-format")
    runtime = runtime_of(ctx)
    settings = runtime.settings()
    chosen: LogFormat = "json" if log_format == "json" else "text"
    # A daemon reports every sync and push: info level unless --quiet.
    configure_logging(max(runtime.verbosity, 1) if runtime.verbosity >= 0 else 0, chosen)
    Daemon(settings).run()
    raise typer.Exit(EXIT_OK)
