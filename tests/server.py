"""Run ``article-facts serve`` as a real process for the tests that need one."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        """Everything the server wrote, once it has exited."""
        self.process.wait(timeout=30)
        return self.log.read_text("utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, **env: str) -> Iterator[Server]:
    """Start the server on ``database_url``, wait until it answers, and stop it afterwards."""
    port = free_port()
    environment = {
        **os.environ,
        "APP_DATABASE_URL": database_url,
        "APP_PORT": str(port),
        **env,
    }
    script = Path(sys.executable).with_name("article-facts")
    # A file, not a pipe: a pipe nobody reads fills up and stalls a busy server's logging.
    log = Path(tempfile.mkdtemp(prefix="article-facts-serve-")) / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(script), "serve"], env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(f"server exited early:\n{server.output()}")
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
