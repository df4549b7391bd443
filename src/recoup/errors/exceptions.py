"""Evidence from exception objects, by duck typing: no third-party library is ever imported.

Types are recognised by the `__module__` + `__qualname__` of their MRO, and instances by the attributes
common libraries put on them: `errno` (OSError and friends), HTTP status codes (`.response.status_code`
on httpx/requests, `.status` on aiohttp, `.code` on urllib), `sqlstate`/`pgcode` (psycopg/psycopg2),
`.orig` (SQLAlchemy wraps the driver's error), MySQL error numbers in `args[0]`, and the stderr that
`subprocess.CalledProcessError` carries (git's, typically).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from recoup.errors.rules import ERRNO, MYSQL_CODES, Evidence, sqlstate_category, status_category, type_name_evidence

_HTTPISH = ("http", "response", "status", "request", "client", "api")


def _attr(obj: object, name: str) -> Any:
    """`getattr(obj, name, None)` that survives properties raising anything (exceptions are foreign code)."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def qualname(klass: type) -> str:
    """`module.Qualname` as tracebacks print it (bare for builtins)."""
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


def chain(exc: BaseException, limit: int = 16) -> Iterator[tuple[BaseException, float]]:
    """`exc` and the exceptions behind it (`__cause__`, `__context__`, SQLAlchemy's `.orig`), each with a
    weight: explicit causes count almost fully, implicit context (raised while handling) a little less."""
    seen: set[int] = set()
    link: BaseException | None = exc
    weight = 1.0
    while link is not None and id(link) not in seen and len(seen) < limit:
        seen.add(id(link))
        yield link, weight
        orig = _attr(link, "orig")
        if isinstance(orig, BaseException) and id(orig) not in seen:
            seen.add(id(orig))
            yield orig, weight
        if link.__cause__ is not None:
            link, weight = link.__cause__, weight * 0.9
        elif link.__context__ is not None and not link.__suppress_context__:
            link, weight = link.__context__, weight * 0.6
        else:
            link = None


def type_evidence(klass: type) -> list[Evidence]:
    """Evidence from a type's own name and, more weakly, its bases' names (stops at the builtins)."""
    out: list[Evidence] = []
    for depth, base in enumerate(klass.__mro__):
        if base in (BaseException, Exception, object):
            break
        found = type_name_evidence(base.__name__, qualname(base))
        factor = 1.0 if depth == 0 else 0.5
        out.extend(Evidence(e.category, e.weight * factor, e.reason) for e in found)
        if depth == 0 and found and found[0].weight >= 6.0:
            break  # recoup's own errors: their contract decides
    return out


def status_of(exc: BaseException) -> int | None:
    """HTTP status code carried by an HTTP client error, if any."""
    response = _attr(exc, "response")
    if response is not None:
        for attr in ("status_code", "status"):
            code = _attr(response, attr)
            if isinstance(code, int) and 100 <= code <= 599:
                return code
    for attr in ("status_code", "status", "code"):
        code = _attr(exc, attr)
        if not isinstance(code, int) or isinstance(code, bool) or not 400 <= code <= 599:
            continue
        if attr != "code" or hasattr(exc, "headers") or hasattr(exc, "hdrs") \
                or any(h in c.__name__.lower() for c in type(exc).__mro__ for h in _HTTPISH):
            return code
    return None


def instance_evidence(exc: BaseException) -> list[Evidence]:
    """Evidence from attributes: errno, HTTP status, SQLSTATE, MySQL error number."""
    out: list[Evidence] = []
    err = _attr(exc, "errno")
    if isinstance(err, int) and err in ERRNO:
        errno_cat, name = ERRNO[err]
        out.append(Evidence(errno_cat, 5.0, f"errno {name}"))
    status = status_of(exc)
    if status is not None:
        cat = status_category(status)
        if cat is not None:
            out.append(Evidence(cat, 6.0, f"HTTP {status} on {qualname(type(exc))}"))
    for attr in ("sqlstate", "pgcode"):
        state = _attr(exc, attr)
        if isinstance(state, str):
            cat = sqlstate_category(state)
            if cat is not None:
                out.append(Evidence(cat, 6.0, f"SQLSTATE {state}"))
                break
    module = type(exc).__module__
    if ("mysql" in module or "maria" in module) and exc.args and isinstance(exc.args[0], int):
        cat = MYSQL_CODES.get(exc.args[0])
        if cat is not None:
            out.append(Evidence(cat, 6.0, f"MySQL error {exc.args[0]}"))
    return out


def attached_text(exc: BaseException) -> str:
    """Tool output an exception carries (CalledProcessError's stderr/output), for the text rules."""
    parts: list[str] = []
    for attr in ("stderr", "output"):
        value = _attr(exc, attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
    return "\n".join(parts)


def _header(headers: Any, name: str) -> str | None:
    getter = _attr(headers, "get")
    if getter is None:
        return None
    for key in (name, name.lower()):
        try:
            value = getter(key)
        except Exception:
            return None
        if value is not None:
            return str(value)
    return None


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds from a Retry-After value: delta-seconds or an HTTP-date (never negative)."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only when a server sent an HTTP-date: keeps `import recoup` light

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_after(exc: BaseException) -> float | None:
    """The wait a server (or a recoup policy) asked for, from any link of the chain."""
    for link, _ in chain(exc):
        value = _attr(link, "retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, float(value))
        if isinstance(value, str):
            parsed = parse_retry_after(value)
            if parsed is not None:
                return parsed
        for holder in (_attr(link, "response"), link):
            if holder is None:
                continue
            for attr in ("headers", "hdrs"):
                headers = _attr(holder, attr)
                if headers is None:
                    continue
                raw = _header(headers, "Retry-After")
                if raw is not None:
                    parsed = parse_retry_after(raw)
                    if parsed is not None:
                        return parsed
    return None
