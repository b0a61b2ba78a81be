"""Continuous batched decoding on llama.cpp's batch API, one sequence id per segment.

Every `llama_decode` call carries one new token for each running sequence plus,
in the room left (`n_batch`), prompt chunks of newly admitted ones. A sequence
that stops frees its KV cells (`llama_memory_seq_rm`) and its sequence id, and
the next waiting prompt takes them, so the batch stays full until the queue
drains. Admission also keeps the cells reserved (prompt + token budget of every
running sequence) within the context, so a decode never runs out of cells.
"""

from __future__ import annotations

import ctypes
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import llama_cpp
import numpy as np

from hymt_cli.engines.base import Sampling  # noqa: F401  (re-exported)
from hymt_cli.engines.llamacpp_runtime import LlamaModel

StepObserver = Callable[[int], None]
"""Called before each decode with the number of sequences that get a new token."""


@dataclass(slots=True)
class _Sequence:
    """One prompt in flight: its KV sequence id, what is left to feed, its output."""

    index: int
    """Position in the caller's prompt list."""
    slot: int
    """The llama.cpp sequence id it holds."""
    pending: list[int]
    """Tokens still to feed: the prompt (in chunks), then each new token."""
    budget: int
    reserved: int
    """KV cells counted against the context for it (prompt + budget)."""
    pos: int = 0
    seen: set[int] | None = None
    """Prompt and output tokens, kept only for the repetition penalty."""
    out: list[int] = field(default_factory=list)


def pick_token(logits: np.ndarray, sampling: Sampling | None, seen: set[int] | None,
               rng: np.random.Generator | None) -> int:
    """Argmax, or HY-MT sampling: repetition penalty, temperature, top-k, top-p."""
    if sampling is None:
        return int(np.argmax(logits))
    scores = logits.astype(np.float64)
    if seen and sampling.repetition_penalty != 1.0:
        ids = np.fromiter(seen, dtype=np.int64)
        old = scores[ids]
        scores[ids] = np.where(old < 0, old * sampling.repetition_penalty,
                               old / sampling.repetition_penalty)
    scores /= sampling.temperature
    k = min(sampling.top_k, scores.size) if sampling.top_k > 0 else scores.size
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    probs = np.exp(scores[top] - scores[top[0]])
    probs /= probs.sum()
    before = np.cumsum(probs) - probs  # keep the token that crosses top_p
    keep = before <= sampling.top_p if sampling.top_p < 1.0 else slice(None)
    probs, top = probs[keep], top[keep]
    assert rng is not None
    return int(rng.choice(top, p=probs / probs.sum()))


class BatchDecoder:
    """Generates for many prompts at once on one llama.cpp context."""

    def __init__(self, llm: LlamaModel) -> None:
        self.llm = llm
        self.batch = llama_cpp.llama_batch_init(llm.n_batch, 0, 1)
        self.observer: StepObserver | None = None

    def __del__(self) -> None:
        if getattr(self, "batch", None) is not None:
            try:
                llama_cpp.llama_batch_free(self.batch)
            except (AttributeError, TypeError):  # interpreter shutdown
                pass
            self.batch = None

    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        stop_ids: Sequence[int],
        budgets: Sequence[int],
        sampling: Sampling | None = None,
    ) -> list[list[int]]:
        """Generated ids per prompt (stop token excluded), greedy unless `sampling`."""
        if len(budgets) != len(prompts) or (budgets and min(budgets) < 1):
            raise ValueError("need one budget >= 1 per prompt")
        outputs: list[list[int]] = [[] for _ in prompts]
        waiting = deque(range(len(prompts)))
        running: dict[int, _Sequence] = {}
        stops = frozenset(stop_ids)
        rng = np.random.default_rng(sampling.seed) if sampling else None
        llama_cpp.llama_memory_clear(self.llm.memory, True)
        while waiting or running:
            self._admit(waiting, running, prompts, budgets, sampling)
            rows = self._fill(running)
            self._decode()
            for seq, row in rows:
                token = pick_token(self._logits(row), sampling, seq.seen, rng)
                if token in stops or self._record(seq, token):
                    self._finish(seq, running, outputs)
        return outputs

    def _admit(self, waiting: deque[int], running: dict[int, _Sequence],
               prompts: Sequence[Sequence[int]], budgets: Sequence[int],
               sampling: Sampling | None) -> None:
        """Start waiting prompts while a sequence id and enough KV cells are free."""
        used = sum(s.reserved for s in running.values())
        free_slots = [s for s in range(self.llm.n_seq) if s not in running]
        while waiting and free_slots:
            index = waiting[0]
            prompt = list(prompts[index])
            budget = min(budgets[index], self.llm.n_ctx - len(prompt))
            if budget < 1:
                raise ValueError(f"a prompt of {len(prompt)} tokens does not fit the "
                                 f"context of {self.llm.n_ctx} (raise n_ctx)")
            if running and used + len(prompt) + budget > self.llm.n_ctx:
                return
            waiting.popleft()
            slot = free_slots.pop(0)
            penalised = sampling is not None and sampling.repetition_penalty != 1.0
            seen = set(prompt) if penalised else None
            running[slot] = _Sequence(index, slot, prompt, budget,
                                      len(prompt) + budget, seen=seen)
            used += len(prompt) + budget

    def _fill(self, running: dict[int, _Sequence]) -> list[tuple[_Sequence, int]]:
        """Put one step's tokens in the batch; returns (sequence, logits row) pairs."""
        self.batch.n_tokens = 0
        rows: list[tuple[_Sequence, int]] = []
        # New tokens of decoding sequences first, so they always progress.
        order = sorted(running.values(), key=lambda s: len(s.pending) > 1)
        for seq in order:
            room = self.llm.n_batch - self.batch.n_tokens
            if room <= 0:
                break
            chunk, seq.pending = seq.pending[:room], seq.pending[room:]
            for token in chunk:
                self._add(token, seq.pos, seq.slot, logits=False)
                seq.pos += 1
            if not seq.pending:
                self.batch.logits[self.batch.n_tokens - 1] = 1
                rows.append((seq, self.batch.n_tokens - 1))
        if self.observer is not None:
            self.observer(len(rows))
        return rows

    def _add(self, token: int, pos: int, slot: int, logits: bool) -> None:
        i = self.batch.n_tokens
        self.batch.token[i] = token
        self.batch.pos[i] = pos
        self.batch.n_seq_id[i] = 1
        self.batch.seq_id[i][0] = slot
        self.batch.logits[i] = int(logits)
        self.batch.n_tokens = i + 1

    def _decode(self) -> None:
        status = llama_cpp.llama_decode(self.llm.ctx, self.batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed (status {status})")

    def _logits(self, row: int) -> np.ndarray:
        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, row)
        data = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(data, shape=(self.llm.n_vocab,))

    @staticmethod
    def _record(seq: _Sequence, token: int) -> bool:
        """Keep `token`; returns whether the budget is now spent."""
        seq.out.append(token)
        if seq.seen is not None:
            seq.seen.add(token)
        seq.pending = [token]
        return len(seq.out) >= seq.budget

    def _finish(self, seq: _Sequence, running: dict[int, _Sequence],
                outputs: list[list[int]]) -> None:
        """Hand the output back and free the sequence's KV cells and id."""
        outputs[seq.index] = seq.out
        llama_cpp.llama_memory_seq_rm(self.llm.memory, seq.slot, -1, -1)
        del running[seq.slot]
