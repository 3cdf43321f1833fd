"""Descriptions and the names around them, with the real models: what an article names with
common nouns ("the letter", "the project", "the government"), roles, repeated names, places."""

from typing import Any

import pytest

from app.extract import missing_modules

pytestmark = pytest.mark.skipif(
    bool(missing_modules()), reason="needs the extract extra: pip install -e '.[dev,extract]'"
)

UTILITY = (
    "Water utility signs pipeline deal\n"
    "The chief executive of Aqsu Water Corporation, Marat Ospanov, signed an agreement with a "
    "Chinese lender on Tuesday. The state utility Aqsu Water Corporation will use the loan to "
    "build a pipeline from the river to Taraz.\n"
    "The agreement runs for ten years, the head of Aqsu Water Corporation told reporters. The "
    "document was not published, and the utility gave no figures.\n"
    "The old pipeline will be closed when the new one opens. A report by the audit office found "
    "that it had lost a third of its water; the utility disputed the report.\n"
    "A consortium of Korean engineering firms will build the project. The company named as its "
    "leader did not comment.\n"
)


def _entities(text: str, language: str = "en", stored: Any = None) -> dict[str, Any]:
    """The draft's entities by name (stored ones by id): kind and mentions' words."""
    from app.extract.descriptions import add_descriptions
    from app.extract.entities import find_entities
    from app.extract.match import StoredEntities
    from app.extract.parse import parse

    parsed = parse(text, "en" if language == "en" else "ru")
    known = stored if stored is not None else StoredEntities([])
    entities = find_entities(parsed, known)
    add_descriptions(parsed, known, entities)
    return {
        (e.id if e.stored else e.name): (e.kind, [text[a:b] for a, b in e.mentions])
        for e in entities.items
    }


def test_descriptions_referred_to_again_become_entities_with_every_mention() -> None:
    found = _entities(UTILITY)
    # "the document" is the document mentioned last; "the agreement" has the same head noun
    assert found["Agreement with a Chinese lender"] == (
        "document",
        ["agreement", "agreement", "document"],
    )
    assert found["Report by the audit office"] == ("document", ["report", "report"])
    # a pipeline being built is the project; "the old pipeline" is another one, mentioned once
    assert found["Pipeline from the river"] == ("facility", ["pipeline", "project"])
    assert not any("old" in name.lower() for name in found)
    # a body described by what it is, mentioned once; "the company named as its leader" is
    # another body (a clause says which), not the consortium
    assert found["Consortium of Korean engineering firms"] == (
        "organization",
        ["consortium of Korean engineering firms"],
    )
    # a name's own description: "the state utility Aqsu Water Corporation" … "the utility"
    kind, mentions = found["Aqsu Water Corporation"]
    assert mentions == ["Aqsu Water Corporation"] * 3 + ["utility", "utility"]
    # a lender mentioned once, a loan that is no entity: nothing
    assert not {"Lender", "Loan", "Chinese lender"} & set(found)


def test_a_role_names_the_person_it_introduced() -> None:
    found = _entities(UTILITY)
    # "the chief executive of X, Marat Ospanov" … "the head of X"
    assert found["Marat Ospanov"] == ("person", ["Marat Ospanov", "head of Aqsu Water Corporation"])
    two = (
        "Bank results\n"
        "The chairman of Steppe Bank, Arman Ali, and the chief executive of Steppe Bank, Dana "
        "Bek, met investors. The head of Steppe Bank said profits rose.\n"
    )
    people = {name: m for name, (kind, m) in _entities(two).items() if kind == "person"}
    assert people == {"Arman Ali": ["Arman Ali"], "Dana Bek": ["Dana Bek"]}  # two leaders


def test_indefinite_descriptions_never_refer_back() -> None:
    text = (
        "Ports\n"
        "Aktau Port signed a contract on Monday. A contract for a second berth was signed on "
        "Friday, and the contract was published.\n"
    )
    found = _entities(text)
    contracts = {name: m for name, (kind, m) in found.items() if kind == "document"}
    # the first contract, mentioned once, is alone; the second one is referred to again
    assert contracts == {"Contract for a second berth": ["contract", "contract"]}


def test_institutions_are_the_named_countrys_or_the_stored_ones() -> None:
    from app.extract.match import StoredEntities, StoredEntity

    text = (
        "Ministers approve budget\n"
        "Kazakhstan’s finance minister presented the budget to parliament on Monday. The "
        "government expects growth of 5% next year, and the cabinet will meet again in May.\n"
        "Critics in Astana said the budget relied on oil prices. The country exports most of its "
        "oil through Russia.\n"
    )
    found = _entities(text)
    assert found["Parliament of Kazakhstan"] == ("government_body", ["parliament"])
    assert found["Government of Kazakhstan"] == ("government_body", ["government"])
    assert found["Cabinet of Kazakhstan"] == ("government_body", ["cabinet"])
    # CLDR's country names tell the country from the city; "the country" is the country
    assert found["Kazakhstan"] == ("country", ["Kazakhstan", "country"])
    assert found["Astana"] == ("city", ["Astana"])
    stored = StoredEntities(
        [
            StoredEntity("kz", "Kazakhstan", "country", ()),
            StoredEntity("kz-gov", "Government of Kazakhstan", "government_body", ()),
            StoredEntity("uz-gov", "Government of Uzbekistan", "government_body", ()),
        ]
    )
    found = _entities(text, stored=stored)
    assert found["kz-gov"] == ("government_body", ["government"])
    # no country named: no institution
    alone = "Budget\nThe government expects growth, and parliament will vote on it.\n"
    assert not any(kind == "government_body" for kind, _ in _entities(alone).values())


def test_repeated_names_and_facilities_named_after_a_place() -> None:
    text = (
        "Atyrau airport expands\n"
        "The new runway at Atyrau airport was built by Nomad Engineering. The airport will close "
        "for a week in May, the company said.\n"
    )
    found = _entities(text)
    # "Atyrau airport" is one name, a facility's; "the airport" refers to it
    assert found["Atyrau airport"] == ("facility", ["Atyrau airport", "Atyrau airport", "airport"])
    assert found["Nomad Engineering"] == ("organization", ["Nomad Engineering", "company"])
    # a name the recogniser found once names its entity wherever it is written the same way
    russian = (
        "Китай построит вторую АЭС в Казахстане\n"
        "Корпорация CNNC построит вторую АЭС в Казахстане, сообщило агентство. Строительство АЭС "
        "начнется в 2027 году.\n"
    )
    assert _entities(russian, "ru")["АЭС"] == ("facility", ["АЭС"] * 3)


def test_russian_descriptions_roles_and_institutions() -> None:
    text = (
        "Консорциум построит мост через Иртыш\n"
        "Министерство транспорта Казахстана в пятницу подписало контракт с международным "
        "консорциумом на строительство моста в Павлодаре. Председатель правления компании "
        "«Казавтожол» Ерлан Сеитов сообщил, что проект обойдется в 90 млрд тенге.\n"
        "По словам главы «Казавтожола», мост откроют в 2027 году. Контракт предусматривает "
        "штрафы за задержку. Правительство выделит средства из бюджета.\n"
    )
    found = _entities(text, "ru")
    assert found["Контракт"] == ("document", ["контракт", "Контракт"])
    assert found["Международным консорциумом"] == ("organization", ["международным консорциумом"])
    # the bridge being built is the project
    assert found["Моста"] == ("facility", ["моста", "проект", "мост"])
    assert found["Ерлан Сеитов"] == ("person", ["Ерлан Сеитов", "главы «Казавтожола»"])
    # «Правительство» of the country named, in the genitive
    assert found["Правительство Казахстана"] == ("government_body", ["Правительство"])


def test_a_stored_entity_is_found_by_the_head_noun_of_a_description() -> None:
    from app.extract.match import Match, StoredEntities, StoredEntity

    stored = StoredEntities(
        [
            StoredEntity("kz-gov", "Government of Kazakhstan", "government_body", ()),
            StoredEntity("ru-gov", "Government of Russia", "government_body", ()),
            StoredEntity("letter", "Embassy letter on the plant", "document", ()),
        ]
    )
    assert stored.by_head("government", frozenset({"kazakhstan"})) == Match("kz-gov", "description")
    assert stored.by_head("government", frozenset({"kazakhstan", "russia"})) is None  # two fit
    assert stored.by_head("government", frozenset()) is None  # nothing says whose
    assert stored.by_head("letter", frozenset({"embassy", "plant"})) == Match(
        "letter", "description"
    )
    assert stored.by_head("ministry", frozenset({"kazakhstan"})) is None


def test_a_source_in_a_named_body_stays_unnamed() -> None:
    from tests.test_extract import _draft

    text = (
        "Kazakhstan plans new tax\n"
        "According to a source in the government, Kazakhstan will raise the tax on Monday.\n"
    )
    doc, _ = _draft(text)
    claim = next(c for c in doc["claims"] if c["text"].startswith("Kazakhstan will"))
    assert claim["claimant"] == {
        "unnamed": "source in the government",
        "anchor": "a source in the government",
    }
    government = next(e for e in doc["entities"] if e.get("name") == "Government of Kazakhstan")
    assert government["mentions"] == ["government"]
