"""Ingest speed side by side: this checkout against another one, on the same corpus.

``python -m bench.ingest --baseline DIR`` generates (or reuses) a seeded corpus, then, for
each repetition and in turn for each checkout, loads it with ``article-facts ingest`` into
a fresh SQLite database and loads an extra batch into the full one, timing each process
from start to exit. ``DIR`` is a checkout of another commit (``git worktree add`` or ``git
archive | tar -x``); both run in this virtualenv, the baseline with ``DIR`` first on the
import path. Medians and the ratio of each phase are printed as a Markdown table.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import generate

HERE = Path(__file__).resolve().parent.parent


def _ingest(checkout: Path, facts: Path, db: Path) -> float:
    """Seconds one ``article-facts ingest`` of ``facts`` into ``db`` takes, as a process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env["PYTHONPATH"] = str(checkout)
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    args = ["ingest", str(facts), "--database-url", f"sqlite:///{db}", "--no-progress"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *args], env=env, cwd=checkout, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ingest with {checkout} failed:\n{done.stderr[-2000:]}")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout to compare with")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--extra", type=int, default=200, help="articles loaded into the full db")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=HERE / "bench" / ".work")
    args = parser.parse_args(argv)
    corpus = args.work / f"{args.articles}-{args.seed}"
    extra = args.work / f"{args.articles}-{args.seed}-extra{args.extra}"
    generate.ensure_corpus(corpus, args.articles, seed=args.seed)
    universe = generate.entity_count_for(args.articles)  # the extra batch names the same ones
    generate.ensure_corpus(
        extra, args.extra, seed=args.seed, offset=args.articles, entities=universe
    )
    checkouts = {"baseline": args.baseline.resolve(), "this": HERE}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repetitions):
            for name, checkout in checkouts.items():
                db = Path(tmp) / f"{name}.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                full = _ingest(checkout, corpus / generate.FACTS_DIR, db)
                more = _ingest(checkout, extra / generate.FACTS_DIR, db)
                times.setdefault((name, "fresh"), []).append(full)
                times.setdefault((name, "into full"), []).append(more)
    lines = [
        f"{args.articles:,} articles, then {args.extra:,} more; median of "
        f"{args.repetitions}, interleaved",
        "",
        "| phase | baseline s | this s | this ÷ baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for phase in ("fresh", "into full"):
        base = statistics.median(times[("baseline", phase)])
        this = statistics.median(times[("this", phase)])
        lines.append(f"| {phase} | {base:.2f} | {this:.2f} | {this / base:.2f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
