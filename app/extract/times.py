"""Time expressions, resolved against the publication date, with their precision and a note.

Expressions are found by the recogniser (spaCy's DATE spans, and patterns for the month names
and weekdays it misses) for English, and by patterns for dates, months in any case, weekdays
and relative days for Russian. Each is read
by dateparser's ``DateDataParser`` with ``RELATIVE_BASE`` set to the publication date; the
``period`` it returns gives the precision (day, week, month, year). Where the text gives no
year, the tense of the clause chooses: a past clause looks back, a future one ahead, and
otherwise the publication's own year is taken. A qualifier around the date turns it into an
interval: "by the end of November 2024" runs from the publication date to 30 November,
"early March" is 1–10 March. "Later" in a past clause is the span from the date the article
gave before it to publication.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from app.extract.parse import Language, Parsed

MONTHS_EN = (
    "january february march april may june july august september october november december"
).split()
MONTH_STEMS_RU = ("январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр").split()
MONTHS_RU_NOMINATIVE = (
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь"
).split()
MONTHS_RU_GENITIVE = (
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
).split()
WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday "
    "понедельник вторник сред четверг пятниц суббот воскресень"
).split()
RELATIVE_DAYS = ("today", "yesterday", "tomorrow", "сегодня", "вчера", "завтра", "позавчера")
LATER = ("later", "afterwards", "subsequently", "позднее", "позже", "впоследствии")
DEADLINE = ("by", "before", "until", "till", "до", "к")
SINCE = ("since", "с")
PREPOSITIONS = ("on", "in", "at", "during", "в", "во", "на") + DEADLINE + SINCE
PHASES = {
    "beginning": (1, 10),
    "start": (1, 10),
    "early": (1, 10),
    "начала": (1, 10),
    "начале": (1, 10),
    "middle": (11, 20),
    "mid": (11, 20),
    "середины": (11, 20),
    "середине": (11, 20),
    "end": (21, 31),
    "late": (21, 31),
    "конца": (21, 31),
    "конце": (21, 31),
}
_RU_MONTH = r"(?:январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
_RU_PATTERNS = re.compile(
    r"(?i)\b(?:"
    rf"(?:\d{{1,2}}\s+)?{_RU_MONTH}(?:\s+\d{{4}}(?:\s+(?:года|году|г\.))?)?"
    r"|\d{4}\s+(?:года|году|г\.)"
    r"|"
    r"в(?:о)?\s+(?:понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)"
    rf"|(?:в|до|к)\s+(?:(?:начале|середине|конце|начала|середины|конца)\s+)?{_RU_MONTH}"
    r"(?:\s+(?:этого|текущего|прошлого|следующего)\s+года|\s+\d{4}\s+(?:года|г\.))?"
    r"|(?:на|в)\s+(?:прошлой|этой|следующей)\s+неделе"
    r"|в\s+(?:прошлом|этом|следующем)\s+(?:году|месяце)"
    r"|позавчера|вчера|сегодня|завтра"
    r")"
)
_QUALIFIER = re.compile(
    r"^(?:(?:on|in|at|during|в|во|на)\s+)?"
    r"(?:(?P<deadline>by|before|until|till|no later than|до|к|не позднее)\s+)?"
    r"(?:(?P<since>since|с)\s+)?"
    r"(?:(?:the\s+)?(?P<phase>beginning|start|middle|mid|end|early|late|начала|начале|"
    r"середины|середине|конца|конце)(?:\s+of|-)?\s+)?"
    r"(?P<core>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TimeExpression:
    start: int  # the anchor: the expression as written, with its preposition
    end: int
    date: str | None  # a partial ISO date (its form is the precision) …
    interval_start: str | None  # … or an interval of them (either end may be open)
    interval_end: str | None
    note: str
    token: int  # a token of the expression, to find its clause

    @property
    def bounds(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last day covered."""
        if self.date is not None:
            return _first_day(self.date), _last_day(self.date)
        return (
            _first_day(self.interval_start) if self.interval_start else None,
            _last_day(self.interval_end) if self.interval_end else None,
        )


def _first_day(value: str) -> dt.date:
    parts = [int(p) for p in value.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _last_day(value: str) -> dt.date:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    month = parts[1] if len(parts) > 1 else 12
    return dt.date(parts[0], month, calendar.monthrange(parts[0], month)[1])


def _long(day: dt.date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


@cache
def _parser(language: Language, published: dt.date, prefer: str) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=[language],
        settings={
            "RELATIVE_BASE": dt.datetime.combine(published, dt.time()),
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first",
        },
    )


def _clause_tense(parsed: Parsed, token: int) -> str | None:
    """The tense of the nearest verb governing a token."""
    for t in [parsed.tokens[token], *parsed.ancestors(token)]:
        if t.pos in ("VERB", "AUX"):
            return t.tense
    return None


def _russian_core(core: str) -> tuple[str, str | None]:
    """A Russian expression in the forms dateparser reads, and a year word it carried."""
    relative = None
    m = re.search(r"\s+(этого|текущего|прошлого|следующего)\s+года$", core)
    if m:
        relative = m.group(1)
        core = core[: m.start()]
    core = re.sub(r"\s+(года|году|г\.)$", "", core)
    words = core.split()
    has_day = any(w.isdigit() and len(w) <= 2 for w in words)
    out = []
    for w in words:
        index = next((k for k, s in enumerate(MONTH_STEMS_RU) if w.startswith(s)), None)
        if index is not None and (len(MONTH_STEMS_RU[index]) > 2 or w in ("май", "мая", "мае")):
            w = MONTHS_RU_GENITIVE[index] if has_day else MONTHS_RU_NOMINATIVE[index]
        out.append(w)
    return " ".join(out), relative


def _has_calendar_word(expr: str) -> bool:
    lowered = expr.lower()
    return bool(
        re.search(r"\b(1[89]|20|21)\d\d\b", lowered)
        or any(m in lowered for m in MONTHS_EN)
        or re.search(r"\b(jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?", lowered)
        or any(w in lowered for w in WEEKDAYS)
        or any(w in lowered.split() for w in RELATIVE_DAYS)
        or re.search(r"\b(this|last|next|previous|coming)\s+(week|month|year)\b", lowered)
        or re.search(_RU_MONTH, lowered)
        or re.search(r"(прошл|этой|этом|следующ)\w*\s+(неделе|году|месяце)", lowered)
    )


def _resolve(
    expr: str, language: Language, published: dt.date, tense: str | None
) -> tuple[str | None, str | None, str | None, str] | None:
    """(date, interval start, interval end, how) for one expression, or None."""
    m = _QUALIFIER.match(expr.strip())
    if m is None:  # pragma: no cover - the pattern matches any non-empty string
        return None
    core = m.group("core").strip().rstrip(".,")
    phase = (m.group("phase") or "").lower()
    relative = None
    explicit_this = bool(re.match(r"(?i)this\s+", core))
    direction = re.match(r"(?i)(next|coming|last|past)\s+(?=[a-z])", core)
    if direction and not re.match(r"(?i)\w+\s+(week|month|year)\b", core):
        core = core[direction.end() :]  # "next March": dateparser reads the month alone
        tense = "future" if direction.group(1).lower() in ("next", "coming") else "past"
    core = re.sub(r"(?i)^(this|these)\s+", "", core)
    if language == "ru":
        core, relative = _russian_core(core)
    has_year = bool(re.search(r"\b\d{4}\b", core))
    if explicit_this or relative in ("этого", "текущего"):
        prefer, how = "current_period", "in the publication's year"
    elif relative == "прошлого":
        prefer, how = "past", "in the year before publication"
        core = f"{core} {published.year - 1}"
    elif relative == "следующего":
        prefer, how = "future", "in the year after publication"
        core = f"{core} {published.year + 1}"
    elif has_year:
        prefer, how = "current_period", "as written"
    elif tense == "past":
        prefer, how = "past", "as the latest such date before publication (a past clause)"
    elif tense == "future":
        prefer, how = "future", "as the next such date after publication (a future clause)"
    else:
        prefer, how = "current_period", "in the publication's year or week"
    data = _parser(language, published, prefer).get_date_data(core)
    if data is None or data.date_obj is None:
        return None
    day: dt.date = data.date_obj.date()
    period = data.period or "day"
    if period == "week":
        monday = day - dt.timedelta(days=day.weekday())
        first, last, fmt = monday, monday + dt.timedelta(days=6), "%Y-%m-%d"
        value = None
    elif period == "month":
        first, last = day.replace(day=1), _last_day(f"{day:%Y-%m}")
        value, fmt = f"{day:%Y-%m}", "%Y-%m"
    elif period == "year":
        first, last = dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
        value, fmt = f"{day.year}", "%Y"
    elif period in ("day", "time"):
        first = last = day
        value, fmt = f"{day:%Y-%m-%d}", "%Y-%m-%d"
    else:
        return None
    if phase in PHASES and period in ("month", "year"):
        lo, hi = PHASES[phase]
        if period == "month":
            first = first.replace(day=lo)
            last = last.replace(day=min(hi, last.day))
            fmt = "%Y-%m-%d"
        else:
            months = {1: (1, 3), 11: (4, 8), 21: (9, 12)}[lo]
            first, last = dt.date(day.year, months[0], 1), _last_day(f"{day.year}-{months[1]}")
            fmt = "%Y-%m"
        value = None
    deadline = m.group("deadline")
    if deadline:
        end = last.strftime("%Y-%m-%d")
        start = published.isoformat() if last >= published else None
        return None, start, end, f"a deadline: {how}, from publication to {_long(last)}"
    if m.group("since"):
        return None, first.strftime(fmt), published.isoformat(), f"since then: {how}"
    if value is None:
        return None, first.strftime(fmt), last.strftime(fmt), how
    return value, None, None, how


def _describe(expr: str, value: tuple[str | None, str | None, str | None], how: str) -> str:
    date, start, end = value
    if date is not None:
        reading = date
    else:
        reading = f"{start or 'an open start'} to {end or 'an open end'}"
    return f"“{expr}” read as {reading}, {how}."


_LEAD_IN = re.compile(
    r"(?i)(?:\b(?:no later than|by|before|until|till|since|on|in|at|during|до|к|с|в|во|на)\s+)?"
    r"(?:\b(?:this|next|last|coming|past)\s+)?"
    r"(?:\b(?:the\s+)?(?:beginning|start|middle|mid|end|early|late|начала|начале|середины|"
    r"середине|конца|конце)(?:\s+of)?[\s-]+)?$"
)


def _with_preposition(parsed: Parsed, start: int) -> int:
    """Start the anchor at the words that lead into the expression: "on", "by the end of",
    «до конца»."""
    before = parsed.text[max(0, start - 40) : start]
    m = _LEAD_IN.search(before)
    return start - len(m.group()) if m and m.group().strip() else start


_MONTH_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_EN_PATTERNS = re.compile(
    r"\b(?:"
    rf"(?:(?:early|mid|late)[\s-]+)?{_MONTH_EN.replace('(?:jan', '(?:[Jj]an')}"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s+\d{4})?"
    r"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r")\b"
)


def _candidates(parsed: Parsed) -> list[tuple[int, int]]:
    if parsed.language == "en":
        spans = [(s.start, s.end) for s in parsed.spans if s.label == "DATE"]
        # what the recogniser missed: month names (capitalised) and weekdays
        for m in _EN_PATTERNS.finditer(parsed.text):
            word = m.group()
            if word[:1].isupper() or word.split()[0].lower() in ("early", "mid", "late"):
                if word.lower() != "may" or re.match(r"May\s+\d", word):
                    spans.append((m.start(), m.end()))
    else:
        spans = [(m.start(), m.end()) for m in _RU_PATTERNS.finditer(parsed.text)]
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if kept and start < kept[-1][1]:
            if end > kept[-1][1]:
                kept[-1] = (kept[-1][0], end)
            continue
        kept.append((start, end))
    return kept


def find_times(parsed: Parsed, published: dt.date) -> list[TimeExpression]:
    """Every time expression of the article that can be placed on the calendar."""
    found: list[TimeExpression] = []
    pub = f"{published.day} {calendar.month_name[published.month]} {published.year}"
    later = {
        t.start
        for t in parsed.tokens
        if t.lemma in LATER or t.text.lower() in LATER
        if t.pos in ("ADV", "ADJ")
    }
    events = sorted(
        [(s, e, "date") for s, e in _candidates(parsed)] + [(s, s, "later") for s in later]
    )
    for start, end, what in events:
        token = parsed.token_at(start)
        if token is None:  # pragma: no cover - candidates start at a token
            continue
        tense = _clause_tense(parsed, token)
        if what == "later":
            word = parsed.tokens[token]
            before = [t for t in found if t.end <= word.start]
            if tense == "future":
                found.append(
                    TimeExpression(
                        word.start,
                        word.end,
                        None,
                        published.isoformat(),
                        None,
                        f"“{word.text}” in a future clause: after publication ({pub}).",
                        token,
                    )
                )
            elif tense == "past" and before:
                first, _ = before[-1].bounds
                assert first is not None or before[-1].interval_start is None
                since = first.isoformat() if first else None
                found.append(
                    TimeExpression(
                        word.start,
                        word.end,
                        None,
                        since,
                        published.isoformat(),
                        f"“{word.text}”: after the date the article gave before it "
                        f"({parsed.text[before[-1].start : before[-1].end]}) and no later than "
                        f"publication ({pub}).",
                        token,
                    )
                )
            continue
        anchor_start = _with_preposition(parsed, start)
        expr = parsed.text[anchor_start:end]
        if not _has_calendar_word(expr):
            continue
        resolved = _resolve(expr, parsed.language, published, tense)
        if resolved is None:
            continue
        date, interval_start, interval_end, how = resolved
        note = _describe(expr, (date, interval_start, interval_end), how)
        if not re.search(r"\b\d{4}\b", expr):
            note += f" Publication date: {pub}."
        found.append(
            TimeExpression(anchor_start, end, date, interval_start, interval_end, note, token)
        )
    return found
