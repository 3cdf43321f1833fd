"""Logging: one line per request, as text for people or JSON for log collectors."""

import datetime as dt
import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

ACCESS_LOGGER = "article_facts.access"
access_logger = logging.getLogger(ACCESS_LOGGER)

# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """The standard formatter, formatting each second's time once rather than every line."""

    _second: tuple[int, str] | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        cached = self._second
        if cached is None or cached[0] != second:
            cached = self._second = (second, super().formatTime(record, datefmt))
        return cached[1]


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server and the app, in the chosen format."""
    level = settings.log_level.upper()
    formatter = (
        {"()": f"{__name__}.JSONFormatter"}
        if settings.log_format == "json"
        else {
            "()": f"{__name__}.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # Uvicorn's own access log is replaced by ACCESS_LOGGER's, which adds the duration.
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # Request lines are INFO: APP_LOG_LEVEL=warning or above silences them.
            ACCESS_LOGGER: {"handlers": [], "propagate": True},
            # /readyz reads the schema revision through Alembic, which announces itself.
            "alembic": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


class AccessLog:
    """ASGI middleware logging method, path, status and duration once each request ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            duration_ms = round((time.perf_counter() - start) * 1000, 2)
            path, root = scope["path"], scope.get("root_path", "")
            if root and not path.startswith(root):
                path = root + path
            if query := scope.get("query_string", b""):
                path += "?" + query.decode("latin-1")
            client = scope.get("client")
            access_logger.info(
                "%s %s %d %.2fms",
                scope["method"],
                path,
                status,
                duration_ms,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "client": client[0] if client else None,
                },
            )
