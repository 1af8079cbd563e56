"""config.yaml: the repository's own file, located errors, durations, paths and secrets."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from syndicate import secret
from syndicate.adapters import REGISTRY, target_class
from syndicate.adapters.base import PushTarget, Target
from syndicate.config import Settings, config_problems, load_settings, settings_from_data
from syndicate.durations import format_duration, parse_duration
from syndicate.errors import ConfigError
from syndicate.registry import ENTRY_POINT_GROUP

DATA = Path(__file__).resolve().parent / "data" / "config"
HOOK_ENV = "SYNDICATE_TEST_HOOK_SECRET"
LINKEDIN_ENV = "SYNDICATE_TEST_LINKEDIN_TOKEN"


def problems_of(name: str) -> list[tuple[int | None, str | None, str]]:
    """(line, field, message) of every problem in tests/data/config/<name>, sorted by line."""
    with pytest.raises(ConfigError) as caught:
        load_settings(DATA / name)
    problems = config_problems(caught.value)
    assert all(Path(str(p.file)) == DATA / name for p in problems)
    return sorted(((p.line, p.field, p.message) for p in problems), key=lambda p: p[0] or 0)


def targets_of(settings: Settings) -> dict[str, Target]:
    return {
        name: target_class(options.type)(name, options, settings)
        for name, options in settings.targets.items()
    }


def test_the_repository_config_loads(settings: Settings) -> None:
    assert settings.organization.name == "SixSq"
    assert settings.timezone == ZoneInfo("Europe/Zurich")
    assert settings.schedule.sync_every == timedelta(minutes=15)
    assert settings.retry.backoff == timedelta(seconds=2)
    assert settings.retry.max_backoff == timedelta(minutes=10)
    # The example configuration shows one target of every built-in type.
    built_in = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert sorted(options.type for options in settings.targets.values()) == sorted(built_in)
    assert settings.postings_dir.is_dir()
    assert set(settings.targets) == set(targets_of(settings))


def test_unknown_keys_are_reported_with_their_path_line_and_a_suggestion() -> None:
    assert problems_of("unknown-keys.yaml") == [
        (3, "organization.emial", "is not a known field; did you mean 'email'?"),
        (5, "timezon", "is not a known field; did you mean 'timezone'?"),
        (9, "targets.indeed.fiel", "is not a known field; did you mean 'file'?"),
    ]


def test_an_unknown_target_type_lists_the_known_ones() -> None:
    [unknown, untyped] = problems_of("unknown-target-type.yaml")
    line, field, message = unknown
    assert (line, field) == (7, "targets.monster.type")
    assert "'monster_xml'" in message
    for known in REGISTRY.names():
        assert f"'{known}'" in message
    assert "'indeed_xml'" in message and "'webhook'" in message
    assert untyped == (8, "targets.untyped.type", "is required")


def test_bad_values_are_located_and_explained() -> None:
    got = problems_of("bad-values.yaml")
    assert [(line, field) for line, field, _ in got] == [
        (1, "organization.url"),
        (3, "timezone"),
        (5, "schedule.sync_every"),
        (6, "retry.max_attempts"),
        (6, "retry.backoff"),
        (7, "server.port"),
    ]
    messages = {field: message for _, field, message in got}
    assert "is not an IANA timezone" in messages["timezone"]
    assert "'15 minutes' is not a duration" in messages["schedule.sync_every"]
    assert "'soon' is not a duration" in messages["retry.backoff"]


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("organization: {name: SixSq}\nsite:\n  base_url: [oops\ntimezone: UTC\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.line is not None and caught.value.line >= 3
    assert "YAML syntax error" in caught.value.message


def test_a_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    lines = ["organization: {name: SixSq}", "site: {base_url: https://a.example}"]
    path.write_text("\n".join([*lines, "timezone: UTC", "timezone: Europe/Zurich"]) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (4, "timezone")


def test_a_missing_config_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="syndicate init"):
        load_settings(tmp_path / "config.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("2s", timedelta(seconds=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("1d", timedelta(days=1)),
        ("1.5h", timedelta(minutes=90)),
        (" 1h 30m ", timedelta(hours=1, minutes=30)),
        (30, timedelta(seconds=30)),
    ],
)
def test_durations_parse(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "junk", ["", "soon", "15", "15 minutes", "15M", "-5s", "5x", "1.5.5s", "m", "s15", True]
)
def test_durations_reject_junk(junk: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(junk)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1, minutes=30), "90m"),
        (timedelta(days=1), "1d"),
        (timedelta(milliseconds=500), "500ms"),
    ],
)
def test_durations_format_back(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


def test_relative_paths_are_resolved_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "config.yaml").write_bytes((DATA / "minimal.yaml").read_bytes())
    monkeypatch.chdir(tmp_path)  # somewhere else: paths must not follow the working directory
    settings = load_settings(Path("site/config.yaml"))
    assert settings.postings_dir == folder / "jobs"
    assert settings.output_dir == folder / "public" / "feeds"
    assert settings.state_url == f"sqlite:///{folder / 'var' / 'state.db'}"
    assert settings.work_dir == folder / ".syndicate"
    assert settings.path(Path("/abs/file")) == Path("/abs/file")
    assert settings.site.base_url == "https://jobs.example.com"
    assert settings.schedule.sync_every == timedelta(hours=1, minutes=30)
    assert settings.retry.backoff == timedelta(milliseconds=500)


def test_settings_from_data_needs_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        settings_from_data(["not", "a", "mapping"])


def test_a_push_target_without_its_secret_is_disabled_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(HOOK_ENV, raising=False)
    monkeypatch.setenv(LINKEDIN_ENV, "")  # set but empty counts as unset
    targets = targets_of(load_settings(DATA / "minimal.yaml"))
    hook, linkedin, quiet = targets["hook"], targets["linkedin"], targets["quiet"]
    assert isinstance(hook, PushTarget) and isinstance(linkedin, PushTarget)
    assert hook.disabled_reason() == f"environment variable {HOOK_ENV} is not set"
    assert LINKEDIN_ENV in str(linkedin.disabled_reason())
    assert quiet.disabled_reason() == "disabled in config (enabled: false)"
    monkeypatch.setenv(HOOK_ENV, "a-hook-secret-value")
    assert hook.disabled_reason() is None


def test_secret_values_never_appear_in_settings_or_output(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "tok-9f8e7d6c5b4a-sekret"
    monkeypatch.setenv(LINKEDIN_ENV, value)
    settings = load_settings(DATA / "minimal.yaml")
    linkedin = targets_of(settings)["linkedin"]
    assert isinstance(linkedin, PushTarget)
    token = linkedin.secret()
    assert isinstance(token, SecretStr)
    assert token.get_secret_value() == value
    for text in (
        str(token),
        repr(token),
        str(settings),
        repr(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
        str(linkedin.options),
    ):
        assert value not in text
    # Anything about to be printed goes through mask.
    assert secret.mask(f"Authorization: Bearer {value}") == "Authorization: Bearer ****"
    assert secret.mask(f"{value}{value}") == "********"
    assert secret.mask("nothing secret here") == "nothing secret here"


def test_a_secret_pasted_where_its_variable_name_belongs_is_not_echoed() -> None:
    [(line, field, message)] = problems_of("pasted-secret.yaml")
    assert (line, field) == (7, "targets.linkedin.token_env")
    assert "environment variable" in message
    with pytest.raises(ConfigError) as caught:
        load_settings(DATA / "pasted-secret.yaml")
    assert "AQX-pasted.secret/value" not in str(caught.value)


def test_an_unset_secret_reads_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOOK_ENV, raising=False)
    assert secret.read_secret(HOOK_ENV) is None


def test_a_missing_section_is_reported_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# no organization\n\nsite: {base_url: https://jobs.example.com}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert str(problem) == f"{path}:1: organization: is required"


def test_posting_keys_are_what_resolving_each_path_whole_gives(tmp_path: Path) -> None:
    """The state's key of a posting file: its path relative to the postings folder, resolved;
    `posting_keys` resolves each directory once, and must say what `Path.resolve` says."""
    root = tmp_path / "project"
    postings = root / "postings"
    (postings / "sales").mkdir(parents=True)
    (postings / "sales" / "a.md").write_text("x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.md").write_text("x")
    (postings / "sales" / "b.md").symlink_to(elsewhere / "b.md")  # a file linked from outside
    (postings / "linked").symlink_to(postings / "sales", target_is_directory=True)
    (root / "config.yaml").write_text(
        "organization: {name: Acme, url: 'https://acme.example'}\n"
        "site: {base_url: 'https://jobs.acme.example'}\ntargets: {}\n"
    )
    settings = load_settings(root / "config.yaml")
    paths = [
        postings / "sales" / "a.md",
        postings / "sales" / "b.md",
        postings / "linked" / "a.md",
        postings / "sales" / ".." / "sales" / "a.md",
        elsewhere / "b.md",
        postings,
    ]
    folder = postings.resolve()

    def whole(path: Path) -> str:
        resolved = path.resolve()
        try:
            return resolved.relative_to(folder).as_posix()
        except ValueError:
            return resolved.as_posix()

    assert settings.posting_keys(paths) == [whole(path) for path in paths]
    assert settings.posting_keys(paths)[:3] == [
        "sales/a.md",
        (elsewhere / "b.md").as_posix(),
        "sales/a.md",
    ]


def test_a_board_profiles_name_is_checked_with_the_config_even_when_disabled(tmp_path) -> None:
    # Found by name in the built-in profiles and the project's adapters/ folder, without
    # loading any profile (validate never makes a disabled target).
    config = tmp_path / "config.yaml"
    config.write_text(
        "organization: {name: Acme}\n"
        "site: {base_url: 'https://jobs.example.com'}\n"
        "targets:\n"
        "  adzuna: {type: profile, profile: adzuna}\n"
        "  mine: {type: profile, profile: own-board, enabled: false}\n"
        "  typo: {type: profile, profile: joobel, enabled: false}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    mine, typo = sorted(config_problems(caught.value), key=lambda p: p.line or 0)
    assert (mine.line, mine.field, typo.line, typo.field) == (
        5,
        "targets.mine.profile",
        6,
        "targets.typo.profile",
    )
    assert typo.message.startswith("no board profile named 'joobel'")
    assert "jooble" in typo.message  # the known ones are listed
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "own-board.yaml").write_text("not checked while disabled\n")
    config.write_text(config.read_text().replace("joobel", "jooble"))
    assert load_settings(config).targets["mine"].enabled is False
