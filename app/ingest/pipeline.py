"""An ingest run: check every file, then load each article whole or not at all.

1. **Check.** Every file is read, validated and resolved (in worker processes for a large
   run), then the rules across files and against the database are checked
   (``app.ingest.consistency``). Every problem of every file is reported at once, and
   nothing is written if there is one. ``check_only`` stops here.
2. **Load.** Articles are written in an order where a reported event or claim comes before
   its reports, in batches of up to ``BATCH_ARTICLES`` (or ``BATCH_SECONDS`` of work) per
   transaction. Each article is checked again inside the writer's transaction, against what
   is stored at that moment; a file read again for the load must be the file that was
   checked. The data revision moves once per committed batch that changed something.

The command line (``app.cli``) only wires options to ``run_ingest`` and prints.
"""

import contextlib
import ctypes
import datetime as dt
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from app import changes, fts
from app.db import create_db_engine, known_revisions, schema_revision, upgrade
from app.ingest.consistency import Declarations, check_run, first_declarations, load_order
from app.ingest.document import (
    DEFAULT_LIMITS,
    FactFileError,
    FactFileErrors,
    Limits,
    read_fact_file,
)
from app.ingest.load import (
    KINDS,
    ArticlePlan,
    LoadContext,
    LoadRefused,
    LoadResult,
    load_article,
    plan_article,
)
from app.reviews import ReviewConflict


class IngestError(Exception):
    """Ingest refused its input; the message is printed as-is and nothing is written."""


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


def fact_files(paths: Iterable[Path]) -> list[Path]:
    """Expand the given files and folders (``*.json``, recursively, in name order)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.exists():
            found.append(path)  # read_fact_file refuses what is not a regular file
        else:
            raise IngestError(f"Error: {path}: no such file or directory")
    if not found:
        raise IngestError("Error: no fact files (*.json) found in " + ", ".join(map(str, paths)))
    return found


def _messages(errors: Iterable[FactFileError]) -> str:
    return "\n".join(f"Error: {e}" for e in errors)


@dataclass(frozen=True)
class Failed:
    """A file with problems of its own, and what it declares as far as it could be read."""

    errors: list[FactFileError]
    declarations: Declarations


Checked = ArticlePlan | Declarations | Failed


def _read_chunk(paths: Sequence[Path], planned: int, limits: Limits) -> list[Checked]:
    """Read and check files (in a worker process): the plan of each of the first ``planned``,
    what the checks across files need of the others, or every problem of the file."""
    out: list[Checked] = []
    for i, path in enumerate(paths):
        try:
            doc = read_fact_file(path, limits)
        except FactFileErrors as exc:
            out.append(Failed(exc.errors, Declarations.of_errors(path, exc.document)))
            continue
        out.append(plan_article(doc) if i < planned else Declarations.of(doc))
    return out


def _end_with_parent() -> None:
    """In a worker process: end when the ingest that started it ends, however it ends.

    Ctrl-C is the parent's to handle. On Linux the kernel sends SIGTERM when the parent dies
    (even of SIGKILL); elsewhere a thread notices the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


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
    pool = ProcessPoolExecutor(
        WORKER_PROCESSES,
        mp_context=multiprocessing.get_context(method),
        initializer=_end_with_parent,
    )
    try:
        yield pool
    except BaseException:
        # Interrupted: the workers finish the chunk in hand and end; nothing waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True, cancel_futures=True)


def _read(
    files: Sequence[Path], pool: ProcessPoolExecutor | None, planned: int, limits: Limits
) -> Iterator[Checked]:
    """Each file read and checked, in order: the plans of the first ``planned`` files, what
    the checks across files need of the others, or the problems of a bad file.

    With a ``pool``, its processes read a few chunks ahead of the caller and no further, so
    a large run never holds more than a few chunks of plans.
    """
    if pool is None:
        for i, path in enumerate(files):
            yield _read_chunk([path], planned - i, limits)[0]
        return
    chunks = [(i, files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
    ahead: deque[Future[list[Checked]]] = deque()
    submitted = 0
    while submitted < len(chunks) or ahead:
        while submitted < len(chunks) and len(ahead) < 4 * WORKER_PROCESSES:
            start, chunk = chunks[submitted]
            ahead.append(pool.submit(_read_chunk, chunk, planned - start, limits))
            submitted += 1
        yield from ahead.popleft().result()


@dataclass
class ReadRun:
    """A run's files as read: what the checks across files need of each, the plans kept for
    the load, and every problem the files have of their own."""

    declarations: list[Declarations] = field(default_factory=list)
    kept: dict[Path, ArticlePlan] = field(default_factory=dict)
    errors: list[FactFileError] = field(default_factory=list)


def read_all(
    files: Sequence[Path],
    progress: Progress | None = None,
    pool: ProcessPoolExecutor | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ReadRun:
    """Read and resolve every file before anything is written.

    Returns what the checks across files need of each (of a file with problems of its own,
    as much as could be read, so that those checks report its other problems in the same
    run), the plans of the first ``KEEP_CHECKED`` articles (the load reads the others again),
    and every problem of every file. With a ``pool``, the files are read in its processes.
    """
    run = ReadRun()
    seen: dict[str, Path] = {}
    task = progress.add_task("Checking", total=len(files)) if progress else None
    for found in _read(files, pool, KEEP_CHECKED, limits):
        if progress and task is not None:
            progress.advance(task)
        if isinstance(found, Failed):
            run.errors += found.errors
            declared = found.declarations
        else:
            declared = found if isinstance(found, Declarations) else found.declarations
        path = declared.path
        if declared.article in seen:
            problem = f"article {declared.article!r} is also in {seen[declared.article]}"
            run.errors.append(FactFileError(path, "$.article.id", problem))
            # What it declares still counts for the others' references.
            run.declarations.append(replace(declared, article=None))
            continue
        if declared.article is not None:
            seen[declared.article] = path
        run.declarations.append(declared)
        if isinstance(found, ArticlePlan):
            run.kept[path] = found
    return run


def database_state(url: str) -> str:
    """``ready`` when the database exists at the newest migration; else why it is not:
    ``missing``, ``empty``, ``behind`` (an older migration) or ``ahead`` (a migration this
    version does not know)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        if name in ("", ":memory:") or parsed.query.get("mode") == "memory":
            return "empty"
        if not Path(name).exists():
            return "missing"
    engine = create_db_engine(url)
    try:
        current, head = schema_revision(engine)
    finally:
        engine.dispose()
    if current is None:
        return "empty"
    if current == head:
        return "ready"
    return "behind" if current in known_revisions() else "ahead"


def check_against_database(
    url: str, declarations: Sequence[Declarations], *, update_entities: bool
) -> list[FactFileError]:
    """The rules across the run's files, and against the database at ``url`` (which holds
    data at the newest migration)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return check_run(conn, declarations, update=update_entities)
    finally:
        engine.dispose()


# Why the checks could not read what a database stores, by its state (see database_state).
UNREADABLE = {
    "behind": "Error: the database's schema is older than this version's, so the files were not "
    "checked against what it stores (only against each other); run `article-facts migrate`, then "
    "check them again",
    "ahead": "Error: the database's schema is newer than this version of article-facts knows, so "
    "the files were not checked against what it stores (only against each other), and nothing "
    "can be loaded into it; use the version of article-facts that migrated it",
}


def _check_and_migrate(
    url: str,
    ordered: Sequence[Declarations],
    errors: list[FactFileError],
    order: Callable[[FactFileError], int],
    *,
    check_only: bool,
    update_entities: bool,
) -> None:
    """Raise IngestError listing every problem of the run (``errors``, of the files
    themselves, and the rules among them and against the database), in file ``order``.

    Then, unless ``check_only``, migrate the database for the load. A run that finds a
    problem before that leaves the database as it is, not even created or migrated. What a
    database at another schema stores cannot be read: the files are checked against each
    other and the error says so; one at an older schema is checked again once migrated.
    """

    def stop(found: Sequence[FactFileError], last: str | None = None) -> None:
        lines = [_messages(sorted(found, key=order))] if found else []
        raise IngestError("\n".join([*lines, *([last] if last else [])]))

    state = database_state(url)
    unreadable = UNREADABLE.get(state)
    if state == "ready":
        errors = errors + check_against_database(url, ordered, update_entities=update_entities)
    else:  # nothing stored, or nothing this version can read
        unread = unreadable is not None
        errors = errors + check_run(None, ordered, update=update_entities, unread=unread)
    if unreadable is not None and (check_only or errors or state == "ahead"):
        stop(errors, unreadable)
    if errors:
        stop(errors)
    if check_only or state == "ready":
        return
    upgrade(url)
    if state == "behind":
        errors = check_against_database(url, ordered, update_entities=update_entities)
        if errors:
            stop(errors)


@dataclass
class _Batch:
    """The articles loaded since the last commit, in the session's open transaction."""

    session: Session
    transaction: SessionTransaction | None = None
    started: float = 0.0
    articles: list[tuple[ArticlePlan, LoadResult]] = field(default_factory=list)
    committed: int = 0

    def load(self, plan: ArticlePlan, context: LoadContext) -> None:
        if self.transaction is None:
            self.transaction = self.session.begin()
            self.started = time.monotonic()
            context.reports = None  # looked up again in each transaction
        result = load_article(self.session, plan, now=dt.datetime.now(dt.UTC), context=context)
        self.articles.append((plan, result))

    def full(self) -> bool:
        return (
            len(self.articles) >= BATCH_ARTICLES or time.monotonic() - self.started >= BATCH_SECONDS
        )

    def commit(self, total: LoadResult) -> None:
        if self.transaction is None:
            return
        # Once per committed batch: readers see the data change exactly then, and /changes
        # lists the batch's articles under that revision.
        changes.record_loads(
            self.session.connection(),
            [(plan.key, result) for plan, result in self.articles],
            dt.datetime.now(dt.UTC),
        )
        self.transaction.commit()
        self.transaction = None
        for _, result in self.articles:
            total.merge(result)
        self.committed += len(self.articles)
        self.articles.clear()

    def rollback(self) -> list[ArticlePlan]:
        """Undo the open transaction; the plans it had loaded."""
        earlier = [plan for plan, _ in self.articles]
        self.session.rollback()
        self.transaction = None
        self.articles.clear()
        return earlier


def ingest_documents(
    session: Session,
    files: Sequence[Path],
    kept: Mapping[Path, ArticlePlan],
    declarations: Mapping[Path, Declarations],
    context: LoadContext,
    progress: Progress | None = None,
    pool: ProcessPoolExecutor | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load each article, all of it or none of it, and return the combined counts.

    Articles are committed in batches (``BATCH_ARTICLES``, or ``BATCH_SECONDS`` of work,
    whichever comes first): a commit costs more than loading a small article, and readers
    still see new articles every few seconds. When the database fails, or an article breaks
    a rule against what is stored by then, the batch is rolled back and its articles before
    that one are loaded again and committed, so that article is undone and the ones before it
    kept. (A savepoint per article would do the same at a price on every article: SQLite
    writes out its search index at each one.) Files not ``kept`` are read again, in the
    ``pool``'s processes when there is one, and must be the files that were checked.
    """
    total = LoadResult()
    task = progress.add_task("Loading", total=len(files)) if progress else None
    batch = _Batch(session)

    def loaded(before: str, after: str) -> str:
        n = batch.committed
        return f"{before}{n} earlier article(s) of this run were loaded{after}" if n else ""

    def keep_earlier() -> None:
        """Undo the batch, then load and commit its articles before the failing one."""
        earlier = batch.rollback()
        try:
            for plan in earlier:
                batch.load(plan, context)
            batch.commit(total)
        except (SQLAlchemyError, LoadRefused, ReviewConflict):
            batch.rollback()

    rest = [path for path in files if path not in kept]
    again = _read(rest, pool, len(rest), limits)
    for path in files:
        found = kept.get(path) or next(again)
        checked = declarations[path]
        if not isinstance(found, ArticlePlan) or found.source_sha256 != checked.digest:
            batch.commit(total)
            problems = _messages(found.errors) if isinstance(found, Failed) else ""
            raise IngestError(
                (problems + "\n" if problems else "")
                + f"Error: {path}: the file changed after it was checked; nothing of it was "
                f"loaded{loaded('; ', '')}"
            )
        plan = found
        try:
            batch.load(plan, context)
            if batch.full():
                batch.commit(total)
        except ReviewConflict as exc:
            # A reviewer decided a claim this file changes: refused before it wrote anything.
            keep_earlier()
            raise IngestError(
                _messages(exc.errors)
                + f"\nError: {path}: nothing of this file was loaded{loaded('; ', '')}"
            ) from None
        except LoadRefused as exc:
            # The database changed since the check (another ingest, most likely).
            keep_earlier()
            raise IngestError(
                _messages(exc.errors)
                + f"\nError: {path}: the database changed after the check; nothing of this "
                f"file was loaded{loaded('; ', '')}"
            ) from None
        except SQLAlchemyError as exc:
            # Input was checked before this point, so this is the database failing
            # (disk full, locked too long, gone away): keep the articles before this one.
            keep_earlier()
            raise IngestError(
                f"Error: {path}: database: {db_error(exc)}{loaded(' (', ')')}"
            ) from None
        if progress and task is not None:
            progress.advance(task)
    batch.commit(total)
    _merge_search_indexes(session, total)
    return total


def db_error(exc: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]


# Where warnings go (the command line's standard error).
warnings: Console = Console(stderr=True, highlight=False, soft_wrap=True)


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
        warnings.print(
            f"Warning: the search indexes were not merged: {db_error(exc)}", markup=False
        )


def summary(result: LoadResult) -> str:
    """One line: per kind, the total and what happened to it; then each entity value set."""
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
    if not result.changed:
        return f"Nothing changed: {line}"
    return "\n".join([line, *(f"Changed {change}" for change in result.changes)])


def _progress(console: Console | None, files: Sequence[Path]) -> Progress | None:
    if console is None or len(files) < 2 or not console.is_terminal:
        return None
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def run_ingest(
    url: str,
    paths: Sequence[Path],
    *,
    show_progress: bool = False,
    console: Console | None = None,
    check_only: bool = False,
    update_entities: bool = False,
    override_reviews: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Check every file, migrate the database, then load each article whole or not at all.

    With ``check_only``, stop after the checks: nothing is written and the database is
    neither created nor migrated. Raises IngestError listing every problem.
    """
    files = fact_files(paths)
    progress = _progress(console, files) if show_progress else None
    # The checked articles kept for the load are thousands of objects each, none of them in a
    # reference cycle: the collector walking them again and again cost a fifth of the run.
    # It is off while they pile up, then they are moved out of its view for the load.
    collecting = gc.isenabled()
    gc.disable()
    engine: Engine | None = None
    try:
        if progress:
            progress.start()
        try:
            with _workers(files) as pool:
                run = read_all(files, progress, pool, limits)
                gc.freeze()
                if collecting:
                    gc.enable()
                checked, kept = run.declarations, run.kept
                order, errors = load_order(checked)
                errors = run.errors + errors
                ordered = [checked[i] for i in order]
                _check_and_migrate(
                    url,
                    ordered,
                    errors,
                    _file_order(files),
                    check_only=check_only,
                    update_entities=update_entities,
                )
                if check_only:
                    return LoadResult()
                engine = create_db_engine(url, writer=True)
                context = LoadContext(
                    update_entities=update_entities,
                    override_reviews=override_reviews,
                    declared=first_declarations(ordered),
                )
                with Session(engine) as session:
                    return ingest_documents(
                        session,
                        [d.path for d in ordered],
                        kept,
                        {d.path: d for d in ordered},
                        context,
                        progress,
                        pool,
                        limits,
                    )
        finally:
            if progress:
                progress.stop()
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
        if engine is not None:
            engine.dispose()


def _file_order(files: Sequence[Path]) -> Callable[[FactFileError], int]:
    """Errors of the run in the order of its files (the order they were given in)."""
    index = {str(path): i for i, path in enumerate(files)}
    return lambda error: index.get(error.path, len(index))
