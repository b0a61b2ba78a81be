"""What identifies a checkpoint without loading it: revision, quantisation, tokens.

Nothing here imports torch: a run answered entirely from the translation memory
needs the engine's fingerprint and token counts, never the model.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from hymt_cli.models import ResolvedModel

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def read_config(path: Path) -> dict[str, Any]:
    """The checkpoint's config.json."""
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def revision(model: ResolvedModel) -> str:
    """The hub commit of a cached snapshot, or a digest of a local directory's
    config and weight files (names and sizes), so edits change it."""
    if model.repo_id is not None and model.path.parent.name == "snapshots":
        return model.path.name[:12]
    digest = hashlib.sha256((model.path / "config.json").read_bytes())
    for weight in sorted(model.path.iterdir()):
        if weight.suffix in WEIGHT_SUFFIXES:
            digest.update(f"{weight.name}:{weight.stat().st_size}".encode())
    return "dir-" + digest.hexdigest()[:12]


def quantisation(config: dict[str, Any]) -> str:
    """The scheme the checkpoint's config declares, e.g. `gptq-w4-g128`, or `none`."""
    quant = config.get("quantization_config") or {}
    method = str(quant.get("quant_method", "none")).lower()
    if method == "gptq":
        return f"gptq-w{quant.get('bits')}-g{quant.get('group_size')}"
    return method


class TokenCounter:
    """Counts tokens with the checkpoint's own tokenizer.json (no torch needed),
    or with transformers' tokenizer when the checkpoint has no tokenizer.json."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def _encode(self) -> Any:
        file = self.path / "tokenizer.json"
        if file.is_file():
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(file))
            return lambda text: len(tokenizer.encode(text, add_special_tokens=False))
        from transformers import AutoTokenizer

        slow = AutoTokenizer.from_pretrained(self.path)
        return lambda text: len(slow(text, add_special_tokens=False)["input_ids"])

    def __call__(self, text: str) -> int:
        """Tokens in `text`, without special tokens."""
        return int(self._encode(text))
