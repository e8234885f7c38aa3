"""Why an upstream record is rejected. ``code`` is the stable DLQ reason."""

from __future__ import annotations


class InvalidRecord(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
