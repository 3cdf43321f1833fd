"""Two commits side by side: ``python -m bench.compare --baseline REV`` serves this checkout
and a checkout of ``REV`` from the same database, one after the other on the same pinned
core, and drives each benchmark route at both in turn, so that a change's cost in speed is
measured as a ratio in one run rather than against figures of another day.

Both are served by this virtualenv (the baseline's code first on its path), from copies of
the same SQLite database of the benchmark's corpus (each migrated by its own commit's
`serve`, so commits whose migrations differ compare too), with the same settings. Each
repetition measures every route at both servers (a
warm-up, then the measured run), alternating which goes first. The figures are the medians
over the repetitions of each server's requests per second and CPU time per request, and
their ratios (this checkout ÷ the baseline). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from app.db import alembic_config
from app.ingest.pipeline import run_ingest
from bench import generate
from bench.run import (
    BARE,
    REPO_DIR,
    ROUTES,
    BenchError,
    Config,
    Server,
    Servers,
    build_urls,
    find_tools,
    free_ports,
    machine,
    now,
    say,
    terminate_cleanly,
    validate,
    work_lock,
    write_results_md,
    wrk,
)

Json = dict[str, Any]
COMPARED_ROUTES = tuple(r for r in ROUTES if r != BARE)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description="Serve this checkout and a baseline commit from one database, side by side.",
    )
    parser.add_argument("--baseline", required=True, help="commit (or any git revision)")
    parser.add_argument("--articles", type=int, default=100_000, help="corpus size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work", type=Path, default=REPO_DIR / "bench" / ".work", help="working folder"
    )
    parser.add_argument(
        "--database",
        type=Path,
        help="an SQLite database of the corpus to serve (default: the work folder's, loaded "
        "with this checkout's ingest if it is missing)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--routes", help="a comma-separated subset of the routes")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server workers; with more than one, neither the servers nor wrk are pinned",
    )
    parser.add_argument(
        "--write-results", action="store_true", help="put the table at the end of RESULTS.md"
    )
    return parser.parse_args(argv)


def checkout(work: Path, revision: str) -> tuple[Path, str]:
    """A worktree of ``revision`` in the work folder (made once), and its full commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if commit.returncode != 0:
        raise BenchError(f"{revision!r} is not a commit of this repository")
    sha = commit.stdout.strip()
    path = work / f"baseline-{sha[:12]}"
    if not (path / "app").is_dir():
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(path), sha],
            cwd=REPO_DIR,
            capture_output=True,
            check=True,
        )
    return path, sha


def at_schema_of(code: Path, db: Path) -> None:
    """Take a copy of the database back to the newest migration ``code`` knows, when the
    database (loaded by this checkout) is ahead of it; a commit that is ahead migrates its
    copy itself when it starts."""
    head = ScriptDirectory(str(code / "migrations")).get_current_head()
    if head is None:
        return
    try:
        command.downgrade(alembic_config(f"sqlite:///{db}"), head)
    except CommandError:
        pass  # not behind this checkout's head: the commit's own `serve` migrates it


def database(args: argparse.Namespace) -> tuple[Path, Json]:
    """The database to serve and its corpus's manifest."""
    corpus = args.work / f"{args.articles}-{args.seed}"
    manifest, _ = generate.ensure_corpus(corpus, args.articles, seed=args.seed)
    db: Path = args.database or args.work / "db" / f"{args.articles}-{args.seed}.db"
    if not db.exists():
        say(f"loading {args.articles:,} articles into {db}")
        db.parent.mkdir(parents=True, exist_ok=True)
        run_ingest(f"sqlite:///{db}", [corpus / generate.FACTS_DIR], show_progress=False)
    return db, manifest


def _config(args: argparse.Namespace, routes: list[str]) -> Config:
    return Config(
        sizes=[args.articles],
        seed=args.seed,
        work=args.work,
        smoke=False,
        duration=args.duration,
        warmup=args.warmup,
        repetitions=args.repetitions,
        unloaded_duration=0,
        connections=args.connections,
        extra=0,
        access_log=True,
        routes=routes,
        two_workers=False,
        write_results=args.write_results,
        command="python -m bench.compare",
        validate_all=False,
    )


def measure(args: argparse.Namespace) -> Json:
    routes = args.routes.split(",") if args.routes else list(COMPARED_ROUTES)
    unknown = set(routes) - set(COMPARED_ROUTES)
    if unknown:
        raise BenchError(f"unknown routes: {', '.join(sorted(unknown))}")
    tools = find_tools()
    config = _config(args, routes)
    baseline_dir, baseline_sha = checkout(args.work, args.baseline)
    current_sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=False
    ).stdout.strip()
    db, manifest = database(args)
    results: Json = {
        "command": "python -m bench.compare " + " ".join(sys.argv[1:]),
        "started": now(),
        "machine": machine(tools),
        "baseline": baseline_sha,
        "current": current_sha,
        "articles": args.articles,
        "method": {
            "duration": args.duration,
            "warmup": args.warmup,
            "repetitions": args.repetitions,
            "connections": args.connections,
            "workers": args.workers,
            "server_cpu": tools.server_cpu,
            "client_cpu": tools.client_cpu,
        },
        "routes": {},
    }
    with Servers(tools, config) as servers:
        ports = free_ports(2)
        started: dict[str, Server] = {}
        for (name, code), port in zip(
            (("baseline", baseline_dir), ("current", REPO_DIR)), ports, strict=True
        ):
            # Each commit serves its own copy of the database, which its `serve` migrates to
            # the schema it expects: two commits with different migrations compare too.
            served = db.with_name(f"{db.stem}-{name}.db")
            shutil.copyfile(db, served)
            at_schema_of(code, served)
            server = servers.start(
                f"compare-{name}",
                "app",
                port,
                args.workers,
                pinned=args.workers == 1,
                db=served,
                checkout=code,
            )
            servers.wait_ready(server)
            started[name] = server
        urls_dir = args.work / "urls" / f"compare-{args.articles}"
        urls_dir.mkdir(parents=True, exist_ok=True)
        with httpx.Client(base_url=started["current"].base, timeout=60) as client:
            paths = build_urls(manifest, client)
        files = {}
        for route in routes:
            files[route] = urls_dir / f"{route}.txt"
            files[route].write_text("\n".join(paths[route]) + "\n", "utf-8")
            for name, server in started.items():
                with httpx.Client(base_url=server.base, timeout=60) as client:
                    checked = validate(client, paths[route], everything=False)
                if checked["failures"]:
                    raise BenchError(f"{name} fails on {route}: {checked['failures'][:3]}")
        runs: dict[str, dict[str, list[Json]]] = {
            r: {"baseline": [], "current": []} for r in routes
        }
        for repetition in range(args.repetitions):
            order = ("baseline", "current") if repetition % 2 == 0 else ("current", "baseline")
            for route in routes:
                for name in order:
                    say(f"repetition {repetition + 1}/{args.repetitions}: {route} at {name}")
                    common = {"connections": args.connections, "pinned": args.workers == 1}
                    if args.warmup:
                        wrk(tools, started[name], files[route], duration=args.warmup,
                            measure_cpu=False, **common)  # fmt: skip
                    runs[route][name].append(
                        wrk(
                            tools,
                            started[name],
                            files[route],
                            duration=args.duration,
                            measure_cpu=True,
                            **common,
                        )  # fmt: skip
                    )
    for route, both in runs.items():
        results["routes"][route] = summarise(both)
    results["finished"] = now()
    return results


def _median(runs: list[Json], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarise(both: dict[str, list[Json]]) -> Json:
    out: Json = {"runs": both}
    for name in ("baseline", "current"):
        out[name] = {
            "rps": _median(both[name], "rps"),
            "cpu_us": _median(both[name], "cpu_us_per_request"),
            "p99_ms": _median(both[name], "p99_ms"),
            "errors": sum(sum(r["errors"].values()) for r in both[name]),
        }
    base, cur = out["baseline"], out["current"]
    out["rps_ratio"] = cur["rps"] / base["rps"] if base["rps"] and cur["rps"] else None
    out["cpu_ratio"] = cur["cpu_us"] / base["cpu_us"] if base["cpu_us"] and cur["cpu_us"] else None
    # Each repetition's own ratio (the two runs were measured next to each other).
    pairs = zip(both["current"], both["baseline"], strict=True)
    out["rps_ratios"] = [round(c["rps"] / b["rps"], 3) for c, b in pairs if b["rps"]]
    return out


def render(results: Json) -> str:
    method = results["method"]
    lines = [
        f"## Side by side: `{results['current'][:12]}` against `{results['baseline'][:12]}`",
        "",
        f"- **Command:** `{results['command']}`",
        f"- **When:** {results['started']} – {results['finished']} (UTC)",
        f"- **Machine:** {results['machine']['cpu_model']}, {results['machine']['cores']} cores; "
        "load average at start "
        + ", ".join(f"{x:.2f}" for x in results["machine"]["load_average_at_start"]),
        f"- **Method:** both commits served by `article-facts serve` ({_placement(method)}), "
        f"from one SQLite database of {results['articles']:,} articles; "
        f"`wrk -t1 -c{method['connections']}`; per route "
        f"and commit {method['warmup']} s warm-up then {method['duration']} s measured; "
        f"{method['repetitions']} repetitions, the commits' order alternating; medians shown.",
        "",
        "| route | baseline rps | this rps | rps ratio | each repetition | baseline CPU µs/req "
        "| this CPU µs/req | CPU ratio |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for route, data in results["routes"].items():
        base, cur = data["baseline"], data["current"]
        ratios = ", ".join(f"{r:.2f}" for r in data["rps_ratios"])
        lines.append(
            f"| {route} | {base['rps']:,.0f} | {cur['rps']:,.0f} | **{data['rps_ratio']:.2f}** "
            f"| {ratios} | {base['cpu_us']:,.0f} | {cur['cpu_us']:,.0f} | {data['cpu_ratio']:.2f} |"
        )
    errors = sum(
        d[n]["errors"] for d in results["routes"].values() for n in ("baseline", "current")
    )
    lines += ["", f"Failed requests: {errors}.", ""]
    return "\n".join(lines)


def _placement(method: Json) -> str:
    workers = method.get("workers", 1)
    if workers == 1:
        return f"1 worker pinned to CPU {method['server_cpu']}, wrk to CPU {method['client_cpu']}"
    return f"{workers} workers; neither they nor wrk pinned"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.work.mkdir(parents=True, exist_ok=True)
    try:
        with work_lock(args.work), terminate_cleanly():
            results = measure(args)
    except BenchError as exc:
        say(f"error: {exc}")
        return 2
    stamp = results["started"].replace(":", "").replace("-", "")
    out = args.work / f"compare-{stamp}.json"
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    text = render(results)
    if args.write_results:
        write_results_md(section="comparison", body=text)
    sys.stdout.write(text)
    say(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
