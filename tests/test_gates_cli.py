"""The gates through `hymt translate`: counts, --verbose lines, --strict, and the
settings that turn gates off."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from hymt_cli.cli import run
from hymt_cli.engines import base
from hymt_cli.engines.base import EngineBase, Request

KOREAN = "그런 다음 부팅할 때 서비스를 자동으로 시작할지 묻습니다."
SOURCE = "Then it asks whether the service should start automatically at boot.\n"


class Korean(EngineBase):
    """Answers every request in Korean, whatever the target."""

    name = "korean"

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        return [KOREAN for _ in requests]


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(base._REGISTRY, "korean", lambda **_: Korean())
    (tmp_path / "a.txt").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def translate(*args: str) -> int:
    return run(["translate", "a.txt", "--to", "de", "--engine", "korean",
                "--no-memory", *args])


def test_a_surviving_failure_keeps_the_source_and_is_listed(work: Path, capsys) -> None:
    assert translate("--verbose") == 0
    err = capsys.readouterr().err
    assert "warning: a.txt: s1: rejected by the script gate: " in err
    assert "s1: failed the script gate after retry and fallback" in err
    assert "3 gate rejections (script 3), 1 failed gates" in err
    assert (work / "a.de.txt").read_text(encoding="utf-8") == SOURCE


def test_strict_fails_the_document(work: Path, capsys) -> None:
    assert translate("--strict") == 1
    err = capsys.readouterr().err
    assert "Error: a.txt: 1 segment(s) failed an answer check in de" in err
    assert "(first: s1: script); not written" in err
    assert not (work / "a.de.txt").exists()


def test_strict_from_the_project_file(work: Path, capsys) -> None:
    (work / "hymt.toml").write_text("strict = true\n")
    assert translate() == 1
    assert not (work / "a.de.txt").exists()


@pytest.mark.parametrize("args", [("--no-gates",), ("--gates", "echo,length")])
def test_gates_turned_off_by_flags(work: Path, args: tuple[str, ...]) -> None:
    assert translate("--strict", *args) == 0
    assert (work / "a.de.txt").read_text(encoding="utf-8") == KOREAN + "\n"


def test_gates_turned_off_in_the_project_file(work: Path) -> None:
    (work / "hymt.toml").write_text("gates = []\nstrict = true\n")
    assert translate() == 0
    assert (work / "a.de.txt").read_text(encoding="utf-8") == KOREAN + "\n"


def test_unknown_gate_is_a_usage_error(work: Path, capsys) -> None:
    assert translate("--gates", "echo,spelling") == 2
    assert "unknown gate 'spelling' (known: echo, length" in capsys.readouterr().err


def test_json_summary_counts_gates(work: Path, capsys) -> None:
    assert translate("--json") == 0
    summary = json.loads(capsys.readouterr().out)
    (entry,) = summary["files"]
    assert entry["gate_rejections"] == {"script": 3}
    assert entry["gate_failures"] == ["s1: script"]
    totals = summary["totals"]
    assert (totals["gate_rejections"], totals["gate_failures"],
            totals["untranslated"]) == (3, 1, 0)


def test_pseudo_and_identity_runs_pass_the_gates(work: Path, capsys) -> None:
    (work / "b.md").write_text("# Hello world\n\nКак дела? 你好，世界。\n\n- one two\n")
    for engine in ("pseudo", "identity"):
        assert run(["translate", "a.txt", "b.md", "--to", "ja", "--engine", engine,
                    "--strict", "--json"]) == 0
        totals = json.loads(capsys.readouterr().out)["totals"]
        assert (totals["gate_rejections"], totals["untranslated"]) == (0, 0)
