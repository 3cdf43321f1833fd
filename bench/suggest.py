"""Entity lookup speed: ``suggest_entities`` on a loaded database, as a person types.

``python -m bench.suggest --database-url sqlite:///…`` takes names and aliases of stored
entities, and for each the prefixes a person types one letter at a time (1 to 8
characters, in every script the names use), then times each lookup in process, on one
connection, over several rounds. It prints the median, 99th percentile and maximum in
milliseconds, per prefix length and overall: the time the query layer takes, without HTTP.
"""

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence

from sqlalchemy import select

from app.db import create_db_engine
from app.models import alias_t, entity_t
from app.queries import suggest_entities


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--names", type=int, default=200, help="names and aliases typed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    engine = create_db_engine(args.database_url)
    by_length: dict[int, list[float]] = {}
    with engine.connect() as conn:
        names = list(conn.execute(select(entity_t.c.name)).scalars())
        aliases = list(
            conn.execute(select(alias_t.c.name).distinct().limit(10 * args.names)).scalars()
        )
        typed = rng.sample(names, min(len(names), args.names // 2))
        typed += rng.sample(aliases, min(len(aliases), args.names - len(typed)))
        prefixes = [(n, name[:n]) for name in typed for n in range(1, 9) if len(name) >= n]
        entities = conn.execute(select(entity_t.c.id)).all()
        conn.rollback()
        for _ in range(args.rounds):
            rng.shuffle(prefixes)
            for n, prefix in prefixes:
                started = time.perf_counter()
                suggest_entities(conn, q=prefix, limit=10)
                by_length.setdefault(n, []).append((time.perf_counter() - started) * 1000)
                conn.rollback()
    engine.dispose()
    every = [t for times in by_length.values() for t in times]
    lines = [
        f"{len(entities):,} entities, {len(typed)} names and aliases typed, {len(every):,} lookups",
        "",
        "| prefix length | lookups | p50 ms | p99 ms | max ms |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, times in sorted(by_length.items()):
        lines.append(
            f"| {n} | {len(times):,} | {statistics.median(times):.3f} | "
            f"{_percentile(times, 0.99):.3f} | {max(times):.3f} |"
        )
    lines.append(
        f"| all | {len(every):,} | {statistics.median(every):.3f} | "
        f"{_percentile(every, 0.99):.3f} | {max(every):.3f} |"
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
