"""Events: one per dated happening, with its sentence as the summary and its modality.

Every resolved time expression dates the happening of its clause. The event's kind comes from
the words of that clause (meet, referendum, sign …); its modality from the verbs that govern
the date: proposing gives ``proposed``, asking ``requested``, a plan, an expectation, a future
tense or a date after publication ``planned``, and a past clause ``occurred``.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from app.extract.entities import Entities
from app.extract.parse import Parsed
from app.extract.times import TimeExpression

# Words of a clause (lemmas, or their beginnings for Russian) and the event kind they give,
# most specific first.
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("referendum", ("referendum", "плебисцит", "референдум")),
    ("election", ("election", "elect", "выбор", "избра")),
    ("vote_result", ("result", "turnout", "итог", "явк")),
    (
        "meeting",
        ("meet", "meeting", "talk", "summit", "visit", "встреч", "переговор", "саммит", "визит"),
    ),
    (
        "agreement",
        (
            "agreement",
            "agree",
            "sign",
            "deal",
            "memorandum",
            "соглашени",
            "подписа",
            "договор",
            "меморандум",
        ),
    ),
    ("construction", ("build", "construct", "construction", "строительств", "постро", "строи")),
    (
        "financing",
        (
            "finance",
            "financing",
            "fund",
            "funding",
            "loan",
            "invest",
            "финансир",
            "кредит",
            "инвестиц",
        ),
    ),
    ("publication", ("publish", "publication", "опубликова", "публикаци")),
    ("letter", ("letter", "письм")),
    ("inquiry", ("inquiry", "query", "запрос")),
    ("request", ("ask", "request", "seek", "попроси", "просьб", "проси")),
    ("announcement", ("announce", "announcement", "объяви", "анонсир")),
    ("clarification", ("clarify", "clarification", "поясни", "уточни")),
    ("statement", ("say", "state", "statement", "заяви", "сказа", "сообщи")),
)
PROPOSING = ("propose", "suggest", "offer", "предлож", "предлага")
REQUESTING = ("ask", "request", "seek", "urge", "appreciate", "call", "попрос", "проси", "призва")
PLANNING = (
    "plan",
    "intend",
    "schedule",
    "expect",
    "will",
    "aim",
    "prepare",
    "планир",
    "намерен",
    "собира",
    "ожида",
    "готов",
)
PLACE_KINDS = frozenset({"country", "region", "city", "facility"})


@dataclass
class DraftEvent:
    id: str
    kind: str
    summary: str
    time: TimeExpression
    modality: str
    start: int  # the sentence
    end: int
    sentence: int
    participants: list[str] = field(default_factory=list)
    location: str | None = None


@cache
def _stems(stems: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Stems as whole words, and those of four letters or more as beginnings of words."""
    return frozenset(stems), tuple(s for s in stems if len(s) >= 4)


def _starts(word: str, stems: tuple[str, ...]) -> bool:
    words, beginnings = _stems(stems)
    return word in words or word.startswith(beginnings)


def _kind(lemmas: list[str]) -> str:
    for kind, words in KIND_WORDS:
        if any(_starts(lemma, words) for lemma in lemmas):
            return kind
    return "other"


def _modality(parsed: Parsed, time: TimeExpression, published: dt.date) -> str:
    governing = [parsed.tokens[time.token], *parsed.ancestors(time.token)]
    lemmas = [t.lemma for t in governing]
    if any(_starts(lemma, PROPOSING) for lemma in lemmas):
        return "proposed"
    if any(_starts(lemma, REQUESTING) for lemma in lemmas):
        return "requested"
    verbs = [t for t in governing if t.pos in ("VERB", "AUX")]
    auxes = [parsed.tokens[c].lemma for t in verbs for c in parsed.children[t.i]]
    first, last = time.bounds
    if (
        any(_starts(lemma, PLANNING) for lemma in lemmas + auxes)
        or (verbs and verbs[0].tense == "future")
        or (first is not None and first > published)
    ):
        return "planned"
    return "occurred"


def _summary(text: str) -> str:
    words = " ".join(text.replace("«", "").replace("»", "").split())
    return words if len(words) <= 300 else words[:299].rstrip() + "…"


def find_events(
    parsed: Parsed, entities: Entities, times: list[TimeExpression], published: dt.date
) -> list[DraftEvent]:
    """One event per time expression, in text order."""
    events: list[DraftEvent] = []
    used: set[str] = set()
    for time in times:
        token = parsed.tokens[time.token]
        sentence = parsed.sentences[token.sent]
        # the words governing the date first: "later clarified that … construction"
        governing = [t.lemma for t in parsed.ancestors(time.token)]
        lemmas = [t.lemma for t in parsed.tokens[sentence.first : sentence.last + 1]]
        kind = _kind(governing[:1]) if governing else "other"
        if kind == "other":
            kind = _kind(governing) if governing else "other"
        if kind == "other":
            kind = _kind(lemmas)
        start, end = sentence.start, sentence.end
        text = parsed.text[start:end]
        stripped = text.strip(' «»“”"')
        start += text.index(stripped) if stripped else 0
        end = start + len(stripped)
        label = time.date or time.interval_end or time.interval_start or "undated"
        base = f"{kind}-{label}".replace("_", "-")
        event_id, n = base, 2
        while event_id in used:
            event_id, n = f"{base}-{n}", n + 1
        used.add(event_id)
        named = entities.within(sentence.start, sentence.end)
        location = next(
            (
                e
                for e in named
                if entities.by_id(e).kind in PLACE_KINDS
                and any(
                    s[2] == e
                    and parsed.text[max(0, s[0] - 3) : s[0]].lower().strip() in ("in", "в", "во")
                    for s in entities.spans
                    if sentence.start <= s[0] < sentence.end
                )
            ),
            None,
        )
        events.append(
            DraftEvent(
                id=event_id,
                kind=kind,
                summary=_summary(stripped),
                time=time,
                modality=_modality(parsed, time, published),
                start=start,
                end=end,
                sentence=token.sent,
                participants=[e for e in named if e != location],
                location=location,
            )
        )
    return events
