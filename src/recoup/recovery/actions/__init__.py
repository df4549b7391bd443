"""Repair actions: small, idempotent, safe-by-default steps the recovery engine can take.

Each returns an :class:`ActionReport` saying exactly what it changed (or why it refused).
Submodules: ``base`` (the report), ``git_checkpoint`` (checkpoint / restore a work tree),
``git_repair`` (stale locks, half-finished merges and rebases), ``fs`` (folders, permission bits).
"""

from recoup.recovery.actions.base import ActionReport

__all__ = ["ActionReport"]
