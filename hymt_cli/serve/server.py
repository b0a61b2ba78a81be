"""Run the service on uvicorn: in the foreground (`hymt serve`) or on a thread.

The socket is bound here, before uvicorn starts, so a taken port is one error
line (and port 0 picks a free one, which `address` then tells).
"""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from types import FrameType

import uvicorn

from hymt_cli.errors import UsageError
from hymt_cli.serve.app import create_app
from hymt_cli.serve.options import ServeConfig
from hymt_cli.serve.service import Service


class _Server(uvicorn.Server):
    """uvicorn's server, which after a graceful stop on SIGINT or SIGTERM does
    not raise the signal again (uvicorn >= 0.29 does, for embedding programs):
    `hymt serve` then closes the memory and exits 0."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port`; `UsageError` when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         "choose another --port or --host") from None
    return sock


@dataclass
class Running:
    """A service and its uvicorn server, started by `start`."""

    service: Service
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """The base URL clients use, e.g. `http://127.0.0.1:8080`."""
        host, port = self.sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def run(self) -> None:
        """Serve until the server is told to stop (Ctrl-C in the foreground)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()

    def stop(self) -> None:
        """Stop serving, wait for the thread, close the service."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=30)
        self.service.close()


def start(config: ServeConfig, log_level: str = "info") -> Running:
    """Bind, start the service (engine, memory, batcher) and build the server."""
    sock = bind(config.host, config.port)
    try:
        service = Service.start(config)
    except BaseException:
        sock.close()
        raise
    app = create_app(service)
    server = _Server(uvicorn.Config(app, log_level=log_level,
                                           timeout_graceful_shutdown=10))
    return Running(service, server, sock)


def start_in_thread(config: ServeConfig, log_level: str = "warning") -> Running:
    """`start`, then serve on a daemon thread until `stop()`; returns once the
    server accepts connections."""
    running = start(config, log_level)
    running.thread = threading.Thread(target=running.run, name="hymt-serve",
                                      daemon=True)
    running.thread.start()
    while not running.server.started:
        if not running.thread.is_alive():
            running.service.close()
            raise RuntimeError("the server stopped while starting")
        running.thread.join(timeout=0.02)
    return running


def run_until_stopped(config: ServeConfig) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    running = start(config)
    engine = running.service.batcher.engine.name
    print(f"hymt serve: {running.address} (engine {engine}; API docs at "
          f"{running.address}/docs)", file=sys.stderr, flush=True)
    try:
        running.run()
    finally:
        running.service.close()
