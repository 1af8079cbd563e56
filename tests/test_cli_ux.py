"""The command line as a new user meets it, in a subprocess at 80 columns: the README's set-up
and Quickstart, global options anywhere, flag values checked, a clean ``--help``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from syndicate.cli import app as cli_app
from tests.cli import ROOT, SCRIPT, copy_examples
from tests.cli import run as run_wide


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_wide(*args, cwd=cwd, env={"COLUMNS": "80", **(env or {})})


def flat(text: str) -> str:
    """Text without Rich's box drawing and line breaks, for messages shown in a panel."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_examples(tmp_path)


def readme_block(heading: str) -> str:
    section = (ROOT / "README.md").read_text().split(f"## {heading}\n", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_readme_quickstart_runs_as_written_after_the_set_up_command(tmp_path: Path) -> None:
    set_up = readme_block("Set up")
    # The set-up command activates the virtual environment, so that `syndicate` is on PATH.
    assert ". .venv/bin/activate" in set_up
    venv_bin = str(SCRIPT.parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "EDITOR": "true"}
    script = "set -e\n" + readme_block("Quickstart")
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "<job>" in done.stdout  # the preview of the example posting on indeed


@pytest.mark.parametrize(
    "args",
    [
        ("--config", "site/config.yaml", "validate"),
        ("validate", "--config", "site/config.yaml"),
        ("validate", "-c", "site/config.yaml", "-q"),
        ("-q", "validate", "-c", "site/config.yaml"),
    ],
)
def test_global_options_before_or_after_the_command(project: Path, args: tuple[str, ...]) -> None:
    site = project / "site"
    site.mkdir()
    shutil.move(project / "config.yaml", site / "config.yaml")
    shutil.move(project / "postings", site / "postings")
    result = run(*args, cwd=project)
    assert result.returncode == 0, result.stderr
    quiet = "-q" in args
    assert ("5 posting file(s): 5 valid" in result.stdout) is not quiet


def test_verbose_after_the_command_lists_each_valid_posting(project: Path) -> None:
    assert "ok postings/" not in run("validate", cwd=project).stdout
    assert "ok postings/" in run("validate", "-v", cwd=project).stdout


def test_init_writes_a_gitignore_for_the_state_and_the_feeds(tmp_path: Path) -> None:
    assert run("init", "site", cwd=tmp_path).returncode == 0
    ignored = (tmp_path / "site" / ".gitignore").read_text().splitlines()
    assert ".syndicate/" in ignored and "feeds/" in ignored
    git = shutil.which("git")
    if git:  # git itself agrees that the generated files are ignored and the sources are not
        site = tmp_path / "site"
        subprocess.run([git, "init", "-q"], cwd=site, check=True)
        (site / "feeds").mkdir()
        (site / "feeds" / "indeed.xml").write_text("x")
        check = subprocess.run(
            [git, "check-ignore", "feeds/indeed.xml", ".syndicate/state.db", "config.yaml"],
            cwd=site, capture_output=True, text=True,
        )  # fmt: skip
        assert check.stdout.split() == ["feeds/indeed.xml", ".syndicate/state.db"]


def test_unknown_posting_id_is_a_usage_error_listing_the_ids(project: Path) -> None:
    result = run("publish", "--plan", "--posting", "nope", cwd=project)
    assert result.returncode == 2, result.stdout
    message = flat(result.stderr)
    assert "no posting with id 'nope'" in message
    assert "sixsq-sales-manager" in message
    assert run("preview", "nope", "--target", "indeed", cwd=project).returncode == 2


def test_unknown_target_is_a_usage_error_telling_pull_from_push(project: Path) -> None:
    status = run("status", "--target", "nope", cwd=project)
    assert status.returncode == 2
    assert "'nope' is not a configured target" in flat(status.stderr)
    publish = run("publish", "--target", "indeed", cwd=project)
    assert publish.returncode == 2
    message = flat(publish.stderr)
    assert "'indeed' is a pull target" in message
    assert "push targets: linkedin, google, hook" in message
    build = run("build", "--target", "linkedin", cwd=project)
    assert build.returncode == 2
    assert "'linkedin' is a push target" in flat(build.stderr)


def test_no_push_target_says_so_rather_than_an_empty_list(tmp_path: Path) -> None:
    assert run("init", "site", cwd=tmp_path).returncode == 0
    result = run("publish", "--target", "linkedin", cwd=tmp_path / "site")
    assert result.returncode == 2
    message = flat(result.stderr)
    assert "no push targets configured" in message
    assert not re.search(r"choose from:\s*$", message)


def every_command() -> list[tuple[str, ...]]:
    """Every command of the ``syndicate`` tree, sub-commands included, as argument lists."""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (typer carries its own click)
            for name, inner in command.commands.items():
                walk(inner, (*path, name))
        else:
            found.append(path)

    walk(typer.main.get_command(cli_app), ())
    return found


def test_help_has_no_type_noise_and_reflows_docstrings(project: Path) -> None:
    commands = every_command()
    assert {("build",), ("publish",), ("state", "copy")} <= set(commands)
    for command in [(), *commands]:
        result = run(*command, "--help", cwd=project)
        assert result.returncode == 0, command
        text = result.stdout
        assert not re.search(r"<(bool|int|str|text|path)>", text), (command, text)
        assert "[default: 0]" not in text
        assert "--config" in text and "--quiet" in text, command
        for line in text.splitlines():
            assert len(line) <= 80, (command, line)
    status = flat(run("status", "--help", cwd=project).stdout)
    # One paragraph, reflowed: no line ends early where the docstring was wrapped.
    assert "error, queued until; then the postings held" in status


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("title: Sales Manager", "title: Senior: Sales Manager"),
            "YAML syntax error: mapping values are not allowed in this context; a value holding "
            '": " must be quoted: title: "Senior: Sales Manager"',
        ),
        (("country: CH", "country: Switzerland"), "country code; write CH"),
        (
            ("remote: onsite", "remote: Onsite"),
            "'Onsite' is not one of 'onsite', 'hybrid' or 'remote'; write onsite",
        ),
        (("employment_type: FULL_TIME", "employment_type: full-time"), "; write FULL_TIME"),
        (
            ("remote: onsite", "remote: onsite\nsalary: {min: 1, max: 2, currency: Swiss Franc}"),
            "'Swiss Franc' is not an ISO 4217 currency code; write CHF",
        ),
        (
            ("remote: onsite", "remote: onsite\nsalary: {min: 1, currency: CHF, period: yearly}"),
            "'yearly' is not one of 'HOUR', 'DAY', 'WEEK', 'MONTH' or 'YEAR'; write YEAR",
        ),
        (
            ("date_posted: 2026-11-20", "date_posted: 2026-02-30"),
            "'2026-02-30' does not exist: February has 28 days in 2026",
        ),
        (("date_posted: 2026-11-20", "date_posted: 2028-02-30"), "February has 29 days in 2028"),
    ],
)
def test_validation_hints_give_the_fix_at_the_line(
    project: Path, edit: tuple[str, str], expected: str
) -> None:
    posting = project / "postings" / "sixsq-sales-manager.md"
    text = posting.read_text()
    old, new = edit
    assert old in text
    posting.write_text(text.replace(old, new, 1))
    line = next(n for n, each in enumerate(text.splitlines(), 1) if old in each)
    line += new.count("\n")  # an added salary line follows the edited one
    result = run("validate", cwd=project)
    assert result.returncode == 1
    prefix = f"postings/sixsq-sales-manager.md:{line}: "
    assert any(p.startswith(prefix) and expected in p for p in result.stderr.splitlines()), (
        result.stderr
    )
