"""What stands before the routes: the body size limit, metrics, the API key.

`BodyLimit` and `Measured` are plain ASGI middleware. `BodyLimit` refuses a body
over the limit with 413 before the application reads any of it: at once from
`Content-Length`, and while streaming (chunked uploads) as soon as the count
passes the limit; a body within it is handed on whole. The API key (from
`HYMT_API_KEY`) is compared in constant time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hymt_cli.serve.metrics import Metrics
from hymt_cli.serve.service import ServiceError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KEY_HINT = "send the key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"


async def send_error(send: Send, status: int, message: str, hint: str = "") -> None:
    """Answer with the service's JSON error body."""
    body = json.dumps({"error": message, "hint": hint}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for request bodies over `limit` bytes, before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await send_error(send, 400, "invalid Content-Length header")
            if int(declared) > self.limit:
                return await self._refuse(send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._refuse(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, f"the request body is larger than "
                         f"{self.limit} bytes", "raise the server's --max-body-size")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Measured:
    """Counts requests by endpoint and status, and times them."""

    def __init__(self, app: ASGIApp, metrics: Metrics, endpoints: set[str]) -> None:
        self.app, self.metrics, self.endpoints = app, metrics, endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        began, status = time.monotonic(), 500
        # a label per known route only: unknown paths must not grow the metrics
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.requests.inc(endpoint=endpoint, status=str(status))
            self.metrics.latency.observe(time.monotonic() - began, endpoint=endpoint)


def check_key(expected: str | None, bearer: str | None, header: str | None) -> None:
    """401 unless the request carries `expected` (when a key is set at all)."""
    if expected is None:
        return
    given = header or bearer or ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ServiceError(401, "missing or wrong API key", KEY_HINT)
