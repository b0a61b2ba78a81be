"""`hymt serve` end to end with a real model: the tiny random HunYuanDenseV1
checkpoint on the CPU, concurrent clients merged into the engine's batches."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.serve_support import parse_metrics, serve  # noqa: F401 - fixture

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-hymt-serve"))


def test_concurrent_clients_share_batches_of_the_hf_engine(
        serve, tiny_model: Path, tmp_path: Path) -> None:
    client = serve("--engine", "hf", "--model", str(tiny_model), "--device", "cpu",
                   "--max-new-tokens", "12", "--batch-size", "4",
                   "--batch-wait-ms", "5000", "--memory", str(tmp_path / "m.sqlite"),
                   timeout=300)
    deadline = time.monotonic() + 120
    while (health := client.get("/healthz")).status_code != 200:
        assert health.json()["status"] == "loading", health.text
        assert time.monotonic() < deadline, "the model did not load"
        time.sleep(0.1)
    assert health.json()["loaded"] is True and health.json()["engine"] == "hf"

    texts = ["Hello world.", "The quick brown fox.", "Der Hund.",
             "Machine translation turns documents into another language."]

    def ask(text: str) -> dict:
        response = client.post("/translate", json={"target_lang": "de", "text": text})
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(len(texts)) as pool:
        answers = list(pool.map(ask, texts))
    for answer in answers:
        assert answer["report"]["segments"] == 1 and answer["report"]["engine_calls"] >= 1
        assert isinstance(answer["translation"], str) and answer["translation"]
        assert "error" not in answer

    metrics = parse_metrics(client.get("/metrics").text)
    sizes = metrics["hymt_batch_size_bucket"]
    # the first engine call held all four clients' segments (later calls: retries)
    assert sizes[(("le", "4"),)] - sizes[(("le", "2"),)] >= 1
    assert metrics["hymt_tokens_generated_total"][()] > 0
    assert metrics["hymt_engine_loaded"][()] == 1

    calls = metrics["hymt_engine_calls_total"][()]
    again = ask(texts[0])
    assert again["translation"] == answers[0]["translation"]
    assert again["report"]["from_memory"] == 1 and again["report"]["engine_calls"] == 0
    assert parse_metrics(client.get("/metrics").text)[
        "hymt_engine_calls_total"][()] == calls


def test_a_served_document_is_what_hymt_translate_writes(
        serve, tiny_model: Path, tmp_path: Path) -> None:
    from hymt_cli.cli import run

    model = ["--engine", "hf", "--model", str(tiny_model), "--device", "cpu",
             "--max-new-tokens", "12", "--batch-size", "4", "--no-memory"]
    source = tmp_path / "page.md"
    source.write_text("# Hello world\n\nThe quick brown fox.\n\n- Der Hund.\n",
                      encoding="utf-8")
    assert run(["translate", str(source), "--to", "de", "--dialect", "commonmark",
                "--quiet", *model]) == 0
    client = serve(*model, timeout=300)
    response = client.post("/translate/file", data={"target_lang": "de"},
                           files={"file": ("page.md", source.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.content == (tmp_path / "page.de.md").read_bytes()
