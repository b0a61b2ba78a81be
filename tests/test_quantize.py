"""GPTQ quantisation of the tiny random HunYuanDenseV1 checkpoint, on CPU, offline.

The tiny model has hidden 64 and intermediate 192, so group size 32 divides every
layer width. The quantise -> reload path runs once per module (a few seconds).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from hymt_cli import quantize as q  # noqa: E402
from tests.tiny_model import tiny_model_dir  # noqa: E402, F401

GROUP = 32
PROBE = "Translate the following segment into German. 今天天气很好。Der Hund."
MIN_COSINE = 0.9
"""Last-token logits, int4 vs fp32, random weights: measured 0.94-0.98 (seeds 0-2,
fp32/bf16/fp16 activations alike)."""


def _have_gptqmodel() -> bool:
    try:
        import gptqmodel  # noqa: F401
    except Exception:  # ImportError, or a broken install raising anything
        return False
    return True


needs_gptqmodel = pytest.mark.skipif(
    not _have_gptqmodel(),
    reason=f"gptqmodel is not importable; install it with `{q.INSTALL_HINT}`",
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cwd the quantisation ran in (checked for stray `logs/`)."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="module")
def int4_dir(
    tiny_model_dir: Path,  # noqa: F811
    run_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The tiny model quantised once per module: W4, group 32, sym, no desc_act."""
    if not _have_gptqmodel():
        pytest.skip(f"gptqmodel is not importable; install it with `{q.INSTALL_HINT}`")
    out = tmp_path_factory.mktemp("q") / "tiny-int4"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("GPTQMODEL_CPU_WORKERS", "2")
        patch.chdir(run_dir)
        return q.quantize(
            tiny_model_dir, out, group_size=GROUP, samples=24, seq_tokens=128
        )


def _last_logits(model_dir: Path, dtype: str = "float32") -> object:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    batch = tokenizer(PROBE, return_tensors="pt")
    with torch.no_grad():
        return model.eval()(**batch).logits[0, -1].float()


# -- the quantised checkpoint ---------------------------------------------------


def test_config_reports_the_scheme(int4_dir: Path) -> None:
    settings = q.gptq_settings(int4_dir)
    assert settings["quant_method"] == "gptq"
    assert settings["checkpoint_format"] == "gptq"
    assert (settings["bits"], settings["group_size"]) == (4, GROUP)
    assert settings["sym"] is True and settings["desc_act"] is False
    assert settings.get("lm_head", False) is False
    assert q.is_gptq_checkpoint(int4_dir)
    assert q.describe(settings) == f"gptq w4 g{GROUP} sym"


def test_output_is_a_complete_model_dir(
    int4_dir: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    from transformers import AutoTokenizer

    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (int4_dir / name).read_bytes() == (tiny_model_dir / name).read_bytes()
    assert AutoTokenizer.from_pretrained(int4_dir).chat_template
    assert not list(int4_dir.parent.glob(".*partial*"))


def test_no_logs_left_in_cwd(int4_dir: Path, run_dir: Path) -> None:
    assert int4_dir.is_dir()
    assert list(run_dir.iterdir()) == []


def test_reload_and_greedy_generate(int4_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(int4_dir)
    model = AutoModelForCausalLM.from_pretrained(int4_dir, dtype=torch.float32).eval()
    assert any("QuantLinear" in type(m).__name__ or "TorchAten" in type(m).__name__
               for m in model.modules())
    batch = tokenizer(PROBE, return_tensors="pt")
    out = model.generate(**batch, max_new_tokens=4, do_sample=False, min_new_tokens=4)
    assert out.shape[1] == batch["input_ids"].shape[1] + 4


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_int4_logits_stay_close_to_fp32(
    int4_dir: Path, tiny_model_dir: Path, dtype: str  # noqa: F811
) -> None:
    import torch

    reference = _last_logits(tiny_model_dir)
    quantised = _last_logits(int4_dir, dtype)
    cosine = torch.nn.functional.cosine_similarity(reference, quantised, dim=0)
    assert cosine.item() > MIN_COSINE


def test_hf_engine_translates_with_the_int4_model(int4_dir: Path) -> None:
    from hymt_cli.engines.base import Request
    from hymt_cli.engines.hf import HFEngine
    from hymt_cli.engines.options import HFOptions
    from hymt_cli.languages import LANGUAGES

    engine = HFEngine(HFOptions(str(int4_dir), device="cpu", dtype="float32", max_new_tokens=4))
    texts = ["Hello world.", "今天天气很好。"]
    results = engine.translate_batch([Request(t, LANGUAGES["de"]) for t in texts])
    assert len(results) == 2 and all(isinstance(r, str) for r in results)


# -- reading configs --------------------------------------------------------------


def _write_config(directory: Path, **extra: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "hunyuan_v1_dense", "hidden_size": 2048, **extra}
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def test_settings_of_a_tencent_style_config(tmp_path: Path) -> None:
    quant = {
        "quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True,
        "desc_act": True, "checkpoint_format": "gptq", "lm_head": False,
    }
    model_dir = _write_config(tmp_path / "m", quantization_config=quant)
    assert q.is_gptq_checkpoint(model_dir)
    assert q.gptq_settings(model_dir) == quant
    assert q.describe(quant) == "gptq w4 g128 sym desc_act"


def test_non_gptq_configs(tmp_path: Path, tiny_model_dir: Path) -> None:  # noqa: F811
    fp8 = {"quant_method": "compressed-tensors"}
    assert not q.is_gptq_checkpoint(tiny_model_dir)
    assert q.gptq_settings(tiny_model_dir) == {}
    fp8_dir = _write_config(tmp_path / "fp8", quantization_config=fp8)
    assert not q.is_gptq_checkpoint(fp8_dir)
    assert not q.is_gptq_checkpoint(tmp_path / "missing")
    assert q.describe({}) == "unquantised"


# -- calibration ---------------------------------------------------------------------


def test_shipped_calibration_text() -> None:
    text = q.default_calibration_text()
    assert len(text.encode("utf-8")) < 60_000
    lines = q.calibration_lines()
    assert len(lines) > 200 and not any(line.startswith("#") for line in lines)
    samples = ("今天", "Der ", "Le ", "El ", "は", "Пожалуйста", "يرجى", "<s1>")
    for sample in samples:
        assert any(sample in line for line in lines), sample


def test_user_files_replace_the_default(tmp_path: Path) -> None:
    path = tmp_path / "cal.txt"
    path.write_text("eins\n\nzwei\n", encoding="utf-8")
    assert q.calibration_lines([path]) == ["eins", "zwei"]
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(q.QuantizeError, match="empty"):
        q.calibration_lines([tmp_path / "empty.txt"])
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(q.QuantizeError, match="cannot read"):
        q.calibration_lines([tmp_path / "bad.txt"])


def test_pack_lines_respects_the_window(tiny_model_dir: Path) -> None:  # noqa: F811
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    lines = q.calibration_lines() + ["x" * 500]  # one line longer than a window
    packed = q.pack_lines(lines, tokenizer, seq_tokens=64, samples=1000)
    assert all(len(s["input_ids"]) <= 64 for s in packed)
    assert all(s["input_ids"][0] == tokenizer.bos_token_id for s in packed)
    assert all(len(s["attention_mask"]) == len(s["input_ids"]) for s in packed)
    assert len(q.pack_lines(lines, tokenizer, seq_tokens=64, samples=5)) == 5


# -- errors before any work ------------------------------------------------------------


def test_output_dir_must_be_new_or_empty(
    tmp_path: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(q.QuantizeError, match="exists and is not an empty"):
        q.quantize(tiny_model_dir, out, group_size=GROUP)
    assert (out / "keep.txt").read_text() == "x"


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(q.QuantizeError, match="does not exist"):
        q.quantize(tmp_path / "nope", tmp_path / "out")
    with pytest.raises(q.QuantizeError, match="does not exist"):
        q.quantize(str(tmp_path / "nope"), tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(q.QuantizeError, match="no config.json"):
        q.quantize(tmp_path / "empty", tmp_path / "out")


@pytest.mark.parametrize("bits", [1, 5, 16])
def test_unsupported_bits(
    tmp_path: Path, tiny_model_dir: Path, bits: int  # noqa: F811
) -> None:
    with pytest.raises(q.QuantizeError, match=r"bits must be one of \(2, 3, 4, 8\)"):
        q.quantize(tiny_model_dir, tmp_path / "out", bits=bits, group_size=GROUP)


def test_group_size_must_divide_the_widths(
    tmp_path: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    with pytest.raises(q.QuantizeError, match="does not divide hidden_size") as error:
        q.quantize(tiny_model_dir, tmp_path / "out", group_size=128)
    assert "=64" in str(error.value) and "=192" in str(error.value)
    with pytest.raises(q.QuantizeError, match=r"o_proj\)=64;") as error:
        q.quantize(tiny_model_dir, tmp_path / "out", group_size=48)
    assert "intermediate_size" not in str(error.value)  # 48 divides 192
    assert not (tmp_path / "out").exists()


def test_already_quantised_source(tmp_path: Path) -> None:
    quant = {"quant_method": "gptq", "bits": 4}
    source = _write_config(tmp_path / "m", quantization_config=quant)
    with pytest.raises(q.QuantizeError, match="already quantised"):
        q.quantize(source, tmp_path / "out")


def test_gptqmodel_missing(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setitem(sys.modules, "gptqmodel", None)  # import now raises
    with pytest.raises(q.QuantizeError, match=re.escape("pip install 'hymt-cli[int4]'")):
        q.quantize(tiny_model_dir, tmp_path / "out", group_size=GROUP)
    assert not (tmp_path / "out").exists()


def test_errors_are_one_line(
    tmp_path: Path, tiny_model_dir: Path  # noqa: F811
) -> None:
    with pytest.raises(q.QuantizeError) as error:
        q.quantize(tiny_model_dir, tmp_path / "out", group_size=48)
    assert "\n" not in str(error.value)


def test_quantize_does_not_import_torch_at_module_level() -> None:
    source = Path(q.__file__).read_text(encoding="utf-8")
    top = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert not any("torch" in line or "gptqmodel" in line for line in top)
    assert os.fspath(Path(q.__file__).parent / "data" / "calibration.txt")
