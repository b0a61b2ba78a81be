"""A Hugging Face Hub stand-in on loopback, for download tests without a network.

`FakeHub` serves repos in the hub's layout to huggingface_hub pointed at it with
`HF_ENDPOINT=hub.url`:

- `GET /api/models/{repo}[/revision/{rev}]`: repo info, `{"id", "sha", "siblings"}`;
- `GET /api/models/{repo}/tree/{rev}[/{path}]`: the file list (`type`, `path`,
  `size`, `oid`, and `lfs` for weights), what `snapshot_download` reads;
- `HEAD|GET /{repo}/resolve/{rev}/{path}`: the file, with `X-Repo-Commit`,
  `ETag`, `Content-Length`, `Accept-Ranges`; a `Range: bytes=N-` answers 206 with
  `Content-Range`; no xet headers, so plain HTTP is used;
- `GET /api/agent-harnesses`: the registry huggingface_hub asks for once a day;
- anything else: 404 with the hub's `X-Error-Code` (RepoNotFound,
  RevisionNotFound, EntryNotFound).

Every request is logged (`requests`); `cut_once(path, at)` makes the next full
GET of that file stop after `at` bytes and drop the connection, to test resuming.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".gguf", ".safetensors", ".bin", ".png")
"""Files the real hub keeps in LFS (its tree lists an `lfs` entry for them)."""


@dataclass(frozen=True, slots=True)
class Logged:
    """One request the hub received."""

    method: str
    path: str
    """The URL path, unquoted, without the query."""
    headers: dict[str, str]
    """Header names in lower case."""


@dataclass
class Repo:
    """A model repo at one commit."""

    files: dict[str, bytes]
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name])
        self.sha = digest.hexdigest()


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's bytes, as the hub reports it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def etag(name: str, data: bytes) -> str:
    """The ETag the hub sends: the sha256 for LFS files, else the git blob id."""
    if name.endswith(LFS_SUFFIXES):
        return hashlib.sha256(data).hexdigest()
    return git_blob_id(data)


class FakeHub:
    """A threaded HTTP server on 127.0.0.1 serving `repos`; use as a context manager."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[Logged] = []
        self.cuts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> Repo:
        """Serve `files` (repo path to bytes) as `repo_id`."""
        self.repos[repo_id] = Repo(dict(files))
        return self.repos[repo_id]

    def add_folder(self, repo_id: str, folder: Path, extra: dict[str, bytes]) -> Repo:
        """Serve every file under `folder`, plus `extra`, as `repo_id`."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        return self.add_repo(repo_id, files | extra)

    def cut_once(self, path: str, at: int) -> None:
        """The next GET of `path` (a repo file path) without Range sends `at` bytes of
        it, then drops the connection."""
        self.cuts[path] = at

    @property
    def url(self) -> str:
        """The endpoint for HF_ENDPOINT."""
        assert self.server is not None, "start the hub first"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        """Listen on a free loopback port, in a daemon thread."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: later connections are refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def log(self, request: Logged) -> None:
        """Record one request."""
        with self.lock:
            self.requests.append(request)

    def file_gets(self) -> list[Logged]:
        """The GET requests for files (`/resolve/`)."""
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]

    def fetched(self) -> list[str]:
        """Repo paths of the files downloaded (GET), in order."""
        return [RESOLVE.match(r.path)["path"] for r in self.file_gets()]  # type: ignore


REPO = r"(?P<repo>[^/]+/[^/]+)"
API_INFO = re.compile(rf"^/api/models/{REPO}(?:/revision/(?P<rev>[^/]+))?$")
API_TREE = re.compile(rf"^/api/models/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
RESOLVE = re.compile(rf"^/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_HEAD(self) -> None:
            self.route("HEAD")

        def do_GET(self) -> None:
            self.route("GET")

        def route(self, method: str) -> None:
            path = unquote(urlsplit(self.path).path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            hub.log(Logged(method, path, headers))
            if path == "/api/agent-harnesses":
                return self.send_json({"standardEnvVars": [], "harnesses": {}})
            for pattern, answer in ((API_INFO, self.info), (API_TREE, self.tree),
                                    (RESOLVE, self.resolve)):
                if match := pattern.match(path):
                    return self.in_repo(match, answer, method)
            self.send_error_code(404, "RepoNotFound")

        def in_repo(self, match: re.Match[str], answer: Any, method: str) -> None:
            repo = hub.repos.get(match["repo"])
            if repo is None:
                return self.send_error_code(404, "RepoNotFound")
            if match["rev"] not in (None, "main", repo.sha):
                return self.send_error_code(404, "RevisionNotFound")
            answer(match["repo"], repo, match, method)

        def info(self, repo_id: str, repo: Repo, _: re.Match[str], __: str) -> None:
            self.send_json({"id": repo_id, "modelId": repo_id, "sha": repo.sha,
                            "private": False, "gated": False, "disabled": False,
                            "siblings": [{"rfilename": n} for n in sorted(repo.files)]})

        def tree(self, _: str, repo: Repo, match: re.Match[str], __: str) -> None:
            prefix = (match["path"] or "").strip("/")
            rows = [_tree_row(name, data) for name, data in sorted(repo.files.items())
                    if not prefix or name.startswith(prefix + "/")]
            self.send_json(rows)

        def resolve(self, _: str, repo: Repo, match: re.Match[str], method: str
                    ) -> None:
            name = match["path"]
            if name not in repo.files:
                return self.send_error_code(404, "EntryNotFound", repo.sha)
            data = repo.files[name]
            start = _range_start(self.headers.get("Range"))
            status = 206 if start else 200
            self.send_response(status)
            self.send_header("X-Repo-Commit", repo.sha)
            self.send_header("ETag", f'"{etag(name, data)}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range",
                                 f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if method == "GET":
                self.send_body(name, data, start)

        def send_body(self, name: str, data: bytes, start: int) -> None:
            cut = hub.cuts.pop(name, None) if not start else None
            if cut is None:
                self.wfile.write(data[start:])
                return
            self.wfile.write(data[:cut])  # then drop the connection mid-body
            self.wfile.flush()
            self.close_connection = True

        def send_json(self, value: Any) -> None:
            body = json.dumps(value).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        def send_error_code(self, status: int, code: str, commit: str = "") -> None:
            body = json.dumps({"error": code}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            if commit:
                self.send_header("X-Repo-Commit", commit)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

    return Handler


def _tree_row(name: str, data: bytes) -> dict[str, Any]:
    row: dict[str, Any] = {"type": "file", "path": name, "size": len(data),
                           "oid": git_blob_id(data)}
    if name.endswith(LFS_SUFFIXES):
        row["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                      "pointerSize": 134}
    return row


def _range_start(header: str | None) -> int:
    """N of `bytes=N-` (0 without a Range header); other forms are not served."""
    if not header:
        return 0
    match = re.fullmatch(r"bytes=(\d+)-", header.strip())
    if match is None:
        raise ValueError(f"unsupported Range {header!r}")
    return int(match[1])
