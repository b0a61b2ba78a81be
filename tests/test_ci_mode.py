"""Incremental runs for CI: memory reuse, --check, --dry-run, --prune, the project file.

In-process runs use a counting engine registered for the test only; the kill and
concurrency tests run `hymt` in subprocesses through a small plug-in script that
registers a slow engine and then calls `hymt_cli.cli.main()`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hymt_cli import cli_config, project
from hymt_cli.cli import run
from hymt_cli.engines import base
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.engines.pseudo import pseudo_translate
from hymt_cli.memory import TranslationMemory


class Counting(EngineBase):
    """Pseudo-translates and remembers every text it was asked."""

    name = "counting"
    fingerprint = "counting:v1"

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.seen.extend(r.text for r in requests)
        return [pseudo_translate(r.text) for r in requests]


@pytest.fixture()
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    monkeypatch.setitem(base._REGISTRY, "counting", lambda **_: Counting(asked))
    return asked


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # stops project.find at the test folder
    return tmp_path


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


PARAS = [f"Paragraph number {n} talks about topic {n} at some length."
         for n in range(6)]


def doc(paras: list[str]) -> str:
    return "# Guide\n\n" + "\n\n".join(paras) + "\n"


def counting(*args: str) -> int:
    return run(["translate", "doc.md", "--to", "de", "--engine", "counting", *args])


# memory reuse ---------------------------------------------------------------------


def test_rerun_makes_no_engine_calls(work: Path, seen: list[str]) -> None:
    put(work / "doc.md", doc(PARAS))
    assert counting() == 0
    assert len(seen) == 7 and (work / ".hymt/memory.sqlite").is_file()
    first = (work / "doc.de.md").read_bytes()
    seen.clear()
    assert counting() == 0
    assert seen == []
    assert (work / "doc.de.md").read_bytes() == first


def test_one_edit_without_context_sends_one_segment(
    work: Path, seen: list[str]
) -> None:
    put(work / "doc.md", doc(PARAS))
    assert counting("--context-tokens", "0") == 0
    edited = [*PARAS]
    edited[2] = "A brand new third paragraph."
    put(work / "doc.md", doc(edited))
    seen.clear()
    assert counting("--context-tokens", "0") == 0
    assert seen == ["A brand new third paragraph."]


def test_one_edit_with_context_also_sends_its_readers(
    work: Path, seen: list[str]
) -> None:
    put(work / "doc.md", doc(PARAS))
    assert counting("--context-tokens", "8") == 0
    edited = [*PARAS]
    edited[2] = PARAS[2].replace("length.", "great length.")
    put(work / "doc.md", doc(edited))
    seen.clear()
    assert counting("--context-tokens", "8") == 0
    # an 8-token window holds the tail of the previous paragraph only
    assert seen == [edited[2], PARAS[3]]


def test_identity_engine_never_writes_memory(work: Path) -> None:
    put(work / "doc.md", doc(PARAS))
    assert run(["translate", "doc.md", "--to", "de", "--engine", "identity"]) == 0
    assert not (work / ".hymt").exists()
    assert (work / "doc.de.md").read_text() == doc(PARAS)


def test_no_memory_and_explicit_memory(
    work: Path, seen: list[str], monkeypatch
) -> None:
    put(work / "doc.md", doc(PARAS[:2]))
    assert counting("--no-memory") == 0
    assert not (work / ".hymt").exists()
    assert counting("--memory", "tm/here.sqlite") == 0
    seen.clear()
    monkeypatch.setenv("HYMT_MEMORY", str(work / "tm/here.sqlite"))
    assert counting() == 0 and seen == []


def test_corrupt_memory_is_a_one_line_usage_error(work: Path, capsys) -> None:
    put(work / "doc.md", doc(PARAS[:1]))
    put(work / ".hymt/memory.sqlite", "not a database at all\n")
    assert run(["translate", "doc.md", "--to", "de", "--engine", "pseudo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: translation memory ") and err.count("\n") == 1
    assert "is not an SQLite database" in err and "--no-memory" in err
    assert "Traceback" not in err and not (work / "doc.de.md").exists()


# --check and --dry-run ---------------------------------------------------------------


def test_check_exit_codes(work: Path, seen: list[str], capsys) -> None:
    put(work / "doc.md", doc(PARAS))
    assert counting("--check") == 1  # missing
    assert "missing doc.de.md" in capsys.readouterr().err
    assert not (work / ".hymt").exists() and not (work / "doc.de.md").exists()
    assert counting() == 0
    seen.clear()
    assert counting("--check") == 0  # current
    put(work / "doc.md", doc([*PARAS, "One more paragraph."]))
    assert counting("--check") == 1  # stale after a source edit
    assert "stale doc.de.md (8 segments, 1 not in memory)" in capsys.readouterr().err
    assert counting() == 0
    put(work / "doc.de.md", "edited by hand\n")
    assert counting("--check") == 1  # stale: the file differs from the rendering
    assert seen == ["One more paragraph."]  # --check never called the engine


def test_dry_run_counts_and_writes_nothing(work: Path, seen: list[str], capsys) -> None:
    put(work / "doc.md", doc(PARAS))
    assert counting("--dry-run", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["pending"] == 7 and data["totals"]["tokens"] > 20
    assert data["files"][0]["status"] == "planned"
    assert seen == [] and not (work / "doc.de.md").exists()
    assert not (work / ".hymt").exists()


def test_json_summary(work: Path, seen: list[str], capsys) -> None:
    put(work / "doc.md", doc(PARAS[:2]))
    assert run(["translate", "doc.md", "--to", "de,fr", "--engine", "counting",
                "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["target"], f["status"], f["segments"]) for f in data["files"]] == [
        ("de", "wrote", 3), ("fr", "wrote", 3)]
    keys = {"source", "target", "output", "status", "segments", "translated",
            "from_memory", "repairs", "fallbacks", "glossary_misses"}
    assert keys <= data["files"][0].keys()
    assert data["totals"]["files"] == {"wrote": 2} and data["elapsed"] >= 0


def test_strict_glossary_fails_the_document(work: Path, capsys) -> None:
    put(work / "terms.tsv", "topic\tThema\n")
    put(work / "doc.md", doc(PARAS[:1]))
    args = ["translate", "doc.md", "--to", "de", "--engine", "pseudo",
            "--glossary", "terms.tsv"]
    assert run([*args, "--strict-glossary"]) == 1
    assert "glossary term(s) not used in de" in capsys.readouterr().err
    assert not (work / "doc.de.md").exists()
    assert run(args) == 0 and (work / "doc.de.md").exists()


# the project file -----------------------------------------------------------------


PROJECT = """\
sources = ["docs/en/**/*.md"]
exclude = ["docs/en/drafts/*"]
targets = ["de", "fr"]
out = "docs/{lang}/{relpath}"
engine = "counting"
context_tokens = 0
"""


def project_tree(work: Path) -> None:
    put(work / "hymt.toml", PROJECT)
    put(work / "docs/en/index.md", doc(PARAS[:2]))
    put(work / "docs/en/guide/setup.md", doc(PARAS[2:4]))
    put(work / "docs/en/drafts/wip.md", doc(["Not yet."]))


def test_project_runs_its_sources_into_every_target(
    work: Path, seen: list[str], monkeypatch
) -> None:
    project_tree(work)
    monkeypatch.chdir(work / "docs")  # the file is found upwards
    assert run(["translate"]) == 0
    made = sorted(p.relative_to(work).as_posix()
                  for p in work.glob("docs/[!e]*/**/*.md"))
    assert made == ["docs/de/guide/setup.md", "docs/de/index.md",
                    "docs/fr/guide/setup.md", "docs/fr/index.md"]
    assert (work / ".hymt/memory.sqlite").is_file()  # beside hymt.toml, not in cwd
    assert run(["translate", "--check"]) == 0
    assert run(["translate", "--to", "es"]) == 0  # a flag beats the file
    assert (work / "docs/es/index.md").exists()


def test_precedence_defaults_file_flags(work: Path) -> None:
    put(work / "hymt.toml",
        'targets = ["de"]\ncontext_tokens = 64\nsources = ["a.md"]\n')
    proj = cli_config.load_project(None)
    assert proj.path == work / "hymt.toml"
    assert cli_config.merge({}, project.ProjectConfig())["context_tokens"] == 128
    from_file = cli_config.build({}, proj, {})
    assert from_file.context_tokens == 64 and from_file.max_segment_tokens == 256
    assert [t.code for t in from_file.targets] == ["de"]
    assert from_file.paths == (str(work / "a.md"),)
    flags = {"context_tokens": 0, "targets": ("fr,es",), "sources": ("b.md",)}
    from_flags = cli_config.build(flags, proj, {})
    assert from_flags.context_tokens == 0 and from_flags.paths == ("b.md",)
    assert [t.code for t in from_flags.targets] == ["fr", "es"]
    assert from_flags.memory == work / ".hymt/memory.sqlite"


def test_config_flag_and_bad_config(work: Path, capsys) -> None:
    put(work / "conf/other.toml", 'targets = ["de"]\nbogus = 1\n')
    put(work / "a.md", doc(PARAS[:1]))
    assert run(["translate", "a.md", "--config", "conf/other.toml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "unknown key 'bogus'" in err


def test_prune_deletes_outputs_whose_source_is_gone(
    work: Path, seen: list[str], capsys
) -> None:
    project_tree(work)
    assert run(["translate"]) == 0
    (work / "docs/en/guide/setup.md").unlink()
    put(work / "docs/de/keep-me.txt", "not an output of the pattern for a source")
    assert run(["translate", "--prune", "--dry-run"]) == 0
    assert (work / "docs/de/guide/setup.md").exists()
    assert run(["translate", "--prune"]) == 0
    err = capsys.readouterr().err
    assert f"pruning {work / 'docs/de/guide/setup.md'}" in err
    assert not (work / "docs/de/guide/setup.md").exists()
    assert not (work / "docs/fr/guide/setup.md").exists()
    assert (work / "docs/de/index.md").exists()
    assert (work / "docs/de/keep-me.txt").exists()


# subprocesses: kill and resume, concurrent runs --------------------------------------


PLUGIN = """\
import os, time
from hymt_cli import engines
from hymt_cli.engines.base import EngineBase
from hymt_cli.engines.pseudo import pseudo_translate


class Slow(EngineBase):
    name = "slow"
    fingerprint = "slow:v1"

    def translate_batch(self, requests):
        with open(os.environ["HYMT_TEST_LOG"], "a", encoding="utf-8") as log:
            log.writelines(r.text + "\\n" for r in requests)
        time.sleep(float(os.environ.get("HYMT_TEST_DELAY", "0")))
        return [pseudo_translate(r.text) for r in requests]


engines.register("slow", lambda **_: Slow())
from hymt_cli.cli import main
main()
"""


def slow_hymt(work: Path, log: str, delay: float, *args: str) -> subprocess.Popen:
    put(work / "plug.py", PLUGIN)
    env = {**os.environ, "HYMT_TEST_LOG": str(work / log),
           "HYMT_TEST_DELAY": str(delay)}
    command = [sys.executable, str(work / "plug.py"), "translate", *args,
               "--engine", "slow", "--memory", str(work / "tm.sqlite"),
               "--context-tokens", "0", "--quiet"]
    return subprocess.Popen(command, cwd=work, env=env, stderr=subprocess.PIPE)


def entries(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM entries").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_from_memory(work: Path) -> None:
    paras = [f"Sentence {n} of the long document." for n in range(12)]
    put(work / "doc.md", "\n\n".join(paras) + "\n")
    args = ("doc.md", "--to", "de", "--batch-size", "2")
    proc = slow_hymt(work, "first.log", 0.3, *args)
    deadline = time.monotonic() + 30
    while entries(work / "tm.sqlite") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = entries(work / "tm.sqlite")
    assert 2 <= stored < 12 and not (work / "doc.de.md").exists()
    again = slow_hymt(work, "second.log", 0, *args)
    assert again.wait(timeout=60) == 0, again.stderr.read() if again.stderr else ""
    resent = (work / "second.log").read_text().splitlines()
    assert len(resent) == 12 - stored
    assert set(resent) <= set(paras)
    resumed = (work / "doc.de.md").read_text()
    assert run(["translate", "doc.md", "--to", "de", "--engine", "pseudo",
                "--no-memory"]) == 0  # the same engine output, from scratch
    assert resumed == (work / "doc.de.md").read_text()


def test_concurrent_runs_share_one_memory(work: Path) -> None:
    put(work / "a.md", "\n\n".join(f"Alpha {n} text." for n in range(6)) + "\n")
    put(work / "b.md", "\n\n".join(f"Beta {n} text." for n in range(6)) + "\n")
    TranslationMemory.open(work / "tm.sqlite").close()  # concurrent writes only
    one = slow_hymt(work, "a.log", 0.02, "a.md", "--to", "de", "--batch-size", "1")
    two = slow_hymt(work, "b.log", 0.02, "b.md", "--to", "de,fr", "--batch-size", "1")
    for proc in (one, two):
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    assert entries(work / "tm.sqlite") == 6 + 12
    with sqlite3.connect(work / "tm.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_many_documents_all_come_out(work: Path, seen: list[str]) -> None:
    for d in range(6):
        put(work / f"docs/d{d}.md", doc([f"Doc {d} paragraph {n}." for n in range(8)]))
    args = ["translate", "docs", "--to", "de", "--engine", "counting"]
    assert run([*args, "--batch-size", "2", "--no-memory"]) == 0
    assert len(list(work.glob("docs/*.de.md"))) == 6 and len(seen) == 6 * 9


class Hashing(EngineBase):
    """Answers `# ` + the pseudo translation for the second paragraph."""

    name = "hashing"

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        return [("# " if r.text.startswith("Second") else "") + pseudo_translate(r.text)
                for r in requests]


def test_a_structure_fallback_is_written_and_checked_current(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """With the Markdown escaping switched off (standing for an adapter bug), an
    answer `# …` would turn a paragraph into a heading. The structure check keeps
    that segment's source text, the rest is written translated, and `--check`
    renders the same file from the memory: current."""
    from hymt_cli.documents import md_context

    monkeypatch.setattr(md_context, "escape_parts", lambda parts, rules: parts)
    monkeypatch.setitem(base._REGISTRY, "hashing", lambda **_: Hashing())
    put(work / "page.md", "First paragraph here.\n\nSecond paragraph here.\n")
    args = ["page.md", "--to", "de", "--engine", "hashing", "--memory", "m.sqlite"]
    assert run(["translate", *args, "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "s2: its translation changed the document's structure" in err
    written = (work / "page.de.md").read_text("utf-8")
    assert written.endswith("\n\nSecond paragraph here.\n")  # kept as it was
    assert written.startswith("[Ƒíŕšŧ")  # the rest is translated
    assert run(["translate", *args, "--check"]) == 0
