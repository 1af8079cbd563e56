"""Facts read from a description, only where the text states them plainly.

A fact is read from a labelled line (``Salary: $78,000 - $92,000 per year``,
``Pay: $18.00 - $21.00 per hour``, ``Apply: careers@example.com``, ``Location: Asheville, NC
28801``, ``Job type: Full-time``), from the section that says how to apply, from a sentence that
says where the job is based (``based in our head office in Geneva, Switzerland``), from an
explicit remote rule (``No Remote``, LinkedIn's ``#LI-Remote``), or from the employer naming
itself (``About Canonical``, ``8x8 is proud to provide equal employment opportunities``).

Nothing is inferred beyond that.  Where the text says something a person must turn into a
field (``based remotely in North America``: which countries?), the sentence is passed on as a
note beside the field to fill.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syndicate.importing.base import Draft
from syndicate.importing.blocks import Line
from syndicate.importing.cities import read_cities
from syndicate.importing.employer import employer_in_text
from syndicate.importing.places import Place, PlaceReading, places_in_text, read_place_phrase
from syndicate.model import CURRENCY_CODES, EmploymentType, Remote, SalaryPeriod

_LABEL = re.compile(r"^(?P<label>[A-Za-z][A-Za-z .&/'-]{0,30}?)\s*:\s*(?P<value>\S.*)$")

SALARY_LABELS = frozenset(
    {"salary", "pay", "compensation", "base salary", "salary range", "pay range", "wage",
     "wages", "base pay", "pay rate", "hourly rate", "rate of pay", "remuneration"}
)  # fmt: skip
APPLY_LABELS = frozenset(
    {"apply", "to apply", "how to apply", "apply at", "apply here", "apply online", "apply to",
     "apply via", "applications", "application"}
)  # fmt: skip
LOCATION_LABELS = frozenset(
    {"location", "locations", "job location", "work location", "place of work", "office",
     "office location", "based in", "where"}
)  # fmt: skip
REMOTE_LABELS = frozenset(
    {"remote", "remote work", "workplace", "workplace type", "work model", "work arrangement",
     "work setting", "working model", "work location type"}
)  # fmt: skip
TYPE_LABELS = frozenset(
    {"job type", "employment type", "type", "contract type", "position type", "employment",
     "type of employment", "commitment", "contract", "schedule", "hours"}
)  # fmt: skip
COMPANY_LABELS = frozenset(
    {"company", "employer", "organization", "organisation", "hiring company"}
)
EXPERIENCE_LABELS = frozenset({"experience", "required experience", "experience required"})
EDUCATION_LABELS = frozenset({"education", "required education", "education required"})
_APPLY_SECTION = re.compile(
    r"^(?:how to apply|to apply|apply(?: now| here)?|applying|application process|"
    r"how to get in touch)\b",
    re.I,
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")
_SEND_TO = re.compile(
    r"\b(?:send|email|e-mail|mail|submit|forward)\b[^.!?]*?\b(?:cv|c\.v\.|resume|résumé|"
    r"application|cover letter|portfolio)s?\b[^.!?]*?\bto\b",
    re.I,
)
_APPLY_AT = re.compile(r"\bapply\b[^.!?]*?\b(?:at|via|on|through|here)\b", re.I)

# Employment types as job boards write them.
_TYPE_WORDS: tuple[tuple[re.Pattern[str], EmploymentType], ...] = tuple(
    (re.compile(pattern, re.I), kind)
    for pattern, kind in (
        (r"\bfull[\s-]?time\b", EmploymentType.FULL_TIME),
        (r"\bpart[\s-]?time\b", EmploymentType.PART_TIME),
        (r"\bcontract(?:or)?\b|\bfreelance\b", EmploymentType.CONTRACTOR),
        (r"\btemporary\b|\btemp\b|\bseasonal\b|\bfixed[\s-]?term\b", EmploymentType.TEMPORARY),
        (r"\bintern(?:ship)?\b", EmploymentType.INTERN),
        (r"\bvolunteer\b", EmploymentType.VOLUNTEER),
        (r"\bper[\s-]?diem\b", EmploymentType.PER_DIEM),
    )
)
_TYPE_SENTENCE = re.compile(
    r"\b(?:this|the) (?:is an? )?(?:role|position|job|opportunity) is an? "
    r"(full[\s-]?time|part[\s-]?time|temporary|contract)\b|\bthis is an? "
    r"(full[\s-]?time|part[\s-]?time|temporary|contract) (?:role|position|job|opportunity)\b",
    re.I,
)

# A type word beside what it qualifies: "a full-time position", "on a part-time basis",
# "6-month contract role", "Full-time or part-time job"; never "customer contracts".
_TYPE_WORD = (
    r"(?:full[\s-]?time|part[\s-]?time|freelance|temporary|fixed[\s-]term|contract|contractor|"
    r"internship|intern|seasonal|per[\s-]?diem|volunteer)"
)
_TYPE_PHRASE = re.compile(
    rf"\b(?P<types>{_TYPE_WORD}(?:\s*(?:,|/|or|and)\s*{_TYPE_WORD})*)\s+(?:role|position|job|post|vacancy|"
    r"opportunity|employment|contract|assignment|basis|hire|placement)s?\b",
    re.I,
)
# A line that is only the type, as a job board prints it: "Full-time", "Part-time, Contract".
_TYPE_LINE = re.compile(
    rf"^\s*{_TYPE_WORD}(?:\s*(?:,|/|or|and|\|)\s*{_TYPE_WORD})*\s*\.?\s*$", re.I
)

# LinkedIn's tags for recruiters (#LI-Remote); the export may have lost the '#'.
LINKEDIN_TAG = re.compile(r"(?<![\w-])#?LI-([A-Za-z][A-Za-z0-9]*)\b")
_LINKEDIN_RULES = {"remote": Remote.REMOTE, "hybrid": Remote.HYBRID, "onsite": Remote.ONSITE,
                   "office": Remote.ONSITE}  # fmt: skip
_ONSITE_SENTENCE = re.compile(
    r"\bno remote\b|\bnot (?:a )?remote\b|\b(?:role|position|job) is (?:fully )?(?:on[\s-]?site|"
    r"in[\s-]office)\b|\bthis is an? (?:on[\s-]?site|in[\s-]office) (?:role|position|job)\b",
    re.I,
)
_REMOTE_SENTENCE = re.compile(
    r"\bbased remotely\b|\b(?:role|position|job) is (?:fully |100% )?remote\b|\b(?:fully|100%) "
    r"remote (?:role|position|job)\b|\bthis is an? remote (?:role|position|job)\b|\bwork "
    r"(?:fully )?remotely from anywhere\b",
    re.I,
)
_HYBRID_SENTENCE = re.compile(
    r"\b(?:role|position|job) is hybrid\b|\bhybrid (?:role|position|job)\b|\bthis is an? "
    r"hybrid\b",
    re.I,
)
_PLACE_CUE = re.compile(
    r"\b(?:based|located|situated)\s+(?:remotely\b|in\b|at\b|out of\b|from\b|within\b)|"
    r"\boffices?\s+(?:is\s+|are\s+)?(?:located\s+)?(?:in|at)\b|\bwork from our\b|"
    r"\bon[\s-]?site (?:in|at)\b|\brelocate to\b",
    re.I,
)

# Currencies as written before or after amounts; "$" is the dollar of the job's country.
_CURRENCY_SIGNS: dict[str, str] = {
    "$": "USD", "us$": "USD", "usd$": "USD", "c$": "CAD", "ca$": "CAD", "cad$": "CAD",
    "a$": "AUD", "au$": "AUD", "nz$": "NZD", "s$": "SGD", "hk$": "HKD", "€": "EUR",
    "£": "GBP", "¥": "JPY", "₹": "INR", "fr.": "CHF", "chf": "CHF",
}  # fmt: skip
DOLLAR_BY_COUNTRY: dict[str, str] = {
    "CA": "CAD", "AU": "AUD", "NZ": "NZD", "SG": "SGD", "HK": "HKD", "MX": "MXN",
}  # fmt: skip
_PERIODS: dict[str, SalaryPeriod] = {
    "hour": SalaryPeriod.HOUR, "hr": SalaryPeriod.HOUR, "hourly": SalaryPeriod.HOUR,
    "day": SalaryPeriod.DAY, "daily": SalaryPeriod.DAY, "week": SalaryPeriod.WEEK,
    "wk": SalaryPeriod.WEEK, "weekly": SalaryPeriod.WEEK, "month": SalaryPeriod.MONTH,
    "mo": SalaryPeriod.MONTH, "monthly": SalaryPeriod.MONTH, "year": SalaryPeriod.YEAR,
    "yr": SalaryPeriod.YEAR, "annum": SalaryPeriod.YEAR, "annually": SalaryPeriod.YEAR,
    "yearly": SalaryPeriod.YEAR, "annual": SalaryPeriod.YEAR, "pa": SalaryPeriod.YEAR,
}  # fmt: skip
_SIGN = r"(?:[A-Z]{3}\s?|(?:US|USD|CA|CAD|AU|NZ|S|HK|C|A)?\$\s?|[€£¥₹]\s?|Fr\.\s?)"
_AMOUNT = r"\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?P<sign1>{_SIGN})?(?P<min>{_AMOUNT})\s?(?P<k1>[kK])?(?:\s?(?P<code1>[A-Z]{{3}}))?"
    rf"(?:\s*(?:-|–|—|to)\s*(?P<sign2>{_SIGN})?(?P<max>{_AMOUNT})\s?(?P<k2>[kK])?)?"
    rf"(?:\s?(?P<code2>[A-Z]{{3}}))?"
    r"\s*(?:(?:per|an?|/|each|a)\s*(?P<period>hour|hr|day|week|wk|month|mo|year|yr|annum)\b"
    r"|(?P<adverb>hourly|daily|weekly|monthly|annually|yearly|annual|p\.?a\.?)(?![\w]))"
)
_LEGAL_FORMS = (
    r"Inc\.?|Incorporated|LLC|L\.L\.C\.|Ltd\.?|Limited|GmbH|AG|S\.?A\.?S?|SARL|S\.à r\.l\.|"
    r"B\.?V\.?|N\.?V\.?|PLC|Plc|Corp\.?|Corporation|Co\.|Pty\.? Ltd\.?|AB|ASA|Oy|S\.p\.A\.|"
    r"SpA|K\.K\.|LLP|LP"
)
_COMPANY_NAME = r"[A-Z0-9][\w&.'’-]*(?:\s+[A-Z0-9&][\w&.'’-]*){0,4}"
_EEO = re.compile(
    rf"^(?P<name>{_COMPANY_NAME}),?\s+(?:is|are)\s+(?:proud\s+to\s+(?:be|provide)\s+)?(?:an?\s+)?"
    r"equal\s+(?:employment\s+)?opportunit",
)
_ABOUT = re.compile(rf"^About\s+(?P<name>{_COMPANY_NAME})$")
_ROLE_AT = re.compile(
    rf"^(?:the\s+)?role\s+of\s+(?:an?\s+)?(?P<title>.+?)\s+at\s+(?P<company>{_COMPANY_NAME})$",
    re.I,
)
# "About the role", "About our client", "We are an equal opportunity employer": no employer.
_NOT_COMPANY_WORDS = frozenset(
    {"we", "our", "us", "you", "your", "the", "this", "that", "it", "its", "they", "their", "all"}
)


@dataclass(frozen=True, slots=True)
class Labelled:
    """A ``Label: value`` line (the label lowercased)."""

    label: str
    value: str
    line: Line


def labelled(lines: Iterable[Line]) -> list[Labelled]:
    """Every ``Label: value`` line among paragraphs and list items."""
    found = []
    for line in lines:
        if line.kind == "heading":
            continue
        match = _LABEL.match(line.text)
        if match:
            label = re.sub(r"\s+", " ", match["label"].strip().lower())
            found.append(Labelled(label, match["value"].strip(), line))
    return found


def first_value(items: Sequence[Labelled], names: frozenset[str]) -> Labelled | None:
    return next((item for item in items if item.label in names), None)


# ------------------------------------------------------------------------------------- readers


def employment_types(text: str) -> list[str]:
    """The employment types a value names (``Full-time, Part-time`` → both)."""
    found = [
        (match.start(), kind)
        for pattern, kind in _TYPE_WORDS
        if (match := pattern.search(text)) is not None
    ]
    return [str(kind) for _, kind in sorted(found)]


def remote_rule(text: str) -> str | None:
    """``remote``, ``hybrid`` or ``onsite`` from a workplace value (``Remote``, ``On-site``,
    ``Hybrid``, Lever's ``on-site``); None when it says none of them."""
    value = text.strip().lower()
    if re.match(r"^(?:fully |100% )?remote\b|^yes\b|^work from home\b", value):
        return str(Remote.REMOTE)
    if re.match(r"^hybrid\b", value):
        return str(Remote.HYBRID)
    if re.match(r"^(?:on[\s-]?site|in[\s-]?office|office|no remote|no)\b", value):
        return str(Remote.ONSITE)
    return None


def salary(text: str, *, country: str | None = None) -> dict[str, object] | None:
    """A salary stated plainly: an amount or range with its currency and period.

    ``$78,000 - $92,000 per year``, ``$18.00 - $21.00 per hour``, ``CHF 120,000 - 150,000 per
    year``, ``€45k–55k annually``.  ``$`` is the dollar of ``country`` when it has its own
    (Canada, Australia…), else the US dollar.  Without a currency or a period: None.
    """
    match = _MONEY.search(text)
    if match is None:
        return None
    period_word = (match["period"] or match["adverb"] or "").lower().replace(".", "")
    period = _PERIODS.get(period_word)
    currency = _currency(
        match["sign1"] or match["sign2"] or "", match["code1"] or match["code2"], country
    )
    low = _number(match["min"], bool(match["k1"] or (match["k2"] and not match["k1"])))
    high = _number(match["max"], bool(match["k2"])) if match["max"] else None
    if period is None or currency is None or low is None:
        return None
    result: dict[str, object] = {"min": low}
    if high is not None and high != low:
        result["max"] = high
    result["currency"] = currency
    result["period"] = str(period)
    return result


def _currency(sign: str, code: str | None, country: str | None) -> str | None:
    sign = sign.strip().lower()
    if code and code.upper() in CURRENCY_CODES:
        return code.upper()
    if sign.upper() in CURRENCY_CODES:
        return sign.upper()
    if sign == "$":
        return DOLLAR_BY_COUNTRY.get(country or "", "USD")
    return _CURRENCY_SIGNS.get(sign)


def _number(text: str | None, thousands: bool) -> float | int | None:
    if not text:
        return None
    digits = text.replace(" ", "").replace("'", "")
    if "," in digits and "." in digits:
        separator = "," if digits.index(",") < digits.index(".") else "."
        digits = digits.replace(separator, "").replace(",", ".")
    elif "," in digits:
        digits = (
            digits.replace(",", "")
            if re.fullmatch(r"\d{1,3}(,\d{3})+", digits)
            else digits.replace(",", ".")
        )
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", digits):
        digits = digits.replace(".", "")
    value = float(digits) * (1000 if thousands else 1)
    return int(value) if value.is_integer() else value


def contact(text: str, links: Sequence[str] = ()) -> dict[str, str]:
    """The first URL or email address in a line (or its links) as an ``apply`` mapping."""
    for link in links:
        if link.lower().startswith("mailto:"):
            return {"email": link[len("mailto:") :].split("?", 1)[0]}
        return {"url": link}
    email = _EMAIL.search(text)
    url = _URL.search(text)
    if email and (url is None or email.start() < url.start()):
        return {"email": email[0]}
    if url:
        return {"url": url[0]}
    return {}


def apply_route(lines: Sequence[Line], items: Sequence[Labelled]) -> dict[str, str]:
    """How to apply, where the text says so: an ``Apply:`` line, the "How to apply" section,
    or a sentence asking to send a CV (or apply) to an address or page."""
    label = first_value(items, APPLY_LABELS)
    if label is not None:
        found = contact(label.value, label.line.links)
        if found:
            return found
    for line in lines:
        if line.kind != "heading" and line.section and _APPLY_SECTION.match(line.section):
            found = contact(line.text, line.links)
            if found:
                return found
    for line in lines:
        for pattern in (_SEND_TO, _APPLY_AT):
            match = pattern.search(line.text)
            if match:
                found = contact(line.text[match.end() :], ())
                if found:
                    return found
    return {}


def emails(lines: Iterable[Line]) -> list[str]:
    """Every email address in the text (to say which were not read as apply routes)."""
    return list(dict.fromkeys(m[0] for line in lines for m in _EMAIL.finditer(line.text)))


def linkedin_rule(text: str) -> str | None:
    """The remote rule of LinkedIn tags in a text (``#LI-Remote`` → remote), if any."""
    for match in LINKEDIN_TAG.finditer(text):
        rule = _LINKEDIN_RULES.get(match[1].lower())
        if rule is not None:
            return str(rule)
    return None


def sentence_rule(lines: Iterable[Line]) -> tuple[str | None, list[str]]:
    """The remote rule the sentences state, and the sentences (None when they disagree)."""
    rules: dict[str, str] = {}
    for line in lines:
        if line.kind == "heading":
            continue
        for rule, pattern in (
            (Remote.ONSITE, _ONSITE_SENTENCE),
            (Remote.REMOTE, _REMOTE_SENTENCE),
            (Remote.HYBRID, _HYBRID_SENTENCE),
        ):
            if pattern.search(line.text):
                rules.setdefault(str(rule), line.text)
    if len(rules) == 1:
        return next(iter(rules)), list(rules.values())
    return None, list(rules.values())


def place_sentences(lines: Iterable[Line]) -> list[str]:
    """Sentences that say where the job is based (``based in``, ``located in``…)."""
    found = []
    for line in lines:
        if line.kind == "heading":
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", line.text):
            if _PLACE_CUE.search(sentence):
                found.append(sentence.strip())
    return found


def company_name(lines: Sequence[Line], items: Sequence[Labelled], text: str) -> str | None:
    """The employer as the text names it: a ``Company:`` line, "The role of a X at Company",
    an "About Company" heading, or "Company is an equal opportunity employer"; extended to its
    legal name when the text gives it (``8x8`` → ``8x8, Inc.``)."""
    label = first_value(items, COMPANY_LABELS)
    if label is not None:
        return label.value
    candidates: list[str] = []
    for line in lines:
        role = _ROLE_AT.match(line.text)
        if role:
            candidates.append(role["company"])
    for line in lines:
        about = _ABOUT.match(line.text) if line.kind == "heading" else None
        if about:
            candidates.append(about["name"])
    for line in lines:
        for sentence in re.split(r"(?<=[.!?])\s+", line.text):
            eeo = _EEO.match(sentence)
            if eeo:
                candidates.append(eeo["name"])
    for name in candidates:
        if name.split()[0].lower() not in _NOT_COMPANY_WORDS:
            return legal_name(name.strip(), text)
    return None


def legal_name(name: str, text: str) -> str:
    """``name`` with the legal form the text gives it (``8x8`` → ``8x8, Inc.``), if any."""
    match = re.search(rf"(?<![\w-]){re.escape(name)},?\s+(?:{_LEGAL_FORMS})(?![\w])", text)
    return match[0] if match else name


def strip_legal_form(name: str) -> str:
    """``8x8, Inc.`` → ``8x8`` (for ids)."""
    previous = None
    while previous != name:
        previous = name
        name = re.sub(rf",?\s+(?:{_LEGAL_FORMS})$", "", name).strip()
    return name


def name_from_domain(address: str, text: str) -> str | None:
    """The name in ``text`` that spells the domain of ``address`` (``jobs@sixsq.com`` and
    "SixSq"), in the spelling the text uses most."""
    domain = address.rsplit("@", 1)[-1].split("//")[-1].split("/")[0].lower()
    parts = [p for p in domain.split(".") if p not in ("www", "jobs", "careers", "mail")]
    if not parts:
        return None
    label = parts[0]
    spellings = re.findall(rf"(?<![\w@.]){re.escape(label)}(?![\w@])", text, flags=re.I)
    spellings = [s for s in spellings if s != s.lower()]
    if not spellings:
        return None
    return max(set(spellings), key=spellings.count)


def role_title(line: str) -> tuple[str, str] | None:
    """``(title, company)`` of "The role of a Sales Director at Canonical"."""
    match = _ROLE_AT.match(line.strip())
    if match:
        return match["title"].strip(), match["company"].strip()
    return None


# ------------------------------------------------------------------------------ filling a draft


def complete(draft: Draft, *, full_text: str | None = None) -> None:
    """Fill the fields ``draft`` has no value for from what its description states plainly."""
    lines = draft.lines()
    items = labelled(lines)
    text = full_text if full_text is not None else "\n".join(line.text for line in lines)
    _complete_company(draft, lines, items, text)
    _complete_remote(draft, lines, items, text)
    _complete_places(draft, lines, items)
    _complete_salary(draft, items)
    _complete_apply(draft, lines, items)
    _complete_type(draft, lines, items)
    for names, name in ((EXPERIENCE_LABELS, "experience"), (EDUCATION_LABELS, "education")):
        label = first_value(items, names)
        if label is not None:
            draft.fill(name, label.value)


def _complete_company(draft: Draft, lines: list[Line], items: list[Labelled], text: str) -> None:
    if draft.has("company"):
        return
    name = company_name(lines, items, text)
    if name is None:
        route = draft.fields.get("apply") or apply_route(lines, items)
        address = route.get("email") or route.get("url") if isinstance(route, dict) else None
        name = name_from_domain(address, text) if address else None
    if name is None:
        employer = employer_in_text(text)
        if employer is not None and employer.sure:
            name = employer.name
            draft.note(
                f"read from how the text speaks of {name} ({employer.mentions} times as its "
                "company: its team, its CEO, for or at it); check it is the employer",
                "company",
            )
        elif employer is not None:
            draft.note(
                f"the text may be {employer.name}'s ({employer.mentions} mention(s) as a "
                f"company); if so, set company: {employer.name}",
                "company",
            )
    draft.fill("company", name)


def _complete_remote(draft: Draft, lines: list[Line], items: list[Labelled], text: str) -> None:
    if draft.has("remote"):
        return
    rule = linkedin_rule(text)
    if rule is None:
        for item in items:
            if item.label in REMOTE_LABELS | LOCATION_LABELS:
                rule = remote_rule(item.value) or _location_rule(item.value)
                if rule:
                    break
    if rule is None:
        rule, sentences = sentence_rule(lines)
        if rule is None and len(sentences) > 1:
            draft.note(
                "the text says both "
                + " and ".join(f"{s!r}" for s in sentences[:2])
                + "; set remote yourself",
                "remote",
            )
    draft.fill("remote", rule)


def _location_rule(value: str) -> str | None:
    if re.search(r"\bremote(?:ly)?\b", value, re.I):
        return str(Remote.REMOTE)
    if re.search(r"\bhybrid\b", value, re.I):
        return str(Remote.HYBRID)
    return None


def _complete_places(draft: Draft, lines: list[Line], items: list[Labelled]) -> None:
    if draft.has("locations") and draft.has("applicant_locations"):
        return
    reading = PlaceReading()
    stated: list[str] = []
    for item in items:
        if item.label in LOCATION_LABELS:
            stated.append(item.line.text)
            phrase = read_place_phrase(item.value)
            reading = _merge(reading, phrase)
            if not phrase.places and not phrase.countries:
                reading = _merge(reading, PlaceReading(places=tuple(places_in_text(item.value))))
    bare: list[str] = []
    for sentence in place_sentences(lines):
        if sentence not in stated and not any(sentence in s for s in stated):
            stated.append(sentence)
            found = places_in_text(sentence)
            if not found:
                bare.append(sentence)
            reading = _merge(reading, PlaceReading(places=tuple(found)))
    if not reading.places and bare and draft.fields.get("remote") != Remote.REMOTE:
        reading = _merge(reading, _named_cities(draft, bare))
    locations = [place.as_location() for place in reading.places]
    filled = draft.fill("locations", locations)
    remote = draft.fields.get("remote")
    if remote == Remote.REMOTE:
        if not draft.fill("applicant_locations", list(reading.countries)) and not draft.has(
            "applicant_locations"
        ):
            where = "; ".join(repr(s) for s in stated[:2])
            draft.note(
                (f"the source says {where}; " if where else "the source names no country; ")
                + "list the countries applicants may live in (ISO codes, e.g. [US, CA])",
                "applicant_locations",
            )
    elif not filled and not draft.has("locations") and stated and "locations" not in draft.offers:
        draft.note(
            f"the source says {'; '.join(repr(s) for s in stated[:2])} without a country for "
            "each place; add them as locations (city and ISO country code)",
            "locations",
        )


def _named_cities(draft: Draft, sentences: list[str]) -> PlaceReading:
    """The cities ``sentences`` name without a country (`cities.read_cities`): the sure ones
    as places, noted; the unsure ones offered as commented candidates."""
    sure: list[Place] = []
    unsure: list[Place] = []
    quoted: list[str] = []
    for sentence in sentences:
        cue = _PLACE_CUE.search(sentence)
        found = read_cities(sentence[cue.end() :] if cue else sentence)
        if found is None or not found.names:
            continue
        quoted.append(repr(sentence))
        sure.extend(place for place in found.places if place not in sure)
        unsure.extend(place for place in found.unsure if place not in unsure)
    where = "; ".join(quoted[:2])
    if unsure:
        draft.offer("locations", [place.as_location() for place in [*sure, *unsure]])
        draft.note(
            f"the source says {where}; more than one country has a city of some of these "
            "names (GeoNames): keep the right ones below, add their regions, and uncomment",
            "locations",
        )
        return PlaceReading()
    if sure:
        draft.note(
            f"the cities of {where}, with the country GeoNames knows each in; check them and "
            "add their regions",
            "locations",
        )
    return PlaceReading(places=tuple(sure))


def _merge(one: PlaceReading, other: PlaceReading) -> PlaceReading:
    places: list[Place] = list(one.places)
    places.extend(place for place in other.places if place not in places)
    countries = list(one.countries)
    countries.extend(code for code in other.countries if code not in countries)
    return PlaceReading(tuple(places), one.remote or other.remote, tuple(countries))


def _complete_salary(draft: Draft, items: list[Labelled]) -> None:
    if draft.has("salary"):
        return
    label = first_value(items, SALARY_LABELS)
    if label is None:
        return
    found = salary(label.value, country=_single_country(draft))
    if found is None:
        draft.note(
            f"{label.line.text!r} gives no amount with a currency and a period "
            "(e.g. $78,000 - $92,000 per year); add salary yourself if it should be published",
            "salary",
        )
    draft.fill("salary", found)


def _single_country(draft: Draft) -> str | None:
    countries = {loc.get("country") for loc in draft.fields.get("locations", [])}
    countries |= set(draft.fields.get("applicant_locations", []))
    return countries.pop() if len(countries) == 1 else None


def _complete_apply(draft: Draft, lines: list[Line], items: list[Labelled]) -> None:
    if draft.has("apply"):
        return
    route = apply_route(lines, items)
    if draft.fill("apply", route):
        return
    others = emails(lines)
    if others:
        draft.note(
            f"the text gives {', '.join(others)} but not as the way to apply; add apply.url or "
            "apply.email",
            "apply",
        )


def _complete_type(draft: Draft, lines: list[Line], items: list[Labelled]) -> None:
    if draft.has("employment_type"):
        return
    label = first_value(items, TYPE_LABELS)
    if label is not None:
        draft.fill("employment_type", employment_types(label.value))
        return
    for line in lines:
        match = _TYPE_SENTENCE.search(line.text)
        if match:
            draft.fill("employment_type", employment_types(match[1] or match[2]))
            return
    for line in lines:
        words = _type_words(line.text)
        if words:
            draft.fill("employment_type", employment_types(words))
            return


def _type_words(text: str) -> str | None:
    """The employment type words of a phrase or a line that states the type, if any."""
    phrase = _TYPE_PHRASE.search(text)
    if phrase:
        return phrase["types"]
    line = _TYPE_LINE.match(text)
    return line[0] if line else None
