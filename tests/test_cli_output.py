"""What publish, status and build print at 80 columns: the Terraform-style summary lines
(golden text), colour only where asked for, grouped warnings, tables that wrap rather than cut
ids, progress as one line per step when not on a terminal, and --format json everywhere."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from syndicate.testing.board import BoardServer
from tests.cli import copy_examples
from tests.cli import run as run_cli
from tests.conftest import Golden
from tests.test_status import HOOK_SECRET, TOKEN, project  # noqa: F401

SECRETS = {"LINKEDIN_TOKEN": TOKEN, "GOOGLE_INDEXING_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={**SECRETS, "COLUMNS": "80", **env}, timeout=120)


def summary_lines(output: str) -> str:
    return "".join(
        f"{line}\n" for line in output.splitlines() if line.startswith(("Plan:", "Publish:"))
    )


def test_plan_and_publish_end_with_terraform_style_summary_lines(
    project: Path,  # noqa: F811
    board: BoardServer,
    golden: Golden,
) -> None:
    plan = run("publish", "--plan", cwd=project)
    assert plan.returncode == 0, plan.stderr
    published = run("publish", cwd=project)
    assert published.returncode == 0, published.stderr
    (project / "postings" / "sixsq-sales-manager.md").unlink()
    closing = run("publish", "--plan", cwd=project)
    closed = run("publish", cwd=project)
    assert closed.returncode == 0, closed.stderr
    edited = project / "postings" / "8x8-inside-sales-manager.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace(
            "title: Inside Sales Manager", "title: Inside Sales Lead", 1
        ),
        encoding="utf-8",
    )
    updated = run("publish", cwd=project)
    assert updated.returncode == 0, updated.stderr
    # The Publish: line says what the boards accepted, by kind.
    golden.check(
        "cli/publish-summary.txt",
        "".join(
            summary_lines(output.stdout) for output in (plan, published, closing, closed, updated)
        ),
    )
    report = json.loads(run("publish", "--format", "json", cwd=project).stdout)
    assert all(target["done"] == {} for target in report["targets"].values())


def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path) -> None:  # noqa: F811
    piped = run("publish", "--plan", cwd=project)
    assert not ANSI.search(piped.stdout + piped.stderr)
    forced = run("publish", "--plan", cwd=project, FORCE_COLOR="1", TTY_COMPATIBLE="1")
    assert ANSI.search(forced.stdout), "CREATE is coloured where colour is on"
    assert "\x1b[32mCREATE" in forced.stdout
    no_color = run("publish", "--plan", cwd=project, FORCE_COLOR="1", NO_COLOR="1")
    assert "\x1b[32m" not in no_color.stdout and "\x1b[31m" not in no_color.stdout


def test_tables_wrap_ids_and_times_at_80_columns(project: Path, board: BoardServer) -> None:  # noqa: F811
    assert run("publish", cwd=project).returncode == 0
    status = run("status", cwd=project)
    assert status.returncode == 0, status.stderr
    lines = [line for line in status.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert lines and all(len(line) <= 80 for line in lines), status.stdout
    assert "…" not in status.stdout  # nothing cut short
    ids: list[str] = []
    for line in lines:
        if line.startswith("│"):  # a row's first line names its target; others continue it
            posting, target = (cell.strip() for cell in line.split("│")[1:3])
            ids.append(posting) if target else ids.__setitem__(-1, ids[-1] + posting)
    rows = json.loads(run("status", "--format", "json", cwd=project).stdout)["deliveries"]
    assert ids == [row["posting"] for row in rows]  # every id whole, folded where too long
    for row in rows:  # each time to the minute, in UTC
        assert row["last_attempt"][:16].replace("T", " ") in status.stdout


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The example project with eight more postings that each hold two employment types, of
    which LinkedIn's feed sends the first only (a warning, the same for each)."""
    (tmp_path / "examples").mkdir()
    folder = copy_examples(tmp_path / "examples")
    source = (folder / "postings" / "sixsq-sales-manager.md").read_text()
    for n in range(8):
        text = source.replace("id: sixsq-sales-manager", f"id: twin-{n}")
        text = re.sub(r"(?m)^employment_type: .*$", "employment_type: [FULL_TIME, PART_TIME]", text)
        (folder / "postings" / f"twin-{n}.md").write_text(text)
    return folder


def test_warnings_many_postings_share_are_one_line_and_v_lists_them(examples: Path) -> None:
    quiet = run("-q", "build", cwd=examples)
    assert quiet.returncode == 0, quiet.stderr
    grouped = [line for line in quiet.stderr.splitlines() if "employment status" in line]
    assert grouped == [
        "8 postings: employment_type: LinkedIn takes one employment status per job; only the "
        "first … is sent [linkedin_feed] (-v lists them)"
    ]
    verbose = run("build", "-v", cwd=examples)
    each = [line for line in verbose.stderr.splitlines() if "employment status" in line]
    assert len(each) == 8 and all(line.startswith("postings/twin-") for line in each)


STEP = re.compile(
    r"^(loaded|rendered|pushed to) (\S+): ([\d,]+) (file|posting|operation)\(s\) in \d+\.\ds"
)


def steps(stderr: str) -> list[tuple[str, str, int]]:
    """The progress lines of a piped run: (verb, what, how many)."""
    found = [STEP.match(line) for line in stderr.splitlines()]
    return [(m[1], m[2], int(m[3].replace(",", ""))) for m in found if m]


def test_build_progress_is_one_line_per_step_when_piped(examples: Path) -> None:
    result = run("build", cwd=examples)
    postings = len(list((examples / "postings").glob("*.md")))
    # What each target renders is what it lists, as the build's report counts it.
    report = json.loads(run("build", "--format", "json", cwd=examples).stdout)
    targets = [t for t in report["targets"] if not t["disabled"]]
    listed = [("rendered", t["target"], t["included"]) for t in targets]
    assert [name for _, name, _ in listed] == ["indeed", "jsonld", "linkedin_feed", "careers"]
    assert steps(result.stderr) == [("loaded", "postings", postings), *listed]
    assert steps(run("-q", "build", cwd=examples).stderr) == []


def test_publish_progress_counts_each_board_s_operations(
    project: Path,  # noqa: F811
    board: BoardServer,
) -> None:
    published = run("publish", cwd=project)
    assert published.returncode == 0, published.stderr
    jobs = len(list((project / "postings").glob("*.md")))
    pushed = [step for step in steps(published.stderr) if step[0] == "pushed to"]
    # Every job is created on each board; the webhook and Google are told one by one.
    assert sorted(pushed) == [
        ("pushed to", "google", jobs),
        ("pushed to", "hook", jobs),
        ("pushed to", "linkedin", jobs),
    ]
    assert ("loaded", "postings", jobs) in steps(published.stderr)
    again = run("publish", cwd=project)
    assert [step for step in steps(again.stderr) if step[0] == "pushed to"] == []


def test_progress_on_a_terminal_is_a_bar_per_step(examples: Path) -> None:
    result = run("build", cwd=examples, FORCE_COLOR="1", TTY_COMPATIBLE="1", NO_COLOR="1")
    assert result.returncode == 0, result.stderr
    postings = len(list((examples / "postings").glob("*.md")))
    text = ANSI.sub("", result.stderr)
    assert re.search(rf"loading postings .*\b{postings}/{postings}\b", text), text
    for label in ("rendering indeed", "rendering careers"):
        assert re.search(rf"{label} .*\b(\d+)/\1\b", text), (label, text)
    assert steps(text) == []  # bars, not the lines of a log


def test_build_json_lists_every_target(examples: Path) -> None:
    result = run("build", "--format", "json", cwd=examples)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "syndicate.build/1"
    by_name = {t["target"]: t for t in document["targets"]}
    # The example config's board profile (jooble) is listed, disabled.
    assert set(by_name) == {"indeed", "jsonld", "linkedin_feed", "careers", "jooble"}
    assert by_name["linkedin_feed"]["included"] == 13
    twins = [p for p in document["problems"] if "employment status" in p["message"]]
    assert sorted(p["file"] for p in twins) == [f"postings/twin-{n}.md" for n in range(8)]
    assert all(p["line"] == 8 and p["severity"] == "warning" for p in twins)


@pytest.mark.parametrize("command", ["validate", "status", "publish", "build"])
def test_every_json_document_names_its_schema(project: Path, command: str) -> None:  # noqa: F811
    args = [command, "--format", "json"] + (["--plan"] if command == "publish" else [])
    document = json.loads(run(*args, cwd=project).stdout)
    assert document["schema"] == f"syndicate.{command}/1"
