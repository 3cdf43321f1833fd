"""Typed settings, read from ``APP_*`` environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_path(name: str) -> Path:
    """A folder shipped with the project: inside the installed wheel, or beside ``app/``."""
    installed = PACKAGE_DIR / "_bundled" / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


class Settings(BaseSettings):
    """Service configuration. Every field is set by the environment variable ``APP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="APP_", extra="ignore", frozen=True)

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
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="Server log level."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
