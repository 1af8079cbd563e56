"""N realistic synthetic postings, modelled on the examples in ``postings/``, from a seed.

Each posting is drawn from its own random generator, seeded by ``(seed, index)``: posting 17 is
the same file whether 1,000 or 100,000 are generated, so the sizes of a benchmark are nested.

What the mix looks like (taken from the five examples and the seeds they were made from):

- bodies of about 1.5 to 11 KB of Markdown (the examples run from 2.9 to 6.8 KB): an intro of one
  to four paragraphs, then two to five ``###`` sections, most of them bullet lists, with the odd
  *emphasis*, **strong** text and link;
- 55% on site, 20% hybrid, 25% remote; one location mostly, two to six for one posting in five,
  in 12 countries; remote jobs list one to five applicant countries, or a whole region;
- a salary for half of them (yearly mostly, hourly for a few), in the currency of the country;
- apply by email, or by URL and email (Indeed needs the company's email);
- 4% closed, 2% draft, 2% expired, a quarter with an end date;
- twelve departments, each a sub-folder of ``postings/`` as a team might sort them.

A second shape, ``--shape wide`` (`wide_posting`), is modelled on an agency's export rather than
one company's repository: 100 folders (of 1,000 files at 100,000), 500 companies, one to three
locations, a salary for 60%, an intro paragraph and three sections of 4 to 9 long bullets (about
2 to 3 KB of Markdown), and the postings outside the project folder (``postings:`` is an
absolute path to a sibling folder), as when a separate checkout of the postings repository is
published.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DEFAULT_SEED = 20261120
ORGANIZATION = "Northwind Staffing"


@dataclass(frozen=True, slots=True)
class City:
    """A place a job can be, with what Indeed needs for it."""

    city: str
    region: str | None
    country: str
    postal_code: str
    currency: str


CITIES: tuple[City, ...] = (
    City("Geneva", "GE", "CH", "1202", "CHF"),
    City("Zurich", "ZH", "CH", "8001", "CHF"),
    City("Lausanne", "VD", "CH", "1003", "CHF"),
    City("Paris", "Île-de-France", "FR", "75002", "EUR"),
    City("Lyon", "Auvergne-Rhône-Alpes", "FR", "69002", "EUR"),
    City("Brussels", "Brussels-Capital", "BE", "1000", "EUR"),
    City("Berlin", "BE", "DE", "10115", "EUR"),
    City("Munich", "BY", "DE", "80331", "EUR"),
    City("Amsterdam", "NH", "NL", "1012", "EUR"),
    City("London", "England", "GB", "EC1A 1BB", "GBP"),
    City("Minneapolis", "MN", "US", "55402", "USD"),
    City("New York", "NY", "US", "10001", "USD"),
    City("Austin", "TX", "US", "78701", "USD"),
    City("San Francisco", "CA", "US", "94105", "USD"),
    City("Toronto", "ON", "CA", "M5H 2N2", "CAD"),
    City("Montréal", "QC", "CA", "H2Y 1C6", "CAD"),
    City("São Paulo", "SP", "BR", "01310-100", "BRL"),
    City("Madrid", "MD", "ES", "28013", "EUR"),
    City("Oslo", "Oslo", "NO", "0150", "NOK"),
    City("Bengaluru", "KA", "IN", "560001", "INR"),
)
REGIONS: tuple[tuple[str, ...], ...] = (
    ("US", "CA"),
    ("US",),
    ("CH", "FR", "DE", "BE", "NL", "ES", "GB"),
    ("AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CA", "CL", "CO", "CR", "DO", "EC", "GT", "MX"),
    ("GB", "IE"),
    ("IN",),
)
COMPANIES: tuple[str, ...] = (
    "Northwind Staffing", "SixSq", "Canonical", "8x8, Inc.", "Acme Robotics", "Globex",
    "Initech", "Umbrella Health", "Stark Logistics", "Wayne Energy", "Hooli", "Vandelay Imports",
)  # fmt: skip
DEPARTMENTS: tuple[str, ...] = (
    "Sales", "Engineering", "Marketing", "Customer Success", "Finance", "Operations",
    "People", "Legal", "Product", "Design", "Support", "Logistics",
)  # fmt: skip
ROLES: tuple[str, ...] = (
    "Sales Manager", "Sales Director", "Account Executive", "Channel Sales Manager",
    "Software Engineer", "Site Reliability Engineer", "Data Analyst", "Product Manager",
    "Marketing Specialist", "Customer Success Manager", "Financial Controller",
    "Operations Coordinator", "Recruiter", "Legal Counsel", "UX Designer", "Support Engineer",
    "Warehouse Supervisor", "Field Engineer", "Solutions Architect", "Inside Sales Manager",
)  # fmt: skip
LEVELS: tuple[str, ...] = ("", "", "Senior ", "Junior ", "Lead ", "Principal ", "Associate ")
FOCUS: tuple[str, ...] = (
    "", "", "", " (IoT, Devices)", " (EMEA)", " (Americas)", " (Team Manager)", " (Cloud)",
    " (Public Sector)", " (Night Shift)",
)  # fmt: skip
EMPLOYMENT: tuple[tuple[str, ...], ...] = (
    *[("FULL_TIME",)] * 15,
    ("PART_TIME",),
    ("CONTRACTOR",),
    ("TEMPORARY",),
    ("INTERN",),
    ("FULL_TIME", "PART_TIME"),
)
HEADINGS: tuple[str, ...] = (
    "The Role", "What to expect", "What we are looking for", "What your day will look like",
    "Responsibilities", "Requirements", "Nice to have", "What we offer", "About the team",
    "How we work", "Your profile", "Benefits", "Why join us",
)  # fmt: skip
SUBJECTS: tuple[str, ...] = (
    "The successful candidate", "You", "Our team", "This role", "The manager",
    "Every member of the team", "Our customers", "The company",
)  # fmt: skip
VERBS: tuple[str, ...] = (
    "will build", "leads", "designs and executes", "manages", "grows", "maintains",
    "works closely with", "identifies", "develops", "supports", "negotiates", "reports on",
    "owns", "improves", "coordinates",
)  # fmt: skip
OBJECTS: tuple[str, ...] = (
    "the customer engagement strategy", "strategic accounts in the assigned territory",
    "a pipeline of new business", "relationships with partners and distributors",
    "the quarterly and annual bookings targets", "open source and cloud solutions",
    "our Edge-to-Cloud platform", "the onboarding of new team members",
    "accurate data and forecasts within Salesforce", "the annual recurring revenue",
    "the design of reliable, secure systems", "campaigns across the region",
    "best practices with the rest of the team", "customer discovery calls and presentations",
)  # fmt: skip
TAILS: tuple[str, ...] = (
    "", "", " across multiple industries", " at all levels of an organization",
    " from identification to close", " in an unstructured, startup-like environment",
    " with customer success at heart", " on a quarterly basis", " within the region",
)  # fmt: skip
EDUCATION: tuple[str, ...] = (
    "Bachelor's degree", "Master's degree in engineering or computer science",
    "Engineering or natural sciences studies", "High school diploma",
)  # fmt: skip
EXPERIENCE: tuple[str, ...] = (
    "3+ years in a similar role", "5 years of B2B sales", "10+ years track record in sales",
    "2 years of customer-facing work", "Experience managing a team",
)  # fmt: skip
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lowercase ASCII letters and digits joined by dashes."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def sentence(rng: random.Random) -> str:
    """One sentence of job-posting prose, now and then with inline markup."""
    text = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"
    roll = rng.random()
    if roll < 0.04:
        text = f"*{text}*"
    elif roll < 0.07:
        text = f"**{text}**"
    elif roll < 0.09:
        text += " (see [our careers page](https://careers.example.com/about))"
    return text + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def section(rng: random.Random) -> str:
    heading = f"### {rng.choice(HEADINGS)}\n\n"
    if rng.random() < 0.75:
        items = "\n".join(f"* {sentence(rng)}" for _ in range(rng.randint(3, 9)))
        intro = paragraph(rng) + "\n\n" if rng.random() < 0.3 else ""
        return heading + intro + items
    return heading + "\n\n".join(paragraph(rng) for _ in range(rng.randint(1, 3)))


def body(rng: random.Random) -> str:
    """The Markdown description: an intro, then sections."""
    parts = [paragraph(rng) for _ in range(rng.randint(1, 4))]
    parts += [section(rng) for _ in range(rng.randint(2, 6))]
    return "\n\n".join(parts) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _location(city: City) -> str:
    fields = [f"city: {_quote(city.city)}"]
    if city.region:
        fields.append(f"region: {_quote(city.region)}")
    fields.append(f"country: '{city.country}'")
    fields.append(f'postal_code: "{city.postal_code}"')
    return "  - {" + ", ".join(fields) + "}"


def _salary(rng: random.Random, currency: str) -> str:
    if rng.random() < 0.15:
        low = rng.randrange(15, 60)
        high, period = low + rng.randrange(0, 30), "HOUR"
    else:
        low = rng.randrange(40, 180) * 1000
        high, period = low + rng.randrange(0, 60) * 1000, "YEAR"
    return f"salary: {{min: {low}, max: {high}, currency: {currency}, period: {period}}}"


def posting(index: int, seed: int = DEFAULT_SEED) -> tuple[str, str, str]:
    """``(department folder, posting id, file text)`` of posting number ``index``."""
    rng = random.Random(f"{seed}:{index}")
    company = rng.choice(COMPANIES)
    title = f"{rng.choice(LEVELS)}{rng.choice(ROLES)}{rng.choice(FOCUS)}"
    posting_id = f"{slug(company)[:20]}-{slug(title)[:40]}-{index:06d}"
    department = rng.choice(DEPARTMENTS)
    posted = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 320))
    lines = ["---", f"id: {posting_id}", f"title: {_quote(title)}"]
    roll = rng.random()
    if roll < 0.04:
        lines.append("status: closed")
    elif roll < 0.06:
        lines.append("status: draft")
    if rng.random() < 0.1:
        lines.append(f"date_posted: {posted.isoformat()}T{rng.randrange(8, 18):02d}:00:00+01:00")
    else:
        lines.append(f"date_posted: {posted.isoformat()}")
    roll = rng.random()
    if roll < 0.02:
        lines.append(f"valid_through: {(posted + timedelta(days=10)).isoformat()}")  # expired
    elif roll < 0.25:
        lines.append(f"valid_through: 2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}")
    kinds = rng.choice(EMPLOYMENT)
    lines.append(
        f"employment_type: {kinds[0] if len(kinds) == 1 else '[' + ', '.join(kinds) + ']'}"
    )
    lines += [f"department: {department}", f"category: {department}"]
    if company != ORGANIZATION or rng.random() < 0.5:
        lines.append(f"company: {_quote(company)}")
    roll = rng.random()
    remote = "onsite" if roll < 0.55 else "hybrid" if roll < 0.75 else "remote"
    count = 1 if rng.random() < 0.8 else rng.randint(2, 6)
    places = rng.sample(CITIES, count) if remote != "remote" or rng.random() < 0.2 else []
    if places:
        lines.append("locations:")
        lines += [_location(city) for city in places]
    lines.append(f"remote: {remote}")
    if remote == "remote":
        countries = rng.choice(REGIONS)
        lines.append("applicant_locations: [" + ", ".join(f"'{c}'" for c in countries) + "]")
    if rng.random() < 0.5:
        currency = places[0].currency if places else "USD"
        lines.append(_salary(rng, currency))
    roll = rng.random()
    url = f'url: "https://careers.example.com/{slug(company)}/{index}"'
    email = f"email: jobs@{slug(company)[:20]}.example.com"
    # Indeed needs the hiring company's own email for every job: every posting has one.
    apply = email if roll < 0.2 else f"{url}, {email}"
    lines.append(f"apply: {{{apply}}}")
    if rng.random() < 0.6:
        lines.append(f"experience: {rng.choice(EXPERIENCE)}")
    if rng.random() < 0.4:
        lines.append(f"education: {_quote(rng.choice(EDUCATION))}")
    lines += ["language: en", "---"]
    return slug(department), posting_id, "\n".join(lines) + "\n" + body(rng)


WIDE_FOLDERS = 100
WIDE_COMPANIES = 500
_FIRST = ("North", "Blue", "Alpine", "Silver", "Red", "Grand", "Lake", "Summit", "Iron", "Bright")
_SECOND = ("field", "stone", "wave", "bridge", "gate", "point", "works", "line", "peak", "forge")
_KIND = ("Staffing", "Logistics", "Health", "Systems", "Retail")


def wide_company(number: int) -> str:
    """Company number ``number`` (0 to 499) of the wide shape: 500 distinct names."""
    first, rest = divmod(number, 50)
    second, kind = divmod(rest, 5)
    return f"{_FIRST[first]}{_SECOND[second]} {_KIND[kind]}"


def long_sentence(rng: random.Random) -> str:
    """Two clauses of prose: the wide shape's bullets are about twice the default's."""
    first, second = sentence(rng), sentence(rng)
    return f"{first[:-1]}, and {second[0].lower()}{second[1:]}"


def wide_posting(index: int, seed: int = DEFAULT_SEED) -> tuple[str, str, str]:
    """``(folder, posting id, file text)`` of posting ``index`` of the wide shape."""
    rng = random.Random(f"wide:{seed}:{index}")
    company = wide_company(rng.randrange(WIDE_COMPANIES))
    title = f"{rng.choice(LEVELS)}{rng.choice(ROLES)}{rng.choice(FOCUS)}"
    posting_id = f"{slug(company)[:24]}-{slug(title)[:40]}-{index:06d}"
    folder = f"batch-{index % WIDE_FOLDERS:03d}"
    posted = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 320))
    kinds = rng.choice(EMPLOYMENT)
    lines = [
        "---", f"id: {posting_id}", f"title: {_quote(title)}", f"date_posted: {posted}",
        f"employment_type: {kinds[0] if len(kinds) == 1 else '[' + ', '.join(kinds) + ']'}",
        f"company: {_quote(company)}", f"category: {rng.choice(DEPARTMENTS)}",
    ]  # fmt: skip
    places = rng.sample(CITIES, rng.randint(1, 3))
    lines.append("locations:")
    lines += [_location(city) for city in places]
    lines.append(f"remote: {'hybrid' if rng.random() < 0.2 else 'onsite'}")
    if rng.random() < 0.6:
        lines.append(_salary(rng, places[0].currency))
    email = f"email: jobs@{slug(company)[:20]}.example.com"
    lines.append(f'apply: {{url: "https://apply.example.com/{slug(company)}/{index}", {email}}}')
    lines += ["language: en", "---"]
    sections = [
        f"### {heading}\n\n"
        + "\n".join(f"* {long_sentence(rng)}" for _ in range(rng.randint(4, 9)))
        for heading in rng.sample(HEADINGS, 3)
    ]
    text = "\n\n".join([paragraph(rng), *sections]) + "\n"
    return folder, posting_id, "\n".join(lines) + "\n" + text


Generator = Callable[[int, int], tuple[str, str, str]]
SHAPES: dict[str, Generator] = {"default": posting, "wide": wide_posting}


def postings(
    n: int, seed: int = DEFAULT_SEED, shape: str = "default"
) -> Iterator[tuple[str, str, str]]:
    """Postings number 0 to ``n - 1`` of a shape (`SHAPES`)."""
    make = SHAPES[shape]
    return (make(index, seed) for index in range(n))


def write_postings(folder: Path, n: int, seed: int = DEFAULT_SEED, shape: str = "default") -> int:
    """Write ``n`` posting files under ``folder`` (one sub-folder per department); bytes."""
    total = 0
    made: set[str] = set()
    for department, posting_id, text in postings(n, seed, shape):
        directory = folder / department
        if department not in made:
            directory.mkdir(parents=True, exist_ok=True)
            made.add(department)
        data = text.encode("utf-8")
        (directory / f"{posting_id}.md").write_bytes(data)
        total += len(data)
    return total


CONFIG = """\
# A benchmark project: {n} generated postings, the four pull targets and a LinkedIn-style jobs
# API on the local board server.
organization:
  name: {organization}
  url: https://northwind.example.com
  email: jobs@northwind.example.com
  location: {{city: Zurich, region: ZH, country: CH}}
site: {{base_url: "https://jobs.northwind.example.com"}}
postings: {postings}
output: feeds
state: sqlite:///.syndicate/state.db
timezone: Europe/Zurich
targets:
  indeed:        {{type: indeed_xml, file: indeed.xml}}
  jsonld:        {{type: jsonld, file: jobs.jsonld}}
  linkedin_feed: {{type: linkedin_json, file: linkedin.json}}
  careers:       {{type: careers_site, dir: careers}}
  linkedin:
    type: linkedin_api
    endpoint: "{endpoint}"
    token_env: BENCH_LINKEDIN_TOKEN
    organization: "urn:li:organization:4242"
    poll_interval: 50ms
    concurrency: {concurrency}
retry: {{max_attempts: 3, backoff: 100ms, max_backoff: 1s}}
"""


def postings_folder(folder: Path, shape: str = "default") -> Path:
    """Where `write_project` puts the postings of a project in ``folder``: inside it, or for
    the wide shape beside it (``FOLDER-postings``)."""
    if shape == "wide":
        return folder.with_name(folder.name + "-postings").resolve()
    return folder / "postings"


def write_project(
    folder: Path,
    n: int,
    *,
    endpoint: str,
    seed: int = DEFAULT_SEED,
    concurrency: int = 4,
    shape: str = "default",
) -> int:
    """A project folder: ``config.yaml`` and ``n`` postings (`postings_folder`); their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    where = postings_folder(folder, shape)
    config = CONFIG.format(
        n=n,
        organization=ORGANIZATION,
        endpoint=endpoint,
        concurrency=concurrency,
        postings="postings" if shape == "default" else _quote(str(where)),
    )
    (folder / "config.yaml").write_text(config, encoding="utf-8")
    return write_postings(where, n, seed, shape)


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.generate DIR -n 1000``: write a benchmark project."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", type=int, default=1000, help="how many postings (default 1000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8765", help="board server URL")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="default")
    args = parser.parse_args(argv)
    size = write_project(
        args.folder, args.n, endpoint=args.endpoint, seed=args.seed, shape=args.shape
    )
    print(f"{args.n} postings ({size / 1e6:.1f} MB) in {args.folder}")


if __name__ == "__main__":
    main()
