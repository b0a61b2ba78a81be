"""Batched decoding with a shrinking KV cache: finished rows leave the batch.

Phases follow gpt-fast: `prefill` runs the left-padded prompts once, `decode_step`
feeds one token per running row. Unlike `model.generate`, rows that hit a stop
token or their own token budget are dropped from the input, the attention mask and
the `DynamicCache` right away, so memory and compute shrink as the batch drains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from hymt_cli.engines.base import Sampling  # noqa: F401  (re-exported)

StepObserver = Callable[[int, DynamicCache], None]
"""Called after each forward pass with the number of running rows and the cache."""


@dataclass(slots=True)
class _Batch:
    """The running rows of one batch; every tensor's first dim is the row count."""

    rows: torch.Tensor
    """[B] index of each running row in the caller's list."""
    mask: torch.Tensor
    """[B, S] attention mask over cached positions (0 on left padding)."""
    positions: torch.Tensor
    """[B] position id of the last token fed."""
    cache: DynamicCache
    seen: torch.Tensor | None = None
    """[B, V] tokens in prompt or output, for the repetition penalty."""
    outputs: list[list[int]] = field(default_factory=list)


def left_pad(
    prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Input ids and attention mask, both [B, S], padded on the left."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        mask[row, width - len(prompt) :] = 1
    return ids.to(device), mask.to(device)


def _penalize(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    # CTRL-style penalty, as in transformers: shrink logits of tokens already seen.
    scaled = torch.where(logits < 0, logits * penalty, logits / penalty)
    return torch.where(seen, scaled, logits)


def _top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        ordered, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = ordered.softmax(-1).cumsum(-1)
        drop = cumulative - ordered.softmax(-1) > top_p  # keep the token crossing top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


def next_tokens(
    logits: torch.Tensor,
    sampling: Sampling | None,
    seen: torch.Tensor | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """[B] next token per row from last-position logits [B, V]: argmax or a sample."""
    if sampling is None:
        return logits.argmax(-1)
    logits = logits.float()
    if seen is not None and sampling.repetition_penalty != 1.0:
        logits = _penalize(logits, seen, sampling.repetition_penalty)
    logits = _top_k_top_p(logits / sampling.temperature, sampling.top_k, sampling.top_p)
    probs = logits.softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _forward(
    model: torch.nn.Module, ids: torch.Tensor, batch: _Batch, pos: torch.Tensor
) -> torch.Tensor:
    out = model(
        input_ids=ids,
        attention_mask=batch.mask,
        position_ids=pos,
        cache=batch.cache,
        use_cache=True,
        logits_to_keep=1,
    )
    return out.logits[:, -1, :]


def prefill(
    model: torch.nn.Module,
    ids: torch.Tensor,
    mask: torch.Tensor,
    sampling: Sampling | None,
) -> tuple[_Batch, torch.Tensor]:
    """Run the padded prompts [B, S]; returns the batch state and logits [B, V]."""
    # Left padding: count positions from each row's first real token.
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    batch = _Batch(
        rows=torch.arange(ids.shape[0], device=ids.device),
        mask=mask,
        positions=positions[:, -1],
        cache=DynamicCache(config=model.config),
        outputs=[[] for _ in range(ids.shape[0])],
    )
    if sampling is not None and sampling.repetition_penalty != 1.0:
        vocab = model.config.vocab_size
        seen = torch.zeros((ids.shape[0], vocab), dtype=torch.bool, device=ids.device)
        real = mask.bool()
        rows = torch.arange(ids.shape[0], device=ids.device)[:, None].expand_as(ids)
        seen[rows[real], ids[real]] = True
        batch.seen = seen
    return batch, _forward(model, ids, batch, positions)


def decode_step(
    model: torch.nn.Module, batch: _Batch, tokens: torch.Tensor
) -> torch.Tensor:
    """Feed one token per running row [B]; returns logits [B, V]."""
    batch.positions = batch.positions + 1
    ones = torch.ones_like(batch.mask[:, :1])
    batch.mask = torch.cat([batch.mask, ones], dim=-1)
    return _forward(model, tokens[:, None], batch, batch.positions[:, None])


def _trim_left_padding(batch: _Batch) -> None:
    """Drop leading cache columns that no remaining row attends to."""
    empty = int((batch.mask.sum(0) == 0).long().cumprod(0).sum())
    if empty == 0:
        return
    batch.mask = batch.mask[:, empty:]
    for layer in batch.cache.layers:
        if getattr(layer, "keys", None) is not None and layer.keys.numel():
            layer.keys = layer.keys[:, :, empty:]
            layer.values = layer.values[:, :, empty:]


def evict(batch: _Batch, keep: torch.Tensor) -> None:
    """Keep only rows `keep` (indices into the running batch) everywhere."""
    batch.rows = batch.rows[keep]
    batch.mask = batch.mask[keep]
    batch.positions = batch.positions[keep]
    batch.cache.batch_select_indices(keep)
    if batch.seen is not None:
        batch.seen = batch.seen[keep]
    _trim_left_padding(batch)


def _record(
    batch: _Batch, tokens: torch.Tensor, stop_ids: torch.Tensor, budgets: torch.Tensor
) -> torch.Tensor:
    """Append each row's token unless it stops; returns [B] bool 'row finished'."""
    stopped = torch.isin(tokens, stop_ids)
    for row, token, stop in zip(batch.rows.tolist(), tokens.tolist(), stopped.tolist()):
        if not stop:
            batch.outputs[row].append(token)
    lengths = torch.tensor([len(batch.outputs[r]) for r in batch.rows.tolist()])
    if batch.seen is not None:
        batch.seen.scatter_(1, tokens[:, None], True)
    return stopped | (lengths.to(tokens.device) >= budgets[batch.rows])


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    *,
    pad_id: int,
    stop_ids: Sequence[int],
    max_new_tokens: Sequence[int],
    sampling: Sampling | None = None,
    observer: StepObserver | None = None,
) -> list[list[int]]:
    """Generated ids per prompt (stop token excluded), greedy unless `sampling`.

    Row i stops at a token in `stop_ids` or after `max_new_tokens[i]` (>= 1) tokens.
    """
    if not prompts:
        return []
    if min(max_new_tokens) < 1 or len(max_new_tokens) != len(prompts):
        raise ValueError("need one max_new_tokens >= 1 per prompt")
    device = next(model.parameters()).device
    ids, mask = left_pad(prompts, pad_id, device)
    stops = torch.tensor(sorted(stop_ids), dtype=torch.long, device=device)
    budgets = torch.tensor(max_new_tokens, dtype=torch.long, device=device)
    generator = None
    if sampling is not None and sampling.seed is not None:
        generator = torch.Generator(device=device).manual_seed(sampling.seed)
    batch, logits = prefill(model, ids, mask, sampling)
    while True:
        if observer is not None:
            observer(len(batch.rows), batch.cache)
        tokens = next_tokens(logits, sampling, batch.seen, generator)
        finished = _record(batch, tokens, stops, budgets)
        if bool(finished.all()):
            return batch.outputs
        if bool(finished.any()):
            keep = (~finished).nonzero().squeeze(-1)
            tokens = tokens[keep]
            evict(batch, keep)
        logits = decode_step(model, batch, tokens)
