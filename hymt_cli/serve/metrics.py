"""The service's metrics, written in the Prometheus text exposition format.

A few counters, gauges and histograms, kept by hand (no client library): every
update takes one lock, and `Metrics.render` writes them all in format 0.0.4
(`# HELP`, `# TYPE`, one sample per line, histograms as cumulative `_bucket`
lines with `le`, then `_sum` and `_count`).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterator

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of the exposition format."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0, 60.0, 120.0, 300.0)
"""Request latency bucket bounds, in seconds."""

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""Segments-per-engine-call bucket bounds."""

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return "{" + ",".join(f'{k}="{escaped(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, lock: threading.Lock) -> None:
        self.name, self.help, self._lock = name, help, lock

    def lines(self) -> Iterator[str]:
        """The metric's exposition lines, header first."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        yield from self.samples()

    def samples(self) -> Iterator[str]:
        """The sample lines."""
        raise NotImplementedError


class Counter(_Metric):
    """A count that only goes up, per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str, lock: threading.Lock) -> None:
        super().__init__(name, help, lock)
        self._values: dict[Labels, float] = {}

    def inc(self, amount: float = 1, **labels: str) -> None:
        """Add `amount` to the count of `labels`."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def value(self, **labels: str) -> float:
        """The count of `labels`."""
        with self._lock:
            return self._values.get(tuple(sorted(labels.items())), 0)

    def samples(self) -> Iterator[str]:
        """One line per label set (an unlabelled counter starts at 0)."""
        with self._lock:
            values = dict(self._values) or {(): 0}
        for labels, value in sorted(values.items()):
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class Gauge(_Metric):
    """A value that goes up and down, or is read when rendered."""

    kind = "gauge"

    def __init__(self, name: str, help: str, lock: threading.Lock,
                 read: Callable[[], float] | None = None) -> None:
        super().__init__(name, help, lock)
        self._value = 0.0
        self.read = read
        """Reads the value when rendered (e.g. a queue length); None: the set value."""

    def set(self, value: float) -> None:
        """Set the value."""
        with self._lock:
            self._value = value

    def add(self, amount: float) -> None:
        """Add `amount` (negative to subtract)."""
        with self._lock:
            self._value += amount

    def samples(self) -> Iterator[str]:
        """One line: the value, read now when the gauge has a reader."""
        value = self.read() if self.read is not None else self._value
        yield f"{self.name} {_number(value)}"


class Histogram(_Metric):
    """Observations counted in cumulative buckets, per label set."""

    kind = "histogram"

    def __init__(self, name: str, help: str, lock: threading.Lock,
                 buckets: tuple[float, ...]) -> None:
        super().__init__(name, help, lock)
        self.buckets = tuple(sorted(buckets))
        self._data: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        """Count `value` in its bucket (and every larger one, when rendered)."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts, total = self._data.setdefault(
                key, ([0] * (len(self.buckets) + 1), [0.0]))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            total[0] += value

    def samples(self) -> Iterator[str]:
        """`_bucket` lines (cumulative, `+Inf` last), `_sum` and `_count`."""
        with self._lock:
            data = {k: (list(c), t[0]) for k, (c, t) in self._data.items()}
        for labels, (counts, total) in sorted(data.items()):
            running = 0
            for bound, count in zip((*self.buckets, math.inf), counts):
                running += count
                le = labels + (("le", _number(bound)),)
                yield f"{self.name}_bucket{_labels(le)} {running}"
            yield f"{self.name}_sum{_labels(labels)} {_number(total)}"
            yield f"{self.name}_count{_labels(labels)} {running}"


class Metrics:
    """Every metric of one service."""

    def __init__(self) -> None:
        lock = threading.Lock()
        self.requests = Counter(
            "hymt_requests_total", "HTTP requests by endpoint and status code.", lock)
        self.latency = Histogram(
            "hymt_request_duration_seconds", "HTTP request latency by endpoint.",
            lock, LATENCY_BUCKETS)
        self.segments = Counter(
            "hymt_segments_total", "Segments in translated documents.", lock)
        self.from_memory = Counter(
            "hymt_segments_from_memory_total",
            "Segments (or pieces) answered by the translation memory.", lock)
        self.tokens = Counter(
            "hymt_tokens_generated_total",
            "Tokens the engine generated (engines that report them).", lock)
        self.engine_calls = Counter(
            "hymt_engine_calls_total", "Calls of the engine (merged batches).", lock)
        self.batch_sizes = Histogram(
            "hymt_batch_size", "Segments per engine call.", lock, BATCH_BUCKETS)
        self.queue_depth = Gauge(
            "hymt_queue_depth", "Translate requests running or waiting.", lock)
        self.pending = Gauge(
            "hymt_pending_segments", "Segments waiting for an engine call.", lock)
        self.engine_loaded = Gauge(
            "hymt_engine_loaded", "1 once the engine is loaded and ready.", lock)

    def all(self) -> tuple[_Metric, ...]:
        """Every metric, in rendering order."""
        return (self.requests, self.latency, self.segments, self.from_memory,
                self.tokens, self.engine_calls, self.batch_sizes, self.queue_depth,
                self.pending, self.engine_loaded)

    def render(self) -> str:
        """The exposition text of every metric."""
        return "".join(line + "\n" for metric in self.all() for line in metric.lines())
