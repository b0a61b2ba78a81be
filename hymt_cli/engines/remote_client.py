"""Talking to OpenAI-compatible servers: replicas, requests in flight, retries.

One event loop on a daemon thread holds an `openai.AsyncOpenAI` client per
replica; callers on any thread submit coroutines to it (`Replicas.run`), so the
pipeline stays synchronous while `concurrency` requests are in flight at once.
A failed request is retried on the next replica with exponential backoff (or
after the server's `Retry-After`), up to `MAX_ATTEMPTS` tries; errors that a
retry cannot fix (bad request, authentication, unknown model) fail at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

try:
    import httpx2 as httpx  # the HTTP client current openai releases are built on
except ImportError:  # older openai releases: httpx
    import httpx  # type: ignore[no-redef]

from hymt_cli.engines.base import EngineDown

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5
"""Tries per request, over all replicas, before the run gives up on the server."""
BACKOFF_S = 0.5
"""The first retry waits this long; each later one twice as long (with jitter)."""
MAX_BACKOFF_S = 30.0
"""No wait is longer, whatever the server's `Retry-After` says."""
DOWN_FOR_S = 30.0
"""After a request gave up, others fail at once for this long instead of each
spending its retries on servers that are gone."""
DOWN_STATUSES = frozenset({401, 403, 404})
"""HTTP statuses that every other request would get too."""
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try; any other 4xx is the request's own fault."""
KEY_ENV_VARS = ("HYMT_OPENAI_API_KEY", "OPENAI_API_KEY")
"""Where the API key is read from, first found wins (never the project file)."""
NO_KEY = "EMPTY"
"""Sent when no key is set (vLLM's convention; the client needs a value)."""


class ServerError(RuntimeError):
    """One request failed for a reason of its own that no retry fixes (HTTP 400)."""


class ServerDown(ServerError, EngineDown):
    """The servers cannot answer: retries spent, the key refused, the model unknown."""


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer: its text, generated tokens (None: not reported) and why it ended."""

    text: str
    tokens: int | None
    finish_reason: str | None


def api_key(environ: dict[str, str]) -> str:
    """The API key from the environment, or the placeholder."""
    for name in KEY_ENV_VARS:
        if value := environ.get(name, "").strip():
            return value
    return NO_KEY


def server_root(base_url: str) -> str:
    """The server's root URL (`http://h:8000/v1` → `http://h:8000`), where vLLM and
    llama.cpp put their tokenize endpoints."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class Replicas:
    """The servers of one run, reached from any thread through one event loop."""

    def __init__(self, base_urls: tuple[str, ...], key: str, timeout: float,
                 concurrency: int) -> None:
        if not base_urls:
            raise ValueError("no server URL given")
        self.base_urls = tuple(u.rstrip("/") for u in base_urls)
        self.key, self.timeout, self.concurrency = key, timeout, concurrency
        self._turn = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: dict[str, openai.AsyncOpenAI] = {}
        self._http: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._down: tuple[float, ServerDown] | None = None
        """When the servers were given up on, and why (see DOWN_FOR_S)."""
        self._tokenizer_kind: str | None = None
        """Which tokenize endpoint the server has, once one answered."""
        self._lock = threading.Lock()

    # -- the loop ------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the replicas' loop and wait for its result."""
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="hymt-http",
                                 daemon=True).start()
                self._loop = loop
            return self._loop

    def close(self) -> None:
        """Close the connections and stop the loop; idempotent."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)

    async def _close(self) -> None:
        for client in self._clients.values():
            await client.close()
        if self._http is not None:
            await self._http.aclose()
        self._clients.clear()
        self._http = None

    def _client(self, base_url: str) -> openai.AsyncOpenAI:
        if base_url not in self._clients:
            limits = httpx.Limits(max_connections=self.concurrency,
                                  max_keepalive_connections=self.concurrency)
            self._clients[base_url] = openai.AsyncOpenAI(
                base_url=base_url, api_key=self.key, max_retries=0,
                timeout=self.timeout,
                http_client=openai.DefaultAsyncHttpxClient(limits=limits))
        return self._clients[base_url]

    def _plain(self) -> httpx.AsyncClient:
        """A client for the non-OpenAI endpoints (tokenize)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.timeout, headers={"Authorization": f"Bearer {self.key}"})
        return self._http

    def _gate(self) -> asyncio.Semaphore:
        if self._slots is None:  # made on the loop, where it is used
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    # -- requests ------------------------------------------------------------------

    async def chat(self, model: str, prompt: str, max_tokens: int,
                   params: dict[str, Any]) -> Completion:
        """The answer to one user turn, with retries over the replicas."""
        async def once(client: openai.AsyncOpenAI) -> Completion:
            response = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}],
                max_tokens=max_tokens, **params)
            if not response.choices or response.choices[0].message is None:
                raise _Malformed("the answer has no choices")
            choice = response.choices[0]
            usage = response.usage.completion_tokens if response.usage else None
            return Completion(choice.message.content or "", usage, choice.finish_reason)

        async with self._gate():
            return await self._retried("chat completion", once)

    async def models(self) -> list[str]:
        """The model ids the first replica that answers serves."""
        async def once(client: openai.AsyncOpenAI) -> list[str]:
            return [m.id async for m in client.models.list()]

        return await self._retried("model list", once)

    async def tokens(self, model: str, text: str) -> list[int] | None:
        """`text`'s token ids by the server's own tokenizer (vLLM's or llama.cpp
        server's `/tokenize`, llama-cpp-python's `/extras/tokenize`); None when it
        has none of them. The first that answers is used from then on."""
        root = server_root(self.base_urls[0])
        ways = {  # (url, body, a field only a real answer of that server has)
            "vllm": (f"{root}/tokenize", {"model": model, "prompt": text,
                                          "add_special_tokens": False}, "count"),
            "llama-server": (f"{root}/tokenize", {"content": text, "add_special": False,
                                                  "parse_special": True}, "tokens"),
            "llama-cpp-python": (f"{root}/extras/tokenize", {"input": text}, "tokens"),
        }
        kinds = [self._tokenizer_kind] if self._tokenizer_kind else list(ways)
        async with self._gate():
            for kind in kinds:
                url, body, proof = ways[kind]
                try:
                    response = await self._plain().post(url, json=body)
                except httpx.HTTPError:
                    return None
                data = _json(response) if response.status_code == 200 else {}
                if isinstance(data.get("tokens"), list) and proof in data:
                    self._tokenizer_kind = kind
                    return data["tokens"]
        return None

    async def _retried(
        self, what: str, call: Callable[[openai.AsyncOpenAI], Awaitable[T]]
    ) -> T:
        """`call` on one replica after another until it succeeds or retrying is
        pointless; `ServerError` with the last cause then."""
        if self._down is not None and time.monotonic() - self._down[0] < DOWN_FOR_S:
            raise self._down[1]
        for attempt in range(MAX_ATTEMPTS):
            base_url = self.base_urls[next(self._turn) % len(self.base_urls)]
            try:
                return await call(self._client(base_url))
            except Exception as exc:  # sorted by `_retry_after`; the rest re-raised
                wait = _retry_after(exc, attempt)
                if wait is None:
                    if getattr(exc, "status_code", None) not in DOWN_STATUSES:
                        raise ServerError(f"{what} failed at {base_url}: "
                                          f"{describe(exc)}") from exc
                    raise self._gone(f"{what} failed at {base_url}: {describe(exc)}"
                                     ) from exc
                if attempt + 1 == MAX_ATTEMPTS:
                    raise self._gone(
                        f"{what} failed {MAX_ATTEMPTS} times (last at {base_url}: "
                        f"{describe(exc)})") from exc
                log.info("%s at %s failed (%s); retrying in %.1f s", what, base_url,
                         describe(exc), wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")


    def _gone(self, message: str) -> ServerDown:
        error = ServerDown(message)
        self._down = (time.monotonic(), error)
        return error


class _Malformed(ValueError):
    """A well-formed HTTP answer whose content is not a usable completion."""


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(exc: Exception, attempt: int) -> float | None:
    """Seconds to wait before retrying after `exc`, or None when a retry cannot
    help. Honours the server's `Retry-After` (seconds or an HTTP date)."""
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code not in RETRY_STATUSES:
            return None
        if (told := _told_wait(exc.response.headers.get("retry-after"))) is not None:
            return min(told, MAX_BACKOFF_S)
    elif not isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError,
                              _Malformed, json.JSONDecodeError, httpx.HTTPError)):
        raise exc
    backoff = min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt)
    return backoff * random.uniform(0.5, 1.0)


def _told_wait(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(exc: BaseException) -> str:
    """A one-line description of a request failure (never the API key)."""
    if isinstance(exc, openai.APIStatusError):
        body = exc.response.text.strip().replace("\n", " ")[:200]
        return f"HTTP {exc.status_code}" + (f": {body}" if body else "")
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        return f"cannot connect ({cause or exc})".replace("\n", " ")
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
