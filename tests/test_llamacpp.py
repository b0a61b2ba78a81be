"""The llamacpp engine and the GGUF writer on a tiny random HunYuanDenseV1 (F32).

The same random weights run in transformers (fp32, `HFEngine`) and in llama.cpp
(F32 weights and KV cache), so prompt ids, stop ids, budgets and short greedy runs
agree exactly; over long runs the two may part only at float-noise near-ties.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
pytest.importorskip("gguf", reason="the gguf package is not installed")
pytest.importorskip("torch", reason="torch is needed to build the tiny model")

from hymt_cli.document import Document, SegmentBuilder  # noqa: E402
from hymt_cli.engines import create  # noqa: E402
from hymt_cli.engines.base import Request  # noqa: E402
from hymt_cli.engines.hf import HFEngine  # noqa: E402
from hymt_cli.engines.llamacpp import LlamaCppEngine  # noqa: E402
from hymt_cli.engines.options import HFOptions, LlamaCppOptions  # noqa: E402
from hymt_cli.engines.llamacpp_decode import Sampling  # noqa: E402
from hymt_cli.models import resolve_gguf  # noqa: E402
from hymt_cli.gguf_convert import GGUFError, quantize_gguf, rope_freq_base  # noqa: E402
from hymt_cli.languages import LANGUAGES  # noqa: E402
from hymt_cli.models import ModelNotFound  # noqa: E402
from hymt_cli.pipeline import Job, translate_document  # noqa: E402
from hymt_cli.prompts import compose_default, compose_english_first  # noqa: E402
from tests.tiny_gguf import tiny_gguf_pair  # noqa: E402, F401
from tests.chat_contract import assert_reports_tokens, assert_retry_samples  # noqa: E402,E501
from tests.tiny_model import SAMPLE_TEXTS  # noqa: E402

DE, ZH = LANGUAGES["de"], LANGUAGES["zh"]
TEXTS = [*SAMPLE_TEXTS, "Type <｜hy_User｜> here."]
REQUESTS = [Request(t, ZH if i % 3 == 0 else DE) for i, t in enumerate(TEXTS)]
SHORT = 32
"""Token cap of the module's engines."""
NEAR_TIE = 1e-2
"""Largest logit gap that float summation order may flip in a long generation."""


@pytest.fixture(scope="module")
def pair(
    tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
) -> tuple[HFEngine, LlamaCppEngine]:
    """The hf engine (fp32) and the llamacpp engine (F32 weights and KV cache)."""
    hf_dir, gguf_path = tiny_gguf_pair
    # Short budgets: over long random generations float summation order can flip
    # near-ties (see test_long_generations_differ_only_at_near_ties).
    hf = HFEngine(HFOptions(str(hf_dir), device="cpu", dtype="float32", threads=1,
                  max_new_tokens=SHORT))
    hf.load()
    llama = LlamaCppEngine(LlamaCppOptions(str(gguf_path), threads=1, batch_size=4, n_ctx=2048,
                           kv_type="f32", max_new_tokens=SHORT))
    llama.load()
    return hf, llama


def test_gguf_metadata_is_what_llama_cpp_expects(
    tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
) -> None:
    import json

    from gguf import GGUFReader

    hf_dir, path = tiny_gguf_pair
    reader = GGUFReader(path)

    def value(key: str) -> object:
        return reader.fields[key].contents()

    assert value("general.architecture") == "hunyuan-dense"
    assert value("tokenizer.ggml.model") == "gpt2"
    assert value("tokenizer.ggml.pre") == "gpt-2"  # the tiny tokenizer's GPT-2 regex
    assert "hy_Assistant" in str(value("tokenizer.chat_template"))
    config = json.loads((hf_dir / "config.json").read_text())
    assert value("hunyuan-dense.rope.freq_base") == pytest.approx(
        10000.0 * 1000.0 ** (16 / 14), rel=1e-6)
    assert rope_freq_base(config) == pytest.approx(10000.0 * 1000.0 ** (16 / 14))
    names = {t.name for t in reader.tensors}
    assert {"blk.0.attn_q_norm.weight", "blk.1.attn_k_norm.weight",
            "output.weight", "token_embd.weight"} <= names


def test_prompt_ids_match_transformers(pair: tuple[HFEngine, LlamaCppEngine]) -> None:
    hf, llama = pair
    for request in REQUESTS:
        assert llama.encode(request) == hf.encode(request)
    user = llama.vocab.single_token("<｜hy_User｜>")
    assert llama.encode(REQUESTS[-1]).count(user) == 1  # look-alikes stay text


def test_stop_ids_and_token_counts(pair: tuple[HFEngine, LlamaCppEngine]) -> None:
    hf, llama = pair
    assert llama.stop_ids == hf.stop_ids
    for text in TEXTS:
        assert llama.count_tokens(text) == hf.count_tokens(text)
        assert llama.budget(Request(text, DE)) == hf.budget(Request(text, DE))


def test_greedy_tokens_match_transformers(
    pair: tuple[HFEngine, LlamaCppEngine],
) -> None:
    hf, llama = pair
    prompts = [hf.encode(r) for r in REQUESTS]
    budgets = [24] * len(prompts)
    assert llama.generate(prompts, budgets) == _hf_generate(hf, prompts, budgets)


def test_long_generations_differ_only_at_near_ties(
    pair: tuple[HFEngine, LlamaCppEngine],
) -> None:
    """Over hundreds of positions llama.cpp (its own matmul and attention kernels)
    and torch sum in different orders; greedy paths may then part where the top
    two logits are within float noise, never elsewhere."""
    import torch

    hf, llama = pair
    for request in REQUESTS:
        prompt = hf.encode(request)
        budget = 2 * hf.count_tokens(request.text) + 32
        ours = llama.generate([prompt], [budget])[0]
        theirs = _hf_generate(hf, [prompt], [budget])[0]
        split = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        if split is None:
            assert ours == theirs
            continue
        with torch.no_grad():
            ids = torch.tensor([prompt + theirs[:split]])
            logits = hf.model(ids).logits[0, -1]  # type: ignore[union-attr]
        assert float(logits.max() - logits[ours[split]]) < NEAR_TIE


def _hf_generate(hf: HFEngine, prompts: list[list[int]], budgets: list[int]) -> list:
    from hymt_cli.engines.hf_generate import generate

    return generate(hf.model, prompts, pad_id=hf.pad_id, stop_ids=sorted(hf.stop_ids),
                    max_new_tokens=budgets)


def test_batched_equals_sequential(pair: tuple[HFEngine, LlamaCppEngine]) -> None:
    _, llama = pair
    prompts = [llama.encode(r) for r in REQUESTS]
    budgets = [5 + 4 * i for i in range(len(prompts))]  # rows finish at different steps
    running: list[int] = []
    llama.observer = running.append
    try:
        batched = llama.generate(prompts, budgets)
    finally:
        llama.observer = None
    sequential = [llama.generate([p], [b])[0] for p, b in zip(prompts, budgets)]
    assert batched == sequential
    assert all(len(o) <= b for o, b in zip(batched, budgets))
    stopped = sum(len(o) < b for o, b in zip(batched, budgets))  # said a stop token
    assert stopped < len(budgets) // 2
    assert max(running) == 4  # batch_size sequences at once, refilled as rows end
    # One logits row per picked token: the kept ones and the stop tokens.
    assert sum(running) == sum(len(o) for o in batched) + stopped


def test_small_context_admits_fewer_sequences_at_once(
    pair: tuple[HFEngine, LlamaCppEngine],
) -> None:
    _, llama = pair
    prompts = [llama.encode(r) for r in REQUESTS]
    budgets = [24] * len(prompts)
    expected = llama.generate(prompts, budgets)
    small = LlamaCppEngine(LlamaCppOptions(str(llama.resolved.path), threads=1, batch_size=4,
                           n_ctx=256, kv_type="f32"))
    running: list[int] = []
    small.observer = running.append
    assert small.generate(prompts, budgets) == expected
    # Prompt + budget of the first three fill 219 of 256 cells; the fourth (216)
    # waits until the cells are free, though a sequence id is.
    assert [len(p) + 24 for p in prompts[:4]] == [60, 96, 63, 216]
    assert max(running) == 3
    with pytest.raises(ValueError, match="does not fit the context"):
        small.generate([prompts[0] * 20], [4])


def test_engine_answers_match_transformers(
    pair: tuple[HFEngine, LlamaCppEngine],
) -> None:
    hf, llama = pair
    assert llama.translate_batch(REQUESTS) == hf.translate_batch(REQUESTS)
    assert llama.translate_batch([Request("  ", DE)]) == ["  "]


def test_sampling_is_seeded(tiny_gguf_pair: tuple[Path, Path]) -> None:  # noqa: F811
    path = str(tiny_gguf_pair[1])
    runs = []
    for _ in range(2):
        engine = LlamaCppEngine(LlamaCppOptions(path, threads=1, sampling=True, seed=3, n_ctx=1024))
        prompts = [engine.encode(r) for r in REQUESTS[:3]]
        runs.append(engine.generate(prompts, [8] * 3, engine.sampling_for(0)))
    assert runs[0] == runs[1] and all(len(o) <= 8 for o in runs[0])
    greedy = LlamaCppEngine(LlamaCppOptions(path, threads=1, n_ctx=1024))
    prompts = [greedy.encode(r) for r in REQUESTS[:3]]
    assert greedy.decoder is None  # encoding needs the vocabulary only
    top1 = greedy.generate(prompts, [8] * 3)
    top_1 = Sampling(top_k=1, repetition_penalty=1.0, seed=1)
    assert greedy.generate(prompts, [8] * 3, top_1) == top1


def test_a_retry_samples_with_a_seed_from_the_attempt(
    pair: tuple[HFEngine, LlamaCppEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(assert_retry_samples(pair[1], REQUESTS[:3], monkeypatch)) == 3


def test_translate_batch_reports_tokens_as_it_generates(
    pair: tuple[HFEngine, LlamaCppEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_reports_tokens(pair[1], REQUESTS[:3], monkeypatch)


TAG_RE = re.compile(r"</?\w+>")


def _doc(*texts: str) -> Document:
    """An HTML-like document: each text as `<b>left <i>middle</i> right</b>`."""
    pieces: list = []
    for n, text in enumerate(texts, 1):
        left, middle, right = text.split("|")
        builder = SegmentBuilder("paragraph", 0)
        builder.open("<b>", "b")
        builder.text(left)
        builder.open("<i>", "i")
        builder.text(middle)
        builder.close("</i>")
        builder.text(right)
        builder.close("</b>")
        pieces += [builder.build(f"s{n}"), "\n"]
    return Document(tuple(pieces), "html")


def test_junk_answers_are_repaired_in_the_pipeline(
    pair: tuple[HFEngine, LlamaCppEngine],
) -> None:
    _, llama = pair
    texts = ("Press |Save| now.", "The |quick| fox.", "Der |Hund| schläft.")
    job = Job("doc", _doc(*texts), DE)
    text, report = translate_document(job, llama, batch_size=2)
    source = "".join(f"<b>{t.replace('|', '<i>', 1).replace('|', '</i>')}</b>\n"
                     for t in texts)
    assert TAG_RE.findall(text) == TAG_RE.findall(source)  # structure intact
    assert report.segments == 3
    # Random weights never answer with the right <sN> tags: retried, then rebuilt.
    assert report.retries >= 1 and report.fallbacks >= 1
    assert report.fallbacks <= report.segments


def test_gguf_without_template_uses_the_hy_mt_format(
    pair: tuple[HFEngine, LlamaCppEngine], tmp_path: Path,
) -> None:
    from hymt_cli.gguf_convert import convert

    hf, llama = pair
    bare = tmp_path / "hf"
    shutil.copytree(hf.resolved.path, bare)
    (bare / "chat_template.jinja").unlink()
    engine = LlamaCppEngine(LlamaCppOptions(str(convert(bare, tmp_path / "bare.gguf", "f32")),
                            threads=1))
    assert engine.vocab.meta("tokenizer.chat_template") is None
    assert [engine.encode(r) for r in REQUESTS] == [hf.encode(r) for r in REQUESTS]


def test_fingerprint_differs_from_hf(pair: tuple[HFEngine, LlamaCppEngine]) -> None:
    hf, llama = pair
    parts = llama.fingerprint.split(":")
    assert parts[0] == "llamacpp" and parts[1] == "tiny-F32.gguf"
    assert parts[3:] == ["greedy", "compose_default"] and len(parts[2]) == 12
    assert llama.fingerprint != hf.fingerprint


def test_resolution_from_the_offline_cache(
    tiny_gguf_pair: tuple[Path, Path], tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = tmp_path / "hub" / "models--tencent--HY-MT1.5-1.8B-GGUF"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    snapshot.mkdir(parents=True)
    for name in ("HY-MT1.5-1.8B-Q4_K_M.gguf", "HY-MT1.5-1.8B-Q8_0.gguf"):
        shutil.copy(tiny_gguf_pair[1], snapshot / name)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve_gguf("1.8b-gguf").path.name == "HY-MT1.5-1.8B-Q4_K_M.gguf"
    chosen = resolve_gguf("tencent/HY-MT1.5-1.8B-GGUF", "q8_0")
    assert chosen.path.name.endswith("Q8_0.gguf")
    assert chosen.repo_id == "tencent/HY-MT1.5-1.8B-GGUF"
    assert resolve_gguf(str(snapshot), "Q8_0").repo_id is None
    engine = create("llamacpp", model="1.8b-gguf", threads=1)
    assert engine.fingerprint.startswith("llamacpp:HY-MT1.5-1.8B-Q4_K_M.gguf:")
    with pytest.raises(ModelNotFound, match="no file matches 'Q6_K'"):
        resolve_gguf("1.8b-gguf", "Q6_K")
    with pytest.raises(ModelNotFound, match="hf download tencent/HY-MT1.5-7B-GGUF"):
        resolve_gguf("7b-gguf")
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_gguf(str(tmp_path / "missing.gguf"))


def test_quantize_q8_0_loads_and_runs(
    tiny_gguf_pair: tuple[Path, Path], tmp_path: Path,  # noqa: F811
) -> None:
    out = quantize_gguf(tiny_gguf_pair[1], tmp_path / "tiny-Q8_0.gguf", "Q8_0", 1)
    assert out.stat().st_size < tiny_gguf_pair[1].stat().st_size
    engine = LlamaCppEngine(LlamaCppOptions(str(out), threads=1, n_ctx=1024))
    assert len(engine.generate([engine.encode(REQUESTS[0])], [4])[0]) <= 4
    assert engine.compose is compose_default  # 8 bits: the official templates
    small_q4 = quantize_gguf(tiny_gguf_pair[1], tmp_path / "tiny-Q4_K_M.gguf",
                             "Q4_K_M", 1)
    english = LlamaCppEngine(LlamaCppOptions(str(small_q4), threads=1))
    assert english.compose is compose_english_first  # like the hf engine's int4
    assert english.fingerprint.endswith(":greedy:compose_english_first")
    with pytest.raises(GGUFError, match="unknown GGUF type"):
        quantize_gguf(out, tmp_path / "x.gguf", "Q3_XYZ")


def test_import_engines_does_not_import_llama_cpp() -> None:
    code = ("import sys, hymt_cli.engines as e; "
            "assert 'llamacpp' in e.engine_names(); "
            "assert 'llama_cpp' not in sys.modules and 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_picks_llamacpp_for_a_gguf_model(
    tiny_gguf_pair: tuple[Path, Path], tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hymt_cli.cli import run

    _, gguf_path = tiny_gguf_pair
    monkeypatch.chdir(tmp_path)
    source = "# Title\n\nSome *text* with `code` and a [link](https://x.org).\n"
    (tmp_path / "doc.md").write_text(source, encoding="utf-8")
    args = ["translate", "doc.md", "--to", "de", "--model", str(gguf_path),
            "--threads", "1", "--max-new-tokens", "8", "--json"]
    assert run(args) == 0
    out = (tmp_path / "doc.de.md").read_text(encoding="utf-8")
    assert "`code`" in out and "(https://x.org)" in out and out.startswith("# ")
    assert run([*args, "--check"]) == 0  # remembered under the llamacpp fingerprint


def test_quantize_command_writes_a_gguf_the_engine_loads(
    tiny_gguf_pair: tuple[Path, Path], tmp_path: Path,  # noqa: F811
) -> None:
    from hymt_cli.cli import run

    hf_dir, _ = tiny_gguf_pair
    out = tmp_path / "tiny-q8.gguf"
    assert run(["quantize", str(hf_dir), str(out), "--format", "gguf",
                "--type", "Q8_0"]) == 0
    engine = LlamaCppEngine(LlamaCppOptions(str(out), threads=1, max_new_tokens=4))
    assert "tiny-q8.gguf" in engine.fingerprint
    assert engine.translate_batch([Request("Hello world", LANGUAGES["de"])])
    assert run(["quantize", str(hf_dir), str(out), "--format", "gguf"]) == 2
