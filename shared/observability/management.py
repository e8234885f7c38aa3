"""The bearer-token guard of every service's management API."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Header, HTTPException
from pydantic import SecretStr


def require_management_token(token: SecretStr | None) -> Callable[[str | None], None]:
    """A FastAPI dependency: 401 without the right ``Authorization: Bearer`` token, 503 when none is set."""
    expected = token.get_secret_value().encode() if token is not None else None

    def guard(authorization: str | None = Header(default=None)) -> None:
        if not expected:
            raise HTTPException(503, "management API disabled: set MP_HTTP_MANAGEMENT_TOKEN")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})

    return guard
