"""Claims: attributed statements with their speakers, the article's own assertions, hedges.

A claim is found by the shape of its sentence, not by its words:

- a **reporting verb** (say, state, tell, write, clarify …; сказать, заявить, сообщить …) with a
  clausal complement (``ccomp``, ``parataxis``, a quotation): the complement is the claim, the
  verb's subject the claimant; a verb of asking or proposing (ask, suggest; попросить,
  предложить) with an infinitive complement gives a request;
- a **source phrase**: "according to X", «по словам X», «по данным X», «согласно X»: the rest of
  the sentence is the claim, X the claimant;
- every other sentence that names something and has a finite verb is the **publisher's**
  assertion.

The claimant is the entity named by the subject; "he" or "she" is the person named last;
anything else ("the letter", "a source") is an unnamed source with its anchor. Every claim is
``unverified``, except that when the article says it asked a party for confirmation and got no
answer ("no response had been received"), the claims of or about that party, and the
unnamed-source claims before that sentence, are ``pending``, with that cue as their hedge.
Numbers in a claim become its quantities, and a claim with a percentage, an amount of money or
a counted quantity is a ``statistic``.
"""

import re
from dataclasses import dataclass, field

from app.extract.entities import Entities
from app.extract.parse import Parsed, Sentence, Token

REPORTING = frozenset(
    """say state tell write claim announce report clarify note add confirm deny explain argue
    insist warn emphasize emphasise stress declare assert allege estimate predict promise reveal
    acknowledge admit comment respond reply specify believe tweet post testify conclude
    сказать заявить сообщить отметить подчеркнуть пояснить написать рассказать добавить
    уточнить объявить считать полагать предупредить подтвердить опровергнуть говорить
    сообщать заявлять отмечать утверждать указать указывать говориться подчёркивать
    подчеркивать пояснять рассказывать добавлять уточнять объявлять""".split()
)
REQUESTING = frozenset(
    """ask request urge call propose suggest offer invite appeal demand seek
    попросить просить предложить предлагать призвать призывать потребовать требовать""".split()
)
PREDICTING = frozenset("predict forecast expect anticipate прогнозировать ожидать".split())
SOURCE_NOUNS = frozenset("слово данные мнение информация оценка сведение сведения".split())
SUBJECT = frozenset({"nsubj", "nsubjpass", "nsubj:pass", "csubj"})
CONTENT = frozenset({"ccomp", "parataxis"})
MARKERS = frozenset({"that", "что", "чтобы", "как"})
PRONOUNS_PERSON = frozenset("he she his her он она его её ее".split())
# Speakers who are unnamed even when the body they are in is named.
ANONYMOUS = frozenset("source insider person people источник собеседник".split())
QUOTES = "«»“”\"‘’'„"

PENDING_CUES = re.compile(
    r"(?i)(no (?:response|reply|answer|comment)s? (?:had|has|have|was|were) (?:yet )?been "
    r"received(?: at the time of publication| by (?:the time of )?publication)?"
    r"|(?:did|has|have|had) not (?:yet )?(?:respond|responded|reply|replied|answer|answered)"
    r"(?: to [\w’' ]{0,40}?(?:request|inquiry|query|questions?)s?)?"
    r"|could not be reached for comment"
    r"|ответ(?:а)? (?:на (?:момент|время) публикации )?(?:так и )?не (?:поступил|получен|получено)"
    r"|не ответил[аи]? на запрос\w*"
    r"|на момент публикации (?:редакция )?(?:ответа|ответ|комментари\w*) не \w+)"
)
UNVERIFIED_CUES = re.compile(
    r"(?i)(could not (?:be )?(?:independently )?(?:verify|verified|confirm|confirmed)"
    r"|has not been (?:independently )?(?:verified|confirmed)"
    r"|\bunconfirmed\b|\breportedly\b|\ballegedly\b|\b(?:is|are) expected to\b"
    r"|не удалось (?:независимо )?(?:проверить|подтвердить)|по неподтвержденным данным"
    r"|предположительно|\bякобы\b)"
)
NUMBER = re.compile(r"\d+(?:[ \u00a0,]\d{3})*(?:[.,]\d+)?")
MULTIPLIERS = {
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "тыс": 1e3,
    "млн": 1e6,
    "млрд": 1e9,
    "трлн": 1e12,
    "миллион": 1e6,
    "миллиард": 1e9,
}
CURRENCIES = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "₽": "RUB",
    "₸": "KZT",
    "dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "ruble": "RUB",
    "rouble": "RUB",
    "tenge": "KZT",
    "доллар": "USD",
    "евро": "EUR",
    "рубл": "RUB",
    "тенге": "KZT",
}
_RU_QUANTITY = re.compile(
    r"(?i)(?P<number>\d+(?:[ \u00a0]\d{3})*(?:[.,]\d+)?)\s*"
    r"(?P<unit>%|процент\w*|(?:тыс|млн|млрд|трлн)\.?(?:\s+(?:долларов|рублей|тенге|евро))?"
    r"|(?:долларов|рублей|тенге|евро))"
)


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str
    start: int
    end: int


@dataclass
class DraftClaim:
    text: str
    kind: str
    claimant: str | None  # an entity id, or None for an unnamed source
    unnamed: tuple[str, int, int] | None  # (description, start, end) of an unnamed source
    attribution: tuple[int, int] | None
    start: int
    end: int
    sentence: int
    subjects: list[str] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    status: str = "unverified"
    hedge: tuple[int, int] | None = None
    rationale: str = ""


def _span(parsed: Parsed, first: int, last: int) -> tuple[int, int]:
    """Character span of tokens first..last, without outer quotation marks and punctuation."""
    start, end = parsed.tokens[first].start, parsed.tokens[last].end
    text = parsed.text
    while start < end and (text[start] in QUOTES + " ,;:—–-" or text[start].isspace()):
        start += 1
    while end > start and (text[end - 1] in QUOTES + " ,;:—–-." or text[end - 1].isspace()):
        end -= 1
    # keep a closing quotation mark that closes one opened inside the span
    return start, end


def _content(parsed: Parsed, verb: Token, clausal_only: bool) -> tuple[int, int] | None:
    children = [parsed.tokens[c] for c in parsed.children[verb.i]]
    clauses = [c for c in children if c.dep in CONTENT]
    if not clauses and not clausal_only:
        clauses = [c for c in children if c.dep == "xcomp"]
    if not clauses and verb.dep in CONTENT and verb.head != verb.i:
        # «Quote», — said X: the parser may hang the verb under the quote's own verb.
        first, last = parsed.subtree(verb.head)
        v_first, _ = parsed.subtree(verb.i)
        if v_first <= first:
            return None
        last = v_first - 1
        while last > first and parsed.tokens[last].pos == "PUNCT":
            last -= 1
        return (first, last) if last - first >= 2 else None
    if not clauses:
        return None
    first, last = parsed.subtree(clauses[0].i)
    for extra in clauses[1:]:
        a, b = parsed.subtree(extra.i)
        first, last = min(first, a), max(last, b)
    # the verb itself and its subject stay outside the claim
    if first <= verb.i <= last:
        return None
    while first < last and (
        parsed.tokens[first].lemma in MARKERS or parsed.tokens[first].pos == "PUNCT"
    ):
        first += 1
    if parsed.tokens[first].dep == "aux" and parsed.tokens[first].lemma == "to":
        first += 1
    return (first, last) if last - first >= 2 else None


def _subject(parsed: Parsed, verb: Token) -> Token | None:
    for c in parsed.children[verb.i]:
        if parsed.tokens[c].dep in SUBJECT and any(ch.isalnum() for ch in parsed.tokens[c].text):
            return parsed.tokens[c]
    # "… said by the ministry", «… говорится в письме»
    for c in parsed.children[verb.i]:
        child = parsed.tokens[c]
        if child.dep in ("agent", "obl") and parsed.language == "ru" and verb.lemma == "говориться":
            return child
    return None


@dataclass
class _Found:
    first: int  # content tokens
    last: int
    source: tuple[int, int] | None  # claimant phrase tokens
    source_head: int | None
    attribution: tuple[int, int]  # characters
    kind: str


def _reports(parsed: Parsed, sentence: Sentence) -> list[_Found]:
    found: list[_Found] = []
    for verb in parsed.tokens[sentence.first : sentence.last + 1]:
        if verb.pos not in ("VERB", "AUX"):
            continue
        requesting = verb.lemma in REQUESTING
        if verb.lemma not in REPORTING and not requesting:
            continue
        content = _content(parsed, verb, clausal_only=not requesting)
        if content is None:
            continue
        subject = _subject(parsed, verb)
        source = parsed.subtree(subject.i) if subject is not None else None
        if source is not None:
            a, b = source
            first_char = min(parsed.tokens[a].start, verb.start)
            last_char = max(parsed.tokens[b].end, verb.end)
            contiguous = not (content[0] <= max(a, verb.i) and content[1] >= min(b, verb.i))
            attribution = (first_char, last_char) if contiguous else (verb.start, verb.end)
        else:
            attribution = (verb.start, verb.end)
        kind = "request" if requesting else "statement"
        if verb.lemma in PREDICTING:
            kind = "prediction"
        found.append(
            _Found(
                content[0],
                content[1],
                source,
                subject.i if subject is not None else None,
                attribution,
                kind,
            )
        )
    return found


def _source_phrases(parsed: Parsed, sentence: Sentence) -> list[_Found]:
    """ "According to X, …", «По словам X, …», «Согласно X, …»."""
    found: list[_Found] = []
    tokens = parsed.tokens[sentence.first : sentence.last + 1]
    for t in tokens:
        source: Token | None = None
        phrase_first = t.i
        if t.lemma == "accord" or t.text.lower() == "according":
            to = next(
                (parsed.tokens[c] for c in parsed.children[t.i] if parsed.tokens[c].lemma == "to"),
                None,
            )
            if to is not None:
                source = next(
                    (
                        parsed.tokens[c]
                        for c in parsed.children[to.i]
                        if parsed.tokens[c].dep in ("pobj", "obj", "nmod")
                    ),
                    None,
                )
        elif t.lemma in SOURCE_NOUNS and any(
            parsed.tokens[c].lemma == "по" for c in parsed.children[t.i]
        ):
            phrase_first = min([t.i, *parsed.children[t.i]])
            source = _source_of(parsed, t)
        elif t.lemma == "согласно" and t.dep == "case":
            source = parsed.tokens[t.head]
            if source.lemma in SOURCE_NOUNS:  # «согласно оценке агентства»
                source = _source_of(parsed, source) or source
        if source is None:
            continue
        a, b = parsed.subtree(source.i)
        phrase_last = max(b, source.i)
        # the claim is the clause the phrase belongs to, without the phrase
        clause = next(
            (
                x
                for x in parsed.ancestors(phrase_first)
                if x.pos in ("VERB", "AUX") and not phrase_first <= x.i <= phrase_last
            ),
            None,
        )
        c_first, c_last = (
            parsed.subtree(clause.i) if clause is not None else (sentence.first, sentence.last)
        )
        c_first, c_last = max(c_first, sentence.first), min(c_last, sentence.last)
        before = (c_first, phrase_first - 1)
        after = (phrase_last + 1, c_last)
        # "According to X, <clause>" (or «…: по данным X, <clause>») unless nothing follows:
        # "<clause>, according to X."
        verbs_after = any(
            parsed.tokens[i].pos in ("VERB", "AUX") for i in range(after[0], after[1] + 1)
        )
        rest_first, rest_last = after if verbs_after else before
        while rest_first <= rest_last and parsed.tokens[rest_first].pos == "PUNCT":
            rest_first += 1
        if rest_last - rest_first < 2:
            continue
        found.append(
            _Found(
                rest_first,
                rest_last,
                (a, b),
                source.i,
                _span(parsed, phrase_first, phrase_last),
                "statement",
            )
        )
    return found


def _source_of(parsed: Parsed, noun: Token) -> Token | None:
    """Whose words or data: «по словам министра», «по его словам», «оценке агентства»."""
    for deps in (("nmod", "appos"), ("det", "nmod:poss", "amod")):
        for c in parsed.children[noun.i]:
            child = parsed.tokens[c]
            if child.dep in deps and child.lemma != "по" and any(ch.isalnum() for ch in child.text):
                return child
    return None


def _quantities(parsed: Parsed, start: int, end: int) -> list[Quantity]:
    out: list[Quantity] = []
    if parsed.language == "en":
        for s in parsed.spans:
            if s.label not in ("PERCENT", "MONEY", "QUANTITY", "CARDINAL"):
                continue
            if s.start < start or s.end > end:
                continue
            q = _english_quantity(parsed, s.start, s.end, s.label, s.last)
            if q is not None:
                out.append(q)
    else:
        for m in _RU_QUANTITY.finditer(parsed.text, start, end):
            value = _number(m.group("number"))
            if value is None:
                continue
            unit_text = m.group("unit").lower()
            value *= next((v for k, v in MULTIPLIERS.items() if unit_text.startswith(k)), 1.0)
            unit = "percent" if unit_text.startswith(("%", "процент")) else _currency(unit_text)
            out.append(Quantity(value, unit or unit_text, m.start(), m.end()))
    return out


def _number(text: str) -> float | None:
    digits = text.replace("\u00a0", " ")
    if re.fullmatch(r"\d{1,3}(?:[ ,]\d{3})+", digits):
        digits = digits.replace(",", "").replace(" ", "")
    digits = digits.replace(" ", "").replace(",", ".")
    try:
        return float(digits)
    except ValueError:
        return None


def _currency(text: str) -> str | None:
    lowered = text.lower()
    return next((code for sign, code in CURRENCIES.items() if sign in lowered), None)


def _english_quantity(
    parsed: Parsed, start: int, end: int, label: str, last: int
) -> Quantity | None:
    text = parsed.text[start:end]
    m = NUMBER.search(text)
    if m is None:
        return None
    value = _number(m.group())
    if value is None:
        return None
    lowered = text.lower()
    value *= next((v for k, v in MULTIPLIERS.items() if k in lowered), 1.0)
    if label == "PERCENT":
        return Quantity(value, "percent", start, end)
    if label == "MONEY":
        return Quantity(value, _currency(text) or "money", start, end)
    if label == "QUANTITY":
        unit = text[m.end() :].strip() or "unit"
        return Quantity(value, unit.split()[-1].lower(), start, end)
    # a count is a quantity when a noun says what is counted ("1,200 workers"), not a year
    following = parsed.tokens[last + 1] if last + 1 < len(parsed.tokens) else None
    if following is None or following.pos != "NOUN" or re.fullmatch(r"(1[89]|20)\d\d", text):
        return None
    return Quantity(value, following.lemma, start, following.end)


def _clean(text: str) -> str:
    words = " ".join(
        text.replace("«", "").replace("»", "").replace("“", "").replace("”", "").split()
    )
    words = words.strip(" ,;:")
    if not words:
        return words
    words = words[0].upper() + words[1:]
    return words if words[-1] in ".!?" else words + "."


def _sentence_span(parsed: Parsed, sentence: Sentence) -> tuple[int, int]:
    return _span(parsed, sentence.first, sentence.last)


def _has_finite_verb(parsed: Parsed, sentence: Sentence) -> bool:
    return any(
        t.pos in ("VERB", "AUX") and (t.tense is not None or t.dep == "root")
        for t in parsed.tokens[sentence.first : sentence.last + 1]
    )


def find_claims(parsed: Parsed, entities: Entities) -> list[DraftClaim]:
    """The article's claims, in text order, with claimants, statuses and quantities."""
    claims: list[DraftClaim] = []
    for s_index, sentence in enumerate(parsed.sentences):
        found = _source_phrases(parsed, sentence) + _reports(parsed, sentence)
        for f in found:
            start, end = _span(parsed, f.first, f.last)
            if end - start < 8:
                continue
            claimant, unnamed = _claimant(parsed, entities, f)
            claims.append(
                DraftClaim(
                    text=_clean(parsed.text[start:end]),
                    kind=f.kind,
                    claimant=claimant,
                    unnamed=unnamed,
                    attribution=f.attribution,
                    start=start,
                    end=end,
                    sentence=s_index,
                )
            )
        if found:
            continue
        start, end = _sentence_span(parsed, sentence)
        if end - start < 12 or parsed.text[start:end].rstrip().endswith("?"):
            continue
        if not _has_finite_verb(parsed, sentence):
            continue
        named = entities.within(start, end)
        if not named and not _quantities(parsed, start, end):
            continue
        claims.append(
            DraftClaim(
                text=_clean(parsed.text[start:end]),
                kind="statement",
                claimant=entities.publisher,
                unnamed=None if entities.publisher else ("the publisher", -1, -1),
                attribution=None,
                start=start,
                end=end,
                sentence=s_index,
            )
        )
    for claim in claims:
        claim.subjects = [e for e in entities.within(claim.start, claim.end) if e != claim.claimant]
        claim.quantities = _quantities(parsed, claim.start, claim.end)
        if claim.quantities and any(q.unit for q in claim.quantities):
            claim.kind = "statistic"
        elif claim.kind == "statement" and claim.unnamed is None and _quoted(parsed, claim):
            claim.kind = "quote"
        claim.rationale = _rationale(claim, entities)
    _statuses(parsed, entities, claims)
    return claims


def _quoted(parsed: Parsed, claim: DraftClaim) -> bool:
    before = parsed.text[max(0, claim.start - 2) : claim.start]
    after = parsed.text[claim.end : claim.end + 3]
    return any(q in before for q in '«“"') and any(q in after for q in '»”"')


def _claimant(
    parsed: Parsed, entities: Entities, f: _Found
) -> tuple[str | None, tuple[str, int, int] | None]:
    if f.source is None or f.source_head is None:
        return None, ("an unnamed source", f.attribution[0], f.attribution[1])
    a, b = f.source
    start, end = parsed.tokens[a].start, parsed.tokens[b].end
    head = parsed.tokens[f.source_head]
    # "Rosatom's director general Alexey Likhachev said": the person speaks
    people = [e for e in entities.within(start, end) if entities.by_id(e).kind == "person"]
    found = people[0] if people else entities.at(start, end, prefer=head.start)
    # "a source in the government": an unnamed source, whatever body it is in
    anonymous = head.lemma in ANONYMOUS and entities.at(head.start, head.end) is None
    if found is not None and not anonymous:
        return found, None
    if head.lemma in PRONOUNS_PERSON or head.text.lower() in PRONOUNS_PERSON:
        earlier = [
            s[2]
            for s in entities.spans
            if s[1] <= head.start and entities.by_id(s[2]).kind == "person"
        ]
        if earlier:
            return earlier[-1], None
    s_start, s_end = _span(parsed, a, b)
    if s_end <= s_start:
        s_start, s_end = head.start, head.end
    description = " ".join(parsed.text[s_start:s_end].split())
    first_word = description.split(" ", 1)
    if len(first_word) == 2 and first_word[0].lower() in ("the", "a", "an"):
        description = first_word[1]
    return None, (description, s_start, s_end)


def _rationale(claim: DraftClaim, entities: Entities) -> str:
    if claim.attribution is None:
        return "The article's own assertion; not checked against another source (machine draft)."
    who = (
        entities.by_id(claim.claimant).name
        if claim.claimant
        else (claim.unnamed[0] if claim.unnamed else "a source")
    )
    return f"Attributed in the article to {who}; not independently checked (machine draft)."


def _statuses(parsed: Parsed, entities: Entities, claims: list[DraftClaim]) -> None:
    for m in PENDING_CUES.finditer(parsed.text):
        token = parsed.token_at(m.start())
        if token is None:  # pragma: no cover - a cue starts with a word
            continue
        index = parsed.tokens[token].sent
        sentence = parsed.sentences[index]
        parties = set(entities.within(sentence.start, sentence.end)) - {entities.publisher}
        if not parties and index > 0:  # "We asked the ministry. No answer had come."
            previous = parsed.sentences[index - 1]
            parties = set(entities.within(previous.start, previous.end)) - {entities.publisher}
        for claim in claims:
            if claim.sentence == parsed.tokens[token].sent:
                continue
            about_party = claim.claimant in parties or parties.intersection(claim.subjects)
            unnamed_before = claim.unnamed is not None and claim.start < sentence.start
            if claim.attribution is not None and (about_party or unnamed_before):
                claim.status = "pending"
                claim.hedge = (m.start(), m.end())
                claim.rationale = (
                    "The article says confirmation was requested and no answer had come "
                    "(machine draft)."
                )
    for m in UNVERIFIED_CUES.finditer(parsed.text):
        for claim in claims:
            if claim.hedge is None and claim.start <= m.start() and m.end() <= claim.end:
                claim.hedge = (m.start(), m.end())
