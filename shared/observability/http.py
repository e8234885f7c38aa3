"""The operations endpoints every service serves: /metrics, /healthz and /readyz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

ReadinessCheck = Callable[[], Awaitable[bool]]


def ops_app(service: str, checks: dict[str, ReadinessCheck]) -> FastAPI:
    """A FastAPI app with the ops endpoints; services mount their own routes on it."""
    app = FastAPI(title=f"memberpulse-{service}", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # Answering at all proves the event loop is alive; dependencies belong to /readyz.
        return {"status": "ok", "service": service}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:  # a failing probe means "not ready", never a 500
                results[name] = False
        ready = all(results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "service": service, "checks": results},
            status_code=200 if ready else 503,
        )

    return app
