"""``python -m bench.extraction``: how good and how fast ``article-facts draft`` is.

Each article is drafted with the real command code against a fresh SQLite database that holds
the *other* hand-written articles (loaded with the real ingest), so known entities can only be
recognised by their stored names and aliases, never by this article's own annotations. The
draft is judged against the article's hand-written fact file:

- **mentions**: each draft mention is paired with at most one gold mention it overlaps;
  precision = paired / draft mentions, recall = paired / gold mentions;
- **known entities**: of the gold entities that are stored in the database and named in the
  text, the share the draft refers to by their stored id; **wrong ids**: draft references to a
  stored id on words the gold gives to another entity;
- **times**: of the gold events whose time has an anchor, the share whose anchor a draft time
  overlaps with the same first day, last day and precision;
- **claims**: recall = gold claims with an anchor that some draft claim's anchor overlaps;
  right claimant = of those, the share where an overlapping draft claim names the gold
  claimant (a new entity of the draft counts as the gold entity whose mentions it shares most).

Speed runs the command's code over N copies of each text, in a child process pinned to one
core with ``taskset -c 0``, models loaded before the clock starts; peak memory is that
process's peak resident set size (VmHWM). See bench/README.md.
"""

import argparse
import calendar
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.extract.parse import Language
from bench.run import write_results_md

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GOLD = BENCH / "gold"
SEED = ROOT / "data" / "kursiv-2024-10-17-rosatom-meeting.json"
RUSSIAN = GOLD / "kursiv-2025-06-16-rosatom-consortium.json"
ENGLISH = GOLD / "steppe-herald-2025-05-22-shymkent-airport-audit.json"
PAGE = GOLD / "steppe-herald-2025-03-04-almaty-metro.html"
PAGE_TEXT = GOLD / "steppe-herald-2025-03-04-almaty-metro.txt"
RESULTS_MD = BENCH / "RESULTS.md"

TARGETS = {
    "mention_recall": 0.85,
    "mention_precision": 0.80,
    "times_right": 0.90,
    "claims_recall": 0.70,
    "claimant_right": 0.60,
}
SPEED_TARGET = 20.0  # articles of 2 KB per second, one core
MEMORY_TARGET = 600.0  # MB


# --- anchors -------------------------------------------------------------------------------


def locate(text: str, anchor: Any) -> tuple[int, int]:
    """Where a quote stands: a string, or {quote, occurrence} or {quote, prefix, suffix}."""
    if isinstance(anchor, str):
        anchor = {"quote": anchor}
    quote = anchor["quote"]
    starts = [m.start() for m in re.finditer(re.escape(quote), text)]
    if "occurrence" in anchor:
        start = starts[anchor["occurrence"] - 1]
    else:
        prefix, suffix = anchor.get("prefix", ""), anchor.get("suffix", "")
        fits = [
            s
            for s in starts
            if text[:s].endswith(prefix) and text.startswith(suffix, s + len(quote))
        ]
        if len(fits) != 1:
            raise ValueError(f"anchor {anchor!r} matches {len(fits)} places")
        start = fits[0]
    return start, start + len(quote)


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def bounds(time: dict[str, Any]) -> tuple[dt.date | None, dt.date | None, str]:
    """First day, last day and precision of a fact file's time, as ingest reads it."""

    def first(v: str) -> dt.date:
        p = [int(x) for x in v.split("-")]
        return dt.date(p[0], p[1] if len(p) > 1 else 1, p[2] if len(p) > 2 else 1)

    def last(v: str) -> dt.date:
        p = [int(x) for x in v.split("-")]
        if len(p) == 3:
            return dt.date(*p)
        month = p[1] if len(p) > 1 else 12
        return dt.date(p[0], month, calendar.monthrange(p[0], month)[1])

    def precision(v: str) -> str:
        return {1: "year", 2: "month", 3: "day"}[len(v.split("-"))]

    if "date" in time:
        return first(time["date"]), last(time["date"]), precision(time["date"])
    order = ["day", "month", "year"]
    given = [time[k] for k in ("start", "end") if k in time]
    worst = max((precision(v) for v in given), key=order.index, default="day")
    return (
        first(time["start"]) if "start" in time else None,
        last(time["end"]) if "end" in time else None,
        worst,
    )


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    mentions_draft: int = 0
    mentions_gold: int = 0
    mentions_paired: int = 0
    known: int = 0
    known_found: int = 0
    wrong_ids: int = 0
    times: int = 0
    times_right: int = 0
    claims_gold: int = 0
    claims_found: int = 0
    claimant_right: int = 0
    claims_draft: int = 0
    seconds: float = 0.0

    def ratio(self, a: int, b: int) -> float:
        return a / b if b else 0.0

    @property
    def figures(self) -> dict[str, float]:
        return {
            "mention_precision": self.ratio(self.mentions_paired, self.mentions_draft),
            "mention_recall": self.ratio(self.mentions_paired, self.mentions_gold),
            "known_with_id": self.ratio(self.known_found, self.known),
            "times_right": self.ratio(self.times_right, self.times),
            "claims_recall": self.ratio(self.claims_found, self.claims_gold),
            "claimant_right": self.ratio(self.claimant_right, self.claims_found),
        }


def score(
    name: str, text: str, gold: dict[str, Any], draft: dict[str, Any], stored: set[str]
) -> Score:
    s = Score(name)
    gold_mentions = [
        (locate(text, m), e["id"]) for e in gold["entities"] for m in e.get("mentions", [])
    ]
    draft_mentions = [
        (locate(text, m), e["id"]) for e in draft["entities"] for m in e.get("mentions", [])
    ]
    s.mentions_gold, s.mentions_draft = len(gold_mentions), len(draft_mentions)
    free = list(range(len(gold_mentions)))
    for span, _ in sorted(draft_mentions):
        hit = next((i for i in free if overlaps(span, gold_mentions[i][0])), None)
        if hit is not None:
            free.remove(hit)
            s.mentions_paired += 1
    # known entities: stored, and named in this text by the gold file
    draft_ids = {e["id"] for e in draft["entities"] if "name" not in e}
    known = {e["id"] for e in gold["entities"] if e["id"] in stored and e.get("mentions")}
    s.known, s.known_found = len(known), len(known & draft_ids)
    for span, entity in draft_mentions:
        if entity in stored:
            gold_here = {g for g_span, g in gold_mentions if overlaps(span, g_span)}
            if gold_here and entity not in gold_here:
                s.wrong_ids += 1
    # a new draft entity stands for the gold entity whose mentions it overlaps most
    same: dict[str, str] = {}
    for e in draft["entities"]:
        if "name" not in e:
            same[e["id"]] = e["id"]
            continue
        votes: dict[str, int] = {}
        for m in e["mentions"]:
            span = locate(text, m)
            for g_span, g in gold_mentions:
                if overlaps(span, g_span):
                    votes[g] = votes.get(g, 0) + 1
        if votes:
            same[e["id"]] = max(votes, key=lambda k: votes[k])
    # times
    draft_times = [
        (locate(text, ev["time"]["anchor"]), bounds(ev["time"]))
        for ev in draft["events"]
        if "time" in ev and "anchor" in ev["time"]
    ]
    for ev in gold["events"]:
        time = ev.get("time")
        if not time or "anchor" not in time:
            continue
        s.times += 1
        span = locate(text, time["anchor"])
        if any(overlaps(span, d_span) and b == bounds(time) for d_span, b in draft_times):
            s.times_right += 1
    # claims
    draft_claims = [
        ([locate(text, a) for a in c["anchors"]], c["claimant"]) for c in draft["claims"]
    ]
    s.claims_draft = len(draft_claims)
    for c in gold["claims"]:
        spans = [locate(text, a) for a in c["anchors"]]
        hits = [
            claimant
            for d_spans, claimant in draft_claims
            if any(overlaps(a, b) for a in spans for b in d_spans)
        ]
        s.claims_gold += 1
        if hits:
            s.claims_found += 1
            if any(isinstance(h, str) and same.get(h) == c["claimant"] for h in hits):
                s.claimant_right += 1
    return s


# --- running the drafts --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    source: Path  # the article as the command reads it
    gold: Path | None
    stored: tuple[Path, ...]  # fact files the database holds
    language: str
    published: dt.date
    publisher: str


CASES = (
    Case(
        "seed (English)",
        ROOT / "data" / "000_b1f888410de66621.txt",
        SEED,
        (RUSSIAN, ENGLISH),
        "en",
        dt.date(2024, 10, 17),
        "Kursiv.media",
    ),
    Case(
        "Russian article",
        GOLD / "kursiv-2025-06-16-rosatom-consortium.txt",
        RUSSIAN,
        (SEED, ENGLISH),
        "ru",
        dt.date(2025, 6, 16),
        "Курсив",
    ),
    Case(
        "English article",
        ENGLISH.with_suffix(".txt"),
        ENGLISH,
        (SEED, RUSSIAN),
        "en",
        dt.date(2025, 5, 22),
        "Steppe Herald",
    ),
    Case(
        "HTML page (English)",
        PAGE,
        None,
        (SEED, RUSSIAN, ENGLISH),
        "en",
        dt.date(2025, 3, 4),
        "Steppe Herald",
    ),
)


def _database(work: Path, files: Sequence[Path]) -> str:
    from app.ingest.pipeline import run_ingest

    work.mkdir(parents=True, exist_ok=True)
    path = work / "stored.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    run_ingest(url, list(files), show_progress=False)
    return url


def draft_case(case: Case, work: Path) -> tuple[dict[str, Any], str, set[str], float]:
    """The draft of one case, its text, the stored ids, and the seconds the draft took."""
    from app.extract.command import DraftOptions, prepare, run_draft
    from app.extract.match import load_stored

    url = _database(work, case.stored)
    stored = load_stored(url).keys
    prepare("en" if case.language == "en" else "ru")
    folder = work / case.source.stem
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / case.source.name
    shutil.copyfile(case.source, source)
    options = DraftOptions(
        published=case.published,
        language="en" if case.language == "en" else "ru",
        publisher=case.publisher,
        database_url=url,
        output=folder / "draft.facts.json",
        overwrite=True,
    )
    started = time.perf_counter()
    (written,) = run_draft([source], options)
    seconds = time.perf_counter() - started
    draft = json.loads(written.read_text("utf-8"))
    text = (written.parent / draft["article"]["text_file"]).read_text("utf-8")
    return draft, text, stored, seconds


# --- speed (in a pinned child process) -----------------------------------------------------


def speed_child(language: str, count: int, source: Path, work: Path) -> dict[str, float]:
    """Draft ``count`` copies of one text; runs in the child process."""
    from app.extract.command import BATCH, DraftOptions, prepare, run_draft
    from app.extract.parse import parse_many

    lang: Language = "en" if language == "en" else "ru"
    loading = time.perf_counter()
    prepare(lang)
    load_seconds = time.perf_counter() - loading
    folder = work / f"speed-{language}"
    folder.mkdir(parents=True, exist_ok=True)
    text = source.read_bytes()
    for i in range(count):
        (folder / f"article-{i:04d}.txt").write_bytes(text)
    options = DraftOptions(
        published=dt.date(2024, 10, 17),
        language=lang,
        publisher="Kursiv.media",
        output=work / f"speed-{language}-out",
        overwrite=True,
    )
    # a run's one-time costs (the first parse, the date parser's language data), counted
    # apart: a run of a few articles would otherwise judge them rather than the drafting
    first = work / f"speed-{language}-first"
    first.mkdir(exist_ok=True)
    (first / "article.txt").write_bytes(text)
    warming = time.process_time()
    run_draft([first], dataclasses.replace(options, output=first / "draft.json"))
    first_seconds = time.process_time() - warming
    started, cpu_started = time.perf_counter(), time.process_time()
    written = run_draft([folder], options)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    assert len(written) == count
    # the models alone, on the same texts, in the same batches
    texts = [text.decode("utf-8")] * count
    model_started = time.process_time()
    for i in range(0, count, BATCH):
        parse_many(texts[i : i + BATCH], lang)
    model_ms = (time.process_time() - model_started) / count * 1000
    peak_mb = peak_rss_mb()
    return {
        "load_seconds": load_seconds,
        "first_seconds": first_seconds,
        "model_cpu_ms": model_ms,
        "articles": count,
        "bytes": len(text),
        "seconds": seconds,
        "per_second": count / seconds,
        "cpu_seconds": cpu_seconds,
        "per_cpu_second": count / cpu_seconds,
        "peak_mb": peak_mb,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size: VmHWM, which starts again at exec (getrusage's
    maxrss keeps the parent's peak across fork and exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def measure_speed(language: str, count: int, source: Path, work: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.extraction", "--speed-child", language, str(count),
               str(source), str(work)]  # fmt: skip
    pinned = shutil.which("taskset") is not None and 0 in os.sched_getaffinity(0)
    if pinned:
        command = ["taskset", "-c", "0", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"speed run failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["pinned"] = pinned
    return result


# --- report --------------------------------------------------------------------------------


def _verdict(key: str, value: float) -> str:
    target = TARGETS.get(key)
    if target is None:
        return ""
    return "pass" if value >= target else "FAIL"


def render(
    scores: list[Score], page: dict[str, Any], speed: list[dict[str, Any]], command: str
) -> str:
    from importlib.metadata import version

    lines = [
        "## Extraction: `article-facts draft`",
        "",
        f"- **Command:** `{command}`",
        f"- **When:** {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
        f"- **Machine:** {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        f"- **Software:** spaCy {version('spacy')} with en_core_web_sm 3.8.0, natasha "
        f"{version('natasha')}, dateparser {version('dateparser')}, trafilatura "
        f"{version('trafilatura')}, rapidfuzz {version('rapidfuzz')}, Babel {version('babel')}; "
        f"NumPy {version('numpy')} with {_blas_name()}",
        "- **Method:** each article drafted against a database holding only the other "
        "hand-written articles; judged against its own hand-written fact file "
        "(see bench/README.md).",
        "",
        "| article | mention precision | mention recall | known entities with their id "
        "| time expressions right | claims recall | right claimant |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        f = s.figures
        lines.append(
            f"| {s.name} | {f['mention_precision']:.2f} ({s.mentions_paired}/{s.mentions_draft}) "
            f"| {f['mention_recall']:.2f} ({s.mentions_paired}/{s.mentions_gold}) "
            f"| {f['known_with_id']:.2f} ({s.known_found}/{s.known}; {s.wrong_ids} wrong) "
            f"| {f['times_right']:.0%} ({s.times_right}/{s.times}) "
            f"| {f['claims_recall']:.2f} ({s.claims_found}/{s.claims_gold}) "
            f"| {f['claimant_right']:.0%} ({s.claimant_right}/{s.claims_found}) |"
        )
    seed = scores[0].figures
    lines += [
        "",
        "Targets on the seed: "
        + ", ".join(
            f"{key.replace('_', ' ')} ≥ {TARGETS[key]:g}: {_verdict(key, seed[key])}"
            for key in TARGETS
        )
        + ".",
        "",
        f"HTML intake ({PAGE.name}): the text taken from the page "
        f"{'is identical to' if page['identical'] else 'DIFFERS from'} the article's own text "
        f"({page['chars']:,} characters); words of the navigation, footer and related links "
        f"in it: {page['chrome_words']}. Its draft: {page['entities']} entities, "
        f"{page['events']} events, {page['claims']} claims.",
        "",
        "| speed | articles | bytes each | wall s | articles/s | CPU s | articles per CPU s "
        "| peak memory MB | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in speed:
        fast = "pass" if r["per_cpu_second"] >= SPEED_TARGET else "FAIL"
        small = "pass" if r["peak_mb"] <= MEMORY_TARGET else "FAIL"
        lines.append(
            f"| {r['language']}{' (one core)' if r['pinned'] else ' (not pinned)'} "
            f"| {r['articles']} | {r['bytes']:,} | {r['seconds']:.2f} | {r['per_second']:.1f} "
            f"| {r['cpu_seconds']:.2f} | {r['per_cpu_second']:.1f} "
            f"| {r['peak_mb']:.0f} | ≥ {SPEED_TARGET:g} per CPU s: {fast}; "
            f"≤ {MEMORY_TARGET:g} MB: {small} |"
        )
    lines += [
        "",
        "Of that CPU time, the models alone (parsing the same texts again, in the same batches) "
        "take "
        + ", ".join(
            f"{r['model_cpu_ms']:.1f} ms per article in {r['language']}"
            f" (of {1000 / r['per_cpu_second']:.1f} ms)"
            for r in speed
        )
        + "; loading the models before the first article takes "
        + ", ".join(f"{r['load_seconds']:.1f} s ({r['language']})" for r in speed)
        + ", and drafting that first article (not counted above) "
        + ", ".join(f"{r['first_seconds'] * 1000:.0f} ms ({r['language']})" for r in speed)
        + ".",
    ]
    load = os.getloadavg()
    lines += [
        "",
        f"Load average at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on "
        f"{os.cpu_count()} cores. Articles per CPU second (the process's own CPU time, on its "
        "one core) is the figure judged: other work on the machine lengthens the wall time "
        "far more than the CPU time, but not nothing (the caches are shared), so compare runs "
        "made side by side.",
    ]
    return "\n".join(lines) + "\n"


def _blas_name() -> str:
    """The BLAS NumPy's matrix products go to (the English models' through thinc)."""
    import numpy  # noqa: F401 - loads the BLAS it brings
    from threadpoolctl import threadpool_info

    found = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not found:  # pragma: no cover - NumPy always brings one
        return "no BLAS found"
    info = found[0]
    return f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')} kernels)"


CHROME_WORDS = ("Subscribe", "Advertisement", "Related stories", "newsletter", "Privacy", "©")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="articles per speed run")
    parser.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--speed-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed_child:
        language, count, source, work = args.speed_child
        result: dict[str, Any] = dict(speed_child(language, int(count), Path(source), Path(work)))
        result["language"] = "English" if language == "en" else "Russian"
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    command = "python -m bench.extraction" + (f" --count {args.count}" if args.count != 200 else "")
    scores: list[Score] = []
    with tempfile.TemporaryDirectory(prefix="extraction-") as tmp:
        work = Path(tmp)
        page: dict[str, Any] = {}
        for case in CASES:
            draft, text, stored, seconds = draft_case(case, work / case.source.stem)
            if case.gold is None:
                expected = PAGE_TEXT.read_text("utf-8")
                page = {
                    "identical": text == expected,
                    "chars": len(text),
                    "chrome_words": sum(text.count(w) for w in CHROME_WORDS),
                    "entities": len(draft["entities"]),
                    "events": len(draft["events"]),
                    "claims": len(draft["claims"]),
                }
                continue
            gold = json.loads(case.gold.read_text("utf-8"))
            s = score(case.name, text, gold, draft, stored)
            s.seconds = seconds
            scores.append(s)
        speed = [
            measure_speed("en", args.count, CASES[0].source, work),
            measure_speed("ru", args.count, CASES[1].source, work),
        ]
    text = render(scores, page, speed, command)
    sys.stdout.write(text)
    if args.write_results:
        write_results_md(section="extraction", body=text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
