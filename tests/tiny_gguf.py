"""The tiny random HunYuanDenseV1 of `tests/tiny_model.py`, also written as GGUF.

Import the fixtures into a test module:
`from tests.tiny_gguf import tiny_gguf_pair`. The GGUF is F32, so llama.cpp and
transformers (fp32) run the very same weights.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_model import build_tiny_model


def build_tiny_gguf(directory: Path, dtype: str = "f32") -> tuple[Path, Path]:
    """(HF checkpoint dir, GGUF file) with the same random weights."""
    from hymt_cli.gguf_convert import convert

    hf_dir = build_tiny_model(directory / "hf")
    return hf_dir, convert(hf_dir, directory / f"tiny-{dtype.upper()}.gguf", dtype)


@pytest.fixture(scope="session")
def tiny_gguf_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A session-wide (HF dir, F32 GGUF file) pair of the tiny HY-MT-like model."""
    return build_tiny_gguf(tmp_path_factory.mktemp("tiny-gguf"))
