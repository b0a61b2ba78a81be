"""The hf engine on a tiny random HunYuanDenseV1 checkpoint (fp32, CPU, offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from hymt_cli.engines.base import Request  # noqa: E402
from hymt_cli.engines.hf import HFEngine  # noqa: E402
from hymt_cli.engines.options import HFOptions  # noqa: E402
from hymt_cli.engines.hf_generate import Sampling, generate  # noqa: E402
from hymt_cli.engines.hf_loading import TURN_END_TOKEN, stop_token_ids  # noqa: E402
from hymt_cli.languages import LANGUAGES  # noqa: E402
from hymt_cli.models import ModelNotFound, resolve_model  # noqa: E402
from hymt_cli.prompts import build_prompt  # noqa: E402
from tests.chat_contract import assert_reports_tokens, assert_retry_samples  # noqa: E402,E501
from tests.tiny_model import SAMPLE_TEXTS, tiny_model_dir  # noqa: E402, F401

DE, ZH = LANGUAGES["de"], LANGUAGES["zh"]
TEXTS = SAMPLE_TEXTS
REQUESTS = [Request(t, ZH if i % 3 == 0 else DE) for i, t in enumerate(TEXTS)]


def _engine(spec: str, **options: int) -> HFEngine:
    # One thread: the box is shared and oversubscribed OpenMP threads crawl.
    return HFEngine(HFOptions(spec, device="cpu", dtype="float32", threads=1, **options))


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> HFEngine:  # noqa: F811
    """One loaded engine for the module; tests must not change its settings."""
    hf = _engine(str(tiny_model_dir))
    hf.load()
    return hf


def _generate(engine: HFEngine, prompts: list[list[int]], budgets: list[int], **kw):
    return generate(
        engine.model,
        prompts,
        pad_id=engine.pad_id,
        stop_ids=kw.pop("stop_ids", sorted(engine.stop_ids)),
        max_new_tokens=budgets,
        **kw,
    )


def test_loads_a_local_directory(tiny_model_dir: Path) -> None:  # noqa: F811
    hf = _engine(str(tiny_model_dir))
    assert hf.resolved.path == tiny_model_dir and hf.resolved.repo_id is None
    assert hf.model is None  # lazy: nothing loaded before the first batch


def test_loads_an_alias_from_the_offline_cache(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    repo = tmp_path / "hub" / "models--tencent--HY-MT1.5-1.8B"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(tiny_model_dir, repo / "snapshots" / commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    resolved = resolve_model("1.8b")
    assert resolved.repo_id == "tencent/HY-MT1.5-1.8B"
    assert resolved.path == repo / "snapshots" / commit
    hf = _engine("1.8b", max_new_tokens=2)
    assert len(hf.translate_batch([Request("Hi.", DE)])) == 1


def test_missing_model_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    with pytest.raises(ModelNotFound) as caught:
        HFEngine(HFOptions("7b"))
    message = str(caught.value)
    assert "\n" not in message
    assert "'tencent/HY-MT1.5-7B'" in message
    assert "huggingface-cli download tencent/HY-MT1.5-7B" in message
    assert "HF_HOME" in message and "--model" in message
    assert str(tmp_path / "empty" / "hub") in message


def test_bad_local_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model(str(tmp_path / "nope"))
    with pytest.raises(ModelNotFound, match="no config.json"):
        resolve_model(str(tmp_path))


def test_prompt_fed_is_the_chat_template_of_build_prompt(
    engine: HFEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fed: list[list[int]] = []

    def capture(prompts: list[list[int]], *_: object) -> list[list[int]]:
        fed.extend(prompts)
        return [[] for _ in prompts]

    monkeypatch.setattr(engine, "generate", capture)
    engine.translate_batch(REQUESTS)
    expected = [
        engine.tokenizer.apply_chat_template(
            [{"role": "user", "content": build_prompt(r)}],
            add_generation_prompt=True,
            sanitize_control_tokens=True,
        )["input_ids"]
        for r in REQUESTS
    ]
    assert sorted(fed) == sorted(expected)
    text = engine.tokenizer.decode(expected[3])
    assert text.startswith(engine.tokenizer.bos_token + "<｜hy_User｜>将以下<source>")
    assert text.endswith("</source><｜hy_Assistant｜>")


def test_control_tokens_in_documents_stay_text(engine: HFEngine) -> None:
    user = engine.tokenizer.convert_tokens_to_ids("<｜hy_User｜>")
    ids = engine.encode(Request("Type <｜hy_User｜> here.", DE))
    assert ids.count(user) == 1  # the template's own marker only
    assert engine.encode(Request("Hello world.", DE)).count(user) == 1


def test_stop_tokens_come_from_the_tokenizer(engine: HFEngine) -> None:
    tokenizer = engine.tokenizer
    turn_end = tokenizer.convert_tokens_to_ids(TURN_END_TOKEN)
    assert engine.stop_ids == {tokenizer.eos_token_id, turn_end}
    assert stop_token_ids(tokenizer) == {tokenizer.eos_token_id, turn_end}


def test_stop_tokens_without_turn_end() -> None:
    class Plain:
        eos_token_id = 7

        def get_vocab(self) -> dict[str, int]:
            return {"a": 1}

    class Config:
        eos_token_id = [7, 9]

    assert stop_token_ids(Plain()) == {7}
    assert stop_token_ids(Plain(), Config()) == {7, 9}


def test_batched_greedy_equals_sequential(engine: HFEngine) -> None:
    prompts = [engine.encode(r) for r in REQUESTS]
    budgets = [5 + 4 * i for i in range(len(prompts))]
    batched = _generate(engine, prompts, budgets)
    sequential = [_generate(engine, [p], [b])[0] for p, b in zip(prompts, budgets)]
    assert batched == sequential
    assert [len(o) for o in batched] == budgets  # random weights never say eos here


def test_greedy_matches_transformers_generate(engine: HFEngine) -> None:
    import torch

    from hymt_cli.engines.hf_generate import left_pad

    prompts = [engine.encode(r) for r in REQUESTS[:4]]
    stops = sorted(engine.stop_ids)
    ours = _generate(engine, prompts, [10] * len(prompts))
    ids, mask = left_pad(prompts, engine.pad_id, torch.device("cpu"))
    reference = engine.model.generate(  # type: ignore[union-attr]
        input_ids=ids,
        attention_mask=mask,
        max_new_tokens=10,
        do_sample=False,
        eos_token_id=stops,
        pad_token_id=engine.pad_id,
    )[:, ids.shape[1] :].tolist()
    cut = [next((r[:i] for i, t in enumerate(r) if t in stops), r) for r in reference]
    assert ours == cut


def test_engine_batched_equals_one_at_a_time(engine: HFEngine) -> None:
    together = engine.translate_batch(REQUESTS)
    alone = [engine.translate_batch([r])[0] for r in REQUESTS]
    assert together == alone and len(together) == len(REQUESTS)


def test_stop_token_ends_a_row_and_is_dropped(engine: HFEngine) -> None:
    prompts = [engine.encode(r) for r in REQUESTS]
    free = _generate(engine, prompts, [12] * len(prompts), stop_ids=[])
    stop = free[0][4]
    cut = _generate(engine, prompts, [12] * len(prompts), stop_ids=[stop])
    for full, short in zip(free, cut):
        assert short == (full[: full.index(stop)] if stop in full else full)


def test_finished_rows_leave_the_cache(engine: HFEngine) -> None:
    prompts = [engine.encode(r) for r in REQUESTS]
    budgets = [2, 4, 4, 6, 9, 12]
    seen: list[tuple[int, int, int]] = []

    def observe(running: int, cache: object) -> None:
        keys = cache.layers[0].keys  # type: ignore[attr-defined]
        seen.append((running, keys.shape[0], keys.shape[2]))

    _generate(engine, prompts, budgets, observer=observe)
    rows = [r for r, _, _ in seen]
    assert all(r == cache_rows for r, cache_rows, _ in seen)
    assert rows[0] == 6 and rows[-1] == 1 and rows == sorted(rows, reverse=True)
    assert len(seen) == max(budgets)
    assert sorted(set(rows), reverse=True) == [6, 5, 3, 2, 1]


def test_left_padding_is_trimmed_when_long_rows_leave(engine: HFEngine) -> None:
    short, long = engine.encode(REQUESTS[0]), engine.encode(REQUESTS[1])
    lengths: list[int] = []

    def observe(_running: int, cache: object) -> None:
        lengths.append(cache.layers[0].keys.shape[2])  # type: ignore[attr-defined]

    _generate(engine, [long, short], [1, 3], observer=observe)
    assert lengths[0] == len(long)
    assert lengths[1] == len(short) + 1  # the long row left: its padding went too


def test_budget_is_capped(tiny_model_dir: Path) -> None:  # noqa: F811
    hf = _engine(str(tiny_model_dir), max_new_tokens=7)
    request = Request("Hello world.", DE)
    assert hf.budget(request) == 7
    hf.max_new_tokens = 1000
    n = len(hf.tokenizer("Hello world.", add_special_tokens=False)["input_ids"])
    assert hf.budget(request) == 2 * n + 32
    sizes: list[int] = []
    hf.max_new_tokens = 3
    hf.observer = lambda running, cache: sizes.append(running)
    hf.translate_batch(REQUESTS[:2])
    assert len(sizes) == 3


def test_blank_requests_pass_through(engine: HFEngine) -> None:
    assert engine.translate_batch([]) == []
    assert engine.translate_batch([Request("  ", DE)]) == ["  "]


def test_sampling_is_seeded_and_bounded(engine: HFEngine) -> None:
    prompts = [engine.encode(r) for r in REQUESTS[:3]]
    sampling = Sampling(seed=3)
    first = _generate(engine, prompts, [6, 6, 6], sampling=sampling, stop_ids=[])
    again = _generate(engine, prompts, [6, 6, 6], sampling=sampling, stop_ids=[])
    assert first == again and all(len(o) == 6 for o in first)


def test_top_k_one_sampling_is_greedy(engine: HFEngine) -> None:
    prompts = [engine.encode(r) for r in REQUESTS[:3]]
    one = Sampling(top_k=1, repetition_penalty=1.0, seed=0)
    sampled = _generate(engine, prompts, [6, 6, 6], sampling=one)
    assert sampled == _generate(engine, prompts, [6, 6, 6])


def test_a_retry_samples_with_a_seed_from_the_attempt(
    engine: HFEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(assert_retry_samples(engine, REQUESTS[:3], monkeypatch)) == 3


def test_translate_batch_reports_tokens_as_it_generates(
    engine: HFEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_reports_tokens(engine, REQUESTS[:3], monkeypatch)


def test_import_engines_does_not_import_torch() -> None:
    code = (
        "import sys, json, hymt_cli.engines as e; "
        "print(json.dumps(['torch' in sys.modules, 'transformers' in sys.modules, "
        "'hf' in e.engine_names()]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == [False, False, True]
