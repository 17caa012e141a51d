"""API errors, rendered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

from pydantic_core import to_json
from starlette.responses import Response


class ApiError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_


def error_body(status: int, message: str, type_: str) -> bytes:
    return to_json(
        {"error": {"message": message, "type": type_, "param": None, "code": str(status)}}
    )


def error_response(status: int, message: str, type_: str = "invalid_request_error") -> Response:
    return Response(error_body(status, message, type_), status, media_type="application/json")


def json_response(data: object, status: int = 200) -> Response:
    """Serialize with pydantic-core (fast, and handles models and datetimes)."""
    return Response(to_json(data), status, media_type="application/json")
