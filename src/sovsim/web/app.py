"""The classroom web app: a thin HTTP layer over :mod:`sovsim.web.service`.

Every request is checked before anything runs, and every refusal is a JSON 4xx naming what is
wrong:

- bodies over ``max_body_bytes`` are refused (413) before they are read in full;
- scenario content goes through the loader's checks (422, naming the change and key); a
  scenario may only extend a shipped scenario by name, so no request names a path, and nothing
  in a scenario is executed (values are numbers, booleans or catalogue choices);
- scenario limits (sizes, lengths, number of changes) are the loader's, declared once in
  :mod:`sovsim.scenario.limits`: a file loads in ``sovsim run`` and here, or is refused by both
  with the same message;
- runs are bounded: cell resolution only (a household run is refused with the reason), at most
  ``MAX_CHANGES`` changes, at most ``max_pending`` distinct runs waiting (503 with Retry-After);
- each client (by address) has a token bucket of ``rate`` requests per second with ``burst``
  (429 with Retry-After);
- every answer carries security headers (a Content-Security-Policy with no inline script,
  ``nosniff``, ``frame-ancestors 'none'``, ``Referrer-Policy``), and with ``allowed_hosts`` a
  request for another ``Host`` is refused (400); header and body read timeouts are the
  server's (:mod:`sovsim.web.server`).

Runs go to worker processes (``workers``; 0 runs them in this process's thread pool), and the
last ``cache_size`` distinct scenarios' payloads are kept, keyed by scenario content hash;
identical requests that arrive while their scenario runs wait for that one run.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from sovsim._version import __version__
from sovsim.errors import ScenarioError, SovsimError
from sovsim.scenario import (
    Scenario,
    limits,
    load_scenario_text,
    shipped_scenarios,
    to_toml_text,
)
from sovsim.web import essay_api, service
from sovsim.web.models import (
    ERRORS,
    ERRORS_JSON,
    MAX_CHANGES,
    RunRequest,
    ScenarioIn,
    TomlIn,
    _say,
)

log = logging.getLogger("sovsim.web")
STATIC = Path(str(resources.files("sovsim") / "web" / "static"))
# No inline script or style, nothing from elsewhere, never in a frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css", "chart.js": "text/javascript",
                "essay.js": "text/javascript"}


@dataclass(frozen=True)
class Settings:
    """Limits of the app (inert; ``sovsim serve`` sets them from its options)."""

    workers: int = 0
    # room for an upload of the largest scenario file the loader accepts, as JSON
    max_body_bytes: int = 2 * limits.MAX_FILE_BYTES + 64 * 1024
    max_pending: int = 64
    rate: float = 20.0
    burst: int = 60
    cache_size: int = 256
    allowed_hosts: tuple[str, ...] = ()  # Host header names served; empty: any (in-process use)


class TomlResponse(PlainTextResponse):
    media_type = "application/toml"


class _Refusal(Exception):
    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None):
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def _problem(status: int, error: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class _Buckets:
    """Token buckets by client address."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.state: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """0 if the request may go, else seconds until a token is free."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        if client not in self.state and len(self.state) >= 10_000:
            # many clients: forget those whose buckets have refilled (they lose nothing)
            full = float(self.burst) / self.rate
            self.state = {k: v for k, v in self.state.items() if now - v[1] < full}
        tokens, last = self.state.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self.state[client] = (tokens - 1.0, now)
            return 0.0
        self.state[client] = (tokens, now)
        return (1.0 - tokens) / self.rate


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app with its limits. Swagger UI is not mounted: it loads from a CDN, and the app
    works offline; the OpenAPI document is at ``/openapi.json``."""
    cfg = settings or Settings()
    # Workers from a forkserver: the server holds threads (event loop, thread pool), and a fork
    # of a threaded process can inherit a held lock.
    pool = (ProcessPoolExecutor(max_workers=cfg.workers,
                                mp_context=multiprocessing.get_context("forkserver"))
            if cfg.workers > 0 else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    app = FastAPI(title="sovsim classroom", version=__version__, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Run scenarios of the Soviet economy 1921-1940, see them beside "
                              "history, and measure them against Marxist theory.")
    cache: OrderedDict[str, bytes] = OrderedDict()  # JSON of the last runs, by scenario
    buckets = _Buckets(cfg.rate, cfg.burst)
    inflight: dict[str, asyncio.Future] = {}

    hosts = {h.lower() for h in cfg.allowed_hosts}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if hosts:
            host = request.headers.get("host", "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if host not in hosts and name.strip("[]") not in hosts:
                return _headed(_problem(400, "bad_host", "this server does not answer for that "
                                        "host name (sovsim serve --allow-host NAME)"))
        try:
            response = await _limited(request, call_next)
        except ClientDisconnect:
            log.warning("client %s disconnected before its request was read", _who(request))
            response = Response(status_code=400)
        return _headed(response)

    async def _limited(request: Request, call_next):
        wait = buckets.take(request.client.host if request.client else "unknown")
        if wait > 0:
            return _problem(429, "rate_limited", f"too many requests from this client; "
                            f"retry in {wait:.1f} s", {"Retry-After": str(max(1, round(wait)))})
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return _problem(400, "bad_request", "Content-Length is not a number")
            if int(length) > cfg.max_body_bytes:
                return _problem(413, "body_too_large", f"request body of {length} bytes is over "
                                f"the limit of {cfg.max_body_bytes} bytes")
        elif request.method in ("POST", "PUT", "PATCH"):
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > cfg.max_body_bytes:
                    return _problem(413, "body_too_large", f"request body over the limit of "
                                    f"{cfg.max_body_bytes} bytes")
            request._body = body  # read once, under the limit; the route reads it from here
        return await call_next(request)

    @app.exception_handler(_Refusal)
    async def refused(request: Request, exc: _Refusal):
        return _problem(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(SovsimError)
    async def invalid(request: Request, exc: SovsimError):
        if isinstance(exc, ScenarioError):
            return _problem(422, "invalid_scenario", str(exc))
        # a valid scenario the model or its data files could not run: the server's fault
        return _problem(500, "model_failed", f"the model could not run this scenario: {exc}")

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        locs = [tuple(str(x) for x in e.get("loc", ()) if x != "body") for e in errors]
        if any(loc[:1] in (("households",), ("resolution",)) for loc in locs):
            return _problem(422, "run_too_large", "the web app runs at cell resolution only "
                            "(resolution 'cells', households 0); household runs take minutes and "
                            "gigabytes: use `sovsim run SCENARIO --households N`")
        if any(loc[:2] == ("scenario", "changes") and len(loc) == 2 and e.get("type") == "too_long"
               for e, loc in zip(errors, locs)):
            return _problem(422, "run_too_large", f"too many changes: at most {MAX_CHANGES} in "
                            "one scenario")
        parts = []
        for e, loc in zip(errors[:10], locs):
            if e.get("type") == "json_invalid":
                parts.append("body: not valid JSON")
                continue
            parts.append(_say(e, loc))
        return _problem(422, "malformed_request", "; ".join(dict.fromkeys(parts)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _problem(exc.status_code, "http_error", str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):  # a bug: say so, never a traceback
        return _problem(500, "internal_error", "the server failed on this request; "
                        "please report it with the scenario that caused it")

    # --- the page ---

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:  # a fixed list: no request names a path
            raise _Refusal(404, "not_found", f"no static file {name!r}")
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name])

    # --- the API ---

    @app.get("/api/instruments", summary="The policy instruments of a scenario")
    def instruments() -> list[dict[str, Any]]:
        return service.instruments()

    @app.get("/api/scenarios", summary="The shipped scenarios")
    def scenarios() -> list[dict[str, Any]]:
        return service.scenarios()

    @app.get("/api/scenarios/{name}", responses=ERRORS, response_model_exclude_none=True,
             summary="A shipped scenario's content")
    def scenario(name: str) -> ScenarioIn:
        if name not in shipped_scenarios():
            raise _Refusal(404, "unknown_scenario", f"no shipped scenario {name!r} (shipped: "
                           f"{', '.join(sorted(shipped_scenarios()))})")
        return ScenarioIn(**service.scenario_content(name))

    @app.get("/api/baseline", summary="The model's historical run: series and doctrine lens")
    def baseline() -> dict[str, Any]:
        return service.baseline_payload()

    @app.get("/api/history", summary="Recorded series of the charts, with variants and sources")
    def history_() -> dict[str, Any]:
        return service.history_payload()

    @app.get("/api/doctrine", summary="The doctrine lens: axes and indicator definitions")
    def doctrine_() -> dict[str, Any]:
        return service.doctrine_payload()

    essay_api.register(app)  # /api/essay and /api/events (web/essay_api.py)

    @app.post("/api/scenario/toml", responses=ERRORS_JSON, response_class=TomlResponse,
              summary="A scenario as a TOML file (checked first)")
    def to_toml(sc: ScenarioIn) -> TomlResponse:
        _checked(sc)
        text = to_toml_text(service.as_file(_request(sc)))
        safe = "".join(ch for ch in sc.name if ch.isascii() and (ch.isalnum() or ch in "-_")) or "scenario"
        return TomlResponse(text, headers={
            "Content-Disposition": f'attachment; filename="{safe}.toml"'})

    @app.post("/api/scenario/parse", responses=ERRORS, response_model_exclude_none=True,
              summary="Read an uploaded TOML scenario")
    def parse(body: TomlIn) -> ScenarioIn:
        import tomllib

        load_scenario_text(body.toml, label="upload")  # every check of a file
        raw = tomllib.loads(body.toml)
        try:
            return ScenarioIn(**service.as_request(raw))
        except ValidationError as exc:  # a rule of the request model the loader lacks: a bug
            log.error("upload accepted by the loader, refused by the request model: %s",
                      exc.errors()[:1])
            parts = [_say(e, tuple(str(x) for x in e.get("loc", ()))) for e in exc.errors()[:5]]
            raise _Refusal(422, "invalid_scenario", "upload: " + "; ".join(parts)) from None

    @app.post("/api/run", summary="Run a scenario (cell resolution)", response_class=Response,
              responses={200: {"description": "the run: series beside the historical run, "
                               "the doctrine lens, the narrative", "content": {
                                   "application/json": {"schema": {"type": "object"}}}},
                         **ERRORS_JSON})
    async def run(body: RunRequest) -> Response:
        sc = _checked(body.scenario)
        key = f"{sc.content_hash}|{sc.name}|{sc.title}"  # the payload names the scenario
        if key in cache:
            cache.move_to_end(key)
            return _json(cache[key])
        if key in inflight:  # the same scenario is being run for another request: share it
            return _json(await asyncio.shield(inflight[key]))
        if len(inflight) >= cfg.max_pending:
            raise _Refusal(503, "busy", f"{len(inflight)} runs are waiting; retry shortly",
                           {"Retry-After": "2"})
        loop = asyncio.get_running_loop()
        # The worker returns the JSON text: encoding is done in parallel, not in this process.
        future = loop.run_in_executor(pool, service.run_payload_json, sc)
        inflight[key] = future
        try:
            payload = await asyncio.shield(future)
        finally:
            inflight.pop(key, None)
        cache[key] = payload
        while len(cache) > cfg.cache_size:
            cache.popitem(last=False)
        return _json(payload)

    def _json(body: bytes) -> Response:
        return Response(body, media_type="application/json")

    def _request(sc: ScenarioIn) -> dict[str, Any]:
        return sc.model_dump(exclude_none=True)

    def _checked(sc: ScenarioIn) -> Scenario:
        return service.build(_request(sc))  # the loader's checks; raises ScenarioError (422)

    return app


def _headed(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def _who(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "unknown"


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
