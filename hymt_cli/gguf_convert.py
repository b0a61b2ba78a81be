"""HunYuan-dense checkpoints (transformers layout) to GGUF for llama.cpp.

`convert` writes the metadata and tensor names llama.cpp's `hunyuan-dense` loader
expects: NTK-alpha RoPE folded into a fixed `rope.freq_base`, per-head Q/K norms,
a `gpt2` (byte-level BPE) tokenizer with its pre-tokenizer name, special ids and
the chat template. `quantize_gguf` re-encodes a GGUF through llama.cpp's own
quantiser (llama-cpp-python's `llama_model_quantize`).

Needs the `gguf` package (and torch + safetensors to read the weights); nothing
here is imported by the CLI until a conversion is asked for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hymt_cli.errors import FailedError

logger = logging.getLogger(__name__)

ARCH = "hunyuan-dense"
DTYPES = ("f16", "f32")
QUANT_TYPES = {"Q8_0": 7, "Q4_K_M": 15, "Q4_K_S": 14, "Q5_K_M": 17, "Q6_K": 18,
               "F16": 1}
"""llama.cpp `llama_ftype` values by name."""
ROPE_CONTEXT = 256 * 1024
"""Context llama.cpp's converter records for NTK alpha 1000 (the config says 32k)."""


class GGUFError(FailedError, RuntimeError):
    """A conversion or quantisation that cannot be done here."""


def _import_gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise GGUFError("writing GGUF files needs the gguf package: "
                        "pip install gguf") from None
    return gguf


def rope_freq_base(config: dict[str, Any]) -> float:
    """The fixed RoPE base of HunYuan's NTK-alpha scaling: theta * alpha^(d/(d-2))."""
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    theta = float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))
    alpha = rope.get("alpha")
    if rope.get("rope_type") not in ("dynamic", "xdrope") or not alpha:
        return theta
    dim = _head_dim(config)
    return theta * float(alpha) ** (dim / (dim - 2))


def _head_dim(config: dict[str, Any]) -> int:
    return int(config.get("head_dim")
               or config["hidden_size"] // config["num_attention_heads"])


def _first_id(value: int | list[int] | None) -> int | None:
    return value[0] if isinstance(value, list) and value else value  # type: ignore


def _write_hparams(writer: Any, config: dict[str, Any], gguf: Any) -> None:
    writer.add_context_length(ROPE_CONTEXT if _is_ntk_alpha(config)
                              else int(config.get("max_position_embeddings", 4096)))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config.get("num_key_value_heads")
                             or config["num_attention_heads"])
    writer.add_key_length(_head_dim(config))
    writer.add_value_length(_head_dim(config))
    writer.add_rope_dimension_count(_head_dim(config))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-5)))
    writer.add_rope_freq_base(rope_freq_base(config))
    writer.add_rope_scaling_type(gguf.RopeScalingType.NONE)
    writer.add_rope_scaling_factor(1.0)


def _is_ntk_alpha(config: dict[str, Any]) -> bool:
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    return rope.get("rope_type") == "dynamic" and bool(rope.get("alpha"))


def pre_tokenizer_name(tokenizer_json: dict[str, Any]) -> str:
    """llama.cpp's pre-tokenizer name: `gpt-2` for a plain byte-level split with
    GPT-2's regex (the test tokenizer), else `hunyuan-dense` (HY-MT's own rules)."""
    pre = tokenizer_json.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"
    return ARCH


def _vocab(tokenizer_json: dict[str, Any], size: int) -> tuple[list[str], list[int]]:
    """Tokens in id order, padded to `size`, and their llama.cpp token types."""
    tokens = {i: t for t, i in tokenizer_json["model"]["vocab"].items()}
    control = set()
    for added in tokenizer_json.get("added_tokens", []):
        tokens[added["id"]] = added["content"]
        if added.get("special", False):
            control.add(added["id"])
    size = max(size, max(tokens) + 1)
    names, types = [], []
    for i in range(size):
        names.append(tokens.get(i, f"[PAD{i}]"))
        # llama.cpp token types: 3 CONTROL, 1 NORMAL, 5 UNUSED (padding rows)
        types.append(3 if i in control else 1 if i in tokens else 5)
    return names, types


def _merges(tokenizer_json: dict[str, Any]) -> list[str]:
    merges = tokenizer_json["model"].get("merges", [])
    return [m if isinstance(m, str) else " ".join(m) for m in merges]


def _chat_template(hf_dir: Path) -> str | None:
    file = hf_dir / "chat_template.jinja"
    if file.is_file():
        return file.read_text(encoding="utf-8")
    config = hf_dir / "tokenizer_config.json"
    if config.is_file():
        return json.loads(config.read_text(encoding="utf-8")).get("chat_template")
    return None


def _write_tokenizer(writer: Any, hf_dir: Path, config: dict[str, Any]) -> None:
    file = hf_dir / "tokenizer.json"
    if not file.is_file():
        raise GGUFError(f"{hf_dir} has no tokenizer.json (a fast tokenizer is needed)")
    tokenizer_json = json.loads(file.read_text(encoding="utf-8"))
    tokens, types = _vocab(tokenizer_json, int(config["vocab_size"]))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre_tokenizer_name(tokenizer_json))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(_merges(tokenizer_json))
    for key, add in (("bos_token_id", writer.add_bos_token_id),
                     ("eos_token_id", writer.add_eos_token_id),
                     ("pad_token_id", writer.add_pad_token_id)):
        value = _first_id(config.get(key))
        if value is not None and value >= 0:
            add(int(value))
    writer.add_add_bos_token(False)  # the chat template writes the bos itself
    template = _chat_template(hf_dir)
    if template:
        writer.add_chat_template(template)


def _hf_tensors(hf_dir: Path) -> Iterator[tuple[str, Any]]:
    """(name, float32 numpy array) for every tensor of the safetensors files."""
    from safetensors import safe_open

    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise GGUFError(f"{hf_dir} holds no .safetensors weights")
    for file in files:
        with safe_open(str(file), framework="pt") as weights:
            for name in weights.keys():
                yield name, weights.get_tensor(name).float().numpy()


def _write_tensors(writer: Any, hf_dir: Path, config: dict[str, Any], dtype: str,
                   gguf: Any) -> None:
    import numpy as np

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.HUNYUAN_DENSE,
                                     config["num_hidden_layers"])
    tied = bool(config.get("tie_word_embeddings", False))
    for hf_name, array in _hf_tensors(hf_dir):
        tied_head = tied and hf_name == "lm_head.weight"
        if hf_name.endswith("rotary_emb.inv_freq") or tied_head:
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise GGUFError(f"no GGUF name for tensor {hf_name!r}")
        keep_f32 = dtype == "f32" or array.ndim == 1  # norms stay F32
        writer.add_tensor(name, array.astype(np.float32 if keep_f32 else np.float16))


def convert(hf_dir: str | Path, out_path: str | Path, dtype: str = "f16") -> Path:
    """Write `hf_dir` (a HunYuanDenseV1 checkpoint) as a GGUF file; returns its path."""
    if dtype not in DTYPES:
        raise GGUFError(f"unknown dtype {dtype!r} (choose from {', '.join(DTYPES)})")
    gguf = _import_gguf()
    hf_dir, out = Path(hf_dir), Path(out_path)
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "hunyuan_v1_dense":
        raise GGUFError(f"{hf_dir} is a {config.get('model_type')!r} checkpoint, "
                        "not hunyuan_v1_dense")
    writer = gguf.GGUFWriter(str(out), ARCH)
    writer.add_name(hf_dir.name)
    file_type = gguf.LlamaFileType.ALL_F32 if dtype == "f32" else \
        gguf.LlamaFileType.MOSTLY_F16
    writer.add_file_type(int(file_type))
    _write_hparams(writer, config, gguf)
    _write_tokenizer(writer, hf_dir, config)
    _write_tensors(writer, hf_dir, config, dtype, gguf)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    logger.info("wrote %s (%s)", out, dtype)
    return out


def quantize_gguf(in_path: str | Path, out_path: str | Path, kind: str = "Q4_K_M",
                  threads: int | None = None) -> Path:
    """Quantise a GGUF file with llama.cpp (`Q4_K_M`, `Q8_0`, ...); returns out_path."""
    if kind.upper() not in QUANT_TYPES:
        raise GGUFError(f"unknown GGUF type {kind!r} (choose from "
                        f"{', '.join(QUANT_TYPES)})")
    try:
        import llama_cpp
    except ImportError:
        raise GGUFError("GGUF quantisation needs llama-cpp-python: "
                        "pip install llama-cpp-python") from None
    from hymt_cli.engines.llamacpp_runtime import init_backend

    init_backend()  # llama.cpp's per-tensor log goes to our logger
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[kind.upper()]
    params.nthread = threads or 0
    status = llama_cpp.llama_model_quantize(str(in_path).encode(),
                                            str(out_path).encode(), params)
    if status != 0:
        raise GGUFError(f"llama.cpp could not quantise {in_path} to {kind} "
                        f"(status {status})")
    return Path(out_path)
