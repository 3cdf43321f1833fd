"""What ``serve`` gives uvicorn beyond its settings."""

import asyncio
import socket
import sys
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HTTPProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, on connections that send without delay.

    asyncio turns Nagle's algorithm off only on sockets created as IPPROTO_TCP, which
    uvicorn's own listening socket (the one it binds for several workers) is not. With
    Nagle on, a response written in two parts waits for the client's delayed ACK of the
    first: about 40 ms per request, whatever the route.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class SharedSocketLoop(asyncio.SelectorEventLoop):
    """asyncio's loop, taking one pending connection each time its listening socket wakes it.

    asyncio accepts every pending connection at once (up to the backlog). Worker
    processes sharing one listening socket all wake for each burst, and the first to run
    takes nearly all of it: 28 of 32 connections measured, leaving the other worker idle.
    Taken one at a time, the workers share the connections.
    """

    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super()._accept_connection(  # type: ignore[misc]
            protocol_factory, sock, sslcontext, server, 1, *args, **kwargs
        )


def uvicorn_loop(event_loop: str, workers: int) -> str:
    """The ``loop`` uvicorn runs for the APP_EVENT_LOOP value ``event_loop``."""
    if event_loop == "asyncio" and workers > 1 and sys.platform != "win32":
        return "app.serving:SharedSocketLoop"
    return event_loop
