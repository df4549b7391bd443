"""Where a Sentry SDK puts its public key (develop.sentry.dev, "Authentication"):

* ``X-Sentry-Auth: Sentry sentry_key=<key>, sentry_version=7, sentry_client=<sdk>/<version>`` (also
  accepted in ``Authorization``, as old SDKs sent it);
* the ``sentry_key`` query parameter (browsers, which cannot set headers without a CORS preflight);
* the envelope header's ``dsn`` (``https://<key>@host/<project>``), used when neither of the above is given.

Parsing is plain string splitting: it runs on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def parse_auth_header(value: str) -> dict[str, str]:
    """``Sentry k=v, k=v`` as a dict (keys lower-cased, values unquoted); {} when it is not Sentry auth."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "sentry":
        return {}
    out: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, val = part.partition("=")
        if eq:
            out[name.strip().lower()] = val.strip().strip('"')
    return out


def key_from_dsn(dsn: str) -> tuple[str | None, str | None]:
    """(public key, project id) of a DSN such as ``https://KEY[:SECRET]@host[:port]/path/PROJECT``."""
    try:
        parts = urlsplit(dsn.strip())
    except ValueError:
        return None, None
    key = parts.username or None
    project = parts.path.rstrip("/").rpartition("/")[2] or None
    return key, project


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The public key in ``X-Sentry-Auth`` (else ``Authorization``), or None."""
    for name in ("x-sentry-auth", "authorization"):
        value = headers.get(name)
        if value:
            key = parse_auth_header(value).get("sentry_key")
            if key:
                return key
    return None


def key_from_query(query: Mapping[str, str]) -> str | None:
    """The public key in the ``sentry_key`` query parameter, or None."""
    key = query.get("sentry_key")
    return key.strip() or None if key else None


def key_from_request(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The public key named by the request's headers or query string, or None."""
    return key_from_headers(headers) or key_from_query(query)
