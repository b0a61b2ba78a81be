"""GPTQ quantisation of an HY-MT checkpoint with gptqmodel, and reading GPTQ configs.

`quantize()` writes a complete model directory (weights, config.json with
`quantization_config`, tokenizer, generation config) that transformers 5 reloads
with `AutoModelForCausalLM.from_pretrained(out)` through gptqmodel + optimum.

What the quantisation scheme is always comes from the checkpoint's config.json
(`gptq_settings()`), never from a directory or hub name.

CPU notes (gptqmodel 7.6, torch 2.13 CPU, transformers 5.24): a 4-bit checkpoint
reloads with the `TorchAtenLinear` kernel (aten int4 pack matmul, CPU only,
group sizes 16/32/64/128, desc_act either way); float32, bfloat16 and float16
all load and run and give the same logits to within rounding, so `dtype` can be
left to the engine's usual choice. Other bit widths fall back to the slower
dequantising `TorchLinear` kernel. On CUDA gptqmodel picks Marlin/ExLlama
kernels, which want float16 or bfloat16.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from hymt_cli.errors import FailedError

logger = logging.getLogger(__name__)

SUPPORTED_BITS = (2, 3, 4, 8)
DEFAULT_SAMPLES = 256
"""Upper bound on calibration sequences."""
DEFAULT_SEQ_TOKENS = 256
"""Calibration lines are packed into sequences of at most this many tokens."""
CALIBRATION_RESOURCE = "calibration.txt"
INSTALL_HINT = "pip install 'hymt-cli[int4]'"
# Files a model directory needs besides weights and config.json.
_SIDE_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "generation_config.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "hy.tiktoken",
)
# Quiet, reproducible defaults for gptqmodel on small CPUs; users may override.
_GPTQMODEL_ENV = {
    "GPTQMODEL_DISABLE_PACK_EXT": "1",
    "GPTQMODEL_CPU_WORKERS": str(min(os.cpu_count() or 1, 8)),
}


class QuantizeError(FailedError, RuntimeError):
    """Quantisation cannot start or failed; the message is one line."""


# -- reading checkpoints ---------------------------------------------------------


def _read_config(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuantizeError(f"{model_dir} has no config.json") from None
    except json.JSONDecodeError as error:
        raise QuantizeError(f"{path} is not valid JSON: {error}") from None


def gptq_settings(model_dir: Path) -> dict[str, Any]:
    """The checkpoint's `quantization_config` when it is GPTQ, else an empty dict.

    Keys of interest: bits, group_size, sym, desc_act, checkpoint_format (or
    format), lm_head. Tencent's GPTQ-Int4 checkpoints and ours both use
    quant_method `gptq` and checkpoint_format `gptq`.
    """
    quant = _read_config(model_dir).get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower()
    return dict(quant) if method == "gptq" else {}


def is_gptq_checkpoint(model_dir: Path) -> bool:
    """True when config.json declares a GPTQ `quantization_config`."""
    try:
        return bool(gptq_settings(model_dir))
    except QuantizeError:
        return False


def describe(settings: dict[str, Any]) -> str:
    """A short label such as `gptq w4 g128 sym` for logs and reports."""
    if not settings:
        return "unquantised"
    parts = [f"gptq w{settings.get('bits')}", f"g{settings.get('group_size')}"]
    parts.append("sym" if settings.get("sym", True) else "asym")
    if settings.get("desc_act"):
        parts.append("desc_act")
    return " ".join(parts)


# -- checks before any work -----------------------------------------------------


def _layer_widths(config: dict[str, Any]) -> dict[str, int]:
    """In-features of the quantised linears (GPTQ groups run along them)."""
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = int(config.get("head_dim") or hidden // heads)
    return {
        "hidden_size (q/k/v/gate/up_proj)": hidden,
        "heads*head_dim (o_proj)": heads * head_dim,
        "intermediate_size (down_proj)": int(config["intermediate_size"]),
    }


def check_scheme(config: dict[str, Any], bits: int, group_size: int) -> None:
    """Raise QuantizeError unless bits and group_size suit the model's widths."""
    if bits not in SUPPORTED_BITS:
        raise QuantizeError(f"bits must be one of {SUPPORTED_BITS}, not {bits}")
    if group_size == -1:
        return
    if group_size <= 0:
        raise QuantizeError(f"group_size must be positive or -1, not {group_size}")
    bad = [
        f"{name}={width}"
        for name, width in _layer_widths(config).items()
        if width % group_size
    ]
    if bad:
        raise QuantizeError(
            f"group_size {group_size} does not divide {', '.join(bad)}; "
            "pick a divisor such as 128, 64 or 32"
        )


def _source_dir(model: str | Path) -> Path:
    """A local model directory for a path, alias or cached hub id."""
    from hymt_cli.models import ModelNotFound, resolve_model

    if isinstance(model, Path) or Path(str(model)).expanduser().exists():
        path = Path(model).expanduser()
        if not path.is_dir():
            raise QuantizeError(f"model directory {str(model)!r} does not exist")
        if not (path / "config.json").is_file():
            raise QuantizeError(f"{str(model)!r} is a directory but has no config.json")
        return path.resolve()
    try:
        return resolve_model(str(model)).path.resolve()
    except ModelNotFound as error:
        raise QuantizeError(str(error), error.hint) from None


def _check_out(out: Path) -> Path:
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise QuantizeError(f"output {out} exists and is not an empty directory")
    return out


def import_gptqmodel() -> Any:
    """The gptqmodel module, or a QuantizeError saying how to install it."""
    try:
        import gptqmodel
    except ImportError as error:
        raise QuantizeError(
            f"gptqmodel is not installed ({error}); install it with `{INSTALL_HINT}`"
        ) from None
    return gptqmodel


# -- calibration ----------------------------------------------------------------


def default_calibration_text() -> str:
    """The multilingual calibration text shipped with hymt."""
    data = resources.files("hymt_cli") / "data" / CALIBRATION_RESOURCE
    return data.read_text(encoding="utf-8")


def calibration_lines(files: Sequence[Path] | None = None) -> list[str]:
    """Non-empty lines of the user's UTF-8 files, or of the shipped text."""
    if files:
        texts = []
        for path in files:
            try:
                texts.append(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as error:
                raise QuantizeError(f"cannot read calibration file {path}: {error}")
    else:
        texts = [default_calibration_text()]
    lines = [line.strip() for text in texts for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise QuantizeError("the calibration text is empty")
    return lines


def pack_lines(
    lines: Sequence[str], tokenizer: Any, seq_tokens: int, samples: int
) -> list[dict[str, list[int]]]:
    """Tokenise lines and pack consecutive ones into sequences of <= seq_tokens."""
    encoded = tokenizer(list(lines), add_special_tokens=False)["input_ids"]
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    width = max(seq_tokens - len(bos), 1)
    chunks: list[list[int]] = []
    current = list(bos)
    for ids in encoded:
        line = ids + newline
        for start in range(0, len(line), width):
            piece = line[start : start + width]
            if len(current) > len(bos) and len(current) + len(piece) > seq_tokens:
                chunks.append(current)
                current = list(bos)
            current += piece
    if len(current) > len(bos):
        chunks.append(current)
    return [
        {"input_ids": ids, "attention_mask": [1] * len(ids)} for ids in chunks[:samples]
    ]


# -- the run ----------------------------------------------------------------------


def _pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def _quiet_cwd() -> Iterator[Path]:
    """Run inside a scratch cwd: gptqmodel writes `./logs/` wherever it runs."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="hymt-quantize-") as scratch:
        os.chdir(scratch)
        try:
            yield Path(scratch)
        finally:
            os.chdir(previous)


def _copy_side_files(source: Path, target: Path) -> None:
    """The source's tokenizer and generation files, byte for byte."""
    for name in _SIDE_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    for extra in source.glob("tokenization_*.py"):
        shutil.copy2(extra, target / extra.name)


def _run_gptqmodel(
    source: Path,
    staging: Path,
    options: dict[str, Any],
    calibration: list[dict[str, list[int]]],
    device: str,
) -> None:
    for key, value in _GPTQMODEL_ENV.items():  # before gptqmodel reads them
        os.environ.setdefault(key, value)
    gptqmodel = import_gptqmodel()
    config = gptqmodel.QuantizeConfig(**options)
    model = gptqmodel.GPTQModel.load(str(source), config, device=device)
    model.quantize(calibration, batch_size=1)
    model.save(str(staging))


def _check_source(source: Path, bits: int, group_size: int) -> dict[str, Any]:
    config = _read_config(source)
    if config.get("quantization_config"):
        method = config["quantization_config"].get("quant_method", "unknown")
        raise QuantizeError(
            f"{source} is already quantised ({method}); pass the bf16 model"
        )
    check_scheme(config, bits, group_size)
    return config


def quantize(
    model: str | Path,
    out: Path,
    bits: int = 4,
    group_size: int = 128,
    calibration: list[Path] | None = None,
    device: str = "auto",
    desc_act: bool = False,
    samples: int = DEFAULT_SAMPLES,
    seq_tokens: int = DEFAULT_SEQ_TOKENS,
) -> Path:
    """Quantise `model` to a GPTQ checkpoint in `out` (a new directory); returns it."""
    source = _source_dir(model)
    out = _check_out(out)
    _check_source(source, bits, group_size)
    lines = calibration_lines(calibration)
    for key, value in _GPTQMODEL_ENV.items():
        os.environ.setdefault(key, value)
    import_gptqmodel()  # fail before the tokenizer and model load
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    packed = pack_lines(lines, tokenizer, seq_tokens, samples)
    options = {"bits": bits, "group_size": group_size, "sym": True}
    options["desc_act"] = desc_act
    logger.info("quantising %s: %d calibration sequences", source, len(packed))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        with _quiet_cwd():
            _run_gptqmodel(source, staging, options, packed, _pick_device(device))
        _copy_side_files(source, staging)
        _finish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _finish(staging: Path, out: Path) -> None:
    """Check the written config, then move the staging directory into place."""
    settings = gptq_settings(staging)
    if settings.get("checkpoint_format", settings.get("format")) != "gptq":
        raise QuantizeError(f"gptqmodel wrote an unexpected config: {settings}")
    if out.exists():
        out.rmdir()  # empty, checked before the run
    staging.rename(out)
    logger.info("wrote %s (%s)", out, describe(settings))
