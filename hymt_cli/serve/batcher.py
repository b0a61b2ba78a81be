"""Dynamic batching: the segments of concurrent requests share engine calls.

Each HTTP request runs the ordinary pipeline on a worker thread, with a
`BatchingEngine` of its own as the engine. Its `translate_batch` puts the
requests into the `Batcher`'s queue with a future and waits. The batcher's one
thread takes the oldest waiting call, gathers more until the batch is full or
`wait_s` has passed, calls the real engine once for the merged list, and hands
each caller its answers in order; an error of the real engine goes to every
caller of that batch. Only the batcher thread ever runs the real engine, so an
engine need not be thread-safe; token counting, which every request does while
preparing its segments, is serialised by a lock of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from hymt_cli.engines.base import DEFAULT_BATCH_SIZE, Engine, EngineBase, Request
from hymt_cli.serve.metrics import Metrics

log = logging.getLogger(__name__)


class DeadlineExceeded(Exception):
    """A request ran past its time; its waiting segments are withdrawn."""


class EngineUnavailable(Exception):
    """The engine failed to load, or the service is stopping."""


@dataclass(slots=True)
class _Call:
    """One `translate_batch` of one request, waiting for the batcher."""

    requests: list[Request]
    future: Future[list[str]] = field(default_factory=Future)


class Batcher:
    """Owns the real engine: loads it, then answers merged batches on one thread."""

    def __init__(self, engine: Engine, wait_s: float, metrics: Metrics,
                 batch_size: int | None = None) -> None:
        self.engine, self.wait_s, self.metrics = engine, wait_s, metrics
        self._size = batch_size
        self._calls: deque[_Call] = deque()
        self._ready = threading.Condition()
        self._count_lock = threading.Lock()
        self._size_lock = threading.Lock()
        self._stopping = False
        self.state = "loading"
        """`loading`, `ready` or `failed` (see `error`)."""
        self.error = ""
        self.fingerprint = engine.fingerprint
        """The engine's fingerprint, read once (memory keys)."""
        self._thread = threading.Thread(target=self._serve, name="hymt-batcher",
                                        daemon=True)

    def start(self) -> None:
        """Start the batcher thread; it loads the engine first."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in flight; calls still waiting fail."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        self._thread.join(timeout=60)

    @property
    def batch_size(self) -> int:
        """Segments per engine call: as configured, else the engine's own (asked
        once: sizing may import torch, and requests may ask while it loads)."""
        with self._size_lock:
            if self._size is None:
                self._size = max(1, self.engine.batch_size or DEFAULT_BATCH_SIZE)
            return self._size

    def count_tokens(self, text: str) -> int:
        """The engine's token count, one caller at a time."""
        with self._count_lock:
            return self.engine.count_tokens(text)

    def pending(self) -> int:
        """Segments waiting for an engine call."""
        with self._ready:
            return sum(len(c.requests) for c in self._calls)

    def submit(self, requests: Sequence[Request]) -> Future[list[str]]:
        """Queue `requests` for the next batch; the future gets their answers."""
        call = _Call(list(requests))
        with self._ready:
            if self._stopping or self.state == "failed":
                call.future.set_exception(self._unavailable())
                return call.future
            self._calls.append(call)
            self._ready.notify_all()
        return call.future

    def _unavailable(self) -> EngineUnavailable:
        if self.state == "failed":
            return EngineUnavailable(f"the engine failed to load: {self.error}")
        return EngineUnavailable("the service is stopping")

    def _serve(self) -> None:
        if self._load():
            while (calls := self._gather()):
                self._answer(calls)
        self._fail_waiting()

    def _load(self) -> bool:
        """Load the engine's model now (engines with a `load` step), so the first
        request does not wait for it and `/healthz` can say when it is ready."""
        try:
            load = getattr(self.engine, "load", None)
            if callable(load):
                load()
            self.batch_size  # noqa: B018 - sized once, on this thread
        except Exception as exc:  # reported by /healthz and to every request
            log.error("the engine failed to load: %s", exc, exc_info=True)
            self.error, self.state = f"{type(exc).__name__}: {exc}", "failed"
            return False
        self.state = "ready"
        self.metrics.engine_loaded.set(1)
        return True

    def _gather(self) -> list[_Call]:
        """The oldest waiting call and those that join it within `wait_s`, until a
        batch is full; [] when stopping."""
        with self._ready:
            while not self._calls and not self._stopping:
                self._ready.wait()
            if self._stopping:
                return []
            calls = [self._calls.popleft()]
            size = len(calls[0].requests)
            deadline = time.monotonic() + self.wait_s
            while size < self.batch_size and not self._stopping:
                if self._calls:
                    calls.append(self._calls.popleft())
                    size += len(calls[-1].requests)
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            return calls

    def _answer(self, calls: list[_Call]) -> None:
        """One engine call for every live call of the batch; answers in order."""
        live = [c for c in calls if c.future.set_running_or_notify_cancel()]
        merged = [r for c in live for r in c.requests]
        if not merged:
            return
        self.metrics.batch_sizes.observe(len(merged))
        self.metrics.engine_calls.inc()
        try:
            answers = self.engine.translate_batch(merged)
            if len(answers) != len(merged):
                raise RuntimeError(f"engine {self.engine.name} returned "
                                   f"{len(answers)} answers for {len(merged)}")
        except BaseException as exc:  # every caller of this batch gets it
            for call in live:
                call.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        start = 0
        for call in live:
            call.future.set_result(answers[start : start + len(call.requests)])
            start += len(call.requests)

    def _fail_waiting(self) -> None:
        with self._ready:
            waiting, self._calls = list(self._calls), deque()
        for call in waiting:
            if call.future.set_running_or_notify_cancel():
                call.future.set_exception(self._unavailable())


class BatchingEngine(EngineBase):
    """One request's engine: its batches go through the shared `Batcher`.

    Name, fingerprint, batch size and token counts are the real engine's, so
    memory keys, gates and splitting are exactly those of `hymt translate`.
    Past `deadline` (a `time.monotonic()` value) it raises `DeadlineExceeded`
    and withdraws what it still waits for.
    """

    def __init__(self, batcher: Batcher, deadline: float) -> None:
        self.batcher, self.deadline = batcher, deadline
        self.name = batcher.engine.name
        self.calls = 0
        """Engine calls this request's segments took part in."""

    @property
    def fingerprint(self) -> str:
        """The real engine's fingerprint."""
        return self.batcher.fingerprint

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        """The batcher's batch size."""
        return self.batcher.batch_size

    def count_tokens(self, text: str) -> int:
        """Tokens as the real engine counts them."""
        return self.batcher.count_tokens(text)

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Answers from the next shared batch; `DeadlineExceeded` past the deadline."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("the request took too long")
        future = self.batcher.submit(requests)
        try:
            answers = future.result(timeout=left)
        except FutureTimeout:
            future.cancel()  # withdrawn unless its batch already runs
            raise DeadlineExceeded("the request took too long") from None
        self.calls += 1
        return answers
