"""Domain errors. Each carries the HTTP status and a stable code; ``api/errors.py`` renders them.

Models raise them, the API and the dashboard show them, and the CLI prints them: the message is written
for the person who sent the request.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    status = 400
    code = "invalid_request"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
