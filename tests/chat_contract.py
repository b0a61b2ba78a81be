"""What every chat engine (hf, llamacpp) must do, checked the same way for each."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hymt_cli.engines.base import Request, Sampling


def assert_retry_samples(
    engine: Any, requests: list[Request], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """A retry decodes with HY-MT's sampling, seeded by the attempt: its answer
    differs from the greedy one and repeats itself. Returns the greedy answers."""
    calls: list[tuple[Sampling | None, list[Any]]] = []
    real = engine.generate

    def spy(prompts: list[Any], budgets: list[int], sampling: Sampling | None = None):
        outputs = real(prompts, budgets, sampling)
        calls.append((sampling, outputs))
        return outputs

    monkeypatch.setattr(engine, "generate", spy)
    first = engine.translate_batch(requests)
    retry = [replace(r, attempt=1) for r in requests]
    assert engine.translate_batch(retry) == engine.translate_batch(retry)
    assert [s for s, _ in calls] == [None, Sampling(seed=1), Sampling(seed=1)]
    assert calls[0][1] != calls[1][1] and calls[1][1] == calls[2][1]
    return first


def assert_reports_tokens(
    engine: Any, requests: list[Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    """During `translate_batch` the engine tells `on_tokens` each step's new tokens;
    they add up to the tokens it generated (kept ones, and each stop token)."""
    reported: list[int] = []
    sampled: list[int] = []
    real = engine.generate

    def spy(prompts: list[Any], budgets: list[int], sampling: Sampling | None = None):
        before = len(reported)
        outputs = real(prompts, budgets, sampling)
        assert len(reported) - before > 1  # step by step, not once at the end
        sampled.extend(len(o) + (len(o) < b) for o, b in zip(outputs, budgets))
        return outputs

    monkeypatch.setattr(engine, "generate", spy)
    monkeypatch.setattr(engine, "on_tokens", reported.append)
    engine.translate_batch(requests)
    assert sampled and sum(reported) == sum(sampled)
