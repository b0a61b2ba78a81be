"""Helpers for the `hymt serve` tests: a real uvicorn server on a free loopback
port, an HTTP client, and scripted engines registered for the tests that need
them (the served pipeline is always the real one)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer

from hymt_cli import cli, engines
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.engines.pseudo import pseudo_translate

try:  # httpx2 is httpx's successor (openai installs it); httpx has the same API
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the environment
    import httpx  # type: ignore[no-redef]

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")

from hymt_cli.serve import options, server  # noqa: E402 - after the skip

__all__ = ["httpx", "Recorder", "serve_config", "pseudo_paragraphs", "parse_metrics"]


def serve_config(*args: str, cwd: Path | None = None) -> options.ServeConfig:
    """The `ServeConfig` that `hymt serve ARGS --port 0` builds."""
    group: Any = typer.main.get_command(cli.app)
    command = group.commands["serve"]
    context = command.make_context("serve", [*args, "--port", "0"])
    return options.from_values(dict(context.params), cwd)


@pytest.fixture()
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[Callable[..., httpx.Client]]:
    """Start `hymt serve ARGS` on a free port; an HTTP client for it. Every
    server is stopped at the end of the test."""
    monkeypatch.chdir(tmp_path)  # no project file from the repository
    monkeypatch.delenv(options.API_KEY_ENV, raising=False)
    started: list[tuple[server.Running, httpx.Client]] = []

    def start(*args: str, timeout: float = 60) -> httpx.Client:
        running = server.start_in_thread(serve_config(*args, cwd=tmp_path))
        client = httpx.Client(base_url=running.address, timeout=timeout)
        started.append((running, client))
        return client

    yield start
    for running, client in started:
        client.close()
        running.stop()


def pseudo_paragraphs(text: str) -> str:
    """What the pseudo engine makes of a plain text of blank-line paragraphs."""
    return "\n\n".join(pseudo_translate(p) for p in text.split("\n\n"))


class Recorder(EngineBase):
    """Pseudo-translates, recording every batch; `gate` (when set) holds each call
    until it is set, so a test can keep requests in flight."""

    name = "recorder"
    batches: list[list[Request]] = []
    gate: threading.Event | None = None
    fail: str = ""
    """When set, every call raises RuntimeError with this message."""

    def __init__(self, **options: Any) -> None:
        self.batch_size = int(options.get("batch_size") or 16)

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Record, wait for the gate, answer like `pseudo`."""
        Recorder.batches.append(list(requests))
        if Recorder.gate is not None:
            Recorder.gate.wait(timeout=30)
        if Recorder.fail:
            raise RuntimeError(Recorder.fail)
        return [pseudo_translate(r.text) for r in requests]


@pytest.fixture()
def recorder() -> Iterator[type[Recorder]]:
    """The `recorder` engine, registered and reset for one test."""
    Recorder.batches, Recorder.gate, Recorder.fail = [], None, ""
    engines.register("recorder", Recorder)
    yield Recorder
    if Recorder.gate is not None:
        Recorder.gate.set()
    Recorder.gate = None


_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?'
    r" (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Parse Prometheus text format strictly: every line a HELP/TYPE comment or a
    sample; each sample's metric announced by a TYPE line. name -> labels -> value."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    typed: dict[str, str] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            typed[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or (base in typed and typed[base] == "histogram"), name
        key = tuple(sorted(_LABEL.findall(labels)))
        samples.setdefault(name, {})[key] = float(value)
    return samples
