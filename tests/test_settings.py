"""Settings come from APP_* variables, are typed, and fail early with a clear message."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings, bundled_path, get_settings


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///article-facts.db"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.load_seed is True
    assert (settings.seed_dir / "kursiv-2024-10-17-rosatom-meeting.json").is_file()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", "postgresql+psycopg://u:p@db/facts")
    monkeypatch.setenv("APP_PORT", "9001")
    monkeypatch.setenv("APP_WORKERS", "4")
    monkeypatch.setenv("APP_LOAD_SEED", "false")
    monkeypatch.setenv("APP_SEED_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u:p@db/facts"
    assert (settings.port, settings.workers, settings.load_seed, settings.seed_dir) == (
        9001,
        4,
        False,
        tmp_path,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("APP_PORT", "eighty", "valid integer"),
        ("APP_PORT", "70000", "less than or equal to 65535"),
        ("APP_WORKERS", "0", "greater than or equal to 1"),
        ("APP_DATABASE_URL", "mysql://x/y", "sqlite:/// or postgresql+psycopg:// URL"),
        ("APP_LOG_LEVEL", "loud", "'critical', 'error', 'warning', 'info' or 'debug'"),
    ],
)
def test_invalid_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings()


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()


def test_bundled_path_falls_back_to_the_source_tree() -> None:
    assert bundled_path("migrations").joinpath("env.py").is_file()
