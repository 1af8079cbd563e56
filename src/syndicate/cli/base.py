"""What every ``syndicate`` command shares: the app, its global options, output and exit codes.

Exit codes: 0 all good; 1 invalid input or configuration, a posting held at its last good
version, a refused plan (an invalid posting is never pushed; the valid ones are); 2 usage;
3 some pushes failed and are queued for retry (nothing lost); 4 (``status``) a delivery failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from syndicate import __version__
from syndicate.cli.group import Group as CommandGroup
from syndicate.cli.problems import Group, grouped
from syndicate.config import DEFAULT_CONFIG, Settings, load_settings
from syndicate.errors import ConfigError, Problem, Severity, SyndicateError
from syndicate.logs import configure_logging
from syndicate.secret import mask, mask_values

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_QUEUED, EXIT_FAILED = 0, 1, 2, 3, 4
JSON_VERSION = 1  # of every command's --format json document

app = typer.Typer(
    name="syndicate",
    cls=CommandGroup,
    help="Publish job postings from Markdown files to every job board, feed and careers site.",
    no_args_is_help=True,
    invoke_without_command=True,  # so that `syndicate --version` works alone
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
log = logging.getLogger("syndicate")


@dataclass
class Runtime:
    """What every command shares: where the config is, how much to say, where to say it."""

    config_path: Path
    verbosity: int
    out: Console
    err: Console

    def apply_option(self, name: str, value: object) -> None:
        """A global option given after the command name (`syndicate.cli.group`)."""
        if name == "config" and isinstance(value, Path):
            self.config_path = value
        elif name == "verbose" and isinstance(value, int) and self.verbosity >= 0:
            self.verbosity = max(self.verbosity, 0) + value
        elif name == "quiet" and value:
            self.verbosity = -1
        configure_logging(self.verbosity)

    def settings(self) -> Settings:
        return load_settings(self.config_path)

    def say(self, text: str, *, style: str | None = None) -> None:
        """Print to stdout, secrets masked; nothing under --quiet."""
        if self.verbosity >= 0:
            self.out.print(mask(text), style=style, highlight=False)

    def print_json(self, command: str, document: dict[str, Any]) -> None:
        """Print a command's JSON document to stdout, its values masked of secrets (keys
        untouched), named by its schema first: ``{"schema": "syndicate.status/1", …}`` (the
        number changes only when a key is removed or changes meaning; docs/cli.md)."""
        named = {"schema": f"syndicate.{command}/{JSON_VERSION}", **document}
        self.out.print_json(json.dumps(mask_values(named)), indent=2)

    def problem(self, problem: Problem | Group) -> None:
        """Print one problem to stderr as ``file:line: field: message [target]``."""
        error = isinstance(problem, Problem) and problem.severity is Severity.ERROR
        style = "red" if error else "yellow"
        self.err.print(escape(mask(str(problem))), style=style, highlight=False, soft_wrap=True)

    def problems(self, problems: Iterable[Problem]) -> None:
        """Print problems in file order, alike warnings of many postings grouped unless -v."""
        for problem in grouped(problems, verbose=self.verbosity > 0):
            self.problem(problem)


def runtime_of(ctx: typer.Context) -> Runtime:
    return ctx.ensure_object(Runtime)


@app.callback()
def options(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", metavar="PATH", help="Configuration file.", show_default=True
        ),
    ] = DEFAULT_CONFIG,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, show_default=False, help="Say more (-vv: more)."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    """Publish job postings from Markdown files to every job board, feed and careers site.

    [b]Example[/b]: syndicate --config site/config.yaml validate
    """
    if version:
        typer.echo(f"syndicate {__version__}")
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(EXIT_USAGE)
    verbosity = -1 if quiet else verbose
    ctx.obj = Runtime(
        config_path=config,
        verbosity=verbosity,
        out=console(stderr=False),
        err=console(stderr=True),
    )
    configure_logging(verbosity)


def console(*, stderr: bool) -> Console:
    """A console of the CLI: stdout's, or stderr's."""
    # Lines of text are never wrapped (a problem stays one line for grep); tables fit the width:
    # the terminal's, else $COLUMNS, else 80.  Rich honours NO_COLOR and colours terminals only.
    return Console(stderr=stderr, soft_wrap=True)


def check_format(output_format: str) -> None:
    if output_format not in {"text", "json"}:
        raise typer.BadParameter(f"{output_format!r}: use text or json", param_hint="--format")


def main() -> None:
    """Console entry point: runs the app, turning syndicate errors into messages and exit 1."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        app()
    except ConfigError as error:
        for problem in error.problems or [error.as_problem()]:
            err.print(escape(mask(str(problem))), style="red", highlight=False)
        raise SystemExit(EXIT_INVALID) from None
    except SyndicateError as error:
        err.print(escape(mask(str(error))), style="red", highlight=False)
        raise SystemExit(EXIT_INVALID) from None
