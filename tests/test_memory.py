"""Translation memory: keys, store/lookup, stats, prune, exchange, and file safety."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from hymt_cli.engines.base import Request
from hymt_cli.languages import LANGUAGES
from hymt_cli.memory import (
    APPLICATION_ID,
    Entry,
    MemoryFileError,
    TranslationMemory,
    default_path,
    imported_entry,
    memory_key,
    request_entry,
    request_key,
)
from hymt_cli.memory_io import (
    MemoryImportError,
    export_memory,
    import_memory,
    read_jsonl,
    read_tmx,
)

ROOT = Path(__file__).resolve().parents[1]
DAY = 86400.0
KEY_PARTS = dict(
    engine="hf:tencent/HY-MT1.5-1.8B@abc:bf16:greedy", template="hymt-prompts-1",
    source_lang="en", target_lang="de", text="Click <s1>here</s1>.",
    context="Previous paragraph.", terms=[("here", "hier")],
)


def entry(n: int, **changes: object) -> Entry:
    """A machine entry numbered `n`."""
    fields: dict[str, object] = dict(
        engine="eng-a", template="t1", source_lang="en", target_lang="de",
        text=f"Text <s1>{n}</s1>", translation=f"Text <s1>{n}</s1> (de)",
        context=f"context {n}", terms=(("Text", "Text"),),
    )
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


@pytest.fixture
def memory(tmp_path: Path):
    with TranslationMemory.open(tmp_path / ".hymt" / "memory.sqlite") as opened:
        yield opened


def run_child(code: str, *args: str) -> subprocess.Popen[bytes]:
    """Start a Python child running `code` with the project importable."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            env=env, stderr=subprocess.PIPE)


# Keys


def test_key_is_stable_across_runs() -> None:
    """A fixed value: no hash seed, dict order or platform may change a key."""
    assert memory_key(**KEY_PARTS) == (  # type: ignore[arg-type]
        "69be8c70e1e6f10d1908eabf56ddbf84a1313ced121340dad4c84669fc01886c"
    )


@pytest.mark.parametrize("part, value", [
    ("engine", "hf:tencent/HY-MT1.5-7B@abc:bf16:greedy"),
    ("template", "hymt-prompts-2"),
    ("source_lang", "fr"),
    ("source_lang", None),
    ("target_lang", "fr"),
    ("text", "Click <s1>here</s1>!"),
    ("text", "Click <s2>here</s2>."),
    ("context", ""),
    ("terms", []),
    ("terms", [("here", "da")]),
])
def test_every_key_part_changes_the_key(part: str, value: object) -> None:
    changed = dict(KEY_PARTS, **{part: value})
    assert memory_key(**changed) != memory_key(**KEY_PARTS)  # type: ignore[arg-type]


def test_key_ignores_term_order_and_unknown_source_spelling() -> None:
    two = [("a", "b"), ("c", "d")]
    base = dict(KEY_PARTS, terms=two)
    swapped = dict(base, terms=two[::-1])
    assert memory_key(**base) == memory_key(**swapped)  # type: ignore[arg-type]
    none, empty = dict(base, source_lang=None), dict(base, source_lang="")
    assert memory_key(**none) == memory_key(**empty)  # type: ignore[arg-type]


def test_request_helpers_agree_with_memory_key(memory: TranslationMemory) -> None:
    request = Request("Click <s1>here</s1>.", LANGUAGES["de"], LANGUAGES["en"],
                      context="Previous paragraph.", terms=(("here", "hier"),))
    engine = str(KEY_PARTS["engine"])
    key = request_key(request, engine, "hymt-prompts-1")
    assert key == memory_key(**KEY_PARTS)  # type: ignore[arg-type]
    stored = request_entry(request, engine, "hymt-prompts-1",
                           "Klicken Sie <s1>hier</s1>.", repairs=1)
    memory.store([stored])
    assert memory.lookup([key]) == {key: "Klicken Sie <s1>hier</s1>."}
    assert request_key(replace(request, source=None), "e", "t") != request_key(
        request, "e", "t")


def test_default_path_honours_environment(tmp_path: Path, monkeypatch) -> None:
    assert default_path(tmp_path) == tmp_path / ".hymt" / "memory.sqlite"
    monkeypatch.setenv("HYMT_MEMORY", str(tmp_path / "elsewhere.sqlite"))
    assert default_path(tmp_path) == tmp_path / "elsewhere.sqlite"


# Store and lookup


def test_store_lookup_round_trip(memory: TranslationMemory) -> None:
    stored = entry(1)
    memory.store([stored])
    assert memory.lookup([stored.key]) == {stored.key: stored.translation}
    (back,) = memory.entries()
    assert back.text == stored.text and back.terms == stored.terms
    assert back.context == stored.context and back.origin == "machine"
    assert memory.lookup(["0" * 64]) == {} and memory.lookup([]) == {}


def test_lookup_many_keys_in_one_call(memory: TranslationMemory) -> None:
    entries = [entry(n) for n in range(500)]
    memory.store(entries)
    wanted = [e.key for e in entries[::2]] + ["f" * 64]
    statements: list[str] = []
    memory._db.set_trace_callback(statements.append)
    found = memory.lookup(wanted)
    memory._db.set_trace_callback(None)
    assert found == {e.key: e.translation for e in entries[::2]}
    assert sum(s.lstrip().startswith("SELECT") for s in statements) == 1


def test_store_replaces_and_keeps_created(memory: TranslationMemory) -> None:
    memory.store([entry(1, created=1000.0, last_used=1000.0)])
    memory.store([entry(1, translation="better", repairs=2)])
    (back,) = memory.entries()
    assert (back.translation, back.repairs, back.created) == ("better", 2, 1000.0)
    assert back.last_used > 1000.0


def test_lookup_updates_last_used(memory: TranslationMemory) -> None:
    old = entry(1, created=1000.0, last_used=1000.0)
    other = entry(2, created=1000.0, last_used=1000.0)
    memory.store([old, other])
    memory.lookup([old.key])
    used = {e.key: e.last_used for e in memory.entries()}
    assert used[old.key] is not None and used[old.key] > time.time() - 60
    assert used[other.key] == 1000.0


def test_lookup_imported_matches_exact_text(memory: TranslationMemory) -> None:
    memory.store([
        imported_entry("en", "de", "Hello", "Hallo", last_used=1000.0),
        imported_entry(None, "fr", "Hello", "Bonjour"),
        entry(1, text="Machine", translation="Maschine"),
    ])
    assert memory.lookup_imported("de", ["Hello", "hello", "Machine"]) == {
        "Hello": "Hallo"}
    assert memory.lookup_imported("fr", ["Hello"], source_lang="en") == {
        "Hello": "Bonjour"}
    assert memory.lookup_imported("de", ["Hello"], source_lang="ja") == {}
    touched = [e.last_used for e in memory.entries() if e.target_lang == "de"
               and e.origin == "import"]
    assert touched[0] is not None and touched[0] > 1000.0


def test_entry_rejects_unknown_origin() -> None:
    with pytest.raises(ValueError, match="origin"):
        entry(1, origin="guess")


# Stats and prune


def test_stats(memory: TranslationMemory) -> None:
    memory.store([entry(1), entry(2, target_lang="fr"), entry(3, engine="eng-b"),
                  imported_entry("en", "de", "Hi", "Hallo")])
    stats = memory.stats()
    assert stats.entries == 4
    assert stats.by_target == {"de": 3, "fr": 1}
    assert stats.by_engine == {"eng-a": 2, "": 1, "eng-b": 1}
    assert stats.by_origin == {"machine": 3, "import": 1}
    assert stats.size_bytes > 0


@pytest.fixture
def aged(memory: TranslationMemory) -> TranslationMemory:
    now = time.time()
    memory.store([
        entry(1, created=now - 100 * DAY, last_used=now - 50 * DAY),
        entry(2, created=now - 100 * DAY, last_used=now - 1 * DAY, engine="eng-b"),
        entry(3, created=now - 5 * DAY, last_used=now - 5 * DAY),
        entry(4, engine="eng-b:int4"),
    ])
    return memory


@pytest.mark.parametrize("criteria, gone", [
    (dict(older_than_days=30), {1, 2}),
    (dict(unused_since_days=3), {1, 3}),
    (dict(engine="eng-b"), {2}),
    (dict(engine="eng-b*"), {2, 4}),
    (dict(older_than_days=30, unused_since_days=3), {1}),
    (dict(older_than_days=30, engine="eng-a"), {1}),
])
def test_prune(aged: TranslationMemory, criteria: dict, gone: set[int]) -> None:
    texts = {e.text for e in aged.entries()}
    assert aged.prune(**criteria) == len(gone)
    left = {e.text for e in aged.entries()}
    assert texts - left == {f"Text <s1>{n}</s1>" for n in gone}


def test_prune_needs_a_criterion(aged: TranslationMemory) -> None:
    with pytest.raises(ValueError):
        aged.prune()
    aged.vacuum()
    assert aged.stats().entries == 4


# Export and import


def mixed_entries() -> list[Entry]:
    return [
        entry(1, created=1_700_000_000.0, last_used=1_700_000_100.0),
        entry(2, source_lang=None, context="", terms=(), repairs=1,
              text="  Spaces\nand lines <s1>&amp;</s1>  ", translation="<s1>&</s1> ü"),
        entry(3, target_lang="zh-Hant", terms=(("a", "b"), ("c", "d"))),
        imported_entry("en", "fr", "Hello", "Bonjour", 1_700_000_000.0),
    ]


def comparable(memory: TranslationMemory) -> list[tuple]:
    return sorted(
        (e.key, e.engine, e.template, e.source_lang, e.target_lang, e.text,
         e.translation, e.context, e.terms, e.origin, e.repairs, int(e.created or 0))
        for e in memory.entries()
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".tmx"])
def test_export_import_round_trip(tmp_path: Path, memory: TranslationMemory,
                                  suffix: str) -> None:
    memory.store(mixed_entries())
    exported = tmp_path / f"memory{suffix}"
    assert export_memory(memory, exported) == 4
    with TranslationMemory.open(tmp_path / "fresh.sqlite") as fresh:
        assert import_memory(fresh, exported) == 4
        assert comparable(fresh) == comparable(memory)
        first = mixed_entries()[1]
        assert fresh.lookup([first.key]) == {first.key: first.translation}


def test_tmx_keeps_tags_as_escaped_text(
    tmp_path: Path, memory: TranslationMemory
) -> None:
    memory.store([entry(7)])
    export_memory(memory, tmp_path / "m.tmx")
    xml = (tmp_path / "m.tmx").read_text(encoding="utf-8")
    assert "<seg>Text &lt;s1&gt;7&lt;/s1&gt;</seg>" in xml
    assert '<tuv xml:lang="en">' in xml


FOREIGN_TMX = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
  <header creationtool="OtherCAT" creationtoolversion="9" segtype="sentence"
          o-tmf="other" adminlang="en-US" srclang="en-US" datatype="html"/>
  <body>
    <tu tuid="17" creationdate="20200102T030405Z">
      <prop type="x-client">ACME</prop>
      <tuv xml:lang="de-DE"><seg>Klicken Sie <bpt i="1" x="1">&lt;b&gt;</bpt>hier\
<ept i="1">&lt;/b&gt;</ept>.<ph x="2">&lt;br/&gt;</ph></seg></tuv>
      <tuv xml:lang="en-US"><seg>Click <bpt i="1" x="1">&lt;b&gt;</bpt>here\
<ept i="1">&lt;/b&gt;</ept>.<ph x="2">&lt;br/&gt;</ph></seg></tuv>
      <tuv lang="FR-FR"><seg>Cliquez <bpt i="1">&lt;b&gt;</bpt>ici\
<ept i="1">&lt;/b&gt;</ept>.<ph>&lt;br/&gt;</ph></seg></tuv>
    </tu>
    <tu><tuv xml:lang="en-US"><seg>Alone</seg></tuv></tu>
  </body>
</tmx>
"""


def test_tmx_from_another_tool(tmp_path: Path, memory: TranslationMemory) -> None:
    path = tmp_path / "other.tmx"
    path.write_bytes(FOREIGN_TMX)
    assert import_memory(memory, path) == 2
    source = "Click <b>here</b>.<br/>"
    assert memory.lookup_imported("de", [source]) == {
        source: "Klicken Sie <b>hier</b>.<br/>"}
    assert memory.lookup_imported("fr", [source], source_lang="en") == {
        source: "Cliquez <b>ici</b>.<br/>"}
    assert {e.origin for e in memory.entries()} == {"import"}
    assert {int(e.created or 0) for e in memory.entries()} == {1577934245}


def test_jsonl_without_keys_becomes_import(
    tmp_path: Path, memory: TranslationMemory
) -> None:
    path = tmp_path / "human.jsonl"
    path.write_text('{"source_lang": "en-GB", "target_lang": "pt-BR", "text": "Hi",'
                    ' "translation": "Oi", "engine": "ignored"}\n\n', encoding="utf-8")
    assert import_memory(memory, path) == 1
    (back,) = memory.entries()
    assert (back.origin, back.engine, back.source_lang, back.target_lang) == (
        "import", "", "en", "pt")
    assert memory.lookup_imported("pt", ["Hi"]) == {"Hi": "Oi"}


@pytest.mark.parametrize("content, problem", [
    (b'{"text": "a", "translation": "b", "target_lang": "de"}\nnot json\n',
     "x.jsonl:2"),
    (b'{"text": "a", "target_lang": "de"}\n', "missing field 'translation'"),
    (b'["a"]\n', "expected a JSON object"),
])
def test_bad_jsonl_names_the_line(content: bytes, problem: str) -> None:
    with pytest.raises(MemoryImportError, match=problem):
        read_jsonl(io.BytesIO(content), "x.jsonl")


def test_bad_tmx_is_an_import_error(tmp_path: Path, memory: TranslationMemory) -> None:
    with pytest.raises(MemoryImportError, match="x.tmx:1"):
        read_tmx(io.BytesIO(b"<tmx><body><tu></body></tmx>"), "x.tmx")
    with pytest.raises(MemoryImportError, match="unknown format"):
        import_memory(memory, tmp_path / "memory.csv")


# File safety


def test_wal_mode_and_identity(memory: TranslationMemory) -> None:
    raw = sqlite3.connect(memory.path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert raw.execute("PRAGMA user_version").fetchone()[0] >= 1
    finally:
        raw.close()


def test_reopen_keeps_entries(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    with TranslationMemory.open(path) as first:
        first.store([entry(1)])
    with TranslationMemory.open(path) as again:
        assert again.stats().entries == 1


def assert_refused(path: Path, *words: str) -> None:
    with pytest.raises(MemoryFileError) as caught:
        TranslationMemory.open(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "--no-memory" in message
    error = caught.value  # no sqlite3 error chained on: no traceback behind it
    assert error.__cause__ is None and (error.__context__ is None
                                        or error.__suppress_context__)
    for word in words:
        assert word in message


def test_corrupt_files_are_refused(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(8192)
    (tmp_path / "noise.sqlite").write_bytes(noise)
    assert_refused(tmp_path / "noise.sqlite", "not an SQLite database")
    (tmp_path / "torn.sqlite").write_bytes(b"SQLite format 3\x00" + noise)
    assert_refused(tmp_path / "torn.sqlite")


def test_foreign_sqlite_files_are_refused(tmp_path: Path) -> None:
    tables = tmp_path / "other.sqlite"
    raw = sqlite3.connect(tables)
    raw.execute("CREATE TABLE notes (body TEXT)")
    raw.commit()
    raw.close()
    assert_refused(tables, "another application")
    marked = tmp_path / "marked.sqlite"
    raw = sqlite3.connect(marked)
    raw.execute("PRAGMA application_id = 1234")
    raw.close()
    assert_refused(marked, "another application")
    assert sqlite3.connect(tables).execute("PRAGMA journal_mode").fetchone()[0] != "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    TranslationMemory.open(path).close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    assert_refused(path, "schema version 99", "upgrade hymt")


def test_errors_after_open_are_memory_errors(tmp_path: Path) -> None:
    memory = TranslationMemory.open(tmp_path / "m.sqlite")
    memory.close()
    memory.close()
    with pytest.raises(MemoryFileError, match="m.sqlite"):
        memory.lookup(["a"])


WRITER = """
    import sys, time
    from pathlib import Path
    from hymt_cli.memory import Entry, TranslationMemory
    path, go, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    while not go.exists():
        time.sleep(0.01)
    with TranslationMemory.open(path) as memory:  # all three create it at once
        for batch in range(60):
            memory.store([Entry("eng", "t", "en", "de", f"{name} {batch} {n}", "x")
                          for n in range(5)])
            memory.lookup([f"{name}"])
"""


def test_concurrent_writers(tmp_path: Path) -> None:
    path, go = tmp_path / "shared" / "memory.sqlite", tmp_path / "go"
    children = [run_child(WRITER, str(path), str(go), name) for name in "abc"]
    time.sleep(0.3)
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
    with TranslationMemory.open(path) as memory:
        texts = {e.text for e in memory.entries()}
        integrity = memory._db.execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"
    assert texts == {f"{name} {b} {n}" for name in "abc"
                     for b in range(60) for n in range(5)}


KILLED = """
    import sys, time
    from pathlib import Path
    from hymt_cli.memory import Entry, TranslationMemory

    class Stalling:
        '''The real connection, but it stalls inside the insert of batch 2.'''
        def __init__(self, db):
            self.db = db
        def __getattr__(self, name):
            return getattr(self.db, name)
        def executemany(self, sql, rows):
            cursor = self.db.executemany(sql, rows)
            Path(sys.argv[2]).write_text("in transaction")
            time.sleep(120)
            return cursor

    memory = TranslationMemory.open(Path(sys.argv[1]))
    memory.store([Entry("eng", "t", "en", "de", f"one {n}", "x") for n in range(50)])
    memory._db = Stalling(memory._db)
    memory.store([Entry("eng", "t", "en", "de", f"two {n}", "x") for n in range(50)])
"""


def test_kill_during_a_batch_loses_only_that_batch(tmp_path: Path) -> None:
    path, flag = tmp_path / "memory.sqlite", tmp_path / "flag"
    child = run_child(KILLED, str(path), str(flag))
    try:
        deadline = time.monotonic() + 30
        while not flag.exists() and child.poll() is None:
            assert time.monotonic() < deadline, "the child never reached batch 2"
            time.sleep(0.05)
        assert flag.exists(), child.stderr.read().decode() if child.stderr else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    with TranslationMemory.open(path) as memory:
        texts = {e.text for e in memory.entries()}
        assert memory._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert texts == {f"one {n}" for n in range(50)}
