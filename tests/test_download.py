"""Models download on first use, from a hub stand-in on loopback (`fake_hub`).

The command line runs in a subprocess with HF_ENDPOINT pointing at the stand-in:
huggingface_hub reads some settings when it is imported, and this test process
must never reach a real hub. The stand-in logs every request, so the tests can
assert what was fetched, and that a cached or offline run sends nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_hub import FakeHub
from tests.tiny_gguf import tiny_gguf_pair  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
GGUF_REPO = "tencent/HY-MT1.5-1.8B-GGUF"
Q4 = "HY-MT1.5-1.8B-Q4_K_M.gguf"
Q8 = "HY-MT1.5-1.8B-Q8_0.gguf"
Q8_SIZE = 12 * 1024 * 1024
"""Over huggingface_hub's 10 MiB download chunk, so a cut file resumes mid-way."""
TRANSLATE = ["translate", "page.md", "--to", "de", "--engine", "llamacpp",
             "--threads", "1", "--max-new-tokens", "8"]


@pytest.fixture
def hub(tiny_gguf_pair: tuple[Path, Path]) -> Iterator[FakeHub]:  # noqa: F811
    """The stand-in serving the default GGUF repo: a Q4_K_M file (the tiny model)
    and a Q8_0 file that no test without `--gguf-file Q8_0` may fetch."""
    q8 = bytes(range(256)) * (Q8_SIZE // 256)
    with FakeHub() as fake:
        fake.add_repo(GGUF_REPO, {Q4: tiny_gguf_pair[1].read_bytes(), Q8: q8,
                                  "README.md": b"# HY-MT1.5 GGUF\n",
                                  ".gitattributes": b"*.gguf filter=lfs\n"})
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding `page.md`, the working directory of every command."""
    (tmp_path / "page.md").write_text("# Hello\n\nSome text to translate.\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def hymt(args: list[str], hub: FakeHub | str, **env: str
         ) -> subprocess.CompletedProcess[str]:
    """Run `hymt ARGS` in a subprocess pointed at the hub, online unless `env` says."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    url = hub if isinstance(hub, str) else hub.url
    base |= {"HF_ENDPOINT": url, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
             "NO_PROXY": "127.0.0.1,localhost", "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.run([sys.executable, "-m", "hymt_cli", *args], env=base | env,
                          capture_output=True, text=True, timeout=300)


def cache() -> Path:
    """The hub cache the isolated home points HF_HOME at."""
    return Path(os.environ["HF_HOME"]) / "hub"


def cached_files(repo_id: str) -> dict[str, Path]:
    """Snapshot files of `repo_id` in the cache, by repo path."""
    snapshots = cache() / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    return {p.relative_to(s).as_posix(): p for s in snapshots.glob("*")
            for p in s.rglob("*") if p.is_file()}


def test_first_run_downloads_one_gguf_and_translates(
    hub: FakeHub, workdir: Path, tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
) -> None:
    result = hymt(TRANSLATE, hub)
    assert result.returncode == 0, result.stderr
    assert (workdir / "page.de.md").read_text().startswith("# ")
    assert hub.fetched() == [Q4]
    assert list(cached_files(GGUF_REPO)) == [Q4]
    assert cached_files(GGUF_REPO)[Q4].read_bytes() == tiny_gguf_pair[1].read_bytes()
    assert "downloading" not in result.stderr  # no bar when stderr is not a terminal


def test_second_run_uses_the_cache_with_the_hub_stopped(
    hub: FakeHub, workdir: Path,
) -> None:
    assert hymt(TRANSLATE, hub).returncode == 0
    url = hub.url
    hub.stop()
    hub.requests.clear()
    (workdir / "page.de.md").unlink()
    result = hymt([*TRANSLATE, "--no-memory"], url)  # loads the cached model
    assert result.returncode == 0, result.stderr
    assert (workdir / "page.de.md").is_file()
    assert hub.requests == []


def test_a_cut_download_resumes_with_a_range_request(hub: FakeHub) -> None:
    hub.cut_once(Q8, 11 * 1024 * 1024)
    result = hymt(["models", "pull", "1.8b-gguf", "--gguf-file", "Q8_0"], hub)
    assert result.returncode == 0, result.stderr
    assert hub.fetched() == [Q8, Q8]
    first, second = hub.file_gets()
    assert "range" not in first.headers
    assert second.headers["range"] == f"bytes={10 * 1024 * 1024}-"  # whole chunks kept
    path = Path(result.stdout.strip())
    assert path == cached_files(GGUF_REPO)[Q8]
    assert path.read_bytes() == hub.repos[GGUF_REPO].files[Q8]


def test_the_cached_gguf_file_is_used_until_another_is_named(hub: FakeHub) -> None:
    def pull(*args: str, **env: str) -> str:
        result = hymt(["models", "pull", "1.8b-gguf", *args], hub, **env)
        assert result.returncode == 0, result.stderr
        return Path(result.stdout.strip()).name

    assert pull("--gguf-file", "q8_0") == Q8
    assert pull() == Q8  # the only cached file of the repo: no request
    assert pull(HF_HUB_OFFLINE="1") == Q8
    assert hub.fetched() == [Q8]
    assert pull("--gguf-file", "Q4_K_M") == Q4
    assert pull() == Q4  # two cached files: the default picks Q4_K_M
    assert hub.fetched() == [Q8, Q4]
    assert sorted(cached_files(GGUF_REPO)) == [Q4, Q8]


@pytest.mark.parametrize(("flag", "env"), [([], {"HF_HUB_OFFLINE": "1"}),
                                           (["--offline"], {})],
                         ids=["HF_HUB_OFFLINE", "--offline"])
def test_offline_never_connects(
    hub: FakeHub, workdir: Path, flag: list[str], env: dict[str, str],
) -> None:
    result = hymt([*TRANSLATE, *flag], hub, **env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: GGUF model '{GGUF_REPO}' is not in the ")
    assert "downloads are off" in result.stderr and "hymt models pull" in result.stderr
    assert hub.requests == []
    assert not (workdir / "page.de.md").exists()


def test_an_unreachable_hub_is_one_error_line_and_a_hint(
    hub: FakeHub, workdir: Path,
) -> None:
    url = hub.url
    hub.stop()
    result = hymt(TRANSLATE, url)
    assert result.returncode == 2
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"Error: cannot download '{GGUF_REPO}' from {url}: "
                            "ConnectError")
    assert hint.startswith("  hint: ") and "--offline" in hint


def test_an_unknown_repo_says_so(hub: FakeHub, workdir: Path) -> None:
    result = hymt([*TRANSLATE, "--model", "tencent/HY-MT9-GGUF"], hub)
    assert result.returncode == 2
    assert "'tencent/HY-MT9-GGUF'" in result.stderr
    assert "no such repository" in result.stderr
    assert hub.fetched() == []
    hub.requests.clear()
    result = hymt([*TRANSLATE, "--model", "not a repo!-GGUF"], hub)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: 'not a repo!-GGUF' is neither a local "
                                    "model nor a hub repo id: ")
    assert hub.requests == []


def test_hf_engine_fetches_only_the_checkpoint_files(
    workdir: Path, tiny_gguf_pair: tuple[Path, Path],  # noqa: F811
) -> None:
    checkpoint = tiny_gguf_pair[0]
    decoys = {"pytorch_model.bin": b"\0" * 64, "README.md": b"# HY-MT1.5\n",
              "images/architecture.png": b"\x89PNG", "optimizer.pt": b"\0",
              "HY-MT1.5-1.8B-Q4_K_M.gguf": b"GGUF"}
    with FakeHub() as hub:
        repo = hub.add_folder("tencent/HY-MT1.5-1.8B", checkpoint, decoys)
        args = ["translate", "page.md", "--to", "de", "--engine", "hf", "--model",
                "1.8b", "--threads", "1", "--max-new-tokens", "8"]
        result = hymt(args, hub)
        assert result.returncode == 0, result.stderr
        wanted = sorted(set(repo.files) - set(decoys))
        assert sorted(hub.fetched()) == wanted
        assert sorted(cached_files("tencent/HY-MT1.5-1.8B")) == wanted
        hub.requests.clear()
        assert hymt([*args, "--check"], hub).returncode == 0  # from the cache
        assert hub.requests == []


def test_models_lists_pulls_and_removes(hub: FakeHub) -> None:
    other = "someone/HY-MT1.5-1.8B-tuned-GGUF"
    hub.add_repo(other, {"tuned-Q4_K_M.gguf": b"GGUF tuned"})
    listed = json.loads(hymt(["models", "--json"], hub).stdout)
    assert listed["cache"] == str(cache())
    rows = {row["repo_id"]: row for row in listed["models"]}
    assert rows[GGUF_REPO] == {"alias": "1.8b-gguf", "repo_id": GGUF_REPO,
                               "kind": "gguf", "cached": False, "size": 0,
                               "path": None}
    assert rows["tencent/HY-MT1.5-1.8B"]["kind"] == "hf"

    pulled = hymt(["models", "pull", "1.8b-gguf"], hub)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.strip().endswith(Q4)
    assert hymt(["models", "pull", other], hub).returncode == 0
    assert hub.fetched() == [Q4, "tuned-Q4_K_M.gguf"]

    hub.requests.clear()
    rows = {row["repo_id"]: row
            for row in json.loads(hymt(["models", "--json"], hub).stdout)["models"]}
    assert rows[GGUF_REPO]["cached"] is True
    assert rows[GGUF_REPO]["size"] == len(hub.repos[GGUF_REPO].files[Q4])
    assert Path(rows[GGUF_REPO]["path"], Q4).is_file()
    assert rows[other]["alias"] == "" and rows[other]["kind"] == "gguf"
    table = hymt(["models"], hub).stdout
    assert "1.8b-gguf" in table and other in table
    assert hub.requests == []  # listing never touches the network

    removed = hymt(["models", "rm", "1.8b-gguf"], hub)
    assert removed.returncode == 0, removed.stderr
    assert removed.stderr.startswith(f"removed {GGUF_REPO} (")
    assert cached_files(GGUF_REPO) == {}
    again = hymt(["models", "rm", GGUF_REPO], hub)
    assert again.returncode == 2
    assert again.stderr.startswith(f"Error: '{GGUF_REPO}' is not in the Hugging Face")
    assert hymt(["models", "pull", "1.8b", "--gguf-file", "Q8_0"], hub).returncode == 2


@pytest.mark.parametrize(("env", "flag", "offline"), [
    ({}, False, False), ({}, True, True), ({"HF_HUB_OFFLINE": "1"}, False, True),
    ({"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"}, False, False),
    ({"TRANSFORMERS_OFFLINE": "yes"}, False, True),
])
def test_offline_mode_reads_the_environment_at_call_time(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], flag: bool, offline: bool,
) -> None:
    from hymt_cli.downloads import offline_mode

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert offline_mode(flag) is offline


def test_offline_reaches_the_engines_from_flag_and_project_file() -> None:
    from hymt_cli import cli_config, engines, project, settings
    from hymt_cli.engines.base import typed_options
    from hymt_cli.engines.options import LlamaCppOptions

    def engine_options(flags: dict[str, object], values: dict[str, object]) -> dict:
        merged = settings.from_flags({"sources": ["a.md"], "targets": "de"} | flags)
        config = cli_config.build(merged, project.ProjectConfig(values=values), {})
        return dict(config.engine_options)

    assert "offline" not in engine_options({}, {})
    assert engine_options({"offline": True}, {})["offline"] is True
    assert engine_options({}, {"offline": True})["offline"] is True
    assert typed_options("llamacpp", LlamaCppOptions, {"offline": True}).offline
    assert engines.create("pseudo", offline=True).name == "pseudo"  # run-wide: dropped


def test_a_new_users_first_command_downloads_and_translates(
    hub: FakeHub, workdir: Path,
) -> None:
    """`hymt translate page.md --to de`, nothing else: on a machine without a GPU
    `auto` picks llamacpp, which fetches the default Q4_K_M file and translates."""
    info = hymt(["info", "--json"], hub)
    if json.loads(info.stdout)["engine"] != "llamacpp":
        pytest.skip("auto picks another engine on this machine (a GPU?)")
    result = hymt(["translate", "page.md", "--to", "de", "--threads", "1",
                   "--max-new-tokens", "8"], hub)
    assert result.returncode == 0, result.stderr
    assert (workdir / "page.de.md").is_file()
    assert hub.fetched() == [Q4]
