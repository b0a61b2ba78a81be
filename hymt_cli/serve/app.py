"""The HTTP routes of `hymt serve` (FastAPI), around a `Service`.

Translation runs on the service's thread pool, one thread per admitted request
(`--queue-size`): each request's pipeline blocks on the shared batcher while the
event loop serves others. Every error is JSON `{"error": ..., "hint": ...}`,
never part of a translation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from hymt_cli import __version__
from hymt_cli.languages import LANGUAGES
from hymt_cli.serve.guards import BodyLimit, Measured, check_key
from hymt_cli.serve.metrics import CONTENT_TYPE
from hymt_cli.serve.schemas import (
    Counters,
    ErrorResponse,
    GlossaryResponse,
    Health,
    LanguageInfo,
    TranslateRequest,
    TranslateResponse,
)
from hymt_cli.serve.service import (
    RETRY_AFTER_S,
    DocumentRequest,
    Service,
    ServiceError,
    bad_request,
    language,
    output_name,
    parse_glossary,
    upload_format,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "txt": "text/plain"}
GRACE_S = 1.0
"""Past the request timeout, how long to wait for the pipeline to notice its
deadline itself before answering 504 without it."""

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 413, 422, 503, 504)}

_bearer = HTTPBearer(auto_error=False, description="the HYMT_API_KEY value")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def create_app(service: Service) -> Callable[..., Any]:
    """The ASGI application: routes, error handlers, body limit and metrics."""
    app = FastAPI(title="hymt", version=__version__, description=(
        "Document translation with Tencent's HY-MT1.5 models: JSON in HY-MT's "
        "service format, whole Markdown/HTML/text documents, file uploads. "
        "Segments of concurrent requests share the engine's batches."))
    def authorized(bearer: Annotated[HTTPAuthorizationCredentials | None,
                                     Depends(_bearer)] = None,
                   key: Annotated[str | None, Depends(_header)] = None) -> None:
        check_key(service.config.api_key, bearer.credentials if bearer else None, key)

    async def in_pool(work: Callable[[float], T]) -> T:
        """Run `work(deadline)` on the service's threads, admitted to the bounded
        queue; the admission ends when the thread does (or never starts)."""
        service.admit()
        deadline = service.deadline()
        try:
            done = service.pool.submit(work, deadline)
        except BaseException:
            service.release()
            raise
        done.add_done_callback(lambda _: service.release())
        timeout = service.config.timeout + GRACE_S
        try:
            return await asyncio.wait_for(asyncio.wrap_future(done), timeout)
        except asyncio.TimeoutError:
            raise ServiceError(504, "the translation took longer than "
                               f"{service.config.timeout:g} s") from None

    _add_error_handlers(app)
    _add_info_routes(app, service, authorized)
    _add_translate_routes(app, service, authorized, in_pool)
    endpoints = {getattr(route, "path", "") for route in app.routes}
    return Measured(BodyLimit(app, service.config.max_body_size), service.metrics,
                    endpoints)


def _add_info_routes(app: FastAPI, service: Service, authorized: Any) -> None:
    page = resources.files("hymt_cli.serve").joinpath("page.html").read_text("utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    def healthz() -> JSONResponse:
        """Whether the engine is loaded; 503 while it loads or after it failed."""
        batcher = service.batcher
        health = Health(status=batcher.state,  # type: ignore[arg-type]
                        engine=batcher.engine.name,
                        loaded=batcher.state == "ready", error=batcher.error,
                        in_flight=service.in_flight,
                        pending_segments=batcher.pending(),
                        api_key_required=service.config.api_key is not None,
                        version=__version__)
        return JSONResponse(health.model_dump(),
                            status_code=200 if health.loaded else 503)

    @app.get("/languages", response_model=list[LanguageInfo])
    def languages() -> list[LanguageInfo]:
        """The 38 languages HY-MT1.5 translates (codes as `target_lang` takes)."""
        return [LanguageInfo(code=lang.code, english=lang.english,
                             chinese=lang.chinese, rtl=lang.rtl)
                for lang in LANGUAGES.values()]

    @app.get("/metrics", response_class=Response, dependencies=[Depends(authorized)],
             responses={401: {"model": ErrorResponse}})
    def metrics() -> Response:
        """Prometheus metrics (text exposition format 0.0.4)."""
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)


def _add_translate_routes(app: FastAPI, service: Service, authorized: Any,
                          in_pool: Any) -> None:
    guarded = [Depends(authorized)]

    @app.post("/translate", response_model=TranslateResponse, dependencies=guarded,
              responses=ERRORS)
    async def translate(body: TranslateRequest) -> TranslateResponse:
        """Translate a text, or a whole Markdown or HTML document (`format`)."""
        request = DocumentRequest(
            text=body.text, target_lang=body.target_lang, source_lang=body.source_lang,
            context=body.context, glossary=body.glossary, format=body.format,
            dialect=body.dialect)
        translated = await in_pool(lambda d: service.translate(request, d))
        return TranslateResponse.of(translated)

    @app.post("/translate/file", response_class=Response, dependencies=guarded,
              responses={200: {"content": {"application/octet-stream": {}},
                               "description": "The translated file."}, **ERRORS})
    async def translate_file(
        file: Annotated[UploadFile, File(description="A .md, .html or .txt file.")],
        target_lang: Annotated[str, Form()],
        source_lang: Annotated[str | None, Form()] = None,
        format: Annotated[str | None, Form(description="md, html or txt; default: "
                                           "by the file name's suffix")] = None,
        dialect: Annotated[str | None, Form()] = None,
        context: Annotated[str, Form()] = "",
        glossary: Annotated[str | None, Form(description="JSON object: source term "
                                             "-> target term")] = None,
        glossary_file: Annotated[UploadFile | None, File(
            description="A glossary file (.tsv, .csv, .json)")] = None,
    ) -> Response:
        """Translate an uploaded document; the answer is the translated file, in
        the upload's encoding, named like `guide.de.md`; its counters are in the
        `X-Hymt-Report` header (a JSON object of numbers: glossary misses and gate
        failures counted)."""
        name = file.filename or "document.txt"
        terms = _terms(glossary) | await _uploaded_terms(glossary_file, target_lang,
                                                           source_lang)
        request = DocumentRequest(
            text="", target_lang=target_lang, source_lang=source_lang or None,
            context=context, glossary=terms, format=upload_format(name, format),
            dialect=dialect or None, name=name)
        data = await file.read()
        translated, output, encoding = await in_pool(
            lambda d: service.translate_file(name, data, request, d))
        counters = Counters.of(translated.report, translated.engine_calls)
        # numbers only: a header must stay small (lists become their lengths)
        report = {key: len(value) if isinstance(value, list) else value
                  for key, value in counters.model_dump(exclude={"problems"}).items()}
        return Response(output, media_type=f"{MEDIA_TYPES[translated.format]}; "
                        f"charset={encoding}", headers={
                            "Content-Disposition": _attachment(
                                output_name(name, translated.target)),
                            "X-Hymt-Report": json.dumps(report)})

    @app.post("/glossary", response_model=GlossaryResponse, dependencies=guarded,
              responses=ERRORS)
    async def glossary(
        file: Annotated[UploadFile, File(description="A .tsv, .csv or .json file.")],
        target_lang: Annotated[str | None, Form()] = None,
        source_lang: Annotated[str | None, Form()] = None,
    ) -> GlossaryResponse:
        """Read a glossary file by hymt's rules (header rows, language columns,
        comments) into the `glossary` object `/translate` takes; with
        `target_lang`, only the terms for that language."""
        terms = await _uploaded_terms(file, target_lang, source_lang)
        return GlossaryResponse(glossary=terms, terms=len(terms))


async def _uploaded_terms(file: UploadFile | None, target: str | None,
                          source: str | None) -> dict[str, str]:
    if file is None:
        return {}
    data = await file.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_request("the glossary file is not UTF-8") from None
    return parse_glossary(
        file.filename or "glossary.tsv", text,
        language(target, "target_lang") if target else None,
        language(source, "source_lang") if source else None)


def _terms(text: str | None) -> dict[str, str]:
    """The `glossary` form field: a JSON object of strings."""
    if not text:
        return {}
    try:
        terms = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_request(f"glossary: invalid JSON ({exc.msg})") from None
    if not isinstance(terms, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in terms.items()):
        raise bad_request("glossary: expected a JSON object of source term -> "
                          "target term strings")
    return terms


def _attachment(filename: str) -> str:
    """A Content-Disposition value with an ASCII fallback and the UTF-8 name."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\'
                       else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        headers = {}
        if exc.status == 503:
            headers["Retry-After"] = str(RETRY_AFTER_S)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return _error(exc.status, str(exc), exc.hint, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), "",
                      dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def bug(_: Request, exc: Exception) -> JSONResponse:
        log.error("request failed", exc_info=exc)
        message = f"internal error: {type(exc).__name__}: {exc}"
        return _error(500, message.splitlines()[0])


def _error(status: int, message: str, hint: str = "",
           headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=" ".join(message.split()), hint=hint)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_message(errors: Any) -> str:
    """One line for pydantic's validation errors: each field and problem."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"
