"""The command line, in-process through `run(argv)` and in a few subprocesses."""

from __future__ import annotations

import codecs
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from hymt_cli import fileio
from hymt_cli.cli import run
from hymt_cli.documents import FORMATS
from hymt_cli.engines import base
from hymt_cli.engines.base import EngineBase, Request
from hymt_cli.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def has_adapter(name: str) -> bool:
    return find_spec(FORMATS[name]) is not None


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def pseudo(*args: str) -> int:
    return run(["translate", *args, "--to", "de", "--engine", "pseudo"])


class ScriptedEngine(EngineBase):
    """An engine whose answers come from a function (for misbehaviour tests)."""

    name = "scripted"

    def __init__(self, answer) -> None:
        self.answer = answer

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        return [self.answer(r.text) for r in requests]


def register_engine(monkeypatch: pytest.MonkeyPatch, answer) -> None:
    monkeypatch.setitem(base._REGISTRY, "scripted", lambda **_: ScriptedEngine(answer))


# the identity law through the whole command ----------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"One paragraph.\n\nAnother one.\n",
        b"Windows lines.\r\n\r\nStill CRLF.\r\n",
        codecs.BOM_UTF8 + b"With a BOM.\r\nNo final newline",
        codecs.BOM_UTF16_LE + "UTF-16 text.\r\n".encode("utf-16-le"),
        b"  Mixed\r\nendings\n\n\rand trailing blanks   \n\n\n",
    ],
)
def test_identity_reproduces_text_byte_for_byte(work: Path, data: bytes) -> None:
    put(work / "in.txt", data)
    assert run(["translate", "in.txt", "--to", "fr", "--engine", "identity"]) == 0
    assert (work / "in.fr.txt").read_bytes() == data


@pytest.mark.parametrize("name", ["guide.md", "page.html", "notes.txt"])
def test_identity_reproduces_examples(work: Path, name: str) -> None:
    source = EXAMPLES / name
    fmt = {".md": "md", ".html": "html", ".txt": "txt"}[source.suffix]
    if not has_adapter(fmt):
        pytest.skip(f"the {fmt} adapter does not exist yet")
    put(work / name, source.read_bytes())
    assert run(["translate", name, "--to", "ja", "--engine", "identity"]) == 0
    expected = source.read_bytes().replace(b'<html lang="en">', b'<html lang="ja">')
    assert (work / name.replace(".", ".ja.")).read_bytes() == expected


# writing -------------------------------------------------------------------------


def test_pseudo_writes_beside_the_source(work: Path, capsys) -> None:
    put(work / "docs/notes.txt", "Hello world.\n")
    assert pseudo("docs/notes.txt") == 0
    out = (work / "docs/notes.de.txt").read_text(encoding="utf-8")
    assert out.startswith("[Ĥéĺĺó ŵóŕĺđ.") and out.endswith("]\n")
    err = capsys.readouterr().err
    assert err == (
        "wrote docs/notes.de.txt (1 segments, 1 translated, 0 from memory, "
        "0 fallbacks)\n"
    )


def test_unchanged_output_is_not_rewritten(work: Path, capsys) -> None:
    put(work / "a.txt", "Some text.\n")
    assert pseudo("a.txt") == 0
    os.utime(work / "a.de.txt", (1_000_000, 1_000_000))
    assert pseudo("a.txt") == 0
    assert (work / "a.de.txt").stat().st_mtime == 1_000_000
    assert "unchanged a.de.txt (1 segments" in capsys.readouterr().err


def test_quiet_prints_nothing_on_success(work: Path, capsys) -> None:
    put(work / "a.txt", "Some text.\n")
    put(work / "b.txt", "More text.\n")
    assert pseudo("a.txt", "b.txt", "--quiet") == 0
    assert capsys.readouterr() == ("", "")
    assert (work / "b.de.txt").exists()


def test_directory_walk_skips_outputs_hidden_and_vendored(work: Path, capsys) -> None:
    for name in ["docs/a.txt", "docs/sub/b.txt", "docs/a.fr.txt", "docs/.git/c.txt",
                 "docs/node_modules/d.txt", "docs/.venv/e.txt"]:
        put(work / name, "Words here.\n")
    put(work / "docs/logo.png", b"\x89PNG\0\0")
    assert pseudo("docs") == 0
    written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*.de.txt"))
    assert written == ["docs/a.de.txt", "docs/sub/b.de.txt"]
    assert pseudo("docs") == 0  # the new outputs are skipped on the second run
    assert sorted(work.rglob("*.de.*")) == sorted(work / w for w in written)
    assert re.search(r"files unchanged +│ 2", capsys.readouterr().err)


def test_quoted_globs_are_expanded(work: Path) -> None:
    for name in ["a.txt", "b.txt", "sub/c.txt", "a.ja.txt"]:
        put(work / name, "Words here.\n")
    assert pseudo("*.txt") == 0
    assert sorted(p.name for p in work.glob("*.de.txt")) == ["a.de.txt", "b.de.txt"]
    assert pseudo("**/*.txt") == 0
    assert (work / "sub/c.de.txt").exists()
    assert not (work / "a.ja.de.txt").exists()


def test_out_pattern_with_relpath(work: Path) -> None:
    put(work / "docs/a.txt", "Alpha.\n")
    put(work / "docs/sub/b.txt", "Beta.\n")
    assert pseudo("docs", "--out", "site/{lang}/{relpath}") == 0
    assert (work / "site/de/a.txt").exists()
    assert (work / "site/de/sub/b.txt").exists()
    assert pseudo("docs/a.txt", "--out", "{dir}/{lang}-{stem}{suffix}") == 0
    assert (work / "docs/de-a.txt").exists()


def test_own_outputs_inside_the_walked_tree_are_skipped(work: Path, capsys) -> None:
    put(work / "docs/a.txt", "Alpha.\n")
    assert pseudo("docs", "--out", "docs/{lang}/{relpath}") == 0
    assert pseudo("docs", "--out", "docs/{lang}/{relpath}") == 0
    assert not (work / "docs/de/de").exists()
    assert "Error" not in capsys.readouterr().err


def test_bad_out_pattern_is_a_usage_error(work: Path, capsys) -> None:
    put(work / "a.txt", "Alpha.\n")
    assert pseudo("a.txt", "--out", "{name}.txt") == 2
    assert "bad field {name}" in capsys.readouterr().err


# standard input and output ---------------------------------------------------------


def feed(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_stdin_to_stdout(work: Path, monkeypatch, capsysbinary) -> None:
    feed(monkeypatch, b"Plain words.\r\n")
    assert pseudo("-", "--format", "txt") == 0
    out, err = capsysbinary.readouterr()
    assert out.decode().startswith("[Þĺàíñ ŵóŕđš.") and out.endswith(b"]\r\n")
    assert err.startswith(b"translated - to stdout (1 segments")
    assert [p.name for p in work.iterdir()] == [".hymt"]  # only the memory


@pytest.mark.skipif(not has_adapter("html"), reason="no html adapter yet")
def test_stdin_format_is_sniffed(monkeypatch, capsysbinary) -> None:
    page = b"<!DOCTYPE html>\n<html><body><p>Hi</p></body></html>\n"
    feed(monkeypatch, page)
    assert run(["translate", "-", "--to", "en", "--engine", "identity"]) == 0
    out = capsysbinary.readouterr().out
    assert b"<p>Hi</p>" in out and b'lang="en"' in out


# bad inputs: one line each, exit 1, the other files still written ----------------


BAD_INPUTS = [
    ("bad.txt", b"caf\xe9 au lait\n",
     "bad.txt: not valid utf-8 at byte 3 (line 1, column 4)"),
    ("bin.txt", b"GIF89a\0\0\1",
     "bin.txt: looks like a binary file (NUL byte at offset 6)"),
    ("empty.txt", b"", "empty.txt: file is empty"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_INPUTS)
def test_bad_input_fails_alone(work: Path, capsys, name, data, message) -> None:
    put(work / name, data)
    put(work / "good.txt", "Fine text.\n")
    assert pseudo(name, "good.txt") == 1
    err = capsys.readouterr().err
    assert f"Error: {message}\n" in err
    assert "Traceback" not in err
    assert (work / "good.de.txt").exists()
    assert not (work / name.replace(".", ".de.")).exists()


def test_missing_path_fails_alone(work: Path, capsys) -> None:
    put(work / "good.txt", "Fine text.\n")
    assert pseudo("missing.txt", "good.txt") == 1
    assert "Error: missing.txt: no such file or directory\n" in capsys.readouterr().err
    assert (work / "good.de.txt").exists()


def test_unreadable_file_fails_alone(work: Path, monkeypatch, capsys) -> None:
    put(work / "locked.txt", "Secret.\n")
    put(work / "good.txt", "Fine text.\n")
    real_open = os.open

    def guarded(path: Any, flags: int, *args: Any) -> int:
        if Path(path).name == "locked.txt":  # chmod 0 does not stop root
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(fileio.os, "open", guarded)
    assert pseudo("locked.txt", "good.txt") == 1
    err = capsys.readouterr().err
    assert "Error: locked.txt: cannot read: Permission denied\n" in err
    assert (work / "good.de.txt").exists()


def test_encoding_option_reads_and_writes_latin1(work: Path, capsys) -> None:
    data = "Café crème.\n".encode("latin-1")
    put(work / "l1.txt", data)
    assert run(["translate", "l1.txt", "--to", "de", "--engine", "identity",
                "--encoding", "latin-1"]) == 0
    assert (work / "l1.de.txt").read_bytes() == data
    assert pseudo("l1.txt", "--encoding", "latin-1") == 1  # ŵ is not latin-1
    err = capsys.readouterr().err
    assert "Error: l1.txt: the translation has characters latin-1 cannot encode" in err


def test_unknown_suffix_needs_format(work: Path, capsys) -> None:
    put(work / "notes.log", "A log line.\n")
    assert pseudo("notes.log") == 1
    assert "Error: notes.log: unknown document type" in capsys.readouterr().err
    assert pseudo("notes.log", "--format", "txt") == 0
    assert (work / "notes.de.log").exists()


def test_output_equal_to_input_is_refused(work: Path, capsys) -> None:
    put(work / "a.txt", "Alpha.\n")
    put(work / "b.txt", "Beta.\n")
    assert pseudo("a.txt", "b.txt", "--out", "{dir}/{stem}{suffix}") == 1
    err = capsys.readouterr().err
    assert "Error: a.txt: output a.txt is itself\n" in err
    assert "sources are never overwritten" in err
    assert (work / "a.txt").read_text() == "Alpha.\n"
    assert (work / "b.txt").read_text() == "Beta.\n"


def test_output_equal_to_another_input_is_refused(work: Path, capsys) -> None:
    put(work / "a.txt", "Alpha.\n")
    put(work / "a.de.txt", "Hand-written German.\n")
    assert pseudo("a.txt", "a.de.txt") == 1
    assert "Error: a.txt: output a.de.txt is input a.de.txt" in capsys.readouterr().err
    assert (work / "a.de.txt").read_text() == "Hand-written German.\n"
    assert (work / "a.de.de.txt").exists()


def test_two_inputs_with_one_output_both_fail(work: Path, capsys) -> None:
    put(work / "x/n.txt", "One.\n")
    put(work / "y/n.txt", "Two.\n")
    put(work / "z.txt", "Three.\n")
    assert pseudo("x/n.txt", "y/n.txt", "z.txt", "--out", "out/{stem}{suffix}") == 1
    err = capsys.readouterr().err
    assert "Error: x/n.txt: output out/n.txt is also the output of y/n.txt" in err
    assert "Error: y/n.txt: output out/n.txt is also the output of x/n.txt" in err
    assert sorted(os.listdir(work / "out")) == ["z.txt"]


def test_engine_failure_stays_with_its_file(work: Path, monkeypatch, capsys) -> None:
    def answer(text: str) -> str:
        if "explode" in text:
            raise RuntimeError("engine exploded")
        return text.upper()

    register_engine(monkeypatch, answer)
    put(work / "a.txt", "Please explode.\n")
    put(work / "b.txt", "Calm text.\n")
    args = ["translate", "a.txt", "b.txt", "--to", "de", "--engine", "scripted"]
    assert run(args) == 1
    err = capsys.readouterr().err
    assert "Error: a.txt: translation failed: engine exploded\n" in err
    assert "Traceback" not in err
    assert (work / "b.de.txt").read_text() == "CALM TEXT.\n"
    assert run([*args, "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_fallbacks_are_reported_not_written(work: Path, monkeypatch, capsys) -> None:
    register_engine(monkeypatch, lambda text: "")
    put(work / "a.txt", "Keep me.\n")
    args = ["translate", "a.txt", "--to", "de", "--engine", "scripted", "--verbose"]
    assert run(args) == 0
    err = capsys.readouterr().err
    assert "warning: a.txt: s1: rejected (empty answer)" in err
    assert "(1 segments, 0 translated, 0 from memory, 1 fallbacks)" in err
    assert (work / "a.de.txt").read_text() == "Keep me.\n"


# usage errors: exit 2 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "xx"], "Error: unknown language 'xx'; supported: zh, en, fr"),
        (["--to", "de", "--from", "klingon"], "unknown language 'klingon'"),
        (["--to", "de", "--engine", "nope"], "unknown engine 'nope' (known: "),
        (["--to", "de", "--format", "rst"], "unknown format 'rst' (known: md, html"),
        (["--to", "de", "--encoding", "nope-8"], "unknown encoding 'nope-8'"),
        ([], "no target language: pass --to"),
        (["--to", "de", "--batch-size", "0"], "--batch-size"),
        (["--to", "de", "--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors(work: Path, capsys, args: list[str], message: str) -> None:
    put(work / "a.txt", "Alpha.\n")
    assert run(["translate", "a.txt", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("Error: ") and "Traceback" not in err
    assert not (work / "a.de.txt").exists()


def test_unknown_language_lists_all_38(work: Path, capsys) -> None:
    put(work / "a.txt", "Alpha.\n")
    run(["translate", "a.txt", "--to", "xx"])
    err = capsys.readouterr().err
    assert all(code in err for code in LANGUAGES)


def test_no_inputs_found(work: Path, capsys) -> None:
    (work / "empty").mkdir()
    assert pseudo("empty") == 2
    assert "Error: no inputs found" in capsys.readouterr().err
    assert pseudo("*.md") == 2
    assert "Error: *.md: no documents match this pattern" in capsys.readouterr().err


def test_language_aliases(work: Path) -> None:
    put(work / "a.txt", "Alpha.\n")
    assert run(["translate", "a.txt", "--to", "zh-TW", "--engine", "pseudo"]) == 0
    assert (work / "a.zh-Hant.txt").exists()


# other commands ------------------------------------------------------------------


def test_segments_prints_json_lines(work: Path, capsys) -> None:
    put(work / "a.txt", "First <s1> para.\n\nSecond.\n")
    assert run(["segments", "a.txt"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["s1", "s2"]
    assert {r["kind"] for r in rows} == {"paragraph"}
    assert rows[1]["text"] == "Second."


def test_segments_from_stdin_and_errors(work: Path, monkeypatch, capsys) -> None:
    feed(monkeypatch, "Über alles.\n".encode())
    assert run(["segments", "-", "--format", "txt"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "Über alles."
    assert run(["segments", "missing.txt"]) == 1
    assert capsys.readouterr().err == "Error: missing.txt: no such file or directory\n"
    assert run(["segments", "-", "--format", "nope"]) == 2


def test_languages_lists_38_rows(capsys) -> None:
    assert run(["languages"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if any(c.isalpha() for c in line)]
    assert len(rows) == 1 + 38
    assert "zh-Hant" in out and "繁体中文" in out and "Traditional Chinese" in out


def test_version_and_help(capsys) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("hymt 0.")
    assert run(["translate", "--help"]) == 0
    assert "Exit codes" in capsys.readouterr().out


# subprocesses ------------------------------------------------------------------------


def hymt(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hymt_cli", *args],
        cwd=cwd, input=stdin, capture_output=True, timeout=60,
    )


def test_light_commands_never_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; import hymt_cli.cli as c;"
        "c.run(['--help']); c.run(['languages']); c.run(['segments', '--help']);"
        "heavy = {'torch', 'transformers'} & set(sys.modules);"
        "print(sorted(heavy)); sys.exit(bool(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_module_entry_point(tmp_path: Path) -> None:
    done = hymt("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"hymt ")
    done = hymt("translate", "x.md", "--to", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(b"Error: unknown language 'nope'")


def test_subprocess_translate_and_stdin(tmp_path: Path) -> None:
    put(tmp_path / "a.txt", b"Hello.\r\n")
    done = hymt("translate", "a.txt", "--to", "de", "--engine", "pseudo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.de.txt").read_bytes().endswith(b"]\r\n")
    done = hymt("translate", "-", "--to", "de", "--engine", "identity", "--format",
                "txt", cwd=tmp_path, stdin=b"Same.\n")
    assert (done.returncode, done.stdout) == (0, b"Same.\n")


# glossaries ----------------------------------------------------------------------


def test_glossary_terms_reach_the_engine(work: Path, monkeypatch, capsys) -> None:
    seen: list[tuple[tuple[str, str], ...]] = []

    class Recorder(ScriptedEngine):
        def translate_batch(self, requests: Sequence[Request]) -> list[str]:
            seen.extend(r.terms for r in requests)
            return [r.text for r in requests]

    monkeypatch.setitem(base._REGISTRY, "recorder", lambda **_: Recorder(None))
    put(work / "terms.tsv", "world\tWelt\n")
    put(work / "a.txt", "Hello world.\n")
    args = ["translate", "a.txt", "--to", "de", "--engine", "recorder"]
    assert run([*args, "--glossary", "terms.tsv", "--verbose"]) == 0
    assert seen == [(("world", "Welt"),)]
    err = capsys.readouterr().err
    assert "warning: a.txt: glossary term not used: s1: world -> Welt" in err


def test_bad_glossary_is_a_usage_error(work: Path, capsys) -> None:
    put(work / "a.txt", "Hello.\n")
    put(work / "terms.xml", "<x/>")
    assert pseudo("a.txt", "--glossary", "terms.xml") == 2
    assert "unknown glossary format" in capsys.readouterr().err
    assert pseudo("a.txt", "--glossary", "missing.tsv") == 2
    assert not (work / "a.de.txt").exists()


def test_output_through_a_symlink_to_the_input_is_refused(work: Path, capsys) -> None:
    put(work / "a.txt", "Alpha.\n")
    (work / "link.txt").symlink_to(work / "a.txt")
    assert pseudo("a.txt", "--out", "{dir}/link{suffix}") == 1
    assert "Error: a.txt: output link.txt is itself" in capsys.readouterr().err
    assert (work / "a.txt").read_text() == "Alpha.\n"


# the hf engine on the tiny model: options, memory, quantize ------------------------


def _have_gptqmodel() -> bool:
    try:
        import gptqmodel  # noqa: F401
    except Exception:
        return False
    return True


HF_ARGS = ["--engine", "hf", "--device", "cpu", "--dtype", "fp32", "--threads", "1",
           "--max-new-tokens", "4", "--batch-size", "auto"]


@pytest.fixture()
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_hf_rerun_from_memory_never_loads_the_model(
    work: Path, tiny_dir: Path, monkeypatch
) -> None:
    from hymt_cli.engines.hf import HFEngine

    put(work / "a.md", "# Hello\n\nThe quick brown fox.\n")
    args = ["translate", "a.md", "--to", "de", "--model", str(tiny_dir), *HF_ARGS]
    assert run(args) == 0
    first = (work / "a.de.md").read_bytes()

    def refuse(self: HFEngine) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(HFEngine, "load", refuse)
    assert run(args) == 0 and (work / "a.de.md").read_bytes() == first
    assert run([*args, "--check"]) == 0


def test_missing_model_is_a_usage_error(work: Path, capsys) -> None:
    put(work / "a.md", "Hello.\n")
    assert run(["translate", "a.md", "--to", "de", "--model", "no/such-dir/"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_bad_dtype_is_a_usage_error(work: Path, capsys) -> None:
    put(work / "a.md", "Hello.\n")
    assert run(["translate", "a.md", "--to", "de", "--dtype", "int3"]) == 2
    assert "unknown dtype 'int3'" in capsys.readouterr().err


@pytest.mark.skipif(not _have_gptqmodel(), reason="gptqmodel is not importable")
def test_quantize_then_translate_with_the_result(
    work: Path, tiny_dir: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("GPTQMODEL_CPU_WORKERS", "2")
    out = work / "tiny-int4"
    args = ["quantize", str(tiny_dir), str(out), "--group-size", "32",
            "--samples", "8", "--device", "cpu"]
    assert run(args) == 0, capsys.readouterr().err
    assert (out / "config.json").is_file()
    put(work / "a.md", "# Hello\n\nThe quick brown fox.\n")
    assert run(["translate", "a.md", "--to", "de", "--model", str(out), *HF_ARGS]) == 0
    assert (work / "a.de.md").read_text().startswith("# ")
    capsys.readouterr()
    assert run(["quantize", str(tiny_dir), str(out)]) == 1  # OUT exists
    assert capsys.readouterr().err.startswith("Error: ")


def test_skip_leaves_a_kind_untranslated(work: Path) -> None:
    put(work / "t.md", "# Title\n\n| a | b |\n|---|---|\n| cell one | cell two |\n")
    assert pseudo("t.md", "--skip", "table_cell", "--no-memory") == 0
    out = (work / "t.de.md").read_text(encoding="utf-8")
    assert out.endswith("| cell one | cell two |\n") and "Ŧíŧĺé" in out
