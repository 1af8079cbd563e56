"""``syndicate state …``: tools for the publish state store itself."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from syndicate.cli.base import EXIT_OK, app, runtime_of
from syndicate.cli.group import Command, Group

state_app = typer.Typer(
    cls=Group, help="Work on the publish state store itself.", no_args_is_help=True
)
app.add_typer(state_app, name="state")


@state_app.command("copy", cls=Command)
def copy_command(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="The state to copy, e.g. sqlite:///.syndicate/state.db")
    ],
    target: Annotated[
        str, typer.Argument(help="Where to, e.g. postgresql+psycopg://syndicate@db/syndicate")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace what the target holds already.")
    ] = False,
) -> None:
    """Copy a whole state store (deliveries, operations and history, runs, quotas, last good
    versions, reference numbers, approvals) into another, e.g. from SQLite to PostgreSQL.
    The target must be empty unless --force.  Give the password in $PGPASSWORD, not the URL.

    [b]Example[/b]: PGPASSWORD=… syndicate state copy sqlite:///.syndicate/state.db
    postgresql+psycopg://syndicate@db.internal/syndicate
    """
    from syndicate.state.copy import copy_state

    runtime = runtime_of(ctx)
    copied = copy_state(source, target, replace=force)
    shown = make_url(target).render_as_string(hide_password=True)
    total = sum(copied.values())
    details = ", ".join(f"{name} {n}" for name, n in copied.items() if n)
    runtime.say(f"copied {total} rows into {shown}" + (f" ({details})" if details else ""))
    raise typer.Exit(EXIT_OK)
