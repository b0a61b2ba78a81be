"""Progress that never goes silent: a clock prints (or refreshes) progress while one
long engine batch runs, from the tokens the engine reports step by step."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hymt_cli import progress
from hymt_cli.cli import run
from hymt_cli.engines import base
from hymt_cli.engines.base import EngineBase, Request

PERIOD = 0.05
LINE_RE = re.compile(
    r"^progress: 0/1 files, ([0-4])/4 segments, (\d+) tok/s(, ETA \w+)?$")


class Slow(EngineBase):
    """Answers one batch in many steps, reporting 5 tokens per step; may fail."""

    name = "slow"

    def __init__(self, fail: type[BaseException] | None = None) -> None:
        self.fail = fail
        self.calls = 0
        self.clocks: set[bool] = set()

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        self.calls += 1
        for _ in range(8):
            time.sleep(PERIOD)
            self.report_tokens(5)
            self.clocks.add(clock_running())
        if self.fail is not None:
            raise self.fail("engine broke")
        return [r.text.upper() for r in requests]


def clock_running() -> bool:
    """Whether a progress ticker thread is alive."""
    return any(t.name == "hymt-progress" for t in threading.enumerate())


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", PERIOD)
    (tmp_path / ".git").mkdir()
    paras = [f"Paragraph {n} says something." for n in range(4)]
    (tmp_path / "doc.md").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return tmp_path


def translate(monkeypatch: pytest.MonkeyPatch, engine: Slow, *args: str) -> int:
    monkeypatch.setitem(base._REGISTRY, "slow", lambda **_: engine)
    return run(["translate", "doc.md", "--to", "de", "--engine", "slow", *args])


def test_plain_lines_keep_coming_during_one_long_batch(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = Slow()
    assert translate(monkeypatch, engine) == 0
    lines = capsys.readouterr().err.splitlines()
    assert engine.calls == 1
    wrote = next(i for i, line in enumerate(lines) if line.startswith("wrote "))
    shown = [LINE_RE.match(line) for line in lines[:wrote]]
    assert all(shown)
    during = [m for m in shown if m and m[1] == "0"]  # the batch has not returned
    assert len(during) >= 3 and not during[0][3]  # no ETA before a segment is done
    assert int(during[-1][2]) > 0  # tokens reported within the batch count
    assert not clock_running()


@pytest.mark.parametrize(("fail", "code"), [(RuntimeError, 1), (KeyboardInterrupt, 130)])
def test_the_clock_stops_when_the_engine_fails(
    work: Path, monkeypatch: pytest.MonkeyPatch, fail: type[BaseException], code: int
) -> None:
    engine = Slow(fail)
    assert translate(monkeypatch, engine) == code
    assert engine.clocks == {True} and not clock_running()


def test_quiet_prints_no_progress(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = Slow()
    assert translate(monkeypatch, engine, "--quiet") == 0
    assert "progress" not in capsys.readouterr().err
    assert engine.clocks == {False}


def test_json_prints_no_progress_on_stdout(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert translate(monkeypatch, Slow(), "--json") == 0
    assert '"mode": "translate"' in capsys.readouterr().out


def test_line_shows_eta_once_segments_are_done() -> None:
    lines = progress.Lines(quiet=True)
    lines.start(files=2, segments=10)
    lines.began -= 30  # 30 s in, 3 of 10 segments answered
    lines.advance(3, 60)
    lines.generating(300)
    assert lines.progress_line() == (
        "progress: 0/2 files, 3/10 segments, 10 tok/s, ETA 1m10s")


def test_bar_refreshes_on_its_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "BAR_EVERY_S", PERIOD)
    bar = progress.Bar()
    bar.start(files=1, segments=4)
    try:
        bar.generating(42)
        time.sleep(4 * PERIOD)
        task = bar.bar.tasks[1]
        assert task.fields["rate"].startswith("42 tokens, ")
        assert clock_running()
    finally:
        bar.stop()
    assert not clock_running()
