"""Issue 13, part 1: `--engine openai` against a real OpenAI-compatible server.

The server is llama-cpp-python's (`python -m llama_cpp.server`) on the tiny random
GGUF, started on loopback once per session (`tests/inference_server.py`); the
fault cases put a fault-injecting proxy of our own between hymt and it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("openai")

from hymt_cli.cli import run  # noqa: E402
from hymt_cli.engines import create  # noqa: E402
from hymt_cli.engines import remote_client  # noqa: E402
from hymt_cli.engines.base import PartialAnswers, Request  # noqa: E402
from hymt_cli.engines.remote import OpenAIEngine  # noqa: E402
from hymt_cli.engines.remote_client import ServerDown, ServerError  # noqa: E402
from hymt_cli.languages import resolve  # noqa: E402
from tests.chat_contract import assert_retry_samples  # noqa: E402
from tests.inference_server import (  # noqa: E402, F401
    CHAT_PATH,
    SERVED_MODEL,
    FaultProxy,
    free_port,
    llama_server,
    proxy,
    tiny_gguf_pair,
)

DE = resolve("de")
PAGE = """# Install the tool

Run the **installer** and read [the guide](https://example.com/guide#setup).

```bash
pip install hymt-cli
```

| Step | What |
|---|---|
| one | Download the file. |
| two | Check its digest. |

- First item of the list.
- Second item, with `code`.
"""
SEGMENTS_IN_PAGE = 8


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff in milliseconds, so fault tests take no time; `Retry-After` is
    still honoured (capped by MAX_BACKOFF_S, left as it is)."""
    monkeypatch.setattr(remote_client, "BACKOFF_S", 0.01)
    monkeypatch.delenv("HYMT_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HYMT_BASE_URL", raising=False)


def engine_for(base_url: str, **options: object) -> OpenAIEngine:
    engine = create("openai", base_url=(base_url,), **options)
    assert isinstance(engine, OpenAIEngine)
    return engine


def requests(*texts: str) -> list[Request]:
    return [Request(text, DE) for text in texts]


def translate(tmp_path: Path, *args: str, name: str = "page.md") -> int:
    page = tmp_path / name
    if not page.exists():
        page.write_text(PAGE, encoding="utf-8")
    return run(["translate", str(page), "--to", "de", "--engine", "openai",
                "--memory", str(tmp_path / "memory.sqlite"), *args])


def stored_answers(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "memory.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


# -- the engine on the real server ---------------------------------------------------


def test_answers_come_back_in_request_order_whatever_the_concurrency(llama_server) -> None:
    texts = [f"Sentence number {n} is about {'many ' * n}things." for n in range(12)]
    one_by_one = engine_for(llama_server.base_url, concurrency=1)
    in_flight = engine_for(llama_server.base_url, concurrency=8)
    expected = [one_by_one.translate_batch(requests(t))[0] for t in texts]
    assert in_flight.translate_batch(requests(*texts)) == expected
    assert len(set(expected)) > 1  # the check would be empty if all answers matched


def test_the_only_served_model_is_used_and_fingerprinted(llama_server) -> None:
    engine = engine_for(llama_server.base_url)
    assert engine.model == SERVED_MODEL
    assert engine.fingerprint.startswith(f"openai:{SERVED_MODEL}:greedy:")
    sampled = engine_for(llama_server.base_url, sampling=True, seed=3)
    assert sampled.fingerprint != engine.fingerprint
    assert engine_for(llama_server.base_url, model="other").fingerprint != engine.fingerprint


def test_blank_segments_pass_through_without_a_request(proxy: FaultProxy) -> None:
    engine = engine_for(proxy.base_url)
    assert engine.translate_batch(requests("  ", "\n")) == ["  ", "\n"]
    assert proxy.requests() == []


def test_budget_is_counted_by_the_server_tokenizer(proxy: FaultProxy) -> None:
    engine = engine_for(proxy.base_url, max_new_tokens=500)
    text = "Count these words with the server, please."
    engine.translate_batch(requests(text))
    (tokenized,) = [s for s in proxy.seen if s.path == "/extras/tokenize"
                    and json.loads(s.body)["input"] == text]
    assert json.loads(proxy.requests()[0].body)["max_tokens"] == 2 * engine.counts[text] + 32
    assert tokenized.method == "POST"


def test_greedy_request_fields_and_no_system_prompt(proxy: FaultProxy) -> None:
    engine = engine_for(proxy.base_url)
    engine.translate_batch(requests("Hello there, world."))
    body = json.loads(proxy.requests()[0].body)
    assert body["temperature"] == 0.0 and body["model"] == SERVED_MODEL
    assert body["repetition_penalty"] == 1.0  # no server default leaks into greedy
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"] == engine.prompt_text(requests("Hello there, world.")[0])


def test_a_retry_samples_with_a_seed_from_the_attempt(
    llama_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_for(llama_server.base_url)
    assert_retry_samples(engine, requests("A first sentence here.", "Another one."),
                         monkeypatch)


def test_tokens_are_reported_per_answer(llama_server) -> None:
    engine = engine_for(llama_server.base_url, concurrency=4)
    reported: list[int] = []
    engine.on_tokens = reported.append
    engine.translate_batch(requests("One sentence.", "Two sentences here.", "Three."))
    assert len(reported) == 3 and all(n > 0 for n in reported)


def test_an_unserved_model_fails_with_the_served_list(llama_server) -> None:
    engine = engine_for(llama_server.base_url, model="tencent/HY-MT1.5-7B")
    with pytest.raises(ServerDown, match=f"does not serve.*{SERVED_MODEL}"):
        engine.translate_batch(requests("Hello."))


# -- faults ------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "503", "429", "garbage", "cut", "drop"])
def test_a_transient_fault_is_retried(proxy: FaultProxy, fault: str) -> None:
    proxy.script(CHAT_PATH, fault, fault)
    engine = engine_for(proxy.base_url)
    (answer,) = engine.translate_batch(requests("Retry me, please."))
    assert [s.fault for s in proxy.requests()] == [fault, fault, None]
    assert isinstance(answer, str)


def test_retry_after_is_honoured(proxy: FaultProxy) -> None:
    proxy.script(CHAT_PATH, "429+after=1")
    engine_for(proxy.base_url).translate_batch(requests("Wait for me."))
    first, second = proxy.requests()
    assert second.at - first.at >= 0.95


def test_a_timeout_is_retried(proxy: FaultProxy) -> None:
    proxy.script(CHAT_PATH, "hang=3")
    engine = engine_for(proxy.base_url, request_timeout=1)
    engine.translate_batch(requests("Slow server."))
    assert [s.fault for s in proxy.requests()] == ["hang=3", None]


def test_a_bad_request_fails_at_once(proxy: FaultProxy) -> None:
    proxy.always(CHAT_PATH, "400")
    with pytest.raises(PartialAnswers) as failure:
        engine_for(proxy.base_url).translate_batch(requests("Too long, say."))
    assert isinstance(failure.value.__cause__, ServerError)
    assert not isinstance(failure.value.__cause__, ServerDown)
    assert len(proxy.requests()) == 1


def test_retries_are_bounded(proxy: FaultProxy) -> None:
    proxy.always(CHAT_PATH, "503")
    with pytest.raises(PartialAnswers, match="failed 5 times") as failure:
        engine_for(proxy.base_url).translate_batch(requests("Never answered."))
    assert isinstance(failure.value.__cause__, ServerDown)
    assert len(proxy.requests()) == remote_client.MAX_ATTEMPTS


def test_a_dead_replica_is_skipped(proxy: FaultProxy) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    engine = create("openai", base_url=(dead, proxy.base_url), model=SERVED_MODEL)
    answers = engine.translate_batch(requests(*(f"Line {n} of text." for n in range(6))))
    assert len(answers) == 6 and len(proxy.requests()) == 6


def test_replicas_share_the_requests(llama_server, proxy: FaultProxy) -> None:
    other = FaultProxy(proxy.upstream).start()
    try:
        engine = create("openai", base_url=(proxy.base_url, other.base_url))
        engine.translate_batch(requests(*(f"Line {n} of text." for n in range(8))))
        assert len(proxy.requests()) == 4 and len(other.requests()) == 4
    finally:
        other.stop()


# -- the command line ---------------------------------------------------------------


def test_translate_a_page_then_rerun_from_memory(
    tmp_path: Path, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert translate(tmp_path, "--base-url", proxy.base_url) == 0
    out = (tmp_path / "page.de.md").read_text(encoding="utf-8")
    assert "```bash\npip install hymt-cli\n```" in out
    assert "(https://example.com/guide#setup)" in out
    assert out.count("\n|") == PAGE.count("\n|")
    asked = len(proxy.requests())
    assert asked >= SEGMENTS_IN_PAGE
    assert translate(tmp_path, "--base-url", proxy.base_url) == 0
    assert len(proxy.requests()) == asked  # the memory answered everything


def test_auto_picks_openai_from_the_environment(
    tmp_path: Path, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYMT_BASE_URL", proxy.base_url)
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    assert run(["translate", str(page), "--to", "de", "--no-memory"]) == 0
    assert len(proxy.requests()) >= SEGMENTS_IN_PAGE


def test_a_server_that_dies_mid_run_keeps_what_it_answered(
    tmp_path: Path, proxy: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):  # three pages, so one failure must not take them one by one
        paragraphs = (f"Paragraph {k} of page {n} says something plain." for k in range(6))
        (tmp_path / f"p{n}.md").write_text("\n\n".join(paragraphs) + "\n",
                                           encoding="utf-8")
    answered = 5
    original = proxy.take_fault

    def die_after_five(path: str) -> str | None:
        if path == CHAT_PATH and len(proxy.requests()) >= answered:
            return "drop"
        return original(path)

    proxy.take_fault = die_after_five  # type: ignore[method-assign]
    args = ["translate", str(tmp_path), "--to", "de", "--engine", "openai",
            "--base-url", proxy.base_url, "--memory", str(tmp_path / "memory.sqlite"),
            "--batch-size", "8", "--concurrency", "1", "--no-gates"]
    assert run(args) == 1
    err = capsys.readouterr().err
    failures = [line for line in err.splitlines() if "failed 5 times" in line]
    assert len(failures) == 3, err
    assert all(len(line) < 400 for line in failures)
    assert stored_answers(tmp_path) == answered
    dropped = len(proxy.requests()) - answered
    assert dropped == remote_client.MAX_ATTEMPTS  # no document retried on its own

    proxy.take_fault = original  # type: ignore[method-assign]
    before = len(proxy.requests())
    assert run(args) == 0
    assert stored_answers(tmp_path) == 18
    assert len(proxy.requests()) - before == 18 - answered


def test_the_api_key_is_sent_and_never_shown(
    tmp_path: Path, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("HYMT_OPENAI_API_KEY", secret)
    proxy.always(CHAT_PATH, "401")
    assert translate(tmp_path, "--base-url", proxy.base_url, "--debug") == 1
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err
    assert secret not in captured.err + captured.out
    assert proxy.requests()[0].headers["authorization"] == f"Bearer {secret}"
    bodies = [s.body for s in proxy.requests()]
    assert len(bodies) == len(set(bodies))  # sent at once, but none retried


def test_openai_options_are_refused_by_other_engines(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    assert run(["translate", str(page), "--to", "de", "--engine", "pseudo",
                "--concurrency", "4"]) == 2
    assert "takes no option 'concurrency'" in capsys.readouterr().err
    assert run(["translate", str(page), "--to", "de", "--engine", "openai"]) == 2
    assert "needs a server" in capsys.readouterr().err


def test_check_needs_no_server_when_the_model_is_named(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    assert translate(tmp_path, "--base-url", proxy.base_url,
                     "--model", SERVED_MODEL) == 0
    proxy.stop()
    assert translate(tmp_path, "--base-url", proxy.base_url, "--model", SERVED_MODEL,
                     "--check") == 0


def test_a_rejected_answer_is_retried_through_the_server(proxy: FaultProxy) -> None:
    engine = engine_for(proxy.base_url)
    first = requests("The same sentence twice.")
    retry = [replace(r, attempt=1) for r in first]
    engine.translate_batch(first)
    engine.translate_batch(retry)
    greedy, sampled = (json.loads(s.body) for s in proxy.requests())
    assert greedy["temperature"] == 0.0 and "seed" not in greedy
    assert sampled["temperature"] == 0.7 and sampled["seed"] == 1
    assert sampled["top_k"] == 20 and sampled["top_p"] == 0.6

