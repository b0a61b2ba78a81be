"""The batcher and the metrics on their own, without HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.languages import resolve
from hymt_cli.serve.batcher import Batcher, BatchingEngine, DeadlineExceeded
from hymt_cli.serve.metrics import Metrics
from tests.serve_support import parse_metrics

GERMAN = resolve("de")


class Upper(EngineBase):
    """Upper-cases; records each call; `hold` keeps a call waiting."""

    name = "upper"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.error: Exception | None = None

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.calls.append([r.text for r in requests])
        self.hold.wait(10)
        if self.error is not None:
            raise self.error
        return [r.text.upper() for r in requests]


def requests(*texts: str) -> list[Request]:
    return [Request(text, GERMAN) for text in texts]


@pytest.fixture()
def upper():
    engine = Upper()
    batcher = Batcher(engine, wait_s=10, metrics=Metrics(), batch_size=4)
    batcher.start()
    yield engine, batcher
    engine.hold.set()
    batcher.stop()


def test_calls_are_merged_up_to_the_batch_size_and_answered_in_order(upper) -> None:
    engine, batcher = upper
    first = batcher.submit(requests("a", "b"))
    second = batcher.submit(requests("c", "d"))  # fills the batch: no waiting
    assert first.result(5) == ["A", "B"] and second.result(5) == ["C", "D"]
    assert engine.calls == [["a", "b", "c", "d"]]
    metrics = parse_metrics(batcher.metrics.render())
    assert metrics["hymt_batch_size_bucket"][(("le", "4"),)] == 1
    assert metrics["hymt_engine_calls_total"][()] == 1


def test_an_engine_error_goes_to_every_caller_of_the_batch(upper) -> None:
    engine, batcher = upper
    engine.error = ValueError("broken")
    futures = [batcher.submit(requests("a", "b")), batcher.submit(requests("c", "d"))]
    for future in futures:
        with pytest.raises(ValueError, match="broken"):
            future.result(5)
    assert len(engine.calls) == 1


def test_a_late_request_is_withdrawn_from_the_queue(upper) -> None:
    engine, batcher = upper
    engine.hold.clear()
    busy = batcher.submit(requests("a", "b", "c", "d"))  # holds the engine
    late = BatchingEngine(batcher, deadline=time.monotonic() + 0.2)
    with pytest.raises(DeadlineExceeded):
        late.translate_batch(requests("late"))
    assert late.calls == 0
    engine.hold.set()
    assert busy.result(5) == ["A", "B", "C", "D"]
    assert batcher.submit(requests("x", "y", "z", "w")).result(5) == ["X", "Y", "Z", "W"]
    assert ["late"] not in engine.calls and all("late" not in c for c in engine.calls)


def test_batching_engine_delegates_identity(upper) -> None:
    engine, batcher = upper
    view = BatchingEngine(batcher, deadline=time.monotonic() + 10)
    assert (view.name, view.fingerprint, view.batch_size) == ("upper", "upper", 4)
    assert view.count_tokens("abcdefgh") == engine.count_tokens("abcdefgh")
    assert view.translate_batch(requests("a", "b", "c", "d")) == ["A", "B", "C", "D"]
    assert view.calls == 1


def test_stopping_fails_the_waiting_calls() -> None:
    engine = Upper()
    engine.hold.clear()
    batcher = Batcher(engine, wait_s=10, metrics=Metrics(), batch_size=1)
    batcher.start()
    running = batcher.submit(requests("a"))
    while not engine.calls:
        time.sleep(0.01)
    waiting = batcher.submit(requests("b"))
    stopper = threading.Thread(target=batcher.stop)
    stopper.start()
    engine.hold.set()
    stopper.join(10)
    assert running.result(5) == ["A"]
    with pytest.raises(Exception, match="the service is stopping"):
        waiting.result(5)


def test_metrics_text_escapes_labels_and_accumulates_buckets() -> None:
    metrics = Metrics()
    metrics.requests.inc(endpoint='/a"b\\c\nd', status="200")
    for seconds in (0.001, 0.3, 400):
        metrics.latency.observe(seconds, endpoint="/x")
    text = metrics.render()
    assert 'hymt_requests_total{endpoint="/a\\"b\\\\c\\nd",status="200"} 1\n' in text
    parsed = parse_metrics(text)
    buckets = parsed["hymt_request_duration_seconds_bucket"]
    assert buckets[(("endpoint", "/x"), ("le", "0.005"))] == 1
    assert buckets[(("endpoint", "/x"), ("le", "0.5"))] == 2
    assert buckets[(("endpoint", "/x"), ("le", "300"))] == 2
    assert buckets[(("endpoint", "/x"), ("le", "+Inf"))] == 3
    assert parsed["hymt_request_duration_seconds_sum"][(("endpoint", "/x"),)] == 400.301
