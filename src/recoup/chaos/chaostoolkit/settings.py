"""Where the activities find recoup and the fault proxy, and with which credentials.

URLs come from the experiment's ``configuration``; keys and tokens from its ``secrets`` (the activity lists
``"secrets": ["recoup"]``), else ``configuration``, else the environment, so an experiment file can stay
free of secrets. Each value is checked here, so a typo fails the activity with the key's name in it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from recoup.chaos.chaostoolkit.transport import ActivityError

PROXY_URL = "recoup_proxy_url"
SERVER_URL = "recoup_url"
INGEST_KEY = "recoup_ingest_key"
ADMIN_TOKEN = "recoup_admin_token"
TIMEOUT = "recoup_timeout"

DEFAULT_PROXY_URL = "http://127.0.0.1:8474"  # toxiproxy's port, which recoup's proxy control API mirrors
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"  # `recoup serve`'s default
DEFAULT_TIMEOUT = 10.0

#: Environment variables read when neither secrets nor configuration give a value.
ENVIRONMENT = {
    PROXY_URL: "RECOUP_PROXY_URL",
    SERVER_URL: "RECOUP_URL",
    INGEST_KEY: "RECOUP_INGEST_KEY",
    ADMIN_TOKEN: "RECOUP_ADMIN_TOKEN",
}

Config = Mapping[str, Any] | None


def _lookup(key: str, configuration: Config, secrets: Config = None) -> Any:
    for source in (secrets, configuration):
        if source and source.get(key) not in (None, ""):
            return source[key]
    env = ENVIRONMENT.get(key)
    value = os.environ.get(env, "").strip() if env else ""
    return value or None


def _url(key: str, default: str, configuration: Config) -> str:
    value = _lookup(key, configuration) or default
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ActivityError(f"configuration {key!r} must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def proxy_url(configuration: Config) -> str:
    """The fault proxy's control API (``recoup chaos proxy --control``, or a toxiproxy)."""
    return _url(PROXY_URL, DEFAULT_PROXY_URL, configuration)


def server_url(configuration: Config) -> str:
    """The recoup server (``recoup serve``)."""
    return _url(SERVER_URL, DEFAULT_SERVER_URL, configuration)


def timeout(configuration: Config) -> float:
    value = _lookup(TIMEOUT, configuration)
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ActivityError(f"configuration {TIMEOUT!r} must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ActivityError(f"configuration {TIMEOUT!r} must be positive, got {value!r}")
    return seconds


def _secret(key: str, configuration: Config, secrets: Config, needed_for: str) -> str:
    value = _lookup(key, configuration, secrets)
    if value is None:
        raise ActivityError(
            f"{needed_for} needs {key!r}: give it in the experiment's secrets (and list them in the activity's "
            f'"secrets"), in its configuration, or as ${ENVIRONMENT[key]}'
        )
    if not isinstance(value, str):
        raise ActivityError(f"{key!r} must be a string, got {type(value).__name__}")
    return value.strip()


def admin_headers(configuration: Config, secrets: Config) -> dict[str, str]:
    """The admin token of recoup's read and incident API, as a header."""
    token = _secret(ADMIN_TOKEN, configuration, secrets, "recoup's admin API")
    return {"Authorization": f"Bearer {token}"}


def ingest_headers(configuration: Config, secrets: Config) -> dict[str, str]:
    """A project's ingest key for the native ingest endpoint, as a header."""
    key = _secret(INGEST_KEY, configuration, secrets, "recoup's ingest endpoint")
    return {"X-Recoup-Key": key}
