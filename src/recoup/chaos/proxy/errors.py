"""Errors of the fault proxy, each carrying the HTTP status the control API answers with (toxiproxy's codes)."""

from __future__ import annotations


class ProxyAPIError(Exception):
    """Base: ``status`` is the HTTP status the control API returns; the message is its ``error`` field."""

    status = 500


class BadRequest(ProxyAPIError, ValueError):
    """Malformed input: the message names the field and the bad value."""

    status = 400


class NotFound(ProxyAPIError, LookupError):
    status = 404


class Conflict(ProxyAPIError):
    status = 409


class ProxyNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("proxy not found")
        self.name = name


class ProxyExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__("proxy already exists")
        self.name = name


class ToxicNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("toxic not found")
        self.name = name


class ToxicExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__("toxic already exists")
        self.name = name


class AddressInUse(Conflict):
    """The listen address is taken by another socket."""


class AddressError(BadRequest):
    """A listen/upstream address is not ``host:port``."""


def parse_address(text: object, field: str) -> tuple[str, int]:
    """``"host:port"`` (``[v6]:port`` too) -> (host, port); the error names ``field`` and the value."""
    if not isinstance(text, str) or ":" not in text:
        raise AddressError(f"{field} must be 'host:port', got {text!r}")
    host, _, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not host:
        raise AddressError(f"{field} {text!r} has no host (write e.g. 127.0.0.1:{port_text or 'PORT'})")
    try:
        port = int(port_text)
    except ValueError:
        raise AddressError(f"{field} {text!r} has a port that is not a number: {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise AddressError(f"{field} {text!r} has port {port} outside 0-65535")
    return host, port


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
