"""Issue 10, items 1, 3, 9 and 14: prune only what hymt wrote, self-mapping output
patterns, read-only memories, and project files whose `out` leaves the project.

Everything runs in-process through `hymt_cli.cli.run([...])` on real files in
`tmp_path`; read-only memories are made read-only for real (`chmod`, or the
immutable attribute when the tests run as root, whom permissions do not stop).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.memory import MIGRATIONS, TranslationMemory


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # stops project.find at the test folder
    return tmp_path


def put(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def pseudo(*args: str) -> int:
    return run(["translate", *args, "--to", "de", "--engine", "pseudo"])


MEMORY = Path(".hymt/memory.sqlite")


# 1: --prune deletes only what hymt wrote -------------------------------------------


def site_with_foreign_files(work: Path) -> dict[str, bytes]:
    """The issue's tree: one source and three files hymt never wrote."""
    put(work / "site/a.md", "# A\n")
    foreign = {"site/shot.de.png": os.urandom(64),
               "site/impressum.de.md": b"# Impressum\n",
               "site/config.de.json": b"{}\n"}
    for name, data in foreign.items():
        put(work / name, data)
    return foreign


@pytest.mark.parametrize("memory", [[], ["--no-memory"]])
def test_prune_never_deletes_files_hymt_did_not_write(
    work: Path, capsys, memory: list[str]
) -> None:
    foreign = site_with_foreign_files(work)
    assert pseudo("site", *memory, "--prune") == 0
    err = capsys.readouterr().err
    for name, data in foreign.items():
        assert (work / name).read_bytes() == data
        assert f"keeping {name}" in err
    assert "pruning" not in err
    assert (work / "site/a.de.md").exists()


def test_prune_keeps_unrecorded_files_of_an_output_tree(work: Path, capsys) -> None:
    put(work / "docs/a.md", "# A\n")
    assert pseudo("docs", "--out", "out/{relpath}") == 0
    hand = {"out/style.css": b"body{}\n", "out/logo.png": os.urandom(32),
            "out/about.md": b"# About us\n"}
    for name, data in hand.items():
        put(work / name, data)
    assert pseudo("docs", "--out", "out/{relpath}", "--prune") == 0
    for name, data in hand.items():
        assert (work / name).read_bytes() == data
    assert "keeping out/about.md (hymt has no record of writing it)" in capsys.readouterr().err


def test_prune_deletes_recorded_intact_outputs_and_keeps_edited_ones(
    work: Path, capsys
) -> None:
    put(work / "docs/a.md", "# Alpha\n\nFirst.\n")
    put(work / "docs/b.md", "# Beta\n\nSecond.\n")
    put(work / "docs/c.md", "# Gamma\n\nThird.\n")
    assert pseudo("docs") == 0
    (work / "docs/a.md").unlink()
    (work / "docs/b.md").unlink()
    put(work / "docs/b.de.md", "# Beta, von Hand verbessert\n")
    assert pseudo("docs", "--prune", "--dry-run") == 0
    assert "would prune docs/a.de.md" in capsys.readouterr().err
    assert (work / "docs/a.de.md").exists()
    assert pseudo("docs", "--prune") == 0
    err = capsys.readouterr().err
    assert "pruning docs/a.de.md (its source is gone)" in err
    assert "keeping docs/b.de.md (changed since hymt wrote it)" in err
    assert not (work / "docs/a.de.md").exists()
    assert (work / "docs/b.de.md").read_text() == "# Beta, von Hand verbessert\n"
    assert (work / "docs/c.de.md").exists()


def test_no_memory_prune_deletes_nothing_and_says_so(work: Path, capsys) -> None:
    put(work / "docs/a.md", "# Alpha\n")
    assert pseudo("docs") == 0
    put(work / "docs/b.md", "# Beta\n")
    (work / "docs/a.md").unlink()
    assert pseudo("docs", "--no-memory", "--prune") == 0
    err = capsys.readouterr().err
    assert "nothing is pruned" in err and "--no-memory" in err
    assert "keeping docs/a.de.md" in err
    assert (work / "docs/a.de.md").exists()


def test_every_written_output_is_recorded_with_its_hash(work: Path) -> None:
    put(work / "a.md", "# Alpha\n")
    assert pseudo("a.md") == 0
    written = (work / "a.de.md").read_bytes()
    with TranslationMemory.open(work / MEMORY) as memory:
        records = list(memory.outputs())
    assert len(records) == 1
    record = records[0]
    assert record.path == str((work / "a.de.md").resolve())
    assert record.source == str((work / "a.md").resolve())
    assert record.target == "de"
    assert record.sha256 == hashlib.sha256(written).hexdigest()
    raw = sqlite3.connect(work / MEMORY)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        raw.close()


# 3: an output pattern that maps a directory onto itself ------------------------------


@pytest.mark.parametrize("pattern", ["{dir}/{stem}{suffix}", "src/{relpath}"])
@pytest.mark.parametrize("mode", [[], ["--check"]])
def test_pattern_mapping_a_directory_onto_itself_is_a_usage_error(
    work: Path, capsys, pattern: str, mode: list[str]
) -> None:
    put(work / "src/a.md", "# Alpha\n")
    put(work / "src/sub/b.md", "# Beta\n")
    assert pseudo("src", "--out", pattern, "--no-memory", *mode) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: src/a.md: output src/a.md is itself\n")
    assert "hint: choose another --out pattern" in err
    assert (work / "src/a.md").read_text() == "# Alpha\n"


# 9: a read-only memory ------------------------------------------------------------


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make `paths` read-only for real: chmod, or `chattr +i` for root."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for path in paths:
            path.chmod(modes[path] & ~0o222)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.decode()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def translated_project(work: Path) -> None:
    put(work / "a.md", "# Alpha\n\nFirst paragraph.\n")
    put(work / "b.md", "# Beta\n\nSecond paragraph.\n")
    assert pseudo("a.md", "b.md") == 0


def read_only_targets(work: Path, folder: bool) -> list[Path]:
    memory = work / MEMORY
    return [memory, memory.parent] if folder else [memory]


@pytest.mark.parametrize("folder", [True, False], ids=["folder", "file"])
def test_read_only_memory_serves_check_dry_run_and_stats(
    work: Path, capsys, folder: bool
) -> None:
    translated_project(work)
    capsys.readouterr()
    with read_only(*read_only_targets(work, folder)):
        assert pseudo("a.md", "b.md", "--check") == 0
        assert pseudo("a.md", "b.md", "--dry-run") == 0
        assert run(["memory", "stats", "--json"]) == 0
        captured = capsys.readouterr()
    assert '"entries": 4' in captured.out
    assert "readonly" not in captured.err and "Error" not in captured.err


@pytest.mark.parametrize("folder", [True, False], ids=["folder", "file"])
def test_read_only_memory_translates_and_warns_once(
    work: Path, capsys, folder: bool
) -> None:
    translated_project(work)
    expected = {name: (work / name).read_bytes() for name in ("a.de.md", "b.de.md")}
    for name in expected:
        (work / name).unlink()
    put(work / "c.md", "# Gamma\n\nA paragraph the memory has never seen.\n")
    capsys.readouterr()
    with read_only(*read_only_targets(work, folder)):
        assert pseudo("a.md", "b.md", "c.md") == 0
        err = capsys.readouterr().err
    for name, data in expected.items():
        assert (work / name).read_bytes() == data
    assert (work / "c.de.md").exists()
    assert "Error" not in err
    assert err.count("read-only") == 1 and "not stored" in err


# 14: a project file's `out` must stay inside the project ------------------------------


def outside_project(work: Path) -> Path:
    put(work / "proj/hymt.toml",
        'sources = ["a.md"]\ntargets = ["de"]\nengine = "pseudo"\n'
        'out = "../victim.txt"\n')
    put(work / "proj/a.md", "# Alpha\n")
    (work / "proj/.git").mkdir()
    return work / "proj"


def test_project_out_leaving_the_project_is_refused(
    work: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(outside_project(work))
    assert run(["translate", "--no-memory"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "leaves the project folder" in err
    assert "--allow-outside" in err
    assert not (work / "victim.txt").exists()
    assert run(["translate", "--no-memory", "--check"]) == 2
    assert not (work / "victim.txt").exists()


def test_allow_outside_or_a_command_line_out_may_leave_the_project(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(outside_project(work))
    assert run(["translate", "--no-memory", "--allow-outside"]) == 0
    assert (work / "victim.txt").exists()
    assert run(["translate", "--no-memory", "--out", "../given.txt"]) == 0
    assert (work / "given.txt").exists()


def test_project_out_inside_the_project_is_accepted(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = outside_project(work)
    put(proj / "hymt.toml", 'sources = ["a.md"]\ntargets = ["de"]\n'
        'engine = "pseudo"\nout = "site/{lang}/{relpath}"\n')
    monkeypatch.chdir(proj)
    assert run(["translate", "--no-memory"]) == 0
    assert (proj / "site/de/a.md").exists()


def test_a_memory_whose_writes_start_failing_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hymt_cli import memory as memory_module
    from hymt_cli.memory import imported_entry

    monkeypatch.setattr(memory_module, "BUSY_TIMEOUT_S", 0.05)
    memory = TranslationMemory.open(tmp_path / "m.sqlite")
    told: list[str] = []
    memory.notify = told.append
    holder = sqlite3.connect(tmp_path / "m.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock
        for n in range(3):
            memory.store([imported_entry("en", "de", f"text {n}", f"Text {n}")])
        memory.record_output(tmp_path / "a.de.md", tmp_path / "a.md", "de", b"x")
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert len(told) == 1 and "cannot be written" in told[0]
    assert memory.readonly and memory.stats().entries == 0
    memory.close()
