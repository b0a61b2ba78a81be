"""A real OpenAI-compatible inference server on loopback, and a fault proxy.

`llama_server` starts llama-cpp-python's server (`python -m llama_cpp.server`)
on the tiny random GGUF of `tests/tiny_gguf.py`, once per test session (per
xdist worker). `FaultProxy` sits between hymt and a server and, for the paths it
is told, answers with scripted faults instead of forwarding: an HTTP error with
or without `Retry-After`, a malformed or cut-off body, a dropped connection, a
hang; every request it sees is logged.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.tiny_gguf import tiny_gguf_pair  # noqa: F401

SERVED_MODEL = "tiny-hy-mt"
CHAT_PATH = "/v1/chat/completions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    """A running llama-cpp-python server."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_llama_server(gguf: Path, log: Path, port: int | None = None,
                       alias: str = SERVED_MODEL) -> LlamaServer:
    """Start the server and wait until `/v1/models` answers (or fail with its log)."""
    port = port or free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
         "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--n_threads", "1", "--verbose", "False"],
        stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/models")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def llama_server(tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server on the tiny GGUF."""
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] not installed")
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = start_llama_server(tiny_gguf_pair[1], log)
    yield server
    server.stop()


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes
    at: float
    fault: str | None


@dataclass
class FaultProxy:
    """A loopback HTTP proxy to `upstream` that injects scripted faults.

    `script(path, *faults)` queues faults for requests to `path` (in order; each
    used once); `always(path, fault)` makes every request to it fail. Faults:
    `429` / `429+after=S` (Retry-After S), `500`, `503`, `401`, `400`,
    `garbage` (200 with a non-JSON body), `cut` (200 whose body stops halfway),
    `drop` (connection closed without an answer), `hang=S` (answers after S s).
    """

    upstream: str
    """host:port of the real server."""
    seen: list[Seen] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, path: str, *faults: str) -> None:
        self.faults.setdefault(path, []).extend(faults)

    def always(self, path: str, fault: str | None) -> None:
        if fault is None:
            self.permanent.pop(path, None)
        else:
            self.permanent[path] = fault

    def requests(self, path: str = CHAT_PATH) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def take_fault(self, path: str) -> str | None:
        if path in self.permanent:
            return self.permanent[path]
        queue = self.faults.get(path)
        return queue.pop(0) if queue else None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.take_fault(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.seen.append(Seen(self.command, self.path, headers,
                                       body, time.monotonic(), fault))
                if fault is None or fault.startswith("hang="):
                    if fault is not None:
                        time.sleep(float(fault.split("=", 1)[1]))
                    self._forward(body)
                else:
                    self._fail(fault)

            def _forward(self, body: bytes) -> None:
                host, port = proxy.upstream.rsplit(":", 1)
                conn = http.client.HTTPConnection(host, int(port), timeout=120)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                try:
                    conn.request(self.command, self.path, body=body or None,
                                 headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                except OSError:
                    self._fail("drop")
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding",
                                           "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fail(self, fault: str) -> None:
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault in ("garbage", "cut"):
                    data = (b"<html>upstream error</html>" if fault == "garbage"
                            else json.dumps({"id": "x", "choices": []}).encode())
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data) * 2 if fault == "cut"
                                                           else len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2] if fault == "cut" else data)
                    if fault == "cut":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, _, after = fault.partition("+after=")
                data = json.dumps({"error": {"message": f"injected {status}"}}).encode()
                self.send_response(int(status))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if after:
                    self.send_header("Retry-After", after)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's llama server."""
    fault_proxy = FaultProxy(f"127.0.0.1:{llama_server.port}").start()
    yield fault_proxy
    fault_proxy.stop()
