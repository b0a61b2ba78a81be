"""`hymt serve --engine openai`: the service in front of a real inference server
(llama-cpp-python's, on loopback, with the fault proxy between)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("llama_cpp")

from tests.inference_server import (  # noqa: E402, F401
    CHAT_PATH,
    FaultProxy,
    llama_server,
    proxy,
    tiny_gguf_pair,
)
from tests.serve_support import serve  # noqa: E402, F401


def test_hymt_serve_in_front_of_the_server(proxy: FaultProxy, serve) -> None:
    """`hymt serve --engine openai`: requests go to the inference server; when
    it is gone, the client gets 503 with one line, not a 500."""
    client = serve("--engine", "openai", "--base-url", proxy.base_url, "--no-memory")
    wait_until_ready(client)
    ok = client.post("/translate", json={"text": "Hello there, reader.",
                                         "target_lang": "de"})
    assert ok.status_code == 200, ok.text
    assert len(proxy.requests()) >= 1
    proxy.always(CHAT_PATH, "drop")
    gone = client.post("/translate", json={"text": "Another sentence to send.",
                                           "target_lang": "de"})
    assert gone.status_code == 503, gone.text
    assert "failed 5 times" in gone.json()["error"]


def wait_until_ready(client) -> None:
    for _ in range(200):
        if client.get("/healthz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(client.get("/healthz").text)
