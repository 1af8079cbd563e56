"""Profile expressions: Jinja2 expressions in its immutable sandbox, with a few filters.

An expression (``expr:`` in a profile) is one Jinja2 *expression*, not a template: it gives a
value (text, a number, a list, None), evaluated against the item's record (see
docs/profiles.md for the names it holds).  The sandbox refuses attribute access to Python
internals and any mutation, so a profile cannot run code.  Filters, besides Jinja's own:

- ``money_range(salary, symbols={'USD': '$'}, per=true)``: ``CHF 120,000 - 150,000 per year``;
- ``date(value, format)``: a date written as a field's ``format`` would write it;
- ``add_params(url, source='talent')``: the URL with query parameters added (kept if present);
- ``country_name(code)``: ``US`` → ``United States``;
- ``number(value, decimals)``: ``0.2`` → ``0.20``.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from urllib.parse import urlencode

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2.filters import sync_do_select
from jinja2.parser import Parser
from jinja2.runtime import Context, new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from syndicate.adapters.places import country_name
from syndicate.adapters.tagging import add_params
from syndicate.model import amount_text

PERIOD_WORDS: dict[str, str] = {
    "HOUR": "hour",
    "DAY": "day",
    "WEEK": "week",
    "MONTH": "month",
    "YEAR": "year",
}

Expression = Callable[..., Any]


class ExpressionError(ValueError):
    """An expression that does not compile."""


_DICT_ATTRIBUTES = frozenset(dir(dict))
_NONE_ATTRIBUTES = frozenset(dir(None))


class RecordSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, reading a record's keys without raising an exception first.

    For ``location.city`` the sandbox tries ``getattr(location, "city")``, which raises
    AttributeError for a dict, then ``location["city"]``: a raised exception per key read was
    a large part of an expression's cost.  A plain dict (every record and its mappings) has no
    attribute but its class's, so for a name that is none of them the getattr can only fail:
    the key is read directly, with the same result (the value, or undefined).  Likewise an
    attribute of None (``posting.salary.min`` without a salary) is undefined at once.  Every
    other object goes through the sandbox's own checks.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` as the sandbox reads it (see the class)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        if obj is None and attribute not in _NONE_ATTRIBUTES:
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment(timezone: tzinfo) -> ImmutableSandboxedEnvironment:
    """A sandbox whose ``date`` filter writes local dates in ``timezone``."""
    environment = RecordSandbox(undefined=ChainableUndefined, autoescape=False)
    environment.filters.update(
        {
            "money_range": money_range,
            "date": lambda value, fmt="iso", zone="local": format_date(
                value, fmt, UTC if zone == "utc" else timezone, timezone
            ),
            "add_params": quick_add_params,
            "select": _select,
            "country_name": lambda code: country_name(str(code)) if code else code,
            "number": format_number,
        }
    )
    return environment


# A URL urlsplit and urlunsplit give back as it is, plus the query: a lower-case scheme, a
# host part (no user, no IPv6 brackets), a path, no query, no fragment, nothing but ASCII.
_PLAIN_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\[\]@\\\s]+(?:/[^?#\s]*)?")


def quick_add_params(url: Any, **params: Any) -> Any:
    """`tagging.add_params`, without splitting and joining a URL that has no query yet (the
    job URLs): the same text, the parameters appended (tests/test_profile_writing.py)."""
    if type(url) is str and url.isascii() and _PLAIN_URL.fullmatch(url):
        added = urlencode([(key, str(value)) for key, value in params.items()])
        return f"{url}?{added}" if added else url
    return add_params(url, **params)


@pass_context
def _select(context: Context, value: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Jinja's ``select``; without a test (``[a, b] | select``), the true items directly,
    as Jinja's gives them (its test is then `bool`, and keyword arguments are ignored)."""
    if args:
        return sync_do_select(context, value, *args, **kwargs)
    return _true_items(value)


def _true_items(value: Any) -> Iterator[Any]:
    if value:
        for item in value:
            if item:
                yield item


def compile_expression(environment: ImmutableSandboxedEnvironment, source: str) -> Expression:
    """``source`` compiled; raises `ExpressionError` with Jinja's reason."""
    try:
        return environment.compile_expression(source, undefined_to_none=True)
    except TemplateSyntaxError as error:
        raise ExpressionError(f"expression does not compile: {error.message}") from None


def names_read(environment: ImmutableSandboxedEnvironment, source: str) -> frozenset[str]:
    """The record names an expression reads (``location``, ``posting``…)."""
    return _names(_parsed(environment, source))


def _names(expression: nodes.Expr) -> frozenset[str]:
    # ``find_all`` looks below a node, not at it: a bare ``reference`` is a Name itself.
    found = [expression] if isinstance(expression, nodes.Name) else []
    found.extend(expression.find_all(nodes.Name))
    return frozenset(node.name for node in found)


def _parsed(environment: ImmutableSandboxedEnvironment, source: str) -> nodes.Expr:
    # As `Environment.compile_expression` parses: one expression and nothing after it.
    parser = Parser(environment, source, state="variable")
    try:
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    except TemplateSyntaxError as error:
        raise ExpressionError(f"expression does not compile: {error.message}") from None
    expression.set_environment(environment)
    return expression


class Batch:
    """Several expressions compiled into one template of the same sandbox, evaluated together
    with one Jinja context (a context per expression was most of their cost).

    Each entry is an expression, optionally guarded by a ``when`` expression: its value is None
    when the guard is false, and the expression is then not evaluated (``expr if when else
    none`` in the template).  A guard alone (no expression) gives the guard's own value.
    Values that are undefined are None, as `compile_expression` gives them.  The template
    assigns each value to a variable no expression reads, so entries cannot see one another.
    """

    def __init__(
        self,
        environment: ImmutableSandboxedEnvironment,
        entries: Sequence[tuple[str | None, str | None]],
    ) -> None:
        parsed = [
            (_parsed(environment, expr) if expr else None,
             _parsed(environment, when) if when else None)
            for expr, when in entries
        ]  # fmt: skip
        read = {name for pair in parsed for part in pair if part for name in _names(part)}
        prefix = "_value"
        while any(name.startswith(prefix) for name in read):
            prefix += "_"
        self.names = [f"{prefix}{index}" for index in range(len(parsed))]
        body: list[nodes.Node] = []
        for name, (expr, when) in zip(self.names, parsed, strict=True):
            value = _guarded(expr, when)
            body.append(nodes.Assign(nodes.Name(name, "store"), value, lineno=1))
        self.template = environment.from_string(nodes.Template(body, lineno=1))
        self._root = self.template.root_render_func
        # The template's globals (Jinja's ``range``, ``dict``…) as one plain dict: merging the
        # ChainMap Jinja keeps them in cost more than evaluating the expressions.
        self._globals = dict(self.template.globals)
        # Without a global read (most profiles), the record itself is the context's variables.
        self._merge = bool(read & self._globals.keys())

    def __len__(self) -> int:
        return len(self.names)

    def evaluate(self, variables: dict[str, Any]) -> list[Any]:
        """Every entry's value for one record, in order."""
        if not self.names:
            return []
        template = self.template
        context = new_context(
            template.environment,
            template.name,
            template.blocks,
            {**self._globals, **variables} if self._merge else variables,
            shared=True,
            globals=self._globals,
        )
        for _ in self._root(context):
            pass  # the template writes nothing: its values are its variables
        found = context.vars
        return [
            None if isinstance(value := found[name], Undefined) else value for name in self.names
        ]


def _guarded(expr: nodes.Expr | None, when: nodes.Expr | None) -> nodes.Expr:
    if when is None:
        assert expr is not None
        return expr
    if expr is None:
        return when
    return nodes.CondExpr(when, expr, nodes.Const(None, lineno=1), lineno=1)


def syntax_problem(source: str) -> str | None:
    """Why ``source`` is no valid expression (None when it compiles)."""
    try:
        compile_expression(make_environment(UTC), source)
    except ExpressionError as error:
        return str(error)
    return None


def money_range(
    salary: Mapping[str, Any] | None,
    symbols: Mapping[str, str] | None = None,
    per: bool = True,
    separator: str = " - ",
) -> str | None:
    """A salary as one string: ``CHF 120,000 - 150,000 per year``, ``$10 - $20 per hour`` when
    ``symbols`` gives the currency a symbol; None without a salary."""
    if not salary:
        return None
    low, high = float(salary["min"]), salary.get("max")
    figures = [low] if high is None or high == low else [low, float(high)]
    symbol = (symbols or {}).get(salary["currency"])
    if symbol:
        amount = separator.join(symbol + amount_text(figure) for figure in figures)
    else:
        amount = (
            salary["currency"] + " " + separator.join(amount_text(figure) for figure in figures)
        )
    if not per:
        return amount
    return f"{amount} per {PERIOD_WORDS[str(salary['period'])]}"


def format_number(value: Any, decimals: int | None = None) -> str | None:
    """A number as text: fixed ``decimals``, else whole numbers without a fraction."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # not a number: the rules of the value's own field say so
    if decimals is not None:
        return f"{number:.{decimals}f}"
    return f"{number:.0f}" if number.is_integer() else repr(number)


def format_date(value: Any, fmt: str | None, zone: tzinfo, local: tzinfo) -> str | None:
    """A date or datetime as a profile's date ``format`` writes it.

    A plain date stands for the start of that day in the configured timezone (``local``);
    ``zone`` is the timezone the result is written in.  Formats: ``iso`` (a plain date as
    ``2026-11-20``, a datetime as ``2026-11-20T09:00:00+01:00``), ``date`` (the day only),
    ``utc`` (``2026-11-19T23:00:00Z``), ``rfc822`` (``Fri, 20 Nov 2026 00:00:00 +0100``; ``GMT``
    in UTC), or a strftime pattern.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        return str(value)
    fmt = fmt or "iso"
    if fmt == "iso" and not isinstance(value, datetime):
        return value.isoformat()
    instant = _instant(value, local).astimezone(zone)
    if fmt == "iso":
        return instant.isoformat(timespec="seconds")
    if fmt == "date":
        if not isinstance(value, datetime):
            return value.isoformat()
        return instant.date().isoformat()
    if fmt == "utc":
        return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "rfc822":
        return email.utils.format_datetime(instant, usegmt=zone is UTC)
    return instant.strftime(fmt)


def _instant(value: date, local: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=local)
    return datetime.combine(value, time.min, tzinfo=local)
