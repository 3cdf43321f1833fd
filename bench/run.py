"""The benchmark runner: ``python -m bench`` reproduces every figure in ``bench/RESULTS.md``.

For each corpus size it generates the corpus (cached in ``bench/.work/<N>-<seed>/``),
loads it into a fresh SQLite database through the real ``article-facts ingest``, measures
an extra batch loaded into a copy of the full database, then serves the database with
``article-facts serve`` pinned to one core and drives each route with ``wrk`` pinned to
another, interleaving routes and repetitions, next to a bare ASGI app served the same way.
See ``bench/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import functools
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import types
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from app.settings import Settings
from bench import generate

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "route.lua"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
DEFAULT_SIZES = (1000, 100_000)
STATUSES = ("confirmed", "unverified", "pending", "disputed", "refuted")
DEEP_PAGES = (20, 60)
BARE = "bare_asgi"
ROUTES = (
    "claims_by_status_first",
    "claims_by_status_deep",
    "claim_detail",
    "entity_claims_popular",
    "entity_claims_rare",
    "search_common",
    "search_rare",
    "claims_q",
    BARE,
)
# Routes held to the main targets; ranked search on common words has its own.
RANKED_COMMON = "search_common"
TARGETS = {
    "rps": 2000.0,
    "p99_ms": 50.0,
    "unloaded_p99_ms": 2.0,
    "cpu_us": 500.0,
    "two_workers_rps": 4000.0,
    "search_common_p99_ms": 250.0,
    "extra_ingest_rate": 400.0,
    "full_load_seconds_100k": 300.0,
    "db_kib_per_article": 15.0,
    "unloaded_p99_growth": 1.5,
}
# The targets assume a machine on which the bare ASGI app does about this many requests per
# second. Each run also judges its figures against the targets scaled to its own machine's
# speed: rates times (bare rps ÷ this), times and CPU divided by it; sizes and growth as set.
REFERENCE_BARE_RPS = 22_000.0
WRK_TIMEOUT = "5s"
Json = dict[str, Any]


class BenchError(Exception):
    """A problem that stops the run; the message says what to do."""


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# --- configuration --------------------------------------------------------------------------


@dataclass
class Config:
    sizes: list[int]
    seed: int
    work: Path
    smoke: bool
    duration: int
    warmup: int
    repetitions: int
    unloaded_duration: int
    connections: int
    extra: int
    access_log: bool
    routes: list[str]
    two_workers: bool
    write_results: bool
    command: str
    validate_all: bool


def parse_args(argv: Sequence[str]) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Generate, ingest and load-test article-facts; see bench/README.md.",
    )
    parser.add_argument(
        "--articles",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated corpus sizes (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work", type=Path, default=BENCH_DIR / ".work", help="cache and output folder"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1,000 articles, 1 s runs, 1 repetition; fails on any error (for CI)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument(
        "--unloaded-duration", type=int, default=5, help="seconds per one-connection run"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--extra", type=int, default=1000, help="articles loaded into the full database"
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="serve with APP_ACCESS_LOG=false (default: the app's default, on)",
    )
    parser.add_argument(
        "--routes", default=None, help="comma-separated subset of routes (default: all)"
    )
    parser.add_argument("--no-two-workers", action="store_true", help="skip the 2-worker run")
    parser.add_argument(
        "--write-results", action="store_true", help="also write bench/RESULTS.md (not in smoke)"
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="RESULTS_JSON",
        help="only render a results file as Markdown (to RESULTS.md with --write-results)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.articles.split(",") if s.strip()]
    routes = list(ROUTES)
    if args.routes:
        routes = [r.strip() for r in args.routes.split(",") if r.strip()]
        unknown = sorted(set(routes) - set(ROUTES))
        if unknown:
            parser.error(f"unknown route(s): {', '.join(unknown)}; known: {', '.join(ROUTES)}")
        if BARE not in routes:
            routes.append(BARE)
    config = Config(
        sizes=sizes,
        seed=args.seed,
        work=args.work.resolve(),
        smoke=args.smoke,
        duration=args.duration,
        warmup=args.warmup,
        repetitions=args.repetitions,
        unloaded_duration=args.unloaded_duration,
        connections=args.connections,
        extra=args.extra,
        access_log=not args.no_access_log,
        routes=routes,
        two_workers=not args.no_two_workers,
        write_results=args.write_results,
        command="python -m bench " + " ".join(argv),
        validate_all=True,
    )
    if args.smoke:
        config.sizes = [1000]
        config.duration = 1
        config.warmup = 0
        config.repetitions = 1
        config.unloaded_duration = 1
        config.extra = min(config.extra, 200)
        config.validate_all = False
    if any(n < 1 for n in config.sizes) or config.duration < 1 or config.repetitions < 1:
        parser.error("sizes, --duration and --repetitions must be positive")
    return config, args.render


# --- tools and the machine ------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    wrk: str
    taskset: str
    article_facts: str
    server_cpu: int
    client_cpu: int


def find_tools() -> Tools:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    taskset = shutil.which("taskset")
    if taskset is None:
        raise BenchError("taskset is not installed (Debian/Ubuntu: apt-get install util-linux)")
    script = Path(sys.executable).with_name("article-facts")
    found = str(script) if script.exists() else shutil.which("article-facts")
    if found is None:
        raise BenchError("article-facts is not installed: pip install -e . in this virtualenv")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise BenchError(f"needs 2 CPUs to pin the server and wrk apart; this process has {cpus}")
    return Tools(wrk, taskset, found, cpus[0], cpus[1])


def _read(path: str) -> str:
    try:
        return Path(path).read_text("utf-8", errors="replace")
    except OSError:
        return ""


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine(tools: Tools) -> Json:
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    wrk_version = subprocess.run(
        [tools.wrk, "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    wrk_line = (wrk_version.stdout + wrk_version.stderr).strip().splitlines()
    # The results file this run may write is not a change to the code it measures.
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md")
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem.group(1)) / 1024**2, 1) if mem else None,
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk_line[0] if wrk_line else "unknown",
        "event_loop": Settings.model_fields["event_loop"].default,
        "packages": {
            name: _version(name)
            for name in (
                "uvicorn",
                "uvloop",
                "httptools",
                "fastapi",
                "starlette",
                "sqlalchemy",
                "sqlmodel",
                "pydantic",
                "orjson",
            )
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "load_average_at_start": list(os.getloadavg()),
    }


def _os_name() -> str:
    match = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', _read("/etc/os-release"), re.M)
    return match.group(1) if match else platform.system()


# --- processes ------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any APP_* setting of the caller's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env.update(extra)
    return env


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def stop_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Stop a process started in its own session, and everything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, int]]:
    """Every process's (parent, utime + stime in ticks), from /proc/<pid>/stat."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


def process_tree(pid: int, stats: dict[int, tuple[int, int]] | None = None) -> set[int]:
    """``pid`` and all its live descendants."""
    stats = _proc_stats() if stats is None else stats
    family = {pid}
    grew = True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    return family


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and all its live descendants (from /proc)."""
    stats = _proc_stats()
    return sum(stats[p][1] for p in process_tree(pid, stats) if p in stats) / _ticks()


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A: LISTEN
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def owns_listening_port(pid: int, port: int) -> bool:
    """Whether the socket listening on ``port`` belongs to ``pid`` or one of its descendants.

    Another program may take a port between ``free_ports`` and the server's bind (tests
    running on the same machine do); its answers must not be taken for this server's.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for member in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{member}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    return False


def tree_rss_mb(pid: int) -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        status = _read(f"/proc/{entry.name}/status")
        ppid = re.search(r"^PPid:\s*(\d+)", status, re.M)
        rss = re.search(r"^VmRSS:\s*(\d+) kB", status, re.M)
        if rss and (int(entry.name) == pid or (ppid and int(ppid.group(1)) == pid)):
            total += int(rss.group(1))
    return round(total / 1024, 1)


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(_read(str(self.log)).splitlines()[-lines:])


class PortTaken(BenchError):
    """Another program answers on the port a server was given."""


ServerSpec = tuple[str, str, int, bool, Path | None]  # name, kind, workers, pinned, database


class Servers:
    """Starts servers in their own sessions and stops every one of them on exit."""

    def __init__(self, tools: Tools, config: Config) -> None:
        self.tools = tools
        self.config = config
        self.running: list[Server] = []

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        while self.running:
            server = self.running.pop()
            stop_group(server.process)

    def start(
        self,
        name: str,
        kind: str,
        port: int,
        workers: int,
        *,
        pinned: bool,
        db: Path | None,
        checkout: Path = REPO_DIR,
    ) -> Server:
        """Start a server: the app (of ``checkout``, a clone of this repository at any commit,
        run by this virtualenv) or the bare ASGI app."""
        env = clean_env(
            APP_HOST="127.0.0.1",
            APP_PORT=str(port),
            APP_WORKERS=str(workers),
            APP_LOAD_SEED="false",
            APP_ACCESS_LOG="true" if self.config.access_log else "false",
            APP_SHUTDOWN_TIMEOUT="3",
            # Ahead of the installed project: `import app` finds the checkout's code.
            PYTHONPATH=str(checkout),
        )
        if kind == "app":
            assert db is not None
            command = [self.tools.article_facts, "serve", "--database-url", f"sqlite:///{db}"]
        else:
            command = [sys.executable, "-m", "bench.bare"]
        command += ["--port", str(port), "--workers", str(workers)]
        if pinned:
            command = [self.tools.taskset, "-c", str(self.tools.server_cpu), *command]
        logs = self.config.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=self.config.work,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(name, process, port, log)
        self.running.append(server)
        return server

    def stop(self, server: Server) -> None:
        stop_group(server.process)
        if server in self.running:
            self.running.remove(server)

    def start_ready(self, specs: Sequence[ServerSpec], attempts: int = 3) -> list[Server]:
        """Start servers on free ports and wait until each answers /healthz from its own
        socket; a server whose port another program took is restarted on another port."""
        ports = free_ports(len(specs))
        servers = [
            self.start(name, kind, port, workers, pinned=pinned, db=db)
            for (name, kind, workers, pinned, db), port in zip(specs, ports, strict=True)
        ]
        for i, (name, kind, workers, pinned, db) in enumerate(specs):
            for attempt in range(attempts):
                try:
                    self.wait_ready(servers[i])
                    break
                except PortTaken as exc:
                    self.stop(servers[i])
                    if attempt == attempts - 1:
                        raise
                    say(f"   {exc}; trying another port")
                    port = free_ports(1)[0]
                    servers[i] = self.start(name, kind, port, workers, pinned=pinned, db=db)
        return servers

    def wait_ready(self, server: Server, timeout: float = 120.0) -> None:
        started = time.monotonic()
        deadline = started + timeout
        while True:
            answered = False
            try:
                answered = httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                pass
            if answered and owns_listening_port(server.process.pid, server.port):
                return
            if server.process.poll() is not None:
                log = server.log_tail()
                if "address already in use" in log.lower():
                    raise PortTaken(f"port {server.port} is in use by another program")
                raise BenchError(
                    f"{server.name} exited with status {server.process.returncode}:\n{log}"
                )
            if answered and time.monotonic() > started + 10:
                raise PortTaken(f"another program answers on port {server.port}")
            if time.monotonic() > deadline:
                raise BenchError(f"{server.name} did not answer /healthz:\n{server.log_tail()}")
            time.sleep(0.1)


# --- ingest ---------------------------------------------------------------------------------


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def checkpoint(db: Path) -> Json:
    """Fold the WAL into the database file; return the sizes on disk afterwards."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()
    main = db.stat().st_size
    wal_path = Path(f"{db}-wal")
    wal = wal_path.stat().st_size if wal_path.exists() else 0
    return {"db_bytes": main, "wal_bytes": wal, "total_bytes": main + wal}


def table_sizes(db: Path, top: int = 8) -> list[Json]:
    """The largest tables and indexes (SQLite's dbstat), for the record."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT ?", (top,)
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [{"name": name, "bytes": int(size)} for name, size in rows]


def run_ingest(tools: Tools, config: Config, facts: Path, db: Path, label: str) -> Json:
    """Load a folder of fact files through the real CLI; time it and read its peak memory."""
    logs = config.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"ingest-{label}.log"
    command = [
        tools.article_facts,
        "ingest",
        str(facts),
        "--database-url",
        f"sqlite:///{db}",
        "--no-progress",
    ]
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env=clean_env(),
            cwd=config.work,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            stop_group(process, grace=5)
            raise
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    output = _read(str(log)).strip()
    if process.returncode != 0:
        raise BenchError(f"ingest of {facts} failed ({process.returncode}):\n{output[-3000:]}")
    return {
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "summary": output.splitlines()[-1] if output else "",
    }


# --- URL lists ------------------------------------------------------------------------------


def path_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def deep_pages(client: httpx.Client, status: str) -> list[str]:
    """Follow ``next`` from the first page of one status; keep pages 20–60 (or the deepest)."""
    first, last = DEEP_PAGES
    url: str | None = f"/claims?status={status}"
    walked: list[str] = []
    while url is not None and len(walked) < last:
        response = client.get(url)
        response.raise_for_status()
        walked.append(url)
        following = response.json().get("next")
        url = path_of(following) if following else None
    if len(walked) >= first:
        return walked[first - 1 :]
    return walked[max(1, len(walked) // 2) :] or walked


def build_urls(manifest: Json, client: httpx.Client) -> dict[str, list[str]]:
    """Every route's request paths, from the manifest and, for deep pages, live requests."""
    common = manifest["claim_common_terms"]
    rare = manifest["claim_rare_terms"]
    mixed = [t for pair in zip(common, rare, strict=False) for t in pair]
    mixed += common[len(rare) :] + rare[len(common) :]
    return {
        "claims_by_status_first": [f"/claims?status={s}" for s in STATUSES],
        "claims_by_status_deep": [u for s in STATUSES for u in deep_pages(client, s)],
        "claim_detail": [f"/claims/{q(i)}" for i in manifest["claim_ids"]],
        "entity_claims_popular": [
            f"/entities/{q(e['id'])}/claims" for e in manifest["popular_entities"]
        ],
        "entity_claims_rare": [f"/entities/{q(e)}/claims" for e in manifest["rare_entities"]],
        "search_common": [f"/search?q={q(t)}" for t in manifest["common_terms"]],
        "search_rare": [f"/search?q={q(t)}" for t in manifest["rare_terms"]],
        "claims_q": [f"/claims?q={q(t)}" for t in mixed],
        BARE: ["/claims/bench-article.claim-01"],
    }


def validate(client: httpx.Client, paths: Sequence[str], everything: bool) -> Json:
    """Request each path once (or an even sample of 50): statuses, sizes, latency."""
    chosen = list(paths)
    if not everything and len(chosen) > 50:
        step = len(chosen) / 50
        chosen = [chosen[int(i * step)] for i in range(50)]
    failures: list[str] = []
    sizes: list[int] = []
    items: list[int] = []
    seconds: list[float] = []
    for path in chosen:
        started = time.perf_counter()
        response = client.get(path)
        seconds.append(time.perf_counter() - started)
        if not 200 <= response.status_code < 300:
            failures.append(f"{response.status_code} {path}")
            continue
        sizes.append(len(response.content))
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            items.append(len(body["items"]))
    return {
        "checked": len(chosen),
        "failures": failures,
        "response_bytes_mean": round(statistics.fmean(sizes)) if sizes else None,
        "items_mean": round(statistics.fmean(items), 1) if items else None,
        "empty_pages": sum(1 for n in items if n == 0),
        "first_request_ms_max": round(max(seconds) * 1000, 1) if seconds else None,
    }


# --- wrk ------------------------------------------------------------------------------------


def loaded(tools: Tools, config: Config, server: Server, paths_file: Path, *, pinned: bool) -> Json:
    """One measured run over ``config.connections`` connections, after its warm-up."""
    run = functools.partial(
        wrk, tools, server, paths_file, connections=config.connections, pinned=pinned
    )
    if config.warmup:
        run(duration=config.warmup, measure_cpu=False)
    return run(duration=config.duration, measure_cpu=True)


def wrk(
    tools: Tools,
    server: Server,
    paths_file: Path,
    *,
    duration: int,
    connections: int,
    pinned: bool,
    measure_cpu: bool,
) -> Json:
    """One wrk run against one route; its JSON summary, plus the server's CPU time."""
    command = [
        tools.wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(LUA_SCRIPT),
        server.base,
        "--",
        str(paths_file),
    ]
    if pinned:
        command = [tools.taskset, "-c", str(tools.client_cpu), *command]
    cpu_before = tree_cpu_seconds(server.process.pid) if measure_cpu else 0.0
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    cpu_after = tree_cpu_seconds(server.process.pid) if measure_cpu else 0.0
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed ({done.returncode}) on {paths_file.name}:\n{done.stdout}\n{done.stderr}"
        )
    result: Json = orjson.loads(line.removeprefix("BENCH_JSON "))
    seconds = result["duration_us"] / 1e6
    requests = result["requests"]
    latency = result["latency_us"]
    out: Json = {
        "requests": requests,
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "errors": result["errors"],
        "non_2xx": result["non_2xx"],
        "non_2xx_3xx": result["non_2xx_3xx"],
        "bytes": result["bytes"],
    }
    if measure_cpu:
        cpu = cpu_after - cpu_before
        out["server_cpu_s"] = round(cpu, 3)
        out["cpu_us_per_request"] = round(cpu * 1e6 / requests, 1) if requests else None
    return out


def run_errors(run: Json) -> int:
    """wrk's errors (connect, read, write, timeout, status ≥ 400) and other non-2xx/3xx."""
    errors: dict[str, int] = run["errors"]
    others = int(run["non_2xx_3xx"]) - errors["status"]
    return sum(errors.values()) + max(0, others)


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


# --- one corpus size ------------------------------------------------------------------------


@dataclass
class SizeRun:
    """Everything measured for one corpus size."""

    articles: int
    data: Json = field(default_factory=dict)
    error_count: int = 0


def measure_size(tools: Tools, config: Config, articles: int) -> SizeRun:
    work = config.work
    run = SizeRun(articles)
    data = run.data
    data["articles"] = articles

    say(f"== {articles:,} articles: corpus")
    corpus = work / f"{articles}-{config.seed}"
    manifest, reused = generate.ensure_corpus(corpus, articles, seed=config.seed)
    extra_dir = work / f"{articles}-{config.seed}-extra{config.extra}"
    extra_manifest, extra_reused = generate.ensure_corpus(
        extra_dir, config.extra, seed=config.seed, offset=articles, entities=manifest["entities"]
    )
    data["corpus"] = {
        "path": str(corpus),
        "reused": reused,
        "generation_seconds": manifest.get("generation_seconds"),
        "entities_universe": manifest["entities"],
        "totals": manifest["totals"],
        "claim_status": manifest["claim_status"],
        "event_time_precision": manifest["event_time_precision"],
        "top_entity": manifest["top_entity"],
    }

    db_dir = work / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    db = db_dir / f"{articles}-{config.seed}.db"
    remove_db(db)
    say(f"== {articles:,} articles: ingest into a fresh database")
    full = run_ingest(tools, config, corpus / generate.FACTS_DIR, db, f"{articles}")
    full["articles"] = articles
    full["articles_per_second"] = round(articles / full["seconds"], 1)
    sizes = checkpoint(db)
    full.update(sizes)
    full["bytes_per_article"] = round(sizes["total_bytes"] / articles)
    full["largest_tables"] = table_sizes(db)
    say(
        f"   {full['seconds']} s, {full['articles_per_second']} articles/s, "
        f"{full['bytes_per_article']:,} bytes/article, peak RSS {full['peak_rss_mb']} MB"
    )

    say(f"== {articles:,} articles: {config.extra:,} more into a copy of the full database")
    copy = db_dir / f"{articles}-{config.seed}-extra.db"
    remove_db(copy)
    shutil.copyfile(db, copy)
    try:
        extra = run_ingest(tools, config, extra_dir / generate.FACTS_DIR, copy, f"{articles}-extra")
    finally:
        remove_db(copy)
    extra["articles"] = extra_manifest["totals"]["articles"]
    extra["articles_per_second"] = round(extra["articles"] / extra["seconds"], 1)
    say(f"   {extra['seconds']} s, {extra['articles_per_second']} articles/s")
    data["ingest"] = {"full": full, "into_full_database": extra}

    urls_dir = work / "urls" / str(articles)
    urls_dir.mkdir(parents=True, exist_ok=True)
    routes: Json = {}
    data["routes"] = routes

    with Servers(tools, config) as servers:
        app, bare = servers.start_ready(
            [
                (f"serve-{articles}-1w", "app", 1, True, db),
                (f"bare-{articles}-1w", "bare", 1, True, None),
            ]
        )
        say(f"== {articles:,} articles: URL lists")
        try:
            with httpx.Client(base_url=app.base, timeout=60) as client:
                urls = build_urls(manifest, client)
            for name in config.routes:
                target = bare if name == BARE else app
                (urls_dir / f"{name}.txt").write_text("\n".join(urls[name]) + "\n", "utf-8")
                with httpx.Client(base_url=target.base, timeout=60) as route_client:
                    check = validate(route_client, urls[name], config.validate_all)
                routes[name] = {"urls": len(urls[name]), "validation": check}
                run.error_count += len(check["failures"])
                if check["failures"]:
                    say(f"   {name}: {len(check['failures'])} failed, e.g. {check['failures'][0]}")
        except httpx.HTTPError as exc:
            raise BenchError(
                f"building the URL lists failed: {exc!r}; {app.name} log:\n{app.log_tail(10)}"
            ) from None

        def server_for(name: str) -> Server:
            return bare if name == BARE else app

        for rep in range(config.repetitions):
            for name in config.routes:
                say(f"== {articles:,} articles: loaded, repetition {rep + 1}: {name}")
                result = loaded(
                    tools, config, server_for(name), urls_dir / f"{name}.txt", pinned=True
                )
                routes[name].setdefault("loaded", []).append(result)
                run.error_count += run_errors(result)
                say(_brief(result))
        for rep in range(config.repetitions):
            for name in config.routes:
                say(f"== {articles:,} articles: unloaded, repetition {rep + 1}: {name}")
                result = wrk(
                    tools,
                    server_for(name),
                    urls_dir / f"{name}.txt",
                    duration=config.unloaded_duration,
                    connections=1,
                    pinned=True,
                    measure_cpu=False,
                )
                routes[name].setdefault("unloaded", []).append(result)
                run.error_count += run_errors(result)
                say(_brief(result))
        data["server_rss_mb"] = {"app": tree_rss_mb(app.process.pid)}
        servers.stop_all()

        if config.two_workers:
            app2, bare2 = servers.start_ready(
                [
                    (f"serve-{articles}-2w", "app", 2, False, db),
                    (f"bare-{articles}-2w", "bare", 2, False, None),
                ]
            )
            for name in config.routes:
                say(f"== {articles:,} articles: 2 workers, unpinned: {name}")
                target = bare2 if name == BARE else app2
                result = loaded(tools, config, target, urls_dir / f"{name}.txt", pinned=False)
                routes[name].setdefault("two_workers", []).append(result)
                run.error_count += run_errors(result)
                say(_brief(result))

    summarise(data)
    return run


def _brief(result: Json) -> str:
    errors = run_errors(result)
    cpu = result.get("cpu_us_per_request")
    return (
        f"   {result['rps']:,.0f} rps, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms"
        + (f", {cpu:.0f} µs CPU/request" if cpu is not None else "")
        + (f", {errors} ERRORS {result['errors']}" if errors else "")
        + (f", {result['non_2xx']} non-2xx" if result["non_2xx"] else "")
    )


def summarise(data: Json) -> None:
    """Medians over repetitions, per route, and the share of the bare app's throughput."""
    routes: Json = data["routes"]
    for route in routes.values():
        loaded = route.get("loaded", [])
        unloaded = route.get("unloaded", [])
        two = route.get("two_workers", [])
        route["summary"] = {
            "rps": median([r["rps"] for r in loaded]),
            "p50_ms": median([r["p50_ms"] for r in loaded]),
            "p99_ms": median([r["p99_ms"] for r in loaded]),
            "cpu_us": median([r.get("cpu_us_per_request") for r in loaded]),
            "unloaded_p50_ms": median([r["p50_ms"] for r in unloaded]),
            "unloaded_p99_ms": median([r["p99_ms"] for r in unloaded]),
            "two_workers_rps": median([r["rps"] for r in two]),
            "errors": sum(run_errors(r) for r in loaded + unloaded + two),
        }
    bare = routes.get(BARE, {}).get("summary", {}).get("rps")
    for route in routes.values():
        rps = route["summary"]["rps"]
        route["summary"]["pct_of_bare"] = (
            round(100 * rps / bare, 1) if bare and rps is not None else None
        )


# --- targets --------------------------------------------------------------------------------


def _check(name: str, value: float | None, limit: float, higher_is_better: bool) -> Json:
    if value is None:
        verdict = "n/a"
    elif higher_is_better:
        verdict = "pass" if value >= limit else "FAIL"
    else:
        verdict = "pass" if value <= limit else "FAIL"
    sign = "≥" if higher_is_better else "≤"
    return {"target": name, "value": value, "limit": f"{sign} {limit:g}", "result": verdict}


def scaled_targets(bare_rps: float | None) -> dict[str, float] | None:
    """The targets at the speed of a machine whose bare ASGI app does ``bare_rps``."""
    if not bare_rps:
        return None
    speed = bare_rps / REFERENCE_BARE_RPS
    faster = ("rps", "two_workers_rps", "extra_ingest_rate")
    slower = (
        "p99_ms",
        "unloaded_p99_ms",
        "cpu_us",
        "search_common_p99_ms",
        "full_load_seconds_100k",
    )
    out = dict(TARGETS)
    for name in faster:
        out[name] = round(TARGETS[name] * speed, 1)
    for name in slower:
        out[name] = round(TARGETS[name] / speed, 2)
    return out


def route_checks(name: str, summary: Json, targets: dict[str, float] | None = None) -> list[Json]:
    t = targets or TARGETS
    if name == BARE:
        return []
    if name == RANKED_COMMON:
        return [
            _check(
                "p99 ms (ranked search, common words)",
                summary["p99_ms"],
                t["search_common_p99_ms"],
                False,
            )
        ]
    return [
        _check("rps", summary["rps"], t["rps"], True),
        _check("p99 ms", summary["p99_ms"], t["p99_ms"], False),
        _check("unloaded p99 ms", summary["unloaded_p99_ms"], t["unloaded_p99_ms"], False),
        _check("CPU µs/request", summary["cpu_us"], t["cpu_us"], False),
        _check("2 workers rps", summary["two_workers_rps"], t["two_workers_rps"], True),
    ]


def size_checks(data: Json, targets: dict[str, float] | None = None) -> list[Json]:
    t = targets or TARGETS
    ingest = data["ingest"]
    full_load = ingest["full"]["seconds"] if data["articles"] >= 100_000 else None
    checks = [
        _check(
            "ingest into a full database, articles/s",
            ingest["into_full_database"]["articles_per_second"],
            t["extra_ingest_rate"],
            True,
        ),
        _check("full 100k load, seconds", full_load, t["full_load_seconds_100k"], False),
        _check(
            "database KiB per article",
            round(ingest["full"]["bytes_per_article"] / 1024, 2),
            t["db_kib_per_article"],
            False,
        ),
    ]
    return checks


def growth_checks(sizes: Json) -> list[Json]:
    """Unloaded p99 at the largest size within 1.5× of the smallest, per route."""
    if len(sizes) < 2:
        return []
    ordered = sorted(sizes.values(), key=lambda d: d["articles"])
    small, large = ordered[0], ordered[-1]
    out = []
    for name, route in large["routes"].items():
        if name == BARE or name not in small["routes"]:
            continue
        before = small["routes"][name]["summary"]["unloaded_p99_ms"]
        after = route["summary"]["unloaded_p99_ms"]
        ratio = round(after / before, 2) if before and after is not None else None
        check = _check(
            f"{name}: unloaded p99 at {large['articles']:,} ÷ at {small['articles']:,}",
            ratio,
            TARGETS["unloaded_p99_growth"],
            False,
        )
        check.update(route=name, small_ms=before, large_ms=after)
        out.append(check)
    return out


def evaluate(results: Json) -> None:
    for data in results["sizes"].values():
        bare = data["routes"].get(BARE, {}).get("summary", {}).get("rps")
        scaled = scaled_targets(bare)
        data["scaled_targets"] = scaled
        for name, route in data["routes"].items():
            route["checks"] = route_checks(name, route["summary"])
            route["scaled_checks"] = route_checks(name, route["summary"], scaled) if scaled else []
        data["checks"] = size_checks(data)
        data["scaled_checks"] = size_checks(data, scaled) if scaled else []
    results["growth_checks"] = growth_checks(results["sizes"])


# --- Markdown -------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(results: Json) -> str:
    evaluate(results)  # judged by this version's targets, whichever wrote the results
    m = results["machine"]
    c = results["config"]
    pk = m["packages"]
    lines = [
        "# Benchmark results",
        "",
        "Produced by `bench/run.py`; see [README.md](README.md) for what each figure means.",
        "",
        f"- **Command:** `{results['command']}`",
        f"- **When:** {results['started']} – {results['finished']} (UTC)",
        f"- **Code:** commit `{m.get('git_commit')}`"
        + (" with uncommitted changes" if m.get("git_dirty") else ""),
        f"- **Machine:** {m['cpu_model']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"{m['os']}, kernel {m['kernel']}",
        f"- **Software:** Python {m['python']}, SQLite {m['sqlite']}, uvicorn {pk.get('uvicorn')}"
        f" ({m.get('event_loop', 'uvloop')} event loop, httptools {pk.get('httptools')}), FastAPI "
        f"{pk.get('fastapi')}, Starlette {pk.get('starlette')}, SQLAlchemy "
        f"{pk.get('sqlalchemy')}, {m['wrk']}",
        f"- **Load average** at start: {', '.join(f'{x:.2f}' for x in m['load_average_at_start'])}"
        + (
            f"; at end: {', '.join(f'{x:.2f}' for x in results['load_average_at_end'])}"
            if results.get("load_average_at_end")
            else ""
        )
        + " (other work on the machine makes every figure noisier)",
        f"- **Method:** server pinned to CPU {c['server_cpu']} (1 worker), `wrk -t1 "
        f"-c{c['connections']}` pinned to CPU {c['client_cpu']}; per route {c['warmup']} s "
        f"warm-up then {c['duration']} s measured, {c['repetitions']} interleaved repetitions, "
        f"medians shown; unloaded: `wrk -t1 -c1`, {c['unloaded_duration']} s × "
        f"{c['repetitions']}; 2 workers: `serve --workers 2` and wrk unpinned, "
        f"{c['duration']} s × 1. Access log {'on' if c['access_log'] else 'off'} (as served).",
        "",
    ]
    for data in sorted(results["sizes"].values(), key=lambda d: d["articles"]):
        lines += _render_size(data)
    growth = results.get("growth_checks") or []
    if growth:
        lines += [
            "## Cost growth",
            "",
            "| route | unloaded p99 small (ms) | large (ms) | ratio | target | result |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        for g in growth:
            lines.append(
                f"| {g['route']} | {_fmt(g['small_ms'], 2)} | {_fmt(g['large_ms'], 2)} | "
                f"{_fmt(g['value'], 2)} | {g['limit']} | {g['result']} |"
            )
        lines.append("")
    return "\n".join(lines)


def _render_size(data: Json) -> list[str]:
    corpus = data["corpus"]
    totals = corpus["totals"]
    full = data["ingest"]["full"]
    extra = data["ingest"]["into_full_database"]
    top = corpus.get("top_entity") or {}
    lines = [
        f"## {data['articles']:,} articles",
        "",
        f"Corpus: {totals['articles']:,} articles ({totals['text_chars'] / totals['articles']:,.0f}"
        f" characters of text each), {totals['distinct_entities']:,} entities, "
        f"{totals['claims']:,} claims, {totals['events']:,} events, {totals['mentions']:,} "
        f"mentions; the most popular entity (`{top.get('id')}`) is in "
        f"{_fmt(top.get('articles'))} articles and {_fmt(top.get('claims'))} claims.",
        "",
        f"Ingest (`article-facts ingest`, fresh database): {full['seconds']:,.1f} s, "
        f"**{full['articles_per_second']:,.0f} articles/s**, peak RSS {full['peak_rss_mb']:,.0f} "
        f"MB. Into the full database, {extra['articles']:,} more articles: "
        f"{extra['seconds']:,.1f} s, **{extra['articles_per_second']:,.0f} articles/s**. "
        f"Database: {full['total_bytes']:,} bytes after a WAL checkpoint, "
        f"**{full['bytes_per_article']:,} bytes per article**.",
        "",
        "| route | URLs | rps | p50 ms | p99 ms | unloaded p50 / p99 ms | CPU µs/req "
        "| % of bare | 2 workers rps | targets as set | at this machine's speed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, route in data["routes"].items():
        s = route["summary"]
        verdicts = []
        for checks in (route.get("checks", []), route.get("scaled_checks", [])):
            failed = [c["target"] for c in checks if c["result"] == "FAIL"]
            verdict = (
                "reference"
                if name == BARE
                else ("FAIL: " + ", ".join(failed) if failed else "pass" if checks else "–")
            )
            if s.get("errors"):
                verdict += f" ({s['errors']} errors)"
            verdicts.append(verdict)
        lines.append(
            f"| {name} | {route['urls']:,} | {_fmt(s['rps'], 0)} | {_fmt(s['p50_ms'], 2)} | "
            f"{_fmt(s['p99_ms'], 2)} | {_fmt(s['unloaded_p50_ms'], 2)} / "
            f"{_fmt(s['unloaded_p99_ms'], 2)} | {_fmt(s['cpu_us'], 0)} | "
            f"{_fmt(s['pct_of_bare'], 1)} | {_fmt(s['two_workers_rps'], 0)} | {verdicts[0]} | "
            f"{verdicts[1]} |"
        )
    scaled = data.get("scaled_targets")
    if scaled:
        t = TARGETS
        lines += [
            "",
            f"At this machine's speed (bare ASGI {_fmt(data['routes'][BARE]['summary']['rps'], 0)}"
            f" rps, the targets assume {REFERENCE_BARE_RPS:,.0f}) the route targets are "
            f"≥ {scaled['rps']:,.0f} rps (as set: {t['rps']:,.0f}), p99 ≤ "
            f"{scaled['p99_ms']:g} ms ({t['p99_ms']:g}), unloaded p99 ≤ "
            f"{scaled['unloaded_p99_ms']:g} ms ({t['unloaded_p99_ms']:g}), ≤ "
            f"{scaled['cpu_us']:,.0f} µs CPU per request ({t['cpu_us']:,.0f}), "
            f"≥ {scaled['two_workers_rps']:,.0f} rps with 2 workers "
            f"({t['two_workers_rps']:,.0f}); ranked search p99 ≤ "
            f"{scaled['search_common_p99_ms']:g} ms ({t['search_common_p99_ms']:g}).",
        ]
    scaled_checks = {c["target"]: c for c in data.get("scaled_checks", [])}
    lines += [
        "",
        "| target | value | limit | result | limit at this machine's speed | result |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    for check in data.get("checks", []):
        at_speed = scaled_checks.get(check["target"], {})
        lines.append(
            f"| {check['target']} | {_fmt(check['value'], 2)} | {check['limit']} | "
            f"{check['result']} | {at_speed.get('limit', '–')} | {at_speed.get('result', '–')} |"
        )
    lines.append("")
    return lines


# --- main -----------------------------------------------------------------------------------


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while running, so every server is stopped."""

    def handler(signum: int, frame: types.FrameType | None) -> None:
        raise SystemExit(128 + signum)

    try:
        previous: Callable[[int, types.FrameType | None], Any] | int | None = signal.signal(
            signal.SIGTERM, handler
        )
    except ValueError:
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def work_lock(work: Path) -> Iterator[None]:
    """Hold the work folder for this run: two runs would delete each other's databases."""
    path = work / "run.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BenchError(
                f"{work} is in use by another benchmark run ({holder}); wait for it, "
                "or give this one its own --work folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {now()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# RESULTS.md holds the last full run, then what the other benchmarks last wrote, each in a
# section of its own that a full run (and each other) keeps: the side-by-side comparison of
# two commits (bench/compare.py) and the extraction benchmark (bench/extraction.py).
SECTIONS = ("comparison", "extraction")
_SECTION = re.compile(r"^<!-- section: (\w+) -->$", re.M)


def _sections(text: str) -> tuple[str, dict[str, str]]:
    """RESULTS.md as the full run's text and each section's, by name."""
    marks = list(_SECTION.finditer(text))
    if not marks:
        return text, {}
    found = {
        m.group(1): text[m.end() : (marks[i + 1].start() if i + 1 < len(marks) else len(text))]
        for i, m in enumerate(marks)
    }
    return text[: marks[0].start()], found


def write_results_md(
    text: str = "", *, section: str | None = None, body: str | None = None
) -> None:
    """Write RESULTS.md: the full run's ``text`` (empty: the one it holds), then the sections,
    with ``body`` as the section called ``section``."""
    held, sections = _sections(_read(str(RESULTS_MD)))
    if section is not None:
        assert section in SECTIONS, section
        sections[section] = body or ""
    out = (text or held).rstrip() + "\n"
    for name in SECTIONS:
        if sections.get(name, "").strip():
            out += f"\n<!-- section: {name} -->\n{sections[name].strip()}\n"
    RESULTS_MD.write_text(out, "utf-8")


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every request succeeded, 1 on errors, 2 when it cannot run."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    config, render_only = parse_args(arguments)
    if render_only is not None:
        text = render(orjson.loads(render_only.read_bytes()))
        if config.write_results:
            write_results_md(text)
        sys.stdout.write(text)
        return 0
    try:
        tools = find_tools()
    except BenchError as exc:
        say(f"error: {exc}")
        return 2
    config.work.mkdir(parents=True, exist_ok=True)
    results: Json = {
        "command": config.command,
        "started": now(),
        "machine": machine(tools),
        "config": {
            "sizes": config.sizes,
            "seed": config.seed,
            "smoke": config.smoke,
            "duration": config.duration,
            "warmup": config.warmup,
            "repetitions": config.repetitions,
            "unloaded_duration": config.unloaded_duration,
            "connections": config.connections,
            "extra": config.extra,
            "access_log": config.access_log,
            "routes": config.routes,
            "server_cpu": tools.server_cpu,
            "client_cpu": tools.client_cpu,
            "wrk_timeout": WRK_TIMEOUT,
        },
        "targets": TARGETS,
        "sizes": {},
    }
    errors = 0
    try:
        with work_lock(config.work), terminate_cleanly():
            for articles in config.sizes:
                size = measure_size(tools, config, articles)
                results["sizes"][str(articles)] = size.data
                errors += size.error_count
    except BenchError as exc:
        say(f"error: {exc}")
        return 2
    results["finished"] = now()
    results["load_average_at_end"] = list(os.getloadavg())
    results["errors"] = errors
    evaluate(results)
    stamp = results["started"].replace(":", "").replace("-", "")
    out = config.work / f"results-{stamp}.json"
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    text = render(results)
    (config.work / f"results-{stamp}.md").write_text(text, "utf-8")
    if config.write_results and not config.smoke:
        write_results_md(text)
    sys.stdout.write(text)
    say(f"results: {out}")
    if errors:
        say(f"FAILED: {errors} failed requests or errors (see the JSON for each run)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
