"""Typed engine options: an option an engine cannot use is one clear usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.engines import create
from hymt_cli.engines.options import HFOptions, LlamaCppOptions
from hymt_cli.errors import UsageError


@pytest.mark.parametrize(("engine", "options", "message"), [
    ("pseudo", {"model": "x"}, "the pseudo engine takes no option 'model'"),
    ("identity", {"threads": 2}, "the identity engine takes no option 'threads'"),
    ("llamacpp", {"dtype": "float16"}, "the llamacpp engine takes no option 'dtype'"),
    ("llamacpp", {"device": "cuda"}, "the llamacpp engine runs on the CPU, not 'cuda'"),
    ("hf", {"n_ctx": 512}, "the hf engine takes no option 'n_ctx'"),
])
def test_inapplicable_options_are_usage_errors(
    engine: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        create(engine, **options)
    assert caught.value.exit_code == 2


def test_run_wide_options_are_dropped_for_engines_without_them() -> None:
    assert create("pseudo", batch_size=4).batch_size == 16  # the pipeline's to use


def test_options_keep_their_defaults_once() -> None:
    assert HFOptions().model == "1.8b" and LlamaCppOptions().model == "1.8b-gguf"
    assert LlamaCppOptions(device="auto").device == "auto"


def test_cli_reports_an_inapplicable_option_as_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("Hello.\n", encoding="utf-8")
    args = ["translate", "a.txt", "--to", "de", "--no-memory"]
    assert run([*args, "--engine", "llamacpp", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "llamacpp" in err[0] and "'cuda'" in err[0]
    assert run([*args, "--engine", "pseudo", "--model", "x"]) == 2
    assert "the pseudo engine takes no option 'model'" in capsys.readouterr().err
    assert run([*args, "--engine", "pseudo", "--batch-size", "2"]) == 0
