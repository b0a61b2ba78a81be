"""`hymt serve` on the command line: options from the settings table, errors and
exit codes, the extra imported only when serving, a real process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hymt_cli.engines.auto import choose
from hymt_cli import settings
from hymt_cli.cli import run
from hymt_cli.serve import options
from tests.serve_support import httpx, serve_config

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop(options.API_KEY_ENV, None)
    return env


def test_translate_never_imports_the_web_framework(tmp_path: Path) -> None:
    source = tmp_path / "a.md"
    source.write_text("# Hello\n", encoding="utf-8")
    code = ("import sys\nfrom hymt_cli.cli import run\n"
            f"assert run(['translate', {str(source)!r}, '--to', 'de', '--engine', "
            "'pseudo', '--no-memory', '--quiet']) == 0\n"
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', "
            "'multipart') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "a.de.md").is_file()


def test_missing_extra_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # import fastapi fails
    assert run(["serve", "--engine", "pseudo", "--no-memory", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err == ("Error: hymt serve needs fastapi, which is not installed: "
                   "pip install 'hymt-cli[serve]'\n")


def test_help_lists_the_shared_and_own_options(capsys) -> None:
    assert run(["serve", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--engine", "--model", "--glossary", "--memory", "--no-memory",
                 "--context-tokens", "--gates", "--config", "--debug", "--host",
                 "--port", "--max-body-size", "--max-segments", "--queue-size",
                 "--timeout", "--batch-wait-ms"):
        assert flag in out, flag
    for flag in ("--to ", "--out ", "--check", "--dry-run", "--json", "--prune"):
        assert flag not in out, flag
    assert "(default 127.0.0.1;" in options.BY_NAME["host"].help_text
    assert "(default 10MB)" in options.BY_NAME["max_body_size"].help_text


def test_defaults_and_project_file_match_translate(tmp_path: Path) -> None:
    config = serve_config(cwd=tmp_path)
    assert config.run.engine == choose(None).engine  # what translate's auto picks
    assert (config.max_body_size, config.queue_size, config.batch_wait_ms) == (
        10 * 1024 * 1024, 64, 5)
    assert config.api_key is None
    (tmp_path / "terms.tsv").write_text("a\tb\n", encoding="utf-8")
    (tmp_path / "hymt.toml").write_text(
        'engine = "pseudo"\nglossaries = ["terms.tsv"]\ncontext_tokens = 7\n'
        'targets = ["nope"]\nsources = ["docs"]\n', encoding="utf-8")
    config = serve_config(cwd=tmp_path)
    assert config.run.engine == "pseudo" and config.run.context_tokens == 7
    assert config.run.glossaries == (str(tmp_path / "terms.tsv"),)
    assert config.run.memory == tmp_path / ".hymt" / "memory.sqlite"
    assert serve_config("--no-memory", cwd=tmp_path).run.memory is None


@pytest.mark.parametrize(("args", "message"), [
    (["--engine", "nope"], "Error: unknown engine 'nope'"),
    (["--engine", "pseudo", "--max-body-size", "10XB"], "Error: --max-body-size:"),
    (["--engine", "pseudo", "--timeout", "0"],
     "Error: --timeout must be more than 0, not 0.0"),
    (["--engine", "pseudo", "--queue-size", "0"], "Error: Invalid value for '--queue-size'"),
    (["--engine", "hf", "--model", "/no/such/model"], "Error: "),
])
def test_bad_options_exit_2(args, message, monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["serve", "--no-memory", "--port", "0", *args]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_a_taken_port_is_one_error_line(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = run(["serve", "--engine", "pseudo", "--no-memory", "--port", str(port)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert "hint: choose another --port or --host" in err


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_process_answers_and_stops_cleanly(stop: int, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hymt_cli", "serve", "--engine", "pseudo", "--port", "0",
         "--memory", str(tmp_path / "m.sqlite")],
        stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        found = re.match(r"hymt serve: (http://127\.0\.0\.1:\d+) \(engine pseudo; ",
                         first)
        assert found, first
        with httpx.Client(base_url=found.group(1), timeout=30) as client:
            assert client.get("/healthz").json()["loaded"] is True
            answer = client.post("/translate", json={"target_lang": "de",
                                                     "text": "Hello."})
            assert answer.json()["translation"] == "[Ĥéĺĺó. ··]"
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    assert (tmp_path / "m.sqlite").is_file()
