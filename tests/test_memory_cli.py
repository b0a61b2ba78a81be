"""`hymt memory stats|export|import|prune`, in-process through `run(argv)`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.memory import TranslationMemory


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.md").write_text("# Title\n\nOne.\n\nTwo.\n", encoding="utf-8")
    return tmp_path


def translate(*args: str) -> int:
    return run(["translate", "a.md", "--engine", "pseudo", *args])


def stats_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert run(["memory", "stats", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_stats_table_and_json(work: Path, capsys) -> None:
    assert translate("--to", "de,fr") == 0
    data = stats_json(capsys)
    assert data["entries"] == 6 and data["by_target"] == {"de": 3, "fr": 3}
    assert data["by_engine"] == {"pseudo": 6} and data["size_bytes"] > 0
    assert run(["memory", "stats"]) == 0
    out = capsys.readouterr().out
    assert "target de" in out and "engine pseudo" in out


def test_missing_memory_is_a_usage_error(work: Path, capsys) -> None:
    assert run(["memory", "stats"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: no translation memory at ")
    assert not (work / ".hymt").exists()


def test_export_import_round_trip(work: Path, capsys) -> None:
    assert translate("--to", "de") == 0
    assert run(["memory", "export", "tm.jsonl"]) == 0
    lines = (work / "tm.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert run(["memory", "import", "tm.jsonl", "--memory", "copy.sqlite"]) == 0
    assert stats_json(capsys, "--memory", "copy.sqlite")["entries"] == 3
    assert run(["memory", "export", "tm.tmx"]) == 0
    assert "<tmx" in (work / "tm.tmx").read_text(encoding="utf-8")


def test_bad_import_file_fails_with_one_line(work: Path, capsys) -> None:
    (work / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    assert run(["memory", "import", "bad.jsonl"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_prune_by_engine_and_age(work: Path, capsys) -> None:
    assert translate("--to", "de") == 0
    assert run(["memory", "prune"]) == 2  # no criterion
    assert run(["memory", "prune", "--older-than", "1"]) == 0
    assert "pruned 0 entries" in capsys.readouterr().err
    assert run(["memory", "prune", "--engine", "pse*"]) == 0
    assert "pruned 3 entries" in capsys.readouterr().err
    assert stats_json(capsys)["entries"] == 0


def test_memory_is_found_like_translate_finds_it(
    work: Path, capsys, monkeypatch
) -> None:
    (work / "hymt.toml").write_text('memory = "cache/tm.sqlite"\n', encoding="utf-8")
    assert translate("--to", "de") == 0
    assert (work / "cache/tm.sqlite").is_file()
    assert stats_json(capsys)["entries"] == 3
    monkeypatch.setenv("HYMT_MEMORY", str(work / "env.sqlite"))
    assert translate("--to", "fr") == 0
    with TranslationMemory.open(work / "env.sqlite") as tm:
        assert tm.stats().by_target == {"fr": 3}
