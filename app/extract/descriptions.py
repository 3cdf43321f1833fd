"""Descriptions: what an article names with common nouns, and the descriptions that refer back.

A recogniser finds names; a reader also follows descriptions. "The letter", "the project" and
"the government" name entities as surely as "Rosatom" does, and a fact file anchors them too.
The rules are those of deterministic coreference resolution (the sieves of Raghunathan et al.,
*A Multi-Pass Sieve for Coreference Resolution*, 2010, and Lee et al., *Deterministic
Coreference Resolution Based on Entity-Centric, Precision-Ranked Rules*, 2013), kept to
descriptions, with the parse giving each description its head noun, determiner and modifiers:

1. **Descriptions.** A common noun that heads its noun phrase (not part of a name, not a
   modifier of another noun, not a predicate as in "X is a project") is a description. It is
   *definite* with "the", "this", "that" or a possessor ("the ministry's"), and, in Russian,
   which has no articles, unless a word like «один» or «некий» goes before it; *indefinite*
   with "a", "an", "another". Its words are the content words of its modifiers (adjectives,
   nouns, numbers and prepositional phrases, but not relative or participial clauses).
2. **Head match** (Lee et al.'s strict head match). A definite description refers to an
   entity already mentioned whose head nouns include its own (the head of "the Ministry of
   Transport" is "ministry"; "the state corporation Rosatom" and "Turan Avia Construction, a
   joint venture" give their names "corporation" and "venture" too; in Russian the last part
   of a compound word counts: «станция» in «электростанция»), if each of its words is a word of
   that entity: "the old terminal" is not "the new passenger terminal". Of several, the one
   the article has mentioned most: "the terminal" is the one the article is about.
3. **Class nouns.** A definite "the document", "the company", "the country", "the city" or
   "the project" refers to the entity of a kind it stands for that was mentioned last (a
   document; a company or organisation; …), unless a clause says which one it means ("the
   company named as its leader" is a new one). A facility being built is also a project ("the
   construction of a power plant … the project"). A place the database holds is preferred to
   one only the recogniser found, whose label (GPE) does not tell a country from a city; the
   latter takes the kind the class noun gives it ("Shymkent's mayor … the city").
4. **Entities from descriptions.** A description headed by a noun for a document, a project, a
   facility or a body of several members ("letter", "contract", "project", "terminal",
   "consortium") that the article refers to again becomes an entity of the draft with all
   those mentions. One never referred to again is left alone, unless it is a body described
   by what it is ("an international consortium", "a consortium of international
   institutions"), which acts in the article whether or not it comes back. An indefinite
   description never refers back: it introduces something.
5. **Stored entities.** A definite description with no antecedent in the article refers to
   the one stored entity, if exactly one, whose name has its head noun and whose other words
   the article uses ("the government" in an article that names Kazakhstan: "Government of
   Kazakhstan"). Failing that, the institutions a country has one of ("the government",
   "parliament", «правительство») are those of the country the article names most, by name.
6. **Roles.** A person introduced by a role in an organisation ("the head of Rosatom, Alexey
   Likhachev"; «генеральный директор Росатома Алексей Лихачёв») is named again by that role in
   that organisation, or by "head", "chief" or "leader" for any title that leads it, and the
   other way round ("president of Rosatom"), when no other person holds such a role there.

A headline states the article in few words: its descriptions refer to what the body mentions
most, in either direction. Every rule leaves a description alone when two antecedents fit it
equally: a draft that misses a reference costs the reviewer less than a wrong one.
"""

import re
from dataclasses import dataclass, field

from app.extract.entities import DraftEntity, Entities, Ids
from app.extract.match import STOPWORDS, Match, StoredEntities, normalize, same_word
from app.extract.parse import Parsed, Token, russian_genitive

# Head nouns of descriptions that introduce an entity, by the kind they introduce.
INTRODUCING: dict[str, frozenset[str]] = {
    "document": frozenset(
        """letter document report memo memorandum decree resolution contract agreement treaty
        petition bill directive письмо документ доклад отчет отчёт указ постановление договор
        контракт соглашение меморандум резолюция законопроект распоряжение""".split()
    ),
    "project": frozenset(
        "project initiative programme program scheme проект инициатива программа".split()
    ),
    "facility": frozenset(
        """plant station terminal airport port hub bridge dam factory refinery mine pipeline
        railway reactor tunnel stadium hospital warehouse станция электростанция завод терминал
        аэропорт порт хаб мост плотина фабрика шахта рудник трубопровод реактор туннель
        стадион больница""".split()
    ),
    # bodies of several members
    "organization": frozenset(
        """consortium coalition alliance syndicate venture association partnership
        консорциум коалиция альянс синдикат ассоциация объединение партнерство""".split()
    ),
}
KIND_OF_HEAD = {noun: kind for kind, nouns in INTRODUCING.items() for noun in nouns}
# Head nouns that refer back to an entity of a kind, and the kinds each stands for.
CLASS_NOUNS: dict[str, frozenset[str]] = {
    "document": frozenset({"document", "документ"}),
    "project": INTRODUCING["project"],
    "company": frozenset("company firm corporation компания фирма корпорация".split()),
    "organization": frozenset("organisation organization организация".split()),
    "country": frozenset("country nation страна".split()),
    "city": frozenset("city town village город село поселок посёлок".split()),
    "region": frozenset("region province регион область".split()),
    "facility": frozenset("facility объект".split()),
}
CLASS_KINDS: dict[str, frozenset[str]] = {
    "document": frozenset({"document"}),
    "project": frozenset({"project"}),  # and facilities being built
    "company": frozenset({"company", "organization"}),
    "organization": frozenset({"organization", "company", "international_organization"}),
    "country": frozenset({"country"}),
    "city": frozenset({"city"}),
    "region": frozenset({"region"}),
    "facility": frozenset({"facility"}),
}
PLACE_KINDS = frozenset({"country", "city", "region"})
ORGANIZATION_KINDS = frozenset(
    {"government_body", "company", "organization", "international_organization", "media_outlet"}
)
# Institutions a country has one of, and what to call them before the country's name.
INSTITUTIONS = {
    "government": "Government of",
    "cabinet": "Cabinet of",
    "parliament": "Parliament of",
    "правительство": "Правительство",
    "кабмин": "Кабмин",
    "парламент": "Парламент",
}
# "The construction of X", "X was built": X is an undertaking, which "the project" names.
BUILDING_NOUNS = frozenset("construction building строительство сооружение возведение".split())
BUILDING_VERBS = frozenset("build construct erect строить построить возводить сооружать".split())
BUILT = frozenset({"dobj", "obj", "nsubjpass", "nsubj:pass"})
# Titles that lead an organisation; the generic ones stand for any of them.
LEADING = frozenset(
    """president chairman chairwoman chair director executive ceo head chief leader governor mayor
    президент председатель директор глава руководитель""".split()
)
GENERIC_LEADING = frozenset("head chief leader глава руководитель".split())
ROLES = LEADING | frozenset(
    """minister ambassador spokesman spokeswoman spokesperson secretary manager founder owner
    министр посол представитель секретарь основатель владелец""".split()
)
DEFINITE = frozenset("the this that these those".split())
INDEFINITE = frozenset("a an another some one any no every each один одна одно некий".split())
# Words that set one thing apart from another of its kind: not a description's name.
CONTRASTS = frozenset(
    """second other another new old former previous next first third last original
    второй другой новый старый прежний следующий первый третий последний""".split()
)
CLAUSES = frozenset({"relcl", "acl", "acl:relcl", "appos", "punct", "cc", "conj", "det"})
POSSESSOR = frozenset({"poss", "nmod:poss"})
PREMODIFIERS = frozenset({"amod", "compound", "nummod", "nmod"})


@dataclass(frozen=True)
class Phrase:
    """A description: a common noun heading its noun phrase."""

    head: int  # the head noun's token
    start: int  # the mention: premodifiers and head, no determiner or possessor …
    end: int  # … and a body of members' "of" phrase ("consortium of … institutions")
    lemma: str
    definite: bool
    words: frozenset[str]  # content words of its modifiers
    described: bool  # an adjective or an "of" phrase says what it is
    headline: bool
    restricted: bool  # a clause says which one: "the company named as its leader"


@dataclass
class Referent:
    """What the article mentions: an entity of the draft, or what a description introduced."""

    kind: str | None
    heads: set[str]
    words: set[str]
    mentions: list[tuple[int, int]] = field(default_factory=list)
    entity: DraftEntity | None = None
    first: Phrase | None = None  # the description that introduced it
    building: bool = False  # a facility being built
    described: bool = False

    def last_before(self, offset: int) -> int:
        """Where its last mention before an offset starts (-1: none)."""
        return max((start for start, _ in self.mentions if start < offset), default=-1)


# --- descriptions in the parse -------------------------------------------------------------


def _scope(parsed: Parsed, i: int) -> set[int]:
    """Token ``i`` and its dependents, without relative or participial clauses."""
    out = {i}
    stack = [c for c in parsed.children[i] if parsed.tokens[c].dep not in CLAUSES]
    while stack:
        j = stack.pop()
        out.add(j)
        stack.extend(c for c in parsed.children[j] if parsed.tokens[c].dep not in CLAUSES)
    return out


def _cased(parsed: Parsed, token: Token) -> bool:
    """A Russian noun with a preposition of its own («по строительству»), not a genitive."""
    return any(parsed.tokens[c].dep == "case" for c in parsed.children[token.i])


@dataclass(frozen=True)
class _Names:
    """Where the draft's names are: the tokens they cover, where they start and end."""

    tokens: frozenset[int]
    starts: frozenset[int]
    ends: frozenset[int]


def _describes_a_name(parsed: Parsed, noun: Token, children: list[Token], names: _Names) -> bool:
    """Whether a noun only says what a name beside it is: «госкорпорация «Росатом»», "Turan
    Avia Construction, a joint venture of …". The name's entity takes the noun as a head noun
    (see :func:`_descriptors`); the noun is no mention of its own."""
    if any(c.dep == "appos" and c.i in names.tokens for c in children):
        return True
    if noun.end + 1 in names.starts and _right_before_a_name(parsed, noun, noun.end + 1):
        return True
    if noun.dep == "appos" and noun.head in names.tokens:
        return True
    first = parsed.tokens[min([noun.i] + [c.i for c in children if c.i < noun.i])]
    comma = re.search(r",\s+$", parsed.text[max(0, first.start - 4) : first.start])
    if comma is None or not any(c.lemma in ("a", "an") for c in children):
        return False
    return first.start - len(comma.group()) in names.ends


def _right_before_a_name(parsed: Parsed, noun: Token, name_start: int) -> bool:
    """ "The state utility | Aqsu Water Corporation": a determined common noun, then a name."""
    return (
        noun.pos == "NOUN"
        and noun.text.islower()
        and parsed.text[noun.end : name_start] == " "
        and any(parsed.tokens[c].dep == "det" for c in parsed.children[noun.i])
    )


def _phrases(parsed: Parsed, named: list[tuple[int, int]]) -> list[Phrase]:
    """Every description of the article, in text order."""
    names = _Names(
        frozenset(i for s, e in named for i in parsed.tokens_in(s, e)),
        frozenset(s for s, _ in named),
        frozenset(e for _, e in named),
    )
    out: list[Phrase] = []
    headline_end = parsed.sentences[0].end if parsed.sentences else 0
    russian = parsed.language == "ru"
    for t in parsed.tokens:
        if t.pos != "NOUN" or t.dep in ("compound", "attr", "flat") or not t.text.isalpha():
            continue
        if t.i in names.tokens:
            continue
        children = [parsed.tokens[c] for c in parsed.children[t.i]]
        if _describes_a_name(parsed, t, children, names):
            continue
        determiners = {c.lemma for c in children if c.dep == "det"}
        if determiners & INDEFINITE:
            definite = False
        elif russian:
            definite = True
        else:
            definite = bool(determiners & DEFINITE) or any(c.dep in POSSESSOR for c in children)
            # a bare singular institution: "in parliament"
            definite = definite or (not determiners and t.lemma in INSTITUTIONS)
        first = last = t.i
        for c in children:
            if c.i < t.i and c.dep in PREMODIFIERS and c.pos != "PROPN":
                first = min(first, parsed.subtree(c.i)[0])
        genitives = [
            c
            for c in children
            if c.i > t.i
            and (
                (c.dep == "prep" and c.lemma == "of")
                or (russian and c.dep == "nmod" and not _cased(parsed, c))
            )
        ]
        if KIND_OF_HEAD.get(t.lemma) == "organization" and genitives:
            # "a consortium of three logistics companies (from Almaty)": up to what it is of
            of = genitives[0]
            objects = [parsed.tokens[j] for j in parsed.children[of.i]]
            last = next((o.i for o in objects if o.dep == "pobj"), of.i if russian else t.i)
        start, end = parsed.tokens[first].start, parsed.tokens[last].end
        if any(i in names.tokens for i in range(first, last + 1)):
            start, end = t.start, t.end
        scope = _scope(parsed, t.i) - {t.i}
        for c in children:
            if c.dep in POSSESSOR:
                scope -= _scope(parsed, c.i)
        words = frozenset(
            w
            for j in scope
            if parsed.tokens[j].pos in ("NOUN", "PROPN", "ADJ", "NUM")
            for w in normalize(parsed.tokens[j].text).split()
            if w not in STOPWORDS
        )
        described = bool(genitives) or any(
            c.dep == "amod" and c.pos == "ADJ" and c.lemma not in CONTRASTS for c in children
        )
        headline = t.start < headline_end
        # "the company named as its leader", not "the document, which … has seen,"
        restricted = any(
            c.dep in ("acl", "relcl", "acl:relcl")
            and "," not in parsed.text[t.end : parsed.tokens[parsed.subtree(c.i)[0]].start]
            for c in children
        )
        out.append(
            Phrase(t.i, start, end, t.lemma, definite, words, described, headline, restricted)
        )
    return out


def _root(parsed: Parsed, start: int, end: int) -> Token | None:
    inside = list(parsed.tokens_in(start, end))
    root = next((i for i in inside if parsed.tokens[i].head not in inside), None)
    return parsed.tokens[root] if root is not None else None


def _building(parsed: Parsed, start: int, end: int) -> bool:
    """Whether the words at [start, end) name something being built."""
    token = _root(parsed, start, end)
    if token is None:
        return False
    parent = parsed.tokens[token.head]
    if token.dep == "pobj" and parent.lemma == "of":
        parent = parsed.tokens[parent.head]
    if parent.lemma in BUILDING_NOUNS and token.dep in ("pobj", "nmod", "poss"):
        return True
    return parent.lemma in BUILDING_VERBS and token.dep in BUILT


def _descriptors(parsed: Parsed, start: int, end: int) -> set[str]:
    """Common nouns that say what a name is: "the state corporation Rosatom", "the Kazakh firm
    Tengri Build", "the Turkish builder Korkmaz Yapı", "Turan Avia Construction, a joint
    venture of …"."""
    inside = set(parsed.tokens_in(start, end))
    out = set()
    for i in inside:
        for c in parsed.children[i]:
            child = parsed.tokens[c]
            if c not in inside and child.pos == "NOUN" and child.dep in ("compound", "appos"):
                out.add(child.lemma)
        token = parsed.tokens[i]
        if token.dep == "appos" and token.head not in inside:
            head = parsed.tokens[token.head]
            if head.pos == "NOUN" and head.i < min(inside):
                out.add(head.lemma)
    # "the state utility Aqsu Water Corporation", ", a joint venture": the parser does not
    # always see the apposition
    before = parsed.token_at(start - 2) if start >= 2 else None
    if before is not None and _right_before_a_name(parsed, parsed.tokens[before], start):
        out.add(parsed.tokens[before].lemma)
    appositive = re.match(r",\s+an?\s+", parsed.text[end : end + 8])
    following = parsed.token_at(end + appositive.end()) if appositive else None
    while following is not None and following < len(parsed.tokens):
        token = parsed.tokens[following]
        if token.pos == "NOUN" and (
            following + 1 == len(parsed.tokens) or parsed.tokens[following + 1].pos != "NOUN"
        ):
            out.add(token.lemma)
            break
        if token.pos not in ("ADJ", "NOUN", "ADV"):
            break
        following += 1
    return out


# --- which referent a description refers to -------------------------------------------------


def _same_head(lemma: str, heads: set[str], russian: bool) -> bool:
    if lemma in heads:
        return True
    return russian and len(lemma) >= 5 and any(h.endswith(lemma) for h in heads)


def _unsure_place(referent: Referent) -> bool:
    """A place the recogniser found, without a country's name, that the database does not
    hold: the draft calls it a city until the article says more ("… the region")."""
    entity = referent.entity
    return entity is not None and not entity.stored and entity.kind == "city"


CLASS_OF = {noun: kind for kind, nouns in CLASS_NOUNS.items() for noun in nouns}


def _class_of(lemma: str) -> str | None:
    return CLASS_OF.get(lemma)


def _compatible(phrase: Phrase, referent: Referent, russian: bool) -> bool:
    if not _same_head(phrase.lemma, referent.heads, russian):
        noun_class = _class_of(phrase.lemma)
        if noun_class is None or phrase.restricted:
            return False
        if not (
            referent.kind in CLASS_KINDS[noun_class]
            or (noun_class in ("city", "region") and _unsure_place(referent))
            or (noun_class == "project" and referent.kind == "facility" and referent.building)
        ):
            return False
    return all(any(same_word(w, r) for r in referent.words) for w in phrase.words)


def _antecedent(phrase: Phrase, fitting: list[Referent], russian: bool) -> Referent | None:
    """Of the referents a description fits, the one it refers to (rules 2 and 3)."""
    if phrase.headline:
        most = max(len(r.mentions) for r in fitting)
        top = [r for r in fitting if len(r.mentions) == most]
        return top[0] if len(top) == 1 else None
    own = [r for r in fitting if _same_head(phrase.lemma, r.heads, russian)]
    if own:
        return max(own, key=lambda r: (len(r.mentions), r.last_before(phrase.start)))
    if any(r.kind in PLACE_KINDS for r in fitting):
        fitting = [r for r in fitting if r.entity is not None and r.entity.stored] or fitting
    return max(fitting, key=lambda r: r.last_before(phrase.start))


# --- the step --------------------------------------------------------------------------------


def add_descriptions(parsed: Parsed, stored: StoredEntities, entities: Entities) -> None:
    """Add to the draft the entities the article names by descriptions, and as mentions every
    description that refers to an entity (see the module's text)."""
    russian = parsed.language == "ru"
    referents = _named_referents(parsed, entities)
    named = [(s, e) for s, e, _ in entities.spans]
    institutions: list[Phrase] = []
    phrases = _phrases(parsed, named)
    heads = {h for r in referents for h in r.heads}  # every referent's head nouns
    for phrase in [p for p in phrases if not p.headline] + [p for p in phrases if p.headline]:
        if _class_of(phrase.lemma) is None and not _same_head(phrase.lemma, heads, russian):
            fitting = []  # no referent has its head noun: no need to look at each
        elif phrase.headline:
            fitting = [r for r in referents if _compatible(phrase, r, russian)]
        elif phrase.definite:
            fitting = [
                r
                for r in referents
                if r.last_before(phrase.start) >= 0 and _compatible(phrase, r, russian)
            ]
        else:
            fitting = []
        if fitting:
            antecedent = _antecedent(phrase, fitting, russian)
            if antecedent is not None:
                _refer(parsed, phrase, antecedent)
            continue
        if phrase.headline:
            continue
        if phrase.definite:
            match = stored.by_head(phrase.lemma, entities.context)
            if match is not None:
                _stored_referent(stored, match, entities, referents).mentions.append(
                    (phrase.start, phrase.end)
                )
                continue
            if phrase.lemma in INSTITUTIONS and not phrase.words:
                institutions.append(phrase)
                continue
        kind = KIND_OF_HEAD.get(phrase.lemma)
        if kind is not None:
            heads.add(phrase.lemma)
            referents.append(
                Referent(
                    kind,
                    {phrase.lemma},
                    set(phrase.words) | {phrase.lemma},
                    [(phrase.start, phrase.end)],
                    first=phrase,
                    building=_building(parsed, phrase.start, phrase.end),
                    described=kind == "organization" and phrase.described,
                )
            )
    _institutions(stored, entities, referents, institutions)
    ids = Ids(stored.keys | {e.id for e in entities.items})
    for referent in referents:
        known = {(s, e) for s, e, _ in entities.spans}
        new = [m for m in referent.mentions if m not in known]
        if not new:
            continue
        if referent.entity is None:
            if referent.first is None or (len(referent.mentions) < 2 and not referent.described):
                continue
            name = _name(parsed, referent.first)
            referent.entity = DraftEntity(ids.new(name), name, referent.kind or "other", False)
            entities.items.append(referent.entity)
        for start, end in new:
            entities.add(start, end, referent.entity)
    _roles(parsed, entities)


def _named_referents(parsed: Parsed, entities: Entities) -> list[Referent]:
    """The draft's entities (but people, whom titles and roles refer to) as referents."""
    by_entity: dict[str, Referent] = {}
    for start, end, entity_id in entities.spans:
        entity = entities.by_id(entity_id)
        if entity.kind == "person":
            continue
        referent = by_entity.get(entity_id)
        if referent is None:
            words = set(normalize(entity.name).split()) - STOPWORDS
            referent = by_entity[entity_id] = Referent(entity.kind, set(), words, entity=entity)
        referent.mentions.append((start, end))
        referent.words |= set(normalize(parsed.text[start:end]).split()) - STOPWORDS
        root = _root(parsed, start, end)
        if root is not None:
            referent.heads.add(root.lemma)
        referent.heads |= _descriptors(parsed, start, end)
        referent.building = referent.building or _building(parsed, start, end)
    return list(by_entity.values())


def _refer(parsed: Parsed, phrase: Phrase, referent: Referent) -> None:
    referent.mentions.append((phrase.start, phrase.end))
    referent.words |= phrase.words
    referent.building = referent.building or _building(parsed, phrase.start, phrase.end)
    place = _class_of(phrase.lemma)
    if place == "region" and _unsure_place(referent) and referent.entity is not None:
        referent.entity.kind = referent.kind = place  # "… the region": a region


def _stored_referent(
    stored: StoredEntities, match: Match, entities: Entities, referents: list[Referent]
) -> Referent:
    entity = next((e for e in entities.items if e.stored and e.id == match.key), None)
    if entity is None:
        entity = DraftEntity(
            match.key, stored.entities[match.key].name, stored.kind(match.key), True
        )
        entity.rule = match.rule
        entities.items.append(entity)
    referent = next((r for r in referents if r.entity is entity), None)
    if referent is None:
        referent = Referent(entity.kind, set(), set(), entity=entity)
        referents.append(referent)
    return referent


def _institutions(
    stored: StoredEntities,
    entities: Entities,
    referents: list[Referent],
    phrases: list[Phrase],
) -> None:
    """ "The government", "parliament": the institution of the country the article names most
    (of the countries the database holds, if it names one)."""
    if not phrases:
        return
    countries = [r for r in referents if r.entity is not None and r.kind == "country"]
    countries = [r for r in countries if r.entity is not None and r.entity.stored] or countries
    top = [r for r in countries if len(r.mentions) == max(len(c.mentions) for c in countries)]
    if len(top) != 1 or top[0].entity is None:
        return
    country = top[0].entity
    for phrase in phrases:
        if re.search(r"[а-яё]", country.name.casefold()):
            country_name = " ".join(russian_genitive(word) for word in country.name.split())
        else:
            country_name = country.name
        name = f"{INSTITUTIONS[phrase.lemma]} {country_name}"
        match = stored.match(name)
        if match is not None:
            referent = _stored_referent(stored, match, entities, referents)
        else:
            referent = next(
                (r for r in referents if r.entity is not None and r.entity.name == name), None
            ) or Referent("government_body", {phrase.lemma}, set())
            if referent.entity is None:
                entity_id = Ids(stored.keys | {e.id for e in entities.items}).new(name)
                referent.entity = DraftEntity(entity_id, name, "government_body", False)
                entities.items.append(referent.entity)
                referents.append(referent)
        referent.mentions.append((phrase.start, phrase.end))


def _name(parsed: Parsed, phrase: Phrase) -> str:
    """A new entity's name: its first description, and a prepositional phrase right after it
    ("New passenger terminal at Shymkent airport")."""
    end = phrase.end
    for c in parsed.children[phrase.head]:
        child = parsed.tokens[c]
        if c > phrase.head and child.dep in ("prep", "nmod") and child.start > end:
            if parsed.text[end : child.start].isspace():
                end = max(end, parsed.tokens[max(_scope(parsed, c))].end)
            break
    name = " ".join(parsed.text[phrase.start : end].split())
    return name[:1].upper() + name[1:]


# --- roles ------------------------------------------------------------------------------------


def _roles(parsed: Parsed, entities: Entities) -> None:
    """ "The head of Rosatom, Alexey Likhachev" … "the president of Rosatom" (rule 6)."""
    organizations: dict[int, str] = {}
    people: dict[int, str] = {}
    for start, end, entity_id in entities.spans:
        kind = entities.by_id(entity_id).kind
        owners = people if kind == "person" else organizations
        if kind == "person" or kind in ORGANIZATION_KINDS:
            for i in parsed.tokens_in(start, end):
                owners[i] = entity_id
    roles: list[tuple[int, int, str, str]] = []  # first and last token, role, organisation
    for t in parsed.tokens:
        if t.lemma not in ROLES or t.pos not in ("NOUN", "PROPN"):
            continue
        for c in parsed.children[t.i]:
            child = parsed.tokens[c]
            if child.dep == "prep" and child.lemma == "of":
                target = next(
                    (j for j in parsed.children[c] if parsed.tokens[j].dep == "pobj"), None
                )
            elif child.dep in POSSESSOR or (
                parsed.language == "ru" and child.dep == "nmod" and not _cased(parsed, child)
            ):
                target = c
            else:
                continue
            # «председатель правления компании «X»», "the head of the board of X"
            for _ in range(3):
                if target is None or target in organizations:
                    break
                named = [j for j in parsed.children[target] if parsed.tokens[j].dep == "appos"]
                target = next((j for j in named if j in organizations), None) or _genitive_of(
                    parsed, target
                )
            if target is None or target not in organizations:
                continue
            organization = organizations[target]
            last = target
            while organizations.get(last + 1) == organization:
                last += 1
            roles.append((min(t.i, target), max(t.i, last), t.lemma, organization))
    holders: dict[str, dict[str, set[str]]] = {}  # organisation -> role -> people
    introductions = set()
    for first, last, role, organization in roles:
        person = _introduced(parsed, first, last, people)
        if person is not None:
            holders.setdefault(organization, {}).setdefault(role, set()).add(person)
            introductions.add((first, last))
    for first, last, role, organization in roles:
        held = holders.get(organization, {})
        if (first, last) in introductions or not held:
            continue
        if role in LEADING:
            leaders = {p for r, ps in held.items() if r in LEADING for p in ps}
            same = {
                p
                for r, ps in held.items()
                if r == role or (r in LEADING and GENERIC_LEADING & {r, role})
                for p in ps
            }
            if len(leaders) != 1 or same != leaders:
                continue
        else:
            same = held.get(role, set())
            if len(same) != 1:
                continue
        start, end = parsed.tokens[first].start, parsed.tokens[last].end
        if parsed.text[start:end].count("«") > parsed.text[start:end].count("»"):
            end += parsed.text[end : end + 1] == "»"  # «главы «Казавтожола»»
        if any(start < e and s < end for s, e, k in entities.spans if k in people.values()):
            continue
        entities.add(start, end, entities.by_id(next(iter(same))))


def _genitive_of(parsed: Parsed, noun: int) -> int | None:
    """What a noun is of: the object of its "of" phrase, or its Russian genitive."""
    for c in parsed.children[noun]:
        child = parsed.tokens[c]
        if child.dep == "prep" and child.lemma == "of":
            return next((j for j in parsed.children[c] if parsed.tokens[j].dep == "pobj"), None)
        if parsed.language == "ru" and child.dep == "nmod" and not _cased(parsed, child):
            return c
    return None


def _introduced(parsed: Parsed, first: int, last: int, people: dict[int, str]) -> str | None:
    """The person a role phrase introduces, by apposition: "the head of Rosatom, Alexey
    Likhachev", "the joint venture's director, Serik Abenov", «директор Росатома Алексей
    Лихачёв»."""
    inside = range(first, last + 1)
    for i in inside:
        for c in parsed.children[i]:
            if c in people and parsed.tokens[c].dep == "appos":
                return people[c]
    for i, person in people.items():
        token = parsed.tokens[i]
        if i > last and token.dep == "appos" and token.head in inside:
            return person
    return None
