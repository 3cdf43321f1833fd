"""What ``serve`` gives uvicorn beyond its settings."""

import asyncio
import socket

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
