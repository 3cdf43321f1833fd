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


ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme_and_env_example() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    example = (ROOT / ".env.example").read_text("utf-8")
    for name in Settings.model_fields:
        variable = f"APP_{name.upper()}"
        assert f"| `{variable}` |" in readme, variable
        assert f"{variable}=" in example, variable


def test_the_env_example_holds_the_defaults() -> None:
    from_example = Settings(_env_file=ROOT / ".env.example")
    defaults = Settings(_env_file=None)
    assert from_example == defaults


def test_a_dotenv_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("APP_PORT=9100\nAPP_WORKERS=3\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_WORKERS", "2")
    settings = Settings()
    assert (settings.port, settings.workers) == (9100, 2)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/facts", "postgresql+psycopg://u:p@db/facts"),
        (
            "postgresql://u:p@db:5433/facts?sslmode=require",
            "postgresql+psycopg://u:p@db:5433/facts?sslmode=require",
        ),
        ("postgresql+psycopg://u@db/facts", "postgresql+psycopg://u@db/facts"),
        ("sqlite:////var/lib/af/a.db", "sqlite:////var/lib/af/a.db"),
    ],
)
def test_database_urls_name_one_driver_per_backend(given: str, used: str) -> None:
    assert Settings(database_url=given).database_url == used


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database_url", "postgresql+asyncpg://db/facts", "'postgresql+asyncpg' is not supported"),
        ("database_url", "not a url", "postgresql+psycopg:// URL; this one cannot be parsed"),
        ("root_path", "facts", "must start with / and not end with one"),
        ("root_path", "/facts/", "must start with / and not end with one"),
        ("db_pool_timeout", 0, "greater than 0"),
        ("shutdown_timeout", 0, "greater than or equal to 1"),
    ],
)
def test_more_invalid_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings(**{field: value})  # type: ignore[arg-type]
