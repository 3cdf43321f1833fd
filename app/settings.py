"""Typed settings, read from ``APP_*`` environment variables."""

import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PACKAGE_DIR = Path(__file__).resolve().parent
EXPECTED_URL = "must be a sqlite:/// or postgresql+psycopg:// URL"
ORIGIN = re.compile(r"https?://[^/\s?#]+")
PUBLIC_URL = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*[^\s?#/])?")


def bundled_path(name: str) -> Path:
    """A folder shipped with the project: inside the installed wheel, or beside ``app/``."""
    installed = PACKAGE_DIR / "_bundled" / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


class Settings(BaseSettings):
    """Service configuration. Every field is set by the environment variable ``APP_<NAME>``,
    or by that line in a ``.env`` file in the working directory (the environment wins)."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(
        default="sqlite:///article-facts.db",
        description="SQLAlchemy URL of the database; a relative SQLite path is relative to the "
        "working directory.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes for `serve`.")
    seed_dir: Path = Field(
        default_factory=lambda: bundled_path("data"),
        description="Folder of fact files `serve` loads when the database has no article.",
    )
    load_seed: bool = Field(
        default=True, description="Load the seed folder on `serve` when the database is empty."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=1000, description="Connections each worker keeps open to the database."
    )
    db_max_overflow: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="Extra connections a worker may open under load, closed when returned.",
    )
    db_pool_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a request waits for a free connection."
    )
    db_pool_recycle: int = Field(
        default=1800,
        ge=-1,
        description="Seconds after which a connection is replaced (-1: never); keep it below "
        "any idle timeout of a proxy or firewall in front of PostgreSQL.",
    )
    db_on_loop: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="Run cheap reads (a page, one resource) on the event loop while a "
        "connection is free (`true`), or always in worker threads (`false`); `auto` is `true` "
        "on SQLite, whose indexed reads take microseconds and never wait for a writer in WAL "
        "mode, and `false` on PostgreSQL, whose calls wait on the network. Counts, facets, "
        "searches, sorts and exports always run in worker threads.",
    )
    query_timeout_ms: int = Field(
        default=1000,
        ge=0,
        le=600_000,
        description="Milliseconds a request's queries may run before they are stopped and the "
        "request is refused as too expensive (0: no limit).",
    )
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio",
        description="Event loop of `serve`. `uvloop` (the `uvloop` extra) costs a few "
        "microseconds less per request but, once the server is saturated, serves some "
        "connections far later than others (a p99 latency 6-10 times the median, where "
        "`asyncio` keeps it near the median).",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="Server log level."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`text` for people, `json` (one object per line) for machines."
    )
    access_log: bool = Field(
        default=True,
        description="Log one line per request: method, path, status, duration.",
    )
    shutdown_timeout: int = Field(
        default=20,
        ge=1,
        description="Seconds `serve` lets in-flight requests finish after SIGTERM or SIGINT.",
    )
    claimreview_author: str = Field(
        default="article-facts",
        min_length=1,
        max_length=200,
        description="Organisation named as the author of ClaimReview output: whoever runs the "
        "service and stands behind the statuses of the fact files it loads.",
    )
    public_url: str = Field(
        default="",
        description="The API's public base URL, e.g. `https://facts.example.org` (with any "
        "sub-path the proxy adds); `next` links and other absolute URLs start with it instead "
        "of the `Host` a client sent.",
    )
    root_path: str = Field(
        default="",
        description="Path prefix when served behind a proxy under a sub-path, e.g. `/facts`.",
    )
    cache_max_age: int = Field(
        default=60,
        ge=0,
        description="Seconds clients and proxies may reuse a response without revalidating it.",
    )
    max_article_bytes: int = Field(
        default=2_000_000,
        ge=1,
        description="Largest article text ingest accepts, in bytes of UTF-8: a text file "
        "larger than this is refused before it is read.",
    )
    max_fact_file_bytes: int = Field(
        default=10_000_000,
        ge=1,
        description="Largest fact file ingest accepts, in bytes, checked before it is read.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("*",),
        description="Origins whose pages may read the API from a browser: `*` (any), a "
        "comma-separated list such as `https://a.example,https://b.example`, or empty (none).",
    )

    read_requires_token: bool = Field(
        default=False,
        description="Require a token (of any scope) for every request but `/healthz`, "
        "`/readyz` and the API documentation; writes always require one.",
    )
    max_upload_bytes: int = Field(
        default=5_000_000,
        ge=1,
        le=1_000_000_000,
        description="Largest request body a write accepts (a fact file upload); larger is a 413.",
    )
    cors_write_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Origins whose pages may also write (with a token) from a browser: a "
        "comma-separated list of origins; empty (the default): none.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            # The value is not echoed: it may hold a password.
            raise ValueError(f"{EXPECTED_URL}; this one cannot be parsed") from None
        if url.drivername in ("postgres", "postgresql", "postgresql+psycopg"):
            # One driver for PostgreSQL: psycopg 3 (the `postgres` extra).
            if find_spec("psycopg") is None:
                raise ValueError(
                    "PostgreSQL needs the psycopg driver: pip install 'article-facts[postgres]'"
                )
            return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        if url.drivername in ("sqlite", "sqlite+pysqlite"):
            return value
        raise ValueError(f"{EXPECTED_URL}; {url.drivername!r} is not supported")

    @field_validator("event_loop")
    @classmethod
    def _loop_installed(cls, value: str) -> str:
        if value == "uvloop" and find_spec("uvloop") is None:
            raise ValueError("uvloop is not installed: pip install 'article-facts[uvloop]'")
        return value

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if value and not PUBLIC_URL.fullmatch(value):
            raise ValueError(
                "must be an absolute http(s) URL with no query, fragment or trailing /, "
                "e.g. https://facts.example.org or https://example.org/facts"
            )
        return value

    @field_validator("root_path")
    @classmethod
    def _path_prefix(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("must start with / and not end with one, e.g. /facts")
        return value

    @field_validator("cors_origins", "cors_write_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_write_origins")
    @classmethod
    def _write_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value:
            raise ValueError("name the origins that may write; `*` is not allowed")
        return cls._origins(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value and len(value) > 1:
            raise ValueError("`*` allows every origin and cannot be combined with others")
        for origin in value:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], no path or trailing /"
                )
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
