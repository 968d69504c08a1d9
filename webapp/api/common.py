"""What the API's resources share: documented error responses and the not-found answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

# Status -> flask-smorest's component response (our error envelope, see PisApi.ERROR_SCHEMA).
ERROR_RESPONSES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   422: "UNPROCESSABLE_ENTITY"}
# Every int id in a path stays within what every database stores, so no id can overflow a query.
MAX_ID = 2**31 - 1


def errors(bp: Blueprint, *codes: int) -> Callable[[Any], Any]:
    """Document the error responses of a view (401 always: every resource needs a token)."""

    def decorate(view: Any) -> Any:
        for code in sorted({401, *codes}, reverse=True):
            view = bp.alt_response(code, response=ERROR_RESPONSES[code])(view)
        return view

    return decorate
