"""Load proxies (and, our extension, their toxics) from toxiproxy's JSON config file.

toxiproxy's format is a JSON list of ``{"name", "listen", "upstream", "enabled"}``; an entry may also
carry ``"toxics": [{type, stream, toxicity, attributes}, ...]`` so a whole fault scenario is one file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recoup.chaos.proxy.errors import BadRequest
from recoup.chaos.proxy.server import ProxyServer


class ConfigError(BadRequest):
    """The config file cannot be read or is not a list of proxies; the message names the file."""


def read_config(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read proxy config {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"proxy config {path} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ConfigError(f"proxy config {path} must be a JSON list of proxies, got {type(data).__name__}")
    return data


def load_config(server: ProxyServer, path: Path) -> list[dict[str, Any]]:
    """Create (or replace) the file's proxies on ``server``; returns them as the API shows them."""
    entries = read_config(path)
    try:
        return server.populate(entries)
    except BadRequest as exc:
        raise ConfigError(f"proxy config {path}: {exc}") from None
