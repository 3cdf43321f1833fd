"""The ``article-facts`` command: serve, ingest, migrate, schema."""

import contextlib
import datetime as dt
import gc
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from app import fts
from app.db import create_db_engine, upgrade
from app.ingest.document import (
    FactFileError,
    FactFileErrors,
    json_schema,
    read_fact_file,
)
from app.ingest.load import (
    KINDS,
    ArticlePlan,
    Declarations,
    LoadResult,
    article_count,
    entity_conflicts,
    load_article,
    plan_article,
)
from app.logs import log_config
from app.settings import Settings, get_settings

cli = typer.Typer(
    name="article-facts",
    help="Serve the facts extracted from news articles, and load fact files into the database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Database URL (default: $APP_DATABASE_URL or the settings default)."
    ),
]


class IngestError(Exception):
    """Ingest refused its input; the message is printed as-is and nothing is written."""


def _settings(**overrides: object) -> Settings:
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        # Flags override the environment; both are validated together.
        return Settings(**given) if given else get_settings()  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"APP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        err.print(f"Error: invalid settings: {problems}", markup=False)
        raise typer.Exit(1) from None


def fact_files(paths: Iterable[Path]) -> list[Path]:
    """Expand the given files and folders (``*.json``, recursively, in name order)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise IngestError(f"Error: {path}: no such file or directory")
    if not found:
        raise IngestError("Error: no fact files (*.json) found in " + ", ".join(map(str, paths)))
    return found


# A commit writes out every page the batch changed, and a large database's indexes are
# changed all over: fewer, larger commits write the pages shared by their articles once.
BATCH_ARTICLES = 1000
BATCH_SECONDS = 5.0
# Checked articles kept in memory for the load, as the plans of what to write; a larger run
# works out the rest again, so that memory stays bounded whatever the run's size.
KEEP_CHECKED = 1000
# A run of at least PARALLEL_FILES files reads and checks them in this many processes at
# once, and a run that has to read files again does so in them while this one writes.
WORKER_PROCESSES = min(4, os.cpu_count() or 1)
PARALLEL_FILES = 200
CHUNK = 16  # files a worker is handed at a time
# A run that wrote at least this share of the articles the database holds merges the search
# indexes at its end (see fts.merge_indexes): a cost in proportion to the run's own.
MERGE_SHARE = 0.1


def _messages(exc: FactFileErrors) -> str:
    return "\n".join(f"Error: {e}" for e in exc.errors)


def _read_chunk(paths: Sequence[Path], planned: int) -> list[ArticlePlan | Declarations | str]:
    """Read and check files (in a worker process): the plan of each of the first ``planned``,
    what the checks across files need of the others, or the message of what is wrong."""
    out: list[ArticlePlan | Declarations | str] = []
    for i, path in enumerate(paths):
        try:
            doc = read_fact_file(path)
        except FactFileErrors as exc:
            out.append(_messages(exc))
            continue
        out.append(plan_article(doc) if i < planned else Declarations.of(doc))
    return out


@contextlib.contextmanager
def _workers(files: Sequence[Path]) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for a run this large on a machine with several cores, else None."""
    if len(files) < PARALLEL_FILES or WORKER_PROCESSES < 2:
        yield None
        return
    # Forked from this process when it runs no other thread (the command line): they start at
    # once, with everything imported. Otherwise (a test, an application embedding this) they
    # start from a fresh process, as forking a process with threads may deadlock.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    pool = ProcessPoolExecutor(WORKER_PROCESSES, mp_context=multiprocessing.get_context(method))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


Found = ArticlePlan | Declarations | IngestError


def _read(files: Sequence[Path], pool: ProcessPoolExecutor | None, planned: int) -> Iterator[Found]:
    """Each file read and checked, in order: the plans of the first ``planned`` files, what
    the checks across files need of the others, or the error that stops the run at a file.

    With a ``pool``, its processes read a few chunks ahead of the caller and no further, so
    a large run never holds more than a few chunks of plans.
    """
    if pool is None:
        for i, path in enumerate(files):
            found = _read_chunk([path], planned - i)[0]
            yield IngestError(found) if isinstance(found, str) else found
        return
    chunks = [(i, files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
    ahead: deque[Future[list[ArticlePlan | Declarations | str]]] = deque()
    submitted = 0
    while submitted < len(chunks) or ahead:
        while submitted < len(chunks) and len(ahead) < 4 * WORKER_PROCESSES:
            start, chunk = chunks[submitted]
            ahead.append(pool.submit(_read_chunk, chunk, planned - start))
            submitted += 1
        for found in ahead.popleft().result():
            yield IngestError(found) if isinstance(found, str) else found


def read_all(
    files: Sequence[Path],
    progress: Progress | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> tuple[list[Declarations], dict[Path, ArticlePlan]]:
    """Read and resolve every file before anything is written; raise IngestError on any problem.

    Returns what the checks across files need of each, and the plans of the first
    ``KEEP_CHECKED`` articles (the load reads the others again). With a ``pool``, the files
    are read in its processes.
    """
    declarations: list[Declarations] = []
    kept: dict[Path, ArticlePlan] = {}
    seen: dict[str, Path] = {}
    task = progress.add_task("Checking", total=len(files)) if progress else None
    for found in _read(files, pool, planned=KEEP_CHECKED):
        if isinstance(found, IngestError):
            raise found
        declared = found if isinstance(found, Declarations) else found.declarations
        path = declared.path
        if declared.article in seen:
            problem = f"article {declared.article!r} is also in {seen[declared.article]}"
            raise IngestError(f"Error: {FactFileError(path, '$.article.id', problem)}")
        seen[declared.article] = path
        declarations.append(declared)
        if isinstance(found, ArticlePlan):
            kept[path] = found
        if progress and task is not None:
            progress.advance(task)
    return declarations, kept


def ingest_documents(
    session: Session,
    files: Sequence[Path],
    kept: Mapping[Path, ArticlePlan],
    progress: Progress | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> LoadResult:
    """Load each article, all of it or none of it, and return the combined counts.

    Articles are committed in batches (``BATCH_ARTICLES``, or ``BATCH_SECONDS`` of work,
    whichever comes first): a commit costs more than loading a small article, and readers
    still see new articles every few seconds. When the database fails, the batch is rolled
    back and its articles before the failing one are loaded again and committed, so the
    failing article is undone and the ones before it kept. (A savepoint per article would do
    the same at a price on every article: SQLite writes out its search index at each one.)
    Files not ``kept`` are read again, in the ``pool``'s processes when there is one.
    """
    total = LoadResult()
    task = progress.add_task("Loading", total=len(files)) if progress else None
    batch: list[tuple[ArticlePlan, LoadResult]] = []  # loaded since the last commit
    transaction: SessionTransaction | None = None
    started = 0.0
    committed = 0

    def commit() -> None:
        nonlocal transaction, committed
        if transaction is not None:
            transaction.commit()
            transaction = None
            for _, result in batch:
                total.merge(result)
            committed += len(batch)
            batch.clear()

    def load(plan: ArticlePlan) -> None:
        nonlocal transaction, started
        if transaction is None:
            transaction = session.begin()
            started = time.monotonic()
        batch.append((plan, load_article(session, plan, now=dt.datetime.now(dt.UTC))))

    def loaded(before: str, after: str) -> str:
        return f"{before}{committed} earlier article(s) of this run were loaded{after}"

    rest = [path for path in files if path not in kept]
    again = _read(rest, pool, planned=len(rest))
    for path in files:
        found = kept.get(path) or next(again)
        if isinstance(found, IngestError):
            # Read again for the load, the file is no longer the one that was checked.
            commit()
            done = loaded("; ", "") if committed else ""
            raise IngestError(f"{found}\n(the file changed after it was checked{done})")
        assert isinstance(found, ArticlePlan)  # read with planned=len(rest)
        plan = found
        try:
            load(plan)
            if len(batch) >= BATCH_ARTICLES or time.monotonic() - started >= BATCH_SECONDS:
                commit()
        except SQLAlchemyError as exc:
            # Input was checked before this point, so this is the database failing
            # (disk full, locked too long, gone away): keep the articles before this one.
            earlier = [p for p, _ in batch]
            session.rollback()
            transaction = None
            batch.clear()
            try:
                for before in earlier:
                    load(before)
                commit()
            except SQLAlchemyError:
                session.rollback()
                transaction = None
                batch.clear()
            done = loaded(" (", ")") if committed else ""
            where = plan.declarations.path
            raise IngestError(f"Error: {where}: database: {_db_error(exc)}{done}") from None
        if progress and task is not None:
            progress.advance(task)
    commit()
    _merge_search_indexes(session, total)
    return total


def _merge_search_indexes(session: Session, result: LoadResult) -> None:
    """Merge the search indexes after a run that wrote a large share of the articles.

    The articles are committed by then: a failure is reported, and the indexes stay as
    they were, unmerged but complete.
    """
    written = result.get("articles", "added") + result.get("articles", "updated")
    if not written:
        return
    try:
        with session.begin():
            conn = session.connection()
            held = conn.exec_driver_sql("SELECT count(*) FROM article").scalar_one()
            if written >= MERGE_SHARE * held:
                fts.merge_indexes(conn)
    except SQLAlchemyError as exc:
        session.rollback()
        err.print(f"Warning: the search indexes were not merged: {_db_error(exc)}", markup=False)


def summary(result: LoadResult) -> str:
    """One line: per kind, the total and what happened to it."""
    parts = []
    for kind in KINDS:
        n = sum(result.get(kind, o) for o in ("added", "updated", "unchanged"))
        detail = ", ".join(
            f"{result.get(kind, o)} {o}"
            for o in ("added", "updated", "unchanged", "removed")
            if result.get(kind, o)
        )
        noun = {"entities": "entity"}.get(kind, kind[:-1]) if n == 1 else kind
        parts.append(f"{n} {noun}" + (f" ({detail})" if detail else ""))
    line = "; ".join(parts)
    return line if result.changed else f"Nothing changed: {line}"


def run_ingest(url: str, paths: Sequence[Path], *, show_progress: bool) -> LoadResult:
    """Validate every file, migrate the database, then load each article whole or not at all."""
    files = fact_files(paths)
    progress = (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        if show_progress and len(files) > 1 and err.is_terminal
        else None
    )
    engine = create_db_engine(url, writer=True)
    # The checked articles kept for the load are thousands of objects each, none of them in a
    # reference cycle: the collector walking them again and again cost a fifth of the run.
    # It is off while they pile up, then they are moved out of its view for the load.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if progress:
            progress.start()
        try:
            with _workers(files) as pool:
                declarations, kept = read_all(files, progress, pool)
                gc.freeze()
                if collecting:
                    gc.enable()
                upgrade(url)
                with Session(engine) as session:
                    conflicts = entity_conflicts(session, declarations)
                    session.rollback()
                    if conflicts:
                        raise IngestError("\n".join(f"Error: {e}" for e in conflicts))
                    return ingest_documents(session, files, kept, progress, pool)
        finally:
            if progress:
                progress.stop()
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
        engine.dispose()


@cli.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Fact files, or folders of them (*.json).", show_default=False),
    ],
    database_url: DatabaseOpt = None,
    progress: Annotated[
        bool, typer.Option(help="Show a progress bar for more than one file.")
    ] = True,
) -> None:
    """Load fact files: all are checked first, then each article is loaded whole or not at all."""
    settings = _settings(database_url=database_url)
    try:
        result = run_ingest(settings.database_url, paths, show_progress=progress)
    except IngestError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    out.print(summary(result), markup=False)


class DraftLanguage(StrEnum):
    en = "en"
    ru = "ru"


@cli.command()
def draft(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Articles: plain text (headline on the first line) or saved HTML pages, or "
            "folders of them (*.txt, *.html).",
            show_default=False,
        ),
    ],
    published: Annotated[
        dt.datetime,
        typer.Option(
            formats=["%Y-%m-%d"], help="Publication date, YYYY-MM-DD.", show_default=False
        ),
    ],
    language: Annotated[DraftLanguage, typer.Option(help="Language of the articles.")],
    publisher: Annotated[str | None, typer.Option(help="Publisher, e.g. Kursiv.media.")] = None,
    url: Annotated[str | None, typer.Option(help="URL of the article.")] = None,
    article_id: Annotated[
        str | None, typer.Option("--id", help="Article id (one input only).")
    ] = None,
    database_url: DatabaseOpt = None,
    no_database: Annotated[
        bool, typer.Option("--no-database", help="Match no stored entities.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Draft file (one input) or folder (several); by default <input>.facts.json "
            "beside each input.",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar for several inputs.")] = True,
) -> None:
    """Draft fact files from raw articles, offline, for a person to review before ingest."""
    from app.extract import INSTALL_HINT, ExtractError, missing_modules

    if missing_modules():
        err.print(f"Error: draft needs the extract extra: {INSTALL_HINT}", markup=False)
        raise typer.Exit(1)
    from app.extract.command import DraftOptions, run_draft

    options = DraftOptions(
        published=published.date(),
        language="ru" if language is DraftLanguage.ru else "en",
        publisher=publisher,
        url=url,
        article_id=article_id,
        database_url=None if no_database else _settings(database_url=database_url).database_url,
        output=output,
        overwrite=overwrite,
    )
    bar = Progress(
        TextColumn("Drafting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("draft", total=None)
    shown = progress and err.is_terminal

    def advance(done: int, total: int) -> None:
        if shown and total > 1:
            bar.start()
            bar.update(task, completed=done, total=total)

    try:
        written = run_draft(paths, options, on_progress=advance)
    except ExtractError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    finally:
        if shown:
            bar.stop()
    for path in written:
        out.print(f"Wrote {path}", markup=False)


@cli.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    database_url: DatabaseOpt = None,
) -> None:
    """Apply database migrations (up to the newest by default)."""
    settings = _settings(database_url=database_url)
    upgrade(settings.database_url, revision)
    out.print(f"Database at {revision}: {_safe_url(settings.database_url)}", markup=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the fact file format."""
    sys.stdout.write(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n")


def prepare_database(settings: Settings) -> None:
    """Apply pending migrations and, when the database holds no article, load the seed."""
    upgrade(settings.database_url)
    if not settings.load_seed:
        return
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            empty = article_count(session) == 0
    finally:
        engine.dispose()
    if empty:
        result = run_ingest(settings.database_url, [settings.seed_dir], show_progress=False)
        err.print(f"Loaded seed from {settings.seed_dir}: {summary(result)}", markup=False)


@cli.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 8000].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: 1].")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Apply migrations, load the seed into an empty database, and serve the API."""
    settings = _settings(host=host, port=port, workers=workers, database_url=database_url)
    try:
        prepare_database(settings)
    except IngestError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    # Workers are separate processes that build their own settings from the environment.
    os.environ["APP_DATABASE_URL"] = settings.database_url
    err.print(
        f"Serving on http://{settings.host}:{settings.port} (API docs at /docs)", markup=False
    )
    run_server("app.main:create_app", settings)


def run_server(factory: str, settings: Settings) -> None:
    """Serve the app that the import string ``factory`` builds, as ``settings`` say."""
    import logging

    import uvicorn

    from app.serving import uvicorn_loop

    # No log line shows the thread or process: not looking them up saves every line's cost.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False

    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop=uvicorn_loop(settings.event_loop, settings.workers),
        http="app.serving:HTTPProtocol",
        log_level=settings.log_level,
        log_config=log_config(settings),
        access_log=False,  # replaced by the app's own access log, which has durations
        timeout_graceful_shutdown=settings.shutdown_timeout,
        root_path=settings.root_path,
    )


@cli.command()
def healthcheck(
    url: Annotated[
        str | None,
        typer.Option(help="URL to check [default: http://127.0.0.1:$APP_PORT/readyz]."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 3.0,
) -> None:
    """Exit 0 when the server answers its readiness check with 200, else 1 (for containers)."""
    from app.healthcheck import check

    ok, message = check(url or f"http://127.0.0.1:{_settings().port}/readyz", timeout)
    (out if ok else err).print(message, markup=False)
    if not ok:
        raise typer.Exit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _db_error(exc: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]


def main() -> None:
    try:
        cli()
    except SQLAlchemyError as exc:
        err.print(f"Error: database: {_db_error(exc)}", markup=False)
        sys.exit(1)
