"""How ``serve`` runs uvicorn: its event loop and its connections."""

import asyncio
import socket

import pytest

from app.serving import SharedSocketLoop, uvicorn_loop


def test_shared_socket_loop_takes_one_pending_connection_per_wake() -> None:
    """Workers on one listening socket each take one connection, not the whole burst."""
    loop = SharedSocketLoop()
    made: list[asyncio.BaseTransport] = []

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        clients = [socket.create_connection(listener.getsockname()) for _ in range(4)]
        try:
            loop._accept_connection(Protocol, listener, backlog=100)
            loop.run_until_complete(asyncio.sleep(0.05))
            assert len(made) == 1
            left = 0
            while True:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    break
                conn.close()
                left += 1
            assert left == 3
        finally:
            for transport in made:
                transport.close()
            for client in clients:
                client.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()


@pytest.mark.parametrize(
    ("setting", "workers", "expected"),
    [
        ("asyncio", 1, "asyncio"),
        ("asyncio", 2, "app.serving:SharedSocketLoop"),
        ("uvloop", 1, "uvloop"),
        ("uvloop", 4, "uvloop"),
    ],
)
def test_the_loop_uvicorn_runs(setting: str, workers: int, expected: str) -> None:
    assert uvicorn_loop(setting, workers) == expected
