"""A TCP fault proxy (toxiproxy's faults and REST API, plus HTTP status and content-conditional faults).

Stdlib only. `FaultProxy` is the asyncio proxy; `ProxyServer` runs named proxies on a background thread
for synchronous code; `ControlServer` serves toxiproxy's control API for them.
"""

from __future__ import annotations

from recoup.chaos.proxy.control import API_VERSION, ControlServer
from recoup.chaos.proxy.errors import (
    AddressError,
    AddressInUse,
    BadRequest,
    ProxyAPIError,
    ProxyExists,
    ProxyNotFound,
    ToxicExists,
    ToxicNotFound,
)
from recoup.chaos.proxy.proxy import FaultProxy
from recoup.chaos.proxy.server import ProxyHandle, ProxyServer
from recoup.chaos.proxy.toxics import TOXIC_DEFAULTS, Toxic, ToxicError, parse_toxic_spec

__all__ = [
    "API_VERSION",
    "TOXIC_DEFAULTS",
    "AddressError",
    "AddressInUse",
    "BadRequest",
    "ControlServer",
    "FaultProxy",
    "ProxyAPIError",
    "ProxyExists",
    "ProxyHandle",
    "ProxyNotFound",
    "ProxyServer",
    "Toxic",
    "ToxicError",
    "ToxicExists",
    "ToxicNotFound",
    "parse_toxic_spec",
]
