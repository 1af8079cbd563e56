"""schema.org JobPosting as JSON-LD, for Google for Jobs (pull).

One JobPosting object per open posting, following Google's job posting structured-data rules:

- required: ``title``, ``description`` (HTML), ``datePosted``, ``hiringOrganization`` and
  ``jobLocation``; a fully remote job carries ``jobLocationType: TELECOMMUTE`` with
  ``applicantLocationRequirements`` (one ``Country`` each) instead, plus ``jobLocation`` only
  when the posting names an office as well.  Hybrid jobs are not TELECOMMUTE (Google keeps that
  value for jobs done remotely 100% of the time): they carry ``jobLocation`` only;
- recommended: ``validThrough``, ``employmentType``, ``baseSalary`` (MonetaryAmount with a
  QuantitativeValue), ``identifier`` (PropertyValue: organization name and posting id) and
  ``directApply``.

``directApply`` is true only when the posting says so (``apply: {url: …, direct: true}``), or
the site does for every posting with an apply URL (``site: {direct_apply: true}``).
Google defines a direct apply experience as "a short and simple application process on your
page without unnecessary intermediate steps"; a careers landing page or an email address is not
one, and schema.org says ``false`` "is appropriate if there is no clear path to applying
directly online".  Sources: developers.google.com/search/docs/appearance/structured-data/
job-posting (directApply, read through Google's text as quoted on schemastats.com: secondary)
and schema.org/directApply (verified).

One location is one ``Place`` object, as in Google's examples; several are an array of them
(schema.org allows a property to repeat; Google writes "location(s)": secondary).

`job_posting` builds one object; the careers pages embed exactly that object.  The file target
writes ``{"@context": "https://schema.org", "@graph": [...]}`` streamed one job per line.  All
JSON is serialized by `dumps`, which escapes ``<``, ``>`` and ``&`` so that it can sit inside an
HTML ``<script type="application/ld+json">`` element without ever closing it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from typing import Any, ClassVar, Literal

from syndicate.adapters import jsontext
from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.adapters.places import country_name
from syndicate.adapters.tagging import TaggingOptions, tagged
from syndicate.diagnostics import field_path
from syndicate.errors import Problem
from syndicate.model import Location, Posting, Remote, Salary

SCHEMA_CONTEXT = "https://schema.org"
MEDIA_TYPE = "application/ld+json"
HEAD, TAIL = b'{"@context":"https://schema.org","@graph":[', b"\n]}\n"  # around the nodes

# Characters that could end a <script> element or start markup, and the two line separators
# that JavaScript parsers once refused inside strings.  Replaced one by one rather than with
# str.translate, which looks every character up in a dict and is ten times slower.
_SCRIPT_SAFE: tuple[tuple[str, str], ...] = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


class JsonLdOptions(TaggingOptions):
    """``{type: jsonld, file: jobs.jsonld}``; ``tagging`` tags each JobPosting's ``url`` (the
    file's readers are partners: schema.org and Google document no parameter, so ``true`` is
    our default ``utm_source=<target name>``)."""

    type: Literal["jsonld"]
    file: str = "jobs.jsonld"


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text that is safe inside an HTML ``<script>`` element (no ``<``, ``>`` or ``&``)."""
    if indent is not None:
        text = jsontext.indented(value, indent)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for character, escaped in _SCRIPT_SAFE:
        if character in text:
            text = text.replace(character, escaped)
    return text


def job_posting(posting: Posting, context: RenderContext) -> dict[str, Any]:
    """The schema.org JobPosting object of ``posting`` (with its ``@context``)."""
    tz = context.settings.timezone
    company = context.company(posting)
    data: dict[str, Any] = {
        "@context": SCHEMA_CONTEXT,
        "@type": "JobPosting",
        "title": posting.title,
        "description": posting.description_html,
        "identifier": {"@type": "PropertyValue", "name": company, "value": posting.id},
        "datePosted": _iso(posting.date_posted),
        "hiringOrganization": _organization(company, context),
        "url": context.job_url(posting),
        "directApply": _direct_apply(posting, context),
    }
    if posting.valid_through is not None:
        data["validThrough"] = _valid_through(posting.valid_through, tz)
    if posting.employment_type:
        data["employmentType"] = [str(kind) for kind in posting.employment_type]
    if posting.locations:
        places = [_place(location) for location in posting.locations]
        data["jobLocation"] = places[0] if len(places) == 1 else places
    if posting.remote is Remote.REMOTE:
        data["jobLocationType"] = "TELECOMMUTE"
        if posting.applicant_locations:
            data["applicantLocationRequirements"] = [
                _country(code) for code in posting.applicant_locations
            ]
    if posting.salary is not None:
        data["baseSalary"] = _salary(posting.salary)
    return data


def _direct_apply(posting: Posting, context: RenderContext) -> bool:
    """Whether the posting's apply URL is a direct application: the posting says so, or the
    site does for every posting with an apply URL (``site.direct_apply``)."""
    site_says = context.settings.site.direct_apply and posting.apply.url is not None
    return posting.apply.direct or site_says


def _iso(when: date) -> str:
    return when.isoformat()


def _valid_through(when: date, tz: Any) -> str:
    # A plain date means "through that whole day" in the configured timezone; Google would read
    # a bare date as its first instant, so write the day's last second explicitly.
    if isinstance(when, datetime):
        return when.isoformat()
    return datetime.combine(when, time(23, 59, 59), tzinfo=tz).isoformat()


def _organization(company: str, context: RenderContext) -> dict[str, Any]:
    organization = context.settings.organization
    data: dict[str, Any] = {"@type": "Organization", "name": company}
    # The configured site and logo belong to the configured organization, not to another
    # employer named in a posting's `company`.
    if company == organization.name:
        if organization.url:
            data["sameAs"] = organization.url
        if organization.logo:
            data["logo"] = organization.logo
    return data


def _place(location: Location) -> dict[str, Any]:
    address: dict[str, Any] = {"@type": "PostalAddress"}
    for key, value in (
        ("streetAddress", location.street),
        ("addressLocality", location.city),
        ("addressRegion", location.region),
        ("postalCode", location.postal_code),
        ("addressCountry", location.country),
    ):
        if value is not None:
            address[key] = value
    return {"@type": "Place", "address": address}


def _country(code: str) -> dict[str, Any]:
    return {"@type": "Country", "name": country_name(code)}


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _salary(salary: Salary) -> dict[str, Any]:
    value: dict[str, Any] = {"@type": "QuantitativeValue"}
    if salary.max is None or salary.max == salary.min:
        value["value"] = _number(salary.min)
    else:
        value["minValue"] = _number(salary.min)
        value["maxValue"] = _number(salary.max)
    value["unitText"] = str(salary.period)
    return {"@type": "MonetaryAmount", "currency": salary.currency, "value": value}


class JsonLd(PullTarget):
    """schema.org JobPosting objects, one per open posting."""

    summary: ClassVar[str] = "schema.org JobPosting (JSON-LD)"
    spec_url: ClassVar[str | None] = (
        "https://developers.google.com/search/docs/appearance/structured-data/job-posting"
    )
    Options: ClassVar[type[TargetOptions]] = JsonLdOptions
    options: JsonLdOptions

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """One file: ``{"@context": ..., "@graph": [...]}`` with one job per line, streamed."""
        make = self.fragment_makers(context)["node"]
        yield self.framed_document(
            self.options.file, MEDIA_TYPE, postings, ("node", make), (HEAD, TAIL)
        )

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's JobPosting object, as embedded in its careers page (its ``url``
        tagged when the target's ``tagging`` is on)."""
        return dumps(_tagged_node(posting, context, self.url_tags()), indent=2)

    def check(self, posting: Posting) -> list[Problem]:
        """Google's rules that the posting model does not already enforce."""
        problems: list[Problem] = []
        if not posting.description_html:
            problems.append(
                self.problem(posting, "description", "is empty once unsafe HTML is removed")
            )
        if posting.remote is Remote.REMOTE:
            if not posting.applicant_locations:
                problems.append(
                    self.problem(
                        posting,
                        "applicant_locations",
                        "a remote job needs the countries applicants may live in "
                        "(Google requires applicantLocationRequirements with TELECOMMUTE)",
                    )
                )
            return problems
        if posting.applicant_locations:
            problems.append(
                self.problem(
                    posting,
                    "applicant_locations",
                    f"is only published for remote jobs; this job is {posting.remote}",
                    warning=True,
                )
            )
        for index, location in enumerate(posting.locations):
            for attribute, schema_name in (
                ("city", "addressLocality"),
                ("region", "addressRegion"),
            ):
                if getattr(location, attribute) is None:
                    problems.append(
                        self.problem(
                            posting,
                            field_path(("locations", index, attribute)),
                            f"is missing; Google recommends {schema_name} for every job location",
                            warning=True,
                        )
                    )
        return problems

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A posting's node of the graph."""
        return {"node": functools.partial(_graph_node, context=context, tags=self.url_tags())}


def _tagged_node(
    posting: Posting, context: RenderContext, tags: Mapping[str, str] | None
) -> dict[str, Any]:
    """`job_posting`, its ``url`` tagged with the file target's ``tags`` (the careers pages
    embed the untagged object: they are the page the URL leads to)."""
    node = job_posting(posting, context)
    if tags:
        node["url"] = tagged(node["url"], tags)
    return node


def _graph_node(posting: Posting, context: RenderContext, tags: Mapping[str, str] | None) -> bytes:
    node = _tagged_node(posting, context, tags)
    del node["@context"]  # the graph's context applies to every node
    return dumps(node).encode()
