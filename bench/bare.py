"""A bare ASGI application: the ceiling the server itself puts on the API.

It answers every request with the same small JSON document (about the size of one
claim in a list) and does nothing else: no framework, no routing, no database. It is
served exactly as ``article-facts serve`` serves the API, by the same ``app.cli.run_server``
(event loop and HTTP parser chosen by uvicorn, log configuration, graceful shutdown, root
path), with the same ``APP_*`` settings, and the app's own access log
middleware when ``APP_ACCESS_LOG`` is on (uvicorn's own access log is off in both).

``python -m bench.bare [--host H] [--port P] [--workers N]``; flags override ``APP_HOST``,
``APP_PORT`` and ``APP_WORKERS``.
"""

import argparse
from collections.abc import Sequence

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cli import run_server
from app.logs import AccessLog
from app.settings import Settings, get_settings

BODY = orjson.dumps(
    {
        "id": "bench-article.claim-01",
        "article": "bench-article",
        "text": "The ministry will complete the northern railway link by the end of next year.",
        "kind": "statement",
        "claimant": {"id": "ministry-of-transport", "name": "Ministry of Transport", "kind": "x"},
        "attribution": {"start": 0, "end": 17, "exact": "The minister said"},
        "subjects": [{"id": "northern-railway", "name": "Northern Railway", "kind": "project"}],
        "events": [],
        "status": "pending",
        "rationale": "Confirmation was requested; no answer recorded yet.",
        "hedge": None,
        "anchors": [{"start": 18, "end": 96, "exact": "the railway link would be done"}],
    }
)
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode("ascii")),
]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with ``BODY``; acknowledge the lifespan protocol."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def create_app() -> ASGIApp:
    """The bare app, behind the API's access log middleware when the settings turn it on."""
    if get_settings().access_log:
        return AccessLog(bare_app)
    return bare_app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    overrides = {
        k: v for k, v in (("host", args.host), ("port", args.port), ("workers", args.workers)) if v
    }
    settings = Settings(**overrides) if overrides else get_settings()
    run_server("bench.bare:create_app", settings)


if __name__ == "__main__":
    main()
