"""The web page at `/` in a real headless browser (Playwright driving Debian's
chromium): fill the form, translate, read the result and the counters."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hymt_cli.engines.pseudo import pseudo_translate
from tests.serve_support import pseudo_paragraphs, serve  # noqa: F401 - fixture

CHROMIUM = os.environ.get("HYMT_TEST_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright (python) is not installed")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture()
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(accept_downloads=True)
            yield context.new_page()
        finally:
            browser.close()


def test_page_translates_pasted_text_with_glossary_and_context(
        serve, page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HYMT_API_KEY", "page-key")
    client = serve("--engine", "pseudo", "--no-memory")
    page.goto(str(client.base_url) + "/")
    page.wait_for_selector("#target option[value='de']", state="attached")
    assert page.locator("#health").inner_text().startswith("engine pseudo: ready")

    text = "Hello world.\n\nThe release is out."
    page.fill("#text", text)
    page.select_option("#target", "de")
    page.select_option("#source", "en")
    page.fill("#context", "Earlier text.")
    glossary = tmp_path / "terms.tsv"
    glossary.write_text("release\tVeröffentlichung\n", encoding="utf-8")
    page.set_input_files("#glossary", str(glossary))

    page.click("#translate")  # no key yet: the page shows the service's error
    page.wait_for_function("document.getElementById('error').textContent !== ''")
    assert "missing or wrong API key" in page.inner_text("#error")

    page.fill("#api-key", "page-key")
    page.click("#translate")
    page.wait_for_function("document.getElementById('result').value !== ''")
    assert page.input_value("#result") == pseudo_paragraphs(text)
    assert page.inner_text("#error") == ""
    counters = page.inner_text("#counters")
    assert "segments\t2" in counters and "translated\t2" in counters
    assert "glossary misses\t1" in counters
    assert "glossary miss s2: release -> Veröffentlichung" in page.inner_text("#problems")
    assert page.inner_text("#glossary-info") == "1 term(s) for de"

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "saved.txt"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "translation.de.txt"
    assert saved.read_text(encoding="utf-8") == pseudo_paragraphs(text)


def test_page_translates_an_uploaded_document(serve, page, tmp_path: Path) -> None:
    client = serve("--engine", "pseudo", "--no-memory")
    page.goto(str(client.base_url) + "/")
    page.wait_for_selector("#target option[value='fr']", state="attached")
    document = tmp_path / "guide.md"
    document.write_text("# Title\n\nSome text with `code`.\n", encoding="utf-8")
    page.click("#tab-file")
    page.set_input_files("#file", str(document))
    page.select_option("#target", "fr")
    page.click("#translate")
    page.wait_for_function("document.getElementById('result').value !== ''")
    expected = client.post("/translate", json={
        "target_lang": "fr", "text": document.read_text(encoding="utf-8"),
        "format": "markdown"}).json()["translation"]
    assert page.input_value("#result") == expected
    assert expected.startswith(f"# {pseudo_translate('Title')}\n\n")
    counters = page.inner_text("#counters")
    assert "segments\t2" in counters and "glossary misses\t0" in counters
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "guide.fr.md"
