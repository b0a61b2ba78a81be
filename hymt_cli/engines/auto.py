"""`--engine auto`: the engine that suits this machine and these settings.

A server URL means the `openai` engine; a GGUF model means `llamacpp`; a
transformers model, or a GPU (CUDA, Apple's MPS), means `hf`; otherwise, on a
CPU, `llamacpp` with HY-MT1.5-1.8B Q4_K_M when llama-cpp-python is installed
(about 8 times faster than transformers at batch 1), else `hf`. The choice only
names an engine: its options are those an explicit `--engine` gets, so the
translation memory's fingerprint is the same either way.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from hymt_cli.models import is_gguf_spec

AUTO = "auto"
NVIDIA_MARKERS = (Path("/proc/driver/nvidia/version"), Path("/dev/nvidiactl"))
"""Present where an NVIDIA driver is loaded; torch is imported only then."""


@dataclass(frozen=True, slots=True)
class Choice:
    """What `auto` picked and why."""

    engine: str
    reason: str


def installed(module: str) -> bool:
    """Whether `module` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def accelerator() -> str:
    """`cuda`, `mps` or `cpu`: the device the hf engine would use on `auto`."""
    if any(m.exists() for m in NVIDIA_MARKERS) and installed("torch"):
        import torch

        if torch.cuda.is_available():
            return "cuda"
    if sys.platform == "darwin" and platform.machine() == "arm64" and installed("torch"):
        return "mps"
    return "cpu"


def choose(model: str | None, base_urls: tuple[str, ...] = (),
           device: str | None = None) -> Choice:
    """The engine `auto` stands for, given `--model`, the server URLs and
    `--device` (None: auto)."""
    if base_urls:
        return Choice("openai", "a server URL is set by --base-url, base_url or "
                      "HYMT_BASE_URL")
    if model and is_gguf_spec(model):
        return Choice("llamacpp", f"{model} is a GGUF model")
    if model:
        return Choice("hf", f"{model} is a transformers model")
    where = device or accelerator()
    if where != "cpu":
        return Choice("hf", f"a {where} device is available")
    if installed("llama_cpp"):
        return Choice("llamacpp", "no GPU, and llama-cpp-python is installed: "
                      "HY-MT1.5-1.8B Q4_K_M")
    return Choice("hf", "no GPU and no llama-cpp-python; pip install "
                  "'hymt-cli[llamacpp]' for a faster CPU engine")

