"""``syndicate publish --plan`` with nothing changed, answered before the publish machinery is
imported.

The command's full path imports the publisher, the state store (SQLAlchemy), httpx and the
build, then loads every posting into a `PostingFile` and plans; with nothing changed, at
100,000 postings, that is seconds spent concluding that there is nothing to do.  `try_plan`
answers first when it can: the command line is exactly ``publish --plan`` with the global
options (``--config``, ``-v``, ``-q``), the build cache knows every posting file unchanged
(`syndicate.loading.quick`), and the state's summaries agree with the postings
(`syndicate.quickplan`).  It then prints what the full path prints for an empty plan (the same
functions of `syndicate.cli.summary`) and the command ends with exit 0.  Anything else, or any
doubt, returns False and the full path runs as it always did (the cost of having asked is one
pass over the files' stats).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from syndicate.cli import summary
from syndicate.cli.base import Runtime, console
from syndicate.cli.progress import step_progress
from syndicate.config import DEFAULT_CONFIG
from syndicate.errors import SyndicateError
from syndicate.loading.discover import display_path
from syndicate.loading.quick import unchanged_files
from syndicate.logs import configure_logging
from syndicate.progress import Step
from syndicate.quickplan import NoSummary, QuickPlan, quick_plan

_CONFIG = ("--config", "-c")
_VERBOSE = {"-v": 1, "-vv": 2, "-vvv": 3, "--verbose": 1}
_QUIET = ("-q", "--quiet")


def parse(args: Sequence[str]) -> tuple[Path, int] | None:
    """The configuration path and verbosity of a command line that is ``publish --plan`` and
    global options only; None for any other."""
    config, verbose, quiet = DEFAULT_CONFIG, 0, False
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg in _CONFIG:
            value = next(rest, None)
            if value is None:
                return None
            config = Path(value)
        elif arg.startswith("--config="):
            config = Path(arg.removeprefix("--config="))
        elif arg in _VERBOSE:
            verbose += _VERBOSE[arg]
        elif arg in _QUIET:
            quiet = True
        else:
            words.append(arg)
    if sorted(words) != ["--plan", "publish"] or words[0] != "publish":
        return None
    return config, -1 if quiet else verbose


def try_plan(args: Sequence[str]) -> bool:
    """Print the empty plan and return True when nothing changed; False to run the command."""
    parsed = parse(args)
    if parsed is None:
        return False
    config, verbosity = parsed
    runtime = Runtime(config, verbosity, out=console(stderr=False), err=console(stderr=True))
    configure_logging(verbosity)
    # Off a terminal, the line the full path's load prints; on one, no bar for a blink.
    quiet = verbosity < 0 or runtime.err.is_terminal
    with step_progress(runtime.err, quiet=quiet) as advance:
        try:
            settings = runtime.settings()
            step = Step("load", display_path(settings.postings_dir).as_posix())
            advance(step, 0, 1)  # its clock starts
            files = unchanged_files(settings)
            found = (
                None
                if files is None
                else quick_plan(settings, files, datetime.now(UTC), report=False)
            )
        except (SyndicateError, NoSummary):
            return False  # the full path says what is wrong, or asks in full
        if files is None or found is None:
            return False
        advance(step, len(files), len(files))
    _print(runtime, found)
    return True


def _print(runtime: Runtime, found: QuickPlan) -> None:
    """What `syndicate.cli.publishing` prints for a plan without operations."""
    for name, reason in found.disabled.items():
        runtime.say(f"{name}: disabled ({reason})", style="yellow")
    if runtime.verbosity >= 0:
        runtime.say(summary.nothing_to_push(bool(found.push)))
        for posting_id, at in sorted(found.scheduled.items()):
            runtime.say(summary.scheduled_line(posting_id, at))
    if found.push:
        runtime.say(summary.operations_line([]), style="bold")
