# syntax=docker/dockerfile:1
#
# One image for all four MemberPulse services and the one-shot bootstrap.
# Pick what runs with the command, e.g.:
#   docker run memberpulse:dev python -m services.scoring
#   docker run memberpulse:dev python -m shared.stack bootstrap
# docker-compose.yml sets the command (and the MP_* settings) per service.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------
# build: resolve the locked dependencies into /app/.venv with uv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install uv==0.13.9

WORKDIR /app

# Only the lock inputs, so this layer is rebuilt only when dependencies change.
# `[tool.uv] package = false`: the project itself is not installed, its code is copied below.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---------------------------------------------------------------------------
# runtime: same Python base, the venv, the code, a non-root user, no uv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    MP_HTTP_HOST=0.0.0.0

RUN groupadd --system --gid 10001 memberpulse \
 && useradd --system --uid 10001 --gid memberpulse --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin memberpulse

WORKDIR /app

# The venv's interpreter links to /usr/local/bin/python3.11, identical in both stages.
COPY --from=build /app/.venv /app/.venv
COPY pyproject.toml uv.lock ./
COPY shared/ ./shared/
COPY services/ ./services/

# Code is owned by root and read-only for the service user: compile it at build time.
RUN python -m compileall -q shared services

USER 10001:10001

# ingest, scoring, campaigns, notifier: /metrics, /healthz, /readyz
EXPOSE 8081 8082 8083 8084

CMD ["python", "-m", "services.ingest"]
