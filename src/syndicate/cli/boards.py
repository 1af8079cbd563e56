"""``syndicate boards``: the targets there are, a profile's fields and rules, checking profiles."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from syndicate.adapters import REGISTRY, target_class
from syndicate.adapters.profiles import finding, loader
from syndicate.adapters.profiles.spec import FieldSpec, Profile
from syndicate.cli.base import EXIT_INVALID, EXIT_OK, Runtime, app, check_format, runtime_of
from syndicate.cli.group import Command
from syndicate.errors import ConfigError, Problem


def _project_root(runtime: Runtime) -> Path:
    """Where the project's own ``adapters/`` folder is: beside config.yaml."""
    return runtime.config_path.resolve().parent


@app.command("boards", cls=Command)
def boards(
    ctx: typer.Context,
    action: Annotated[
        str, typer.Argument(metavar="[list|show|check]", help="What to do (default: list).")
    ] = "list",
    names: Annotated[
        list[str] | None, typer.Argument(metavar="[NAME|FILE]...", help="A profile; files.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text or json (list).", show_default=True)
    ] = "text",
) -> None:
    """The boards syndicate can publish to: coded targets, built-in board profiles, and the
    project's own profiles (in [i]adapters/NAME.yaml[/i] beside config.yaml; one named like a
    built-in profile replaces it).

    [i]list[/i] (the default) shows each with its type and origin, then each spec URL on a line
    of its own (or all of it with [i]--format json[/i]); [i]show NAME[/i]
    prints a profile's shape, fields, rules and what is unverified; [i]check FILE...[/i] checks
    profile files, every problem as [i]file:line: key: message[/i] (exit 1 on any).

    [b]Example[/b]: syndicate boards show adzuna && syndicate boards check adapters/my.yaml
    """
    runtime = runtime_of(ctx)
    check_format(output_format)
    given = names or []
    if action == "list" and not given:
        _list(runtime, output_format)
    elif action == "show" and len(given) == 1:
        _show(runtime, given[0])
    elif action == "check" and given:
        _check(runtime, [Path(name) for name in given])
    else:
        raise typer.BadParameter(
            "use: boards, boards show NAME, or boards check FILE...", param_hint="ACTION"
        )


def _entries(runtime: Runtime) -> list[dict[str, str]]:
    """Every board there is: name, type, kind, spec URL and where it comes from."""
    entries = []
    for type_name in REGISTRY.names():
        if type_name == "profile":
            continue
        target = target_class(type_name)
        entries.append({"name": target.type_name, "type": target.type_name,
                        "kind": str(target.kind), "spec": target.spec_url or "",
                        "from": "built in (code)"})  # fmt: skip
    for found in finding.available(_project_root(runtime)).values():
        entry = {"name": found.name, "type": "profile", "kind": "pull", "spec": ""}
        try:
            entry["spec"] = loader.load(found.path).spec
        except ConfigError as error:
            entries.append({**entry, "from": f"{found.path}: {error}"})
            continue
        origin = "built-in profile" if found.builtin else f"project profile {found.path}"
        if found.replaces is not None:
            origin = "replaces the built-in profile: " + origin
        entries.append({**entry, "from": origin})
    return entries


def _list(runtime: Runtime, output_format: str) -> None:
    """The boards as a table, each spec URL then on a line of its own, never folded (so it
    stays whole to copy at any width); or as JSON."""
    entries = _entries(runtime)
    if output_format == "json":
        runtime.print_json("boards", {"boards": entries})
        return
    table = Table(title="boards", title_justify="left")
    for column in ("name", "type", "kind", "from"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(*(escape(entry[key]) for key in ("name", "type", "kind", "from")))
    runtime.out.print(table)
    if runtime.verbosity < 0:
        return
    runtime.say("spec URLs:")
    width = max(len(entry["name"]) for entry in entries)
    for entry in entries:
        runtime.say(f"  {entry['name']:<{width}}  {entry['spec'] or '(none)'}")


def _show(runtime: Runtime, name: str) -> None:
    if name in REGISTRY and name != "profile":
        target = target_class(name)
        runtime.say(f"{name}: {target.summary} ({target.kind}, coded); spec: {target.spec_url}")
        runtime.say(inspect.getdoc(inspect.getmodule(target)) or "")
        return
    found = finding.find(name, _project_root(runtime))
    profile = loader.load(found.path)
    document = profile.document
    runtime.say(f"{profile.name}: {profile.summary}")
    runtime.say(f"spec: {profile.spec}")
    for source in profile.sources:
        runtime.say(f"also: {source}")
    runtime.say(f"file: {found.path}" + (" (built in)" if found.builtin else ""))
    runtime.say(
        f"document: <{document.root}> / <{document.item}>, one item per {document.per}; "
        f"text {profile.defaults.text}, empty {profile.defaults.empty}"
        + (
            f"; at most {profile.limits.items_per_file} items per file"
            if profile.limits.items_per_file
            else ""
        )
        + ("; gzip" if profile.limits.gzip else "")
    )
    if profile.url_params:
        params = "&".join(f"{k}={v}" for k, v in profile.url_params.items())
        runtime.say(f"source tagging (when a target sets tagging: true): {params}")
    if profile.max_age is not None:
        rule = profile.max_age
        runtime.say(f"max age: jobs posted {rule.days} days ago or more ({rule.severity})")
    runtime.out.print(_fields_table(profile))
    for key, override in profile.overrides.items():
        about = override.description or ""
        runtime.say(f"per-posting option boards.<target>.{key}: {override.type}. {about}")
    for note in profile.unverified:
        runtime.say(f"unverified: {note}", style="yellow")


def _fields_table(profile: Profile) -> Table:
    table = Table(title="fields", title_justify="left")
    for column in ("element", "value", "written as", "rules", "notes"):
        table.add_column(column)
    for spec in profile.fields:
        table.add_row(
            spec.element,
            escape(_value_of(spec)),
            escape(_written_as(spec)),
            escape(_rules_of(spec)),
            escape(("UNVERIFIED " if not spec.verified else "") + (spec.note or "")),
        )
    return table


def _value_of(spec: FieldSpec) -> str:
    if spec.path is not None:
        return spec.path
    if spec.const is not None:
        return f"const {spec.const!r}"
    return f"expr {spec.expr}"


def _written_as(spec: FieldSpec) -> str:
    parts = [str(spec.type)]
    if spec.format:
        parts.append(f"format {spec.format}")
    if spec.map:
        mapped = ", ".join(f"{k}→{v}" for k, v in spec.map.items())
        parts.append(f"map {mapped} (else {spec.on_missing})")
    if spec.text:
        parts.append(str(spec.text))
    if spec.empty:
        parts.append(f"empty {spec.empty}")
    if spec.html:
        parts.append("tags " + " ".join(spec.html.tags))
    return "; ".join(parts)


def _rules_of(spec: FieldSpec) -> str:
    rules = spec.rules
    parts = []
    if rules.required:
        parts.append("required")
    if rules.required_when:
        parts.append(f"required when {rules.required_when}")
    if rules.min_length is not None:
        parts.append(f"≥ {rules.min_length} chars")
    if rules.max_length is not None:
        parts.append(f"≤ {rules.max_length} chars")
    if rules.pattern:
        parts.append(f"matches {rules.pattern}")
    if rules.allowed:
        parts.append("one of " + " ".join(rules.allowed))
    if parts and rules.severity != "error":
        parts.append(f"({rules.severity})")
    return ", ".join(parts)


def _check(runtime: Runtime, files: list[Path]) -> None:
    failed = False
    for path in files:
        problems = _problems_of(path)
        failed = failed or bool(problems)
        for problem in problems:
            runtime.problem(problem)
        if not problems:
            runtime.say(f"ok {path}", style="green")
    raise typer.Exit(EXIT_INVALID if failed else EXIT_OK)


def _problems_of(path: Path) -> list[Problem]:
    try:
        loader.load(path)
    except ConfigError as error:
        return error.problems or [error.as_problem()]
    return []
