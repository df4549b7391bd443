"""What ``chaos discover`` reports about this extension: its activities, and optionally the system it
would act on (the recoup server and the fault proxy found at ``$RECOUP_URL`` and ``$RECOUP_PROXY_URL``).

chaoslib is imported here, when discovery runs, and never by ``import recoup``: the Chaos Toolkit is an
optional dependency (the ``chaos`` extra)."""

from __future__ import annotations

from typing import Any

from recoup.chaos.chaostoolkit import settings
from recoup.chaos.chaostoolkit.transport import ActivityError, call_json

EXTENSION_NAME = "recoup"
ACTIVITY_MODULES = ("recoup.chaos.chaostoolkit.actions", "recoup.chaos.chaostoolkit.probes")


def _recoup_server() -> dict[str, Any]:
    url = settings.server_url(None)
    try:
        call_json("GET", f"{url}/healthz", what="recoup", timeout=3.0)
    except ActivityError as exc:
        return {"url": url, "reachable": False, "error": str(exc)}
    return {"url": url, "reachable": True}


def _fault_proxy() -> dict[str, Any]:
    url = settings.proxy_url(None)
    try:
        proxies = call_json("GET", f"{url}/proxies", what="fault proxy", timeout=3.0)
    except ActivityError as exc:
        return {"url": url, "reachable": False, "error": str(exc)}
    listed = [
        {"name": name, "listen": p.get("listen"), "upstream": p.get("upstream"), "enabled": p.get("enabled"),
         "toxics": [t.get("name") for t in p.get("toxics") or []]}
        for name, p in sorted((proxies or {}).items())
    ]
    return {"url": url, "reachable": True, "proxies": listed}


def explore_system() -> dict[str, Any]:
    """The recoup server and fault proxy as this machine reaches them; unreachable ones say why."""
    return {"recoup": _recoup_server(), "proxy": _fault_proxy()}


def discover(discover_system: bool = True) -> dict[str, Any]:
    """The discovery document: every action and probe with its arguments, and the system when asked."""
    from recoup import __version__

    try:
        from chaoslib.discovery.discover import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
            discover_actions,
            discover_probes,
            initialize_discovery_result,
        )
    except ImportError:
        raise RuntimeError("discovery needs the Chaos Toolkit: pip install 'recoup[chaos]'") from None
    discovery: dict[str, Any] = initialize_discovery_result(EXTENSION_NAME, __version__, "recoup")
    actions, probes = ACTIVITY_MODULES
    discovery["activities"].extend(discover_actions(actions))
    discovery["activities"].extend(discover_probes(probes))
    if discover_system:
        discovery["system"] = explore_system()
    return discovery
