"""Loading an HY-MT checkpoint with transformers: device, dtype, threads, stop ids."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from hymt_cli.engines.chat import TURN_END_TOKEN

logger = logging.getLogger(__name__)

def pick_device(device: str = "auto") -> torch.device:
    """`auto` is CUDA when available, else MPS, else CPU; other values as given."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """`auto` is bfloat16 on accelerators and float32 on CPU (bf16 matmuls are slow
    on most CPUs); otherwise a torch dtype name such as `float16`."""
    if dtype == "auto":
        return torch.float32 if device.type == "cpu" else torch.bfloat16
    value = getattr(torch, dtype, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r} (try auto, float32, bfloat16)")
    return value


def default_threads() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op thread count explicitly; returns the count used."""
    count = threads or default_threads()
    torch.set_num_threads(count)
    return count


def load_tokenizer(path: Path) -> Any:
    """The checkpoint's own tokenizer (with its chat template)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"the tokenizer in {path} has no chat template")
    return tokenizer


def load_model(
    path: Path, device: torch.device, dtype: torch.dtype, attn: str | None = None
) -> torch.nn.Module:
    """The causal LM in eval mode on `device`; quantisation comes from its config.

    GPTQ checkpoints go through gptqmodel, which picks its kernel at load time for
    the device it is given, so they are placed by `device_map` and never moved.
    """
    from transformers import AutoModelForCausalLM

    from hymt_cli.quantize import is_gptq_checkpoint

    options: dict[str, Any] = {"dtype": dtype}
    if attn is not None:
        options["attn_implementation"] = attn
    if not is_gptq_checkpoint(path):
        return AutoModelForCausalLM.from_pretrained(path, **options).to(device).eval()
    _require_gptq_runtime(device)
    if device.type == "cuda" and dtype == torch.float32:
        options["dtype"] = torch.float16  # the fast int4 kernels take fp16/bf16 only
    model = AutoModelForCausalLM.from_pretrained(path, device_map=str(device), **options)
    return model.eval()


def _require_gptq_runtime(device: torch.device) -> None:
    from hymt_cli.quantize import QuantizeError, import_gptqmodel

    if device.type not in ("cpu", "cuda"):
        raise QuantizeError(f"GPTQ int4 checkpoints run on cpu or cuda, not {device.type}"
                            " (try --device cpu)")
    import_gptqmodel()
    try:
        import optimum  # noqa: F401
    except ImportError:
        raise QuantizeError("loading a GPTQ checkpoint needs optimum: "
                            "pip install 'hymt-cli[int4]'") from None


KV_RESERVE = 0.5
"""Share of free memory the KV cache of one batch may take."""
TYPICAL_SEQUENCE = 768
"""Prompt plus answer tokens assumed per row when sizing batches."""


def default_batch_size(device: torch.device, config: dict[str, Any]) -> int:
    """Rows per batch from free memory and the KV cache a row needs (1-64; at most
    8 on CPU, where compute, not memory, is the limit)."""
    heads = config.get("num_key_value_heads") or config.get("num_attention_heads", 1)
    head_dim = config.get("head_dim") or config.get("hidden_size", 1) // config.get(
        "num_attention_heads", 1)
    per_token = 2 * config.get("num_hidden_layers", 1) * heads * head_dim * 2  # bf16
    free = _free_memory(device)
    rows = int(free * KV_RESERVE) // max(1, per_token * TYPICAL_SEQUENCE)
    return max(1, min(rows, 8 if device.type == "cpu" else 64))


def _free_memory(device: torch.device) -> int:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _as_ids(value: int | Iterable[int] | None) -> set[int]:
    if value is None:
        return set()
    return {value} if isinstance(value, int) else set(value)


def stop_token_ids(tokenizer: Any, generation_config: Any = None) -> frozenset[int]:
    """The tokenizer's eos, the generation config's eos ids, and the turn-end token
    when the vocabulary has it; ids are looked up, never hard-coded."""
    stops = _as_ids(tokenizer.eos_token_id)
    if generation_config is not None:
        stops |= _as_ids(getattr(generation_config, "eos_token_id", None))
    turn_end = tokenizer.get_vocab().get(TURN_END_TOKEN)
    if turn_end is not None:
        stops.add(turn_end)
    if not stops:
        raise ValueError("the tokenizer defines no eos token to stop on")
    return frozenset(stops)


def pad_token_id(tokenizer: Any) -> int:
    """The pad id, falling back to eos (padding is masked out either way)."""
    pad = tokenizer.pad_token_id
    return pad if pad is not None else tokenizer.eos_token_id
