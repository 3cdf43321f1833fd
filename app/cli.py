"""The ``article-facts`` command: serve, ingest, migrate, schema, entities find.

Only the wiring of options and the printing live here: ingest runs in ``app.ingest.pipeline``.
"""

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import tokens
from app.db import create_db_engine, upgrade
from app.ingest.document import Limits, json_schema
from app.ingest.load import article_count
from app.ingest.pipeline import (
    IngestError,
    database_state,
    db_error,
    fact_files,
    run_ingest,
    summary,
)
from app.logs import log_config
from app.models import EntityKind
from app.queries import suggest_entities
from app.settings import Settings, get_settings

DEFAULT_DATABASE_URL = str(Settings.model_fields["database_url"].default)
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
        "--database-url",
        metavar="URL",
        help="Database URL [default: $APP_DATABASE_URL, else sqlite:///article-facts.db in the "
        "working directory].",
        show_default=False,
    ),
]


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


def database_location(url: str) -> str:
    """The database a command uses, as one line: a SQLite file by its absolute path, a
    server without its password, and whether it is the default."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        shown = f"{Path(parsed.database or '').resolve()} (SQLite)"
    else:
        shown = parsed.render_as_string(hide_password=True)
    if url == DEFAULT_DATABASE_URL:
        shown += (
            ", the default: a file in the working directory (APP_DATABASE_URL or "
            "--database-url choose another)"
        )
    return shown


def _limits(settings: Settings) -> Limits:
    return Limits(
        max_article_bytes=settings.max_article_bytes,
        max_fact_file_bytes=settings.max_fact_file_bytes,
    )


@cli.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Fact files, or folders of them (*.json).", show_default=False, metavar="PATH..."
        ),
    ],
    database_url: DatabaseOpt = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Check every file against the others and the database, report every "
            "problem, and write nothing.",
        ),
    ] = False,
    update_entities: Annotated[
        bool,
        typer.Option(
            "--update-entities",
            help="Let the files change the stored name, kind, description or external ids of "
            "shared entities (each change is listed).",
        ),
    ] = False,
    override_reviews: Annotated[
        bool,
        typer.Option(
            "--override-reviews",
            help="Let the files' statuses replace statuses reviewers set since (else refused).",
        ),
    ] = False,
    progress: Annotated[
        bool, typer.Option(help="Show a progress bar for more than one file.")
    ] = True,
) -> None:
    """Load fact files: all are checked first, then each article is loaded whole or not at all."""
    settings = _settings(database_url=database_url)
    where = database_location(settings.database_url)
    err.print(f"{'Checking against' if check else 'Database:'} {where}", markup=False)
    try:
        result = run_ingest(
            settings.database_url,
            paths,
            show_progress=progress,
            console=err,
            check_only=check,
            update_entities=update_entities,
            override_reviews=override_reviews,
            limits=_limits(settings),
        )
    except IngestError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    if check:
        files = len(fact_files(paths))
        out.print(f"OK: {files} fact file(s) checked; nothing written", markup=False)
        return
    out.print(summary(result), markup=False)


entities = typer.Typer(help="Look up stored entities.", no_args_is_help=True)
cli.add_typer(entities, name="entities")


@entities.command("find")
def entities_find(
    text: Annotated[
        str, typer.Argument(help="The start of a name or alias, in any script.", metavar="TEXT")
    ],
    kind: Annotated[
        list[EntityKind] | None, typer.Option(help="Only entities of this kind (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="At most this many.")] = 10,
    database_url: DatabaseOpt = None,
) -> None:
    """Find entities by the start of a name, an alias or any word of them, best match first."""
    settings = _settings(database_url=database_url)
    if database_state(settings.database_url) != "ready":
        where = database_location(settings.database_url)
        err.print(f"Error: no ingested data in {where}", markup=False)
        raise typer.Exit(1)
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            found = suggest_entities(
                conn, q=text, limit=limit, kinds=[k.value for k in kind] if kind else None
            )
    finally:
        engine.dispose()
    if not found:
        err.print(f"No entity matches {text!r}", markup=False)
        raise typer.Exit(1)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("id", "name", "kind", "matched"):
        table.add_column(column, overflow="fold")
    for row in found:
        table.add_row(
            Text(row["id"]),
            Text(row["name"]),
            Text(row["kind"]),
            Text("" if row["matched"] == row["name"] else row["matched"]),
        )
    out.print(table)


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
    revision: Annotated[str, typer.Option(help="Target revision.", metavar="REV")] = "head",
    database_url: DatabaseOpt = None,
) -> None:
    """Apply database migrations (up to the newest by default)."""
    settings = _settings(database_url=database_url)
    err.print(f"Database: {database_location(settings.database_url)}", markup=False)
    upgrade(settings.database_url, revision)
    out.print(f"Database at {revision}: {_safe_url(settings.database_url)}", markup=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the fact file format."""
    sys.stdout.write(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n")


# --- tokens of the write API ----------------------------------------------------------------

tokens_cli = typer.Typer(
    help="Bearer tokens of the write API: create, list, revoke.", no_args_is_help=True
)
cli.add_typer(tokens_cli, name="tokens")


@contextlib.contextmanager
def _token_store(database_url: str | None) -> Iterator[Connection]:
    """A writer transaction on the migrated database, for a token command."""
    settings = _settings(database_url=database_url)
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url, writer=True)
    try:
        with engine.begin() as conn:
            yield conn
    except tokens.TokenError as exc:
        err.print(f"Error: {exc}", markup=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@tokens_cli.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who writes with it: the actor its writes record.")],
    scope: Annotated[
        tokens.Scope,
        typer.Option(help="write: fact files, deletions; review: claim statuses; admin: both."),
    ],
    database_url: DatabaseOpt = None,
) -> None:
    """Create a token and print it, once: only its hash is stored."""
    with _token_store(database_url) as conn:
        token = tokens.create(conn, name, scope, now=dt.datetime.now(dt.UTC))
    out.print(
        f"Created token {name!r} with scope {scope.value}. Keep it now, it is not shown again:"
    )
    out.print(token, markup=False)


@tokens_cli.command("list")
def tokens_list(
    revoked: Annotated[bool, typer.Option("--all", help="Also list revoked tokens.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List tokens: name, scope, when created and last used (never the tokens themselves)."""
    with _token_store(database_url) as conn:
        found = tokens.listed(conn, revoked=revoked)
    if not found:
        out.print("No tokens.")
        return

    def when(value: dt.datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "never"

    rows = [("NAME", "SCOPE", "CREATED", "LAST USED", *(("REVOKED",) if revoked else ()))]
    for t in found:
        revoked_at = (when(t.revoked_at) if t.revoked_at else "-",) if revoked else ()
        rows.append((t.name, t.scope, when(t.created_at), when(t.last_used_at), *revoked_at))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.print(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), markup=False
        )


@tokens_cli.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke a token: it is refused from the next request on."""
    with _token_store(database_url) as conn:
        tokens.revoke(conn, name, now=dt.datetime.now(dt.UTC))
    out.print(f"Revoked token {name!r}.", markup=False)


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
        result = run_ingest(settings.database_url, [settings.seed_dir], limits=_limits(settings))
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
    err.print(f"Database: {database_location(settings.database_url)}", markup=False)
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

    # No log line shows the thread or process: not looking them up saves every line's cost.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False

    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop=settings.event_loop,
        http="httptools",
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
    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    try:
        cli()
    except SQLAlchemyError as exc:
        err.print(f"Error: database: {db_error(exc)}", markup=False)
        sys.exit(1)
