"""recoup's Chaos Toolkit extension: recoup's faults as actions, recoup's metrics as probes.

An experiment names them as Python providers, e.g.
``{"type": "python", "module": "recoup.chaos.chaostoolkit.actions", "func": "add_toxic", "arguments": {...}}``,
and finds recoup through its configuration (``recoup_url``, ``recoup_proxy_url``) and secrets
(``recoup_ingest_key``, ``recoup_admin_token``). ``chaos discover`` calls `discover`. See
examples/chaos/README.md for a complete experiment.

Importing this package needs only the standard library; chaoslib and prometheus_client are imported by
the functions that use them (``pip install 'recoup[chaos]'``)."""

from recoup.chaos.chaostoolkit.discovery import discover
from recoup.chaos.chaostoolkit.transport import ActivityError

__all__ = ["ActivityError", "discover"]
