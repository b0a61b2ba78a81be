"""`hymt serve` over real HTTP: a uvicorn server on a loopback port, pseudo and
scripted engines (the tiny HF model: test_serve_hf.py; the page: test_serve_page.py)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.engines.pseudo import pseudo_translate
from tests.serve_support import (  # noqa: F401 - fixtures
    Recorder,
    parse_metrics,
    pseudo_paragraphs,
    recorder,
    serve,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

MARKDOWN = """# Install the tool

Run the installer, then read the [guide](https://example.com/docs/Guide_v2?x=1&y=2).

```python
print("hello world")  # stays as it is
```

- Keep `inline code` as well.
"""


def test_translate_text_in_hy_mt_format(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    text = "Hello world.\n\nA second paragraph."
    response = client.post("/translate", json={
        "source_lang": "en", "target_lang": "de", "text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translation"] == pseudo_paragraphs(text)
    assert (body["target_lang"], body["source_lang"], body["format"]) == ("de", "en",
                                                                         "text")
    report = body["report"]
    assert (report["segments"], report["translated"], report["from_memory"]) == (2, 2, 0)
    assert report["engine_calls"] == 1 and report["gate_failures"] == []


def test_markdown_keeps_code_fences_and_link_urls_byte_identical(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    response = client.post("/translate", json={
        "target_lang": "fr", "text": MARKDOWN, "format": "markdown"})
    assert response.status_code == 200, response.text
    out = response.json()["translation"]
    fence = MARKDOWN[MARKDOWN.index("```python"):MARKDOWN.index("```\n", 12) + 4]
    assert fence in out
    assert "(https://example.com/docs/Guide_v2?x=1&y=2)" in out
    assert "`inline code`" in out
    assert "# [Íñšŧàĺĺ ŧĥé ŧóóĺ" in out  # the heading itself is translated
    assert response.json()["report"]["segments"] == 3


def test_markdown_dialect_can_be_chosen(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    text = "!!! note\n    Admonition body text.\n"
    mkdocs = client.post("/translate", json={
        "target_lang": "de", "text": text, "format": "markdown", "dialect": "mkdocs"})
    assert mkdocs.status_code == 200, mkdocs.text
    assert mkdocs.json()["translation"].startswith("!!! note\n    [Àđɱóñíŧíóñ")
    bad = client.post("/translate", json={
        "target_lang": "de", "text": text, "format": "markdown", "dialect": "nope"})
    assert bad.status_code == 422 and "unknown dialect 'nope'" in bad.json()["error"]


def test_html_document_keeps_markup_and_sets_the_language(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    page = ('<!doctype html><html lang="en"><head><title>Hello</title></head>'
            '<body><p>Click <a href="/x?a=1">here</a> now.</p></body></html>\n')
    response = client.post("/translate", json={
        "target_lang": "ar", "text": page, "format": "html"})
    assert response.status_code == 200, response.text
    out = response.json()["translation"]
    assert '<html dir="rtl" lang="ar">' in out
    assert '<a href="/x?a=1">' in out and "<title>[Ĥéĺĺó" in out


def test_context_seeds_the_first_segment(serve, recorder) -> None:
    client = serve("--engine", "recorder", "--no-memory")
    response = client.post("/translate", json={
        "target_lang": "de", "text": "First.\n\nSecond.",
        "context": "The story so far."})
    assert response.status_code == 200, response.text
    contexts = [r.context for batch in recorder.batches for r in batch]
    assert contexts == ["The story so far.", "The story so far.\nFirst."]


def test_request_glossary_applies_to_that_request_only(serve, recorder,
                                                       tmp_path: Path) -> None:
    glossary = tmp_path / "server.tsv"
    glossary.write_text("engine\tMotor\nmodel\tModell\n", encoding="utf-8")
    client = serve("--engine", "recorder", "--no-memory", "--glossary", str(glossary))
    text = "The model and the engine."
    first = client.post("/translate", json={
        "target_lang": "de", "text": text, "glossary": {"Engine": "Triebwerk"}})
    assert first.status_code == 200, first.text
    second = client.post("/translate", json={"target_lang": "de", "text": text})
    assert second.status_code == 200, second.text
    terms = [dict(batch[0].terms) for batch in recorder.batches]
    assert terms == [{"model": "Modell", "Engine": "Triebwerk"},
                     {"engine": "Motor", "model": "Modell"}]
    # pseudo keeps no term: each miss is reported, none is written into the text
    misses = first.json()["report"]["glossary_misses"]
    assert sorted(misses) == ["s1: Engine -> Triebwerk", "s1: model -> Modell"]
    assert "Triebwerk" not in first.json()["translation"]


def test_languages_resolve_aliases_and_unknown_ones_get_422(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    ok = client.post("/translate", json={"target_lang": "zh-TW", "source_lang": "pt-BR",
                                         "text": "Olá"})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["target_lang"], ok.json()["source_lang"]) == ("zh-Hant", "pt")
    bad = client.post("/translate", json={"target_lang": "klingon", "text": "Hi"})
    assert bad.status_code == 422
    error = bad.json()
    assert error["error"].startswith("target_lang: unknown language 'klingon'; "
                                     "supported: zh, en, fr")
    assert "yue" in error["error"] and error["hint"] == "GET /languages lists them"
    listed = client.get("/languages").json()
    assert len(listed) == 38 and listed[18] == {
        "code": "zh-Hant", "english": "Traditional Chinese", "chinese": "繁体中文",
        "rtl": False}


def test_invalid_bodies_get_one_line_json_errors(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    missing = client.post("/translate", json={"text": "Hi"})
    assert missing.status_code == 422
    assert missing.json()["error"] == "target_lang: Field required"
    extra = client.post("/translate", json={"text": "Hi", "target_lang": "de",
                                            "path": "/etc/passwd"})
    assert extra.status_code == 422 and "path: Extra inputs" in extra.json()["error"]
    broken = client.post("/translate", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "\n" not in broken.json()["error"]
    assert client.get("/nowhere").json() == {"error": "Not Found", "hint": ""}


def test_health_page_and_openapi(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() | {"version": ""} == {
        "status": "ready", "engine": "pseudo", "loaded": True, "error": "",
        "in_flight": 0, "pending_segments": 0, "api_key_required": False,
        "version": ""}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith(
        "text/html")
    assert 'id="translate"' in page.text and "<script" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    schema = client.get("/openapi.json").json()
    request = schema["components"]["schemas"]["TranslateRequest"]
    assert {"text", "target_lang"} <= set(request["required"])
    assert set(schema["paths"]) >= {"/translate", "/translate/file", "/languages",
                                    "/healthz", "/metrics", "/glossary"}


def test_file_upload_matches_the_cli_byte_for_byte(serve, tmp_path: Path) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    source = tmp_path / "guide.md"
    source.write_bytes((EXAMPLES / "guide.md").read_bytes())
    assert run(["translate", str(source), "--to", "de", "--engine", "pseudo",
                "--no-memory", "--dialect", "commonmark", "--quiet"]) == 0
    expected = (tmp_path / "guide.de.md").read_bytes()
    response = client.post("/translate/file", data={"target_lang": "de"},
                           files={"file": ("guide.md", source.read_bytes())})
    assert response.status_code == 200, response.text
    assert response.content == expected
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"guide.de.md\"; filename*=UTF-8''guide.de.md")
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    report = json.loads(response.headers["x-hymt-report"])
    assert report["segments"] == report["translated"] > 10
    assert report["glossary_misses"] == report["gate_failures"] == 0


def test_file_upload_keeps_its_encoding_and_bom(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    data = "Bonjour le monde.\r\n\r\nDeux.\r\n".encode("utf-16")  # with a BOM
    response = client.post("/translate/file", data={"target_lang": "en"},
                           files={"file": ("notes é.txt", data)})
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xff\xfe")
    assert response.content.decode("utf-16") == (
        f"{pseudo_translate('Bonjour le monde.')}\r\n\r\n{pseudo_translate('Deux.')}\r\n")
    assert "charset=utf-16" in response.headers["content-type"]
    assert response.headers["content-disposition"].endswith(
        "filename*=UTF-8''notes%20%C3%A9.en.txt")


def test_file_upload_refuses_unknown_and_binary_files(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    unknown = client.post("/translate/file", data={"target_lang": "de"},
                          files={"file": ("data.bin", b"hello")})
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "data.bin: unknown document type"
    forced = client.post("/translate/file", data={"target_lang": "de", "format": "txt"},
                         files={"file": ("data.bin", b"hello")})
    assert forced.status_code == 200 and forced.text == pseudo_translate("hello")
    binary = client.post("/translate/file", data={"target_lang": "de"},
                         files={"file": ("x.txt", b"a\0b")})
    assert binary.status_code == 422 and "binary" in binary.json()["error"]


def test_glossary_uploads_are_read_by_hymt_rules(serve, recorder) -> None:
    client = serve("--engine", "recorder", "--no-memory")
    tsv = "# terms\nen\tde\nrelease\tVeröffentlichung\n"
    parsed = client.post("/glossary", files={"file": ("terms.tsv", tsv.encode())},
                         data={"target_lang": "de"})
    assert parsed.status_code == 200, parsed.text
    assert parsed.json() == {"glossary": {"release": "Veröffentlichung"}, "terms": 1}
    other = client.post("/glossary", files={"file": ("terms.tsv", tsv.encode())},
                        data={"target_lang": "fr"})
    assert other.json() == {"glossary": {}, "terms": 0}  # an en->de glossary
    bad = client.post("/glossary", files={"file": ("t.json", b'{"a": 1')})
    assert bad.status_code == 422 and bad.json()["error"].startswith("t.json:1")
    upload = client.post("/translate/file", data={"target_lang": "de"}, files={
        "file": ("notes.txt", b"The release is out."),
        "glossary_file": ("terms.tsv", tsv.encode())})
    assert upload.status_code == 200, upload.text
    assert recorder.batches[-1][0].terms == (("release", "Veröffentlichung"),)


def test_body_size_limit_from_content_length_and_while_streaming(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory", "--max-body-size", "1K")
    big = {"target_lang": "de", "text": "word " * 400}
    declared = client.post("/translate", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"] == "the request body is larger than 1024 bytes"

    def chunks():
        for _ in range(8):
            yield b" " * 256

    streamed = client.post("/translate", content=chunks(),
                           headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    small = client.post("/translate", json={"target_lang": "de", "text": "Hi."})
    assert small.status_code == 200


def test_segment_limit(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory", "--max-segments", "2")
    response = client.post("/translate", json={"target_lang": "de",
                                               "text": "One.\n\nTwo.\n\nThree."})
    assert response.status_code == 413
    assert response.json()["error"] == (
        "the document has 3 segments; this service takes at most 2")


def _wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_full_queue_gets_503_with_retry_after(serve, recorder) -> None:
    recorder.gate = threading.Event()
    client = serve("--engine", "recorder", "--no-memory", "--queue-size", "1")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/translate",
                            json={"target_lang": "de", "text": "Slow one."})
        _wait_for(lambda: recorder.batches)  # admitted, held in the engine
        busy = client.post("/translate", json={"target_lang": "de", "text": "Next."})
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["error"].startswith("the service is busy")
        recorder.gate.set()
        assert first.result().status_code == 200
    again = client.post("/translate", json={"target_lang": "de", "text": "Next."})
    assert again.status_code == 200


def test_slow_requests_get_504_and_leave_the_engine(serve, recorder) -> None:
    recorder.gate = threading.Event()
    client = serve("--engine", "recorder", "--no-memory", "--timeout", "0.5")
    began = time.monotonic()
    response = client.post("/translate", json={"target_lang": "de", "text": "Slow."})
    assert response.status_code == 504
    assert response.json()["error"] == "the translation took longer than 0.5 s"
    assert time.monotonic() - began < 5
    recorder.gate.set()
    _wait_for(lambda: client.get("/healthz").json()["in_flight"] == 0)
    assert client.post("/translate", json={"target_lang": "de",
                                           "text": "Fast."}).status_code == 200


def test_engine_errors_are_json_and_never_translations(serve, recorder) -> None:
    recorder.fail = "the model exploded"
    client = serve("--engine", "recorder", "--no-memory")
    response = client.post("/translate", json={"target_lang": "de", "text": "Hi."})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal error: RuntimeError: the model exploded", "hint": ""}


def test_an_engine_error_reaches_every_request_of_its_batch(serve, recorder) -> None:
    recorder.fail = "out of memory"
    client = serve("--engine", "recorder", "--no-memory", "--batch-size", "2",
                   "--batch-wait-ms", "20000")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda t: client.post("/translate", json={
            "target_lang": "de", "text": t}), ["One.", "Two."]))
    assert len(recorder.batches) == 1 and len(recorder.batches[0]) == 2
    for answer in answers:
        assert answer.status_code == 500
        assert answer.json()["error"] == "internal error: RuntimeError: out of memory"


class Unloadable(Recorder):
    """An engine whose model cannot be loaded."""

    def load(self) -> None:
        raise OSError("weights are corrupt")


def test_an_engine_that_fails_to_load_is_reported(serve) -> None:
    from hymt_cli import engines

    engines.register("unloadable", Unloadable)
    client = serve("--engine", "unloadable", "--no-memory")
    _wait_for(lambda: client.get("/healthz").json()["status"] != "loading")
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "failed" and not health.json()["loaded"]
    assert health.json()["error"] == "OSError: weights are corrupt"
    answer = client.post("/translate", json={"target_lang": "de", "text": "Hi."})
    assert answer.status_code == 503
    assert answer.json()["error"] == (
        "the engine failed to load: OSError: weights are corrupt")


def test_api_key(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    assert client.get("/healthz").json()["api_key_required"] is False
    monkeypatch.setenv("HYMT_API_KEY", "s3cret")
    client = serve("--engine", "pseudo", "--no-memory")
    body = {"target_lang": "de", "text": "Hi."}
    refused = client.post("/translate", json=body)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"] == "missing or wrong API key"
    wrong = client.post("/translate", json=body, headers={"X-API-Key": "s3cre"})
    assert wrong.status_code == 401
    assert client.get("/metrics").status_code == 401
    bearer = client.post("/translate", json=body,
                         headers={"Authorization": "Bearer s3cret"})
    assert bearer.status_code == 200
    header = client.post("/translate", json=body, headers={"X-API-Key": "s3cret"})
    assert header.status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["api_key_required"] is True


def test_repeated_request_is_answered_by_the_memory(serve, recorder,
                                                   tmp_path: Path) -> None:
    memory = tmp_path / "memory.sqlite"
    client = serve("--engine", "recorder", "--memory", str(memory))
    body = {"target_lang": "de", "text": "One.\n\nTwo.", "context": "Before."}
    first = client.post("/translate", json=body).json()
    calls = len(recorder.batches)
    assert calls == 1 and first["report"]["from_memory"] == 0
    second = client.post("/translate", json=body).json()
    assert len(recorder.batches) == calls  # no engine call at all
    assert second["translation"] == first["translation"]
    assert second["report"]["from_memory"] == 2 and second["report"]["engine_calls"] == 0
    other = client.post("/translate", json=body | {"context": "Other."}).json()
    assert len(recorder.batches) == calls + 1  # the context is part of the key
    assert other["report"]["from_memory"] == 0  # both segments see the new context
    metrics = parse_metrics(client.get("/metrics").text)
    assert metrics["hymt_segments_from_memory_total"][()] == 2


def test_concurrent_requests_share_one_engine_call(serve, recorder) -> None:
    client = serve("--engine", "recorder", "--no-memory", "--batch-size", "2",
                   "--batch-wait-ms", "20000")
    texts = ["First client.", "Second client."]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda t: client.post("/translate", json={
            "target_lang": "de", "text": t}), texts))
    assert [a.json()["translation"] for a in answers] == [
        pseudo_translate(t) for t in texts]
    assert len(recorder.batches) == 1
    assert sorted(r.text for r in recorder.batches[0]) == sorted(texts)
    assert all(a.json()["report"]["engine_calls"] == 1 for a in answers)


def test_32_concurrent_clients_each_get_their_own_answer(serve, tmp_path) -> None:
    client = serve("--engine", "pseudo", "--memory", str(tmp_path / "m.sqlite"),
                   "--batch-wait-ms", "50")

    def ask(n: int) -> tuple[str, str, int]:
        text = "\n\n".join(f"Client {n} paragraph {p} says {'hello ' * (n % 5)}."
                           for p in range(3))
        fmt = ("text", "markdown")[n % 2]
        response = client.post("/translate", json={
            "target_lang": "de", "text": text, "format": fmt})
        assert response.status_code == 200, response.text
        return response.json()["translation"], pseudo_paragraphs(text), n

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(ask, range(32)))
    for got, expected, n in results:
        assert got == expected, f"client {n} got another answer"
    metrics = parse_metrics(client.get("/metrics").text)
    calls = metrics["hymt_engine_calls_total"][()]
    batch_count = metrics["hymt_batch_size_count"][()]
    assert calls == batch_count and calls < 32 * 3  # some segments were merged
    assert metrics["hymt_segments_total"][()] == 96
    # again, all at once: the shared memory answers every segment
    with ThreadPoolExecutor(32) as pool:
        again = list(pool.map(ask, range(32)))
    assert [got for got, _, _ in again] == [got for got, _, _ in results]
    metrics = parse_metrics(client.get("/metrics").text)
    assert metrics["hymt_engine_calls_total"][()] == calls
    assert metrics["hymt_segments_from_memory_total"][()] == 96


def test_metrics_exposition_format(serve) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    client.post("/translate", json={"target_lang": "de", "text": "One.\n\nTwo."})
    client.post("/translate", json={"target_lang": "xx", "text": "One."})
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    metrics = parse_metrics(response.text)
    requests = metrics["hymt_requests_total"]
    assert requests[(("endpoint", "/translate"), ("status", "200"))] == 1
    assert requests[(("endpoint", "/translate"), ("status", "422"))] == 1
    assert metrics["hymt_segments_total"][()] == 2
    assert metrics["hymt_tokens_generated_total"][()] == 0  # pseudo reports none
    assert metrics["hymt_engine_loaded"][()] == 1
    assert metrics["hymt_queue_depth"][()] == 0
    buckets = metrics["hymt_request_duration_seconds_bucket"]
    translate = sorted((float(dict(k)["le"]), v) for k, v in buckets.items()
                       if dict(k)["endpoint"] == "/translate")
    counts = [v for _, v in translate]
    assert counts == sorted(counts) and translate[-1][0] == float("inf")
    count = metrics["hymt_request_duration_seconds_count"]
    assert counts[-1] == count[(("endpoint", "/translate"),)] == 2
    sizes = metrics["hymt_batch_size_bucket"]
    assert sizes[(("le", "1"),)] == 0 and sizes[(("le", "2"),)] == 1
