"""Exception handlers: every refusal is a 4xx (or 503) whose JSON names the offending field, so a client
can fix its request without reading server logs, and no store error ever leaks out as a 500.

Bodies are ``{"detail": "<field>: <problem>", "field": "<field>"}`` for field-level problems (400 from the
store's `InvalidInput`, 422 from FastAPI's request validation, which adds ``errors``: one entry per
problem), and ``{"detail": "..."}`` for 404 and 503.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from recoup.store import InvalidInput, NotFound, StoreUnavailable

#: The first element of a FastAPI error location says where the value came from, not which field it is.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "events", 0, "type")`` → ``"events[0].type"``: the field as a client would write it."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"field": field_path(error.get("loc", ())), "message": str(error.get("msg", "invalid"))}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return JSONResponse(
        status_code=422,
        content={"detail": f"{first['field']}: {first['message']}", "field": first["field"], "errors": errors},
    )


async def _invalid_input(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return JSONResponse(status_code=400, content={"detail": str(exc), "field": exc.field})


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc) or "not found"})


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The driver's message may carry host names; say what is wrong without echoing it to clients.
    return JSONResponse(
        status_code=503,
        content={"detail": "the database is unreachable; retry later"},
        headers={"Retry-After": "5"},
    )


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=409, content={"detail": str(exc)})


async def _bad_silence(_request: Request, exc: Exception) -> JSONResponse:
    from recoup.incidents.silences import SilenceError

    assert isinstance(exc, SilenceError)
    return JSONResponse(status_code=400, content={"detail": str(exc), "field": exc.field})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` (called once by `create_app`)."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    # Incident response: a change the incident's state forbids is a conflict; unknown ids are 404s.
    from recoup.incidents.incidents import IncidentStateError
    from recoup.incidents.routing import UnknownAlertOrGroup
    from recoup.incidents.silences import SilenceError, UnknownSilence

    app.add_exception_handler(IncidentStateError, _conflict)
    app.add_exception_handler(SilenceError, _bad_silence)
    app.add_exception_handler(UnknownSilence, _not_found)
    app.add_exception_handler(UnknownAlertOrGroup, _not_found)
