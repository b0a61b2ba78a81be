"""Issue 14: `--engine auto` (the default) and `hymt info`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hymt_cli import cli_config, project
from hymt_cli.cli import run
from hymt_cli.engines import auto, create
from hymt_cli.engines.auto import choose
from tests.tiny_gguf import tiny_gguf_pair  # noqa: F401


def config(*flags: tuple[str, object]) -> object:
    values = {"sources": ("page.md",), "targets": ("de",)} | dict(flags)
    return cli_config.build(values, project.ProjectConfig(), {})


def test_a_server_url_means_openai() -> None:
    assert choose(None, ("http://gpu1:8000/v1",)).engine == "openai"
    assert choose("tiny.gguf", ("http://gpu1:8000/v1",)).engine == "openai"


def test_a_gguf_model_means_llamacpp_and_a_transformers_model_hf() -> None:
    assert choose("./models/x.Q4_K_M.gguf").engine == "llamacpp"
    assert choose("1.8b-gguf").engine == "llamacpp"
    assert choose("1.8b").engine == "hf"
    assert choose("./my-checkpoint").engine == "hf"


def test_a_gpu_means_hf(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose(None, device="cuda").engine == "hf"
    monkeypatch.setattr(auto, "accelerator", lambda: "mps")
    assert choose(None).engine == "hf"


def test_a_cpu_means_llamacpp_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "accelerator", lambda: "cpu")
    monkeypatch.setattr(auto, "installed", lambda module: module == "llama_cpp")
    assert choose(None).engine == "llamacpp"
    monkeypatch.setattr(auto, "installed", lambda module: False)
    fallback = choose(None)
    assert fallback.engine == "hf" and "hymt-cli[llamacpp]" in fallback.reason


def test_auto_is_the_default_and_resolves_before_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auto, "accelerator", lambda: "cpu")
    monkeypatch.setattr(auto, "installed", lambda module: module == "llama_cpp")
    monkeypatch.delenv("HYMT_BASE_URL", raising=False)
    assert config().engine == "llamacpp"
    monkeypatch.setenv("HYMT_BASE_URL", "http://a:1/v1,http://b:1/v1")
    resolved = config()
    assert resolved.engine == "openai"
    assert dict(resolved.engine_options)["base_url"] == ("http://a:1/v1", "http://b:1/v1")
    flagged = config(("base_url", ("http://c:1/v1",)))
    assert dict(flagged.engine_options)["base_url"] == ("http://c:1/v1",)
    assert config(("engine", "hf")).engine_options == ()  # the variable is not forced on hf


def test_auto_gives_the_fingerprint_an_explicit_engine_gives(
    tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
) -> None:
    gguf = str(tiny_gguf_pair[1])
    implicit = config(("model", gguf))
    explicit = config(("model", gguf), ("engine", "llamacpp"))
    assert implicit.engine == explicit.engine == "llamacpp"
    assert implicit.engine_options == explicit.engine_options
    one = create(implicit.engine, **dict(implicit.engine_options))
    two = create(explicit.engine, **dict(explicit.engine_options))
    assert one.fingerprint == two.fingerprint


def test_info_tells_the_pick_and_why(capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYMT_BASE_URL", raising=False)
    assert run(["info", "--json", "--base-url", "http://gpu1:8000/v1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["engine"] == "openai" and "server URL" in data["why"]
    assert set(data["extras"]) == {"llamacpp", "int4", "serve", "openai"}
    assert data["memory_free_bytes"] > 0
    assert run(["info", "--engine", "pseudo"]) == 0
    out = capsys.readouterr().out
    assert "engine:  pseudo (set explicitly)" in out and "needs no model" in out


def test_info_reports_an_uncached_model(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "accelerator", lambda: "cpu")
    monkeypatch.setattr(auto, "installed", lambda module: module == "llama_cpp")
    monkeypatch.delenv("HYMT_BASE_URL", raising=False)
    assert run(["info"]) == 0
    out = capsys.readouterr().out
    assert "engine:  llamacpp (no GPU" in out
    assert "1.8b-gguf (not cached)" in out


def test_info_rejects_an_unknown_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["info", "--engine", "nope"]) == 2
    assert "unknown engine 'nope'" in capsys.readouterr().err


def test_quant_picks_the_alias_or_the_gguf_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "accelerator", lambda: "cpu")
    monkeypatch.setattr(auto, "installed", lambda module: module == "llama_cpp")
    monkeypatch.delenv("HYMT_BASE_URL", raising=False)
    assert dict(config(("quant", "int4")).engine_options) == {"gguf_file": "Q4_K_M"}
    assert dict(config(("quant", "full")).engine_options) == {"gguf_file": "Q8_0"}
    hf_int4 = config(("quant", "int4"), ("engine", "hf"), ("model", "7b"))
    assert dict(hf_int4.engine_options) == {"model": "7b-int4"}
    # the same engine options as naming the alias: the same fingerprint
    named = config(("engine", "hf"), ("model", "7b-int4"))
    assert named.engine_options == hf_int4.engine_options
    monkeypatch.setattr(auto, "accelerator", lambda: "cuda")
    assert config(("quant", "int4")).engine == "hf"
    assert dict(config(("quant", "int4")).engine_options)["model"] == "1.8b-int4"


@pytest.mark.parametrize(("flags", "message"), [
    ((("quant", "int4"), ("engine", "pseudo")), "not of pseudo"),
    ((("quant", "int4"), ("engine", "hf"), ("model", "./mine")), "aliases 1.8b and 7b"),
    ((("quant", "full"), ("engine", "llamacpp"), ("gguf_file", "Q2_K")), "give one"),
    ((("quant", "int8"),), "unknown --quant"),
])
def test_quant_refuses_what_it_cannot_pick(flags: tuple, message: str) -> None:
    from hymt_cli.errors import UsageError

    with pytest.raises(UsageError, match=message):
        config(*flags)
