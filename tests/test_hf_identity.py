"""The HF engine without its model: fingerprint, token counts, template choice,
batch sizing, and a memory-answered run that never loads the model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from hymt_cli.document import Document, SegmentBuilder  # noqa: E402
from hymt_cli.engines.base import Request  # noqa: E402
from hymt_cli.engines.hf import HFEngine  # noqa: E402
from hymt_cli.engines.options import HFOptions  # noqa: E402
from hymt_cli.languages import resolve  # noqa: E402
from hymt_cli.prompts import compose_default, compose_english_first  # noqa: E402
from tests.tiny_model import tiny_model_dir  # noqa: E402, F401


def test_fingerprint_names_model_revision_quantisation_and_decoding(
    tiny_model_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    greedy = HFEngine(HFOptions(str(tiny_model_dir), threads=1))
    parts = greedy.fingerprint.split(":")
    assert parts[0] == "hf" and parts[1] == tiny_model_dir.name
    assert parts[2].startswith("dir-") and parts[3] == "none"
    assert parts[5:] == ["greedy", "compose_default"]
    assert HFEngine(HFOptions(str(tiny_model_dir))).fingerprint == greedy.fingerprint
    assert HFEngine(HFOptions(str(tiny_model_dir), sampling=True, seed=3)).fingerprint != (
        greedy.fingerprint)
    copy = tmp_path / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["rms_norm_eps"] = 1e-6
    (copy / "config.json").write_text(json.dumps(config))
    assert HFEngine(HFOptions(str(copy))).fingerprint != greedy.fingerprint
    assert greedy.model is None  # nothing above loaded the model


def test_gptq_small_checkpoint_prefers_the_english_template(
    tiny_model_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    copy = tmp_path / "int4"
    shutil.copytree(tiny_model_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "gptq", "bits": 4, "group_size": 32}
    (copy / "config.json").write_text(json.dumps(config))
    engine = HFEngine(HFOptions(str(copy)))
    assert engine.compose is compose_english_first
    assert engine.fingerprint.split(":")[3] == "gptq-w4-g32"
    assert HFEngine(HFOptions(str(copy), template="official")).compose is compose_default
    assert HFEngine(HFOptions(str(tiny_model_dir), template="english")).compose is (
        compose_english_first)
    with pytest.raises(ValueError, match="unknown template choice"):
        HFEngine(HFOptions(str(copy), template="klingon"))


def test_english_first_only_changes_plain_chinese_source_prompts() -> None:
    zh_to_de = Request("你好，世界", resolve("de"), resolve("zh"))
    assert compose_english_first(zh_to_de) == (
        "Translate the following segment into German, without additional explanation."
        "\n\n你好，世界")
    en_to_zh = Request("Hello", resolve("zh"), resolve("en"))
    assert compose_english_first(en_to_zh) == compose_default(en_to_zh)
    tagged = Request("<s1>你好</s1>", resolve("de"), resolve("zh"))
    assert compose_english_first(tagged) == compose_default(tagged)


def test_token_counts_come_from_the_checkpoint_tokenizer(
    tiny_model_dir: Path,  # noqa: F811
) -> None:
    from transformers import AutoTokenizer

    engine = HFEngine(HFOptions(str(tiny_model_dir)))
    reference = AutoTokenizer.from_pretrained(tiny_model_dir)
    for text in ["Hello world", "今天天气很好。", "Press <s1>Save</s1> now"]:
        expected = len(reference(text, add_special_tokens=False)["input_ids"])
        assert engine.count_tokens(text) == expected


def test_fingerprint_and_counting_import_no_torch(tiny_model_dir: Path) -> None:  # noqa: F811
    code = (
        "import sys; from hymt_cli.engines import create; "
        f"e = create('hf', model={str(tiny_model_dir)!r}); "
        "print(e.fingerprint, e.count_tokens('Hello world')); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == "False" and int(out[-2]) > 0


def test_batch_size_follows_free_memory_and_kv_size() -> None:
    import torch

    from hymt_cli.engines import hf_loading

    config_7b = {"num_hidden_layers": 32, "num_key_value_heads": 8, "head_dim": 128}
    per_row = 2 * 32 * 8 * 128 * 2 * hf_loading.TYPICAL_SEQUENCE
    gib = 1 << 30
    cpu = torch.device("cpu")
    original = hf_loading._free_memory
    try:
        hf_loading._free_memory = lambda device: 80 * gib
        assert hf_loading.default_batch_size(torch.device("cuda"), config_7b) == 64
        hf_loading._free_memory = lambda device: 4 * per_row
        assert hf_loading.default_batch_size(torch.device("cuda"), config_7b) == 2
        assert hf_loading.default_batch_size(cpu, config_7b) == 2
        hf_loading._free_memory = lambda device: 0
        assert hf_loading.default_batch_size(cpu, config_7b) == 1
    finally:
        hf_loading._free_memory = original


def test_batch_size_auto_is_the_engines_own_sizing(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from hymt_cli.engines import hf_loading
    from hymt_cli.plan import RunConfig
    from hymt_cli.run import settings_for
    from hymt_cli.pipeline import Settings

    engine = HFEngine(HFOptions(str(tiny_model_dir), device="cpu"))
    config = engine.config
    per_token = 2 * config["num_hidden_layers"] * config["num_key_value_heads"] * (
        config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    ) * 2
    per_row = per_token * hf_loading.TYPICAL_SEQUENCE
    monkeypatch.setattr(hf_loading, "_free_memory", lambda device: 6 * per_row)
    from hymt_cli.pipeline import _Run

    run = RunConfig(paths=("a.md",), targets=(resolve("de"),), engine="hf")
    settings = settings_for(Settings(), run, engine, None)
    assert settings.batch_size is None  # auto: the engine is asked when needed
    assert _Run(engine, settings)._batch_size() == engine.batch_size == 3  # half
    assert engine.model is None  # sized before (and without) loading weights
    fixed = HFEngine(HFOptions(str(tiny_model_dir), device="cpu", batch_size=5))
    assert _Run(fixed, settings_for(Settings(), run, fixed, None))._batch_size() == 5


def test_memory_answered_rerun_never_loads_the_model(
    tiny_model_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    from hymt_cli.memory import TranslationMemory
    from hymt_cli.pipeline import Job, Settings, translate

    def doc() -> Document:
        pieces = []
        for n, text in enumerate(["Save the file.", "Open <b>the</b> door."], 1):
            b = SegmentBuilder("paragraph", 0)
            b.text(text)
            pieces += [b.build(f"s{n}"), "\n"]
        return Document(tuple(pieces), "txt")

    with TranslationMemory.open(tmp_path / "m.sqlite") as memory:
        settings = Settings(memory=memory, batch_size=4)
        first = HFEngine(HFOptions(str(tiny_model_dir), threads=1, max_new_tokens=8))
        (_, text1, _), = translate([Job("d", doc(), resolve("de"))], first, settings)
        assert first.model is not None
        second = HFEngine(HFOptions(str(tiny_model_dir), threads=1, max_new_tokens=8))
        (_, text2, report), = translate([Job("d", doc(), resolve("de"))], second, settings)
        assert second.model is None and text2 == text1 and report.from_memory == 2


def test_check_never_sizes_batches_nor_imports_torch(
    tiny_model_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    (tmp_path / "a.md").write_text("Hello.\n", encoding="utf-8")
    code = (
        "import sys; from hymt_cli.cli import run; "
        f"run(['translate', 'a.md', '--to', 'de', '--model', {str(tiny_model_dir)!r}, "
        "'--check', '--quiet']); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True).stdout.split()
    assert out[-1] == "False"


def test_a_fully_remembered_run_never_imports_torch(
    tiny_model_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    """The second run finds every answer in the memory: no model, no torch, and
    no batch sizing (which would import torch for the free memory)."""
    (tmp_path / "a.md").write_text("Hello there.\n", encoding="utf-8")
    args = ["translate", "a.md", "--to", "de", "--model", str(tiny_model_dir),
            "--max-new-tokens", "4", "--threads", "1", "--quiet"]
    code = ("import sys; from hymt_cli.cli import run; "
            f"code = run({args!r}); print(code, 'torch' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           text=True, cwd=tmp_path, check=True).stdout.split()
    again = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           text=True, cwd=tmp_path, check=True).stdout.split()
    assert first[-2:] == ["0", "True"] and again[-2:] == ["0", "False"]
