"""The service's configuration, validated once at start-up so a bad value fails loudly before any
request is accepted."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recoup.analytics.fingerprint_rules import FingerprintRules

ADMIN_TOKEN_ENV = "RECOUP_ADMIN_TOKEN"
#: `ServerSettings.to_json` in the environment: how `recoup serve` hands its settings to uvicorn's worker
#: processes (see `recoup.server.app.create_app_from_env`).
SETTINGS_ENV = "RECOUP_SERVER_SETTINGS"


def _admin_token_from_env() -> str | None:
    value = os.environ.get(ADMIN_TOKEN_ENV, "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything `create_app` needs. Defaults run on one machine with no set-up."""

    db_url: str = "sqlite:///recoup.db"
    # Accepted events go here (fsynced) while the database is unreachable, and are replayed in order.
    spool_dir: Path = Path("recoup-spool")
    # Request bodies: the limit on the bytes sent, and on what they decompress to (gzip bombs).
    max_request_bytes: int = 1_000_000
    max_decompressed_bytes: int = 20_000_000
    max_events_per_batch: int = 1_000
    # Per ingest key, events per minute, when the key sets none of its own; None means unlimited.
    default_rate_limit_per_minute: int | None = None
    # Events older than this are pruned in the background; group counters survive.
    retention_days: float = 30.0
    prune_interval_seconds: float = 300.0
    # Group commit: concurrent requests wait at most this long to share one transaction.
    commit_window_seconds: float = 0.002
    # An admin token from the environment works alongside the hashed ones in the store.
    admin_token: str | None = field(default_factory=_admin_token_from_env)
    # The address clients reach the server at, used in printed DSNs.
    public_url: str = "http://127.0.0.1:8000"
    # Server processes sharing the port (``recoup serve --workers N``). Each has its own rate-limit buckets,
    # so per-key limits are divided by this (approximate across workers: each allows limit/N per minute).
    workers: int = 1
    # Incident response (recoup.incidents): rules evaluated in-process on every acknowledged batch, routing,
    # incidents and notifications. ``incidents_config`` is a YAML file with optional sections ``rules``,
    # ``routing``, ``receivers`` and ``policy`` (each inline or a path); missing sections use the shipped
    # defaults. With several workers the in-process rules would each see a share of the events, so they run
    # only when ``workers`` is 1 (see docs/OPERATIONS_MANUAL.md).
    incidents_enabled: bool = True
    incidents_config: Path | None = None
    # How often time-driven rule work runs (``for`` elapsed, windows expiring, absence, escalation steps);
    # event-driven detection does not wait for it.
    evaluation_interval_seconds: float = 1.0
    # Custom fingerprint rules (recoup.analytics.fingerprint_rules): a file of ``matchers -> fingerprint``
    # lines. Checked here, so a bad file stops `recoup serve` (and every worker) before it serves.
    fingerprint_rules: Path | None = None

    def __post_init__(self) -> None:
        for name in ("max_request_bytes", "max_decompressed_bytes", "max_events_per_batch", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.default_rate_limit_per_minute is not None and self.default_rate_limit_per_minute <= 0:
            raise ValueError("default_rate_limit_per_minute must be positive or None")
        for name in ("retention_days", "prune_interval_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0 <= self.commit_window_seconds <= 1:
            raise ValueError(f"commit_window_seconds must be within [0, 1], got {self.commit_window_seconds!r}")
        if not self.public_url.startswith(("http://", "https://")):
            raise ValueError(f"public_url must start with http:// or https://, got {self.public_url!r}")
        object.__setattr__(self, "spool_dir", Path(self.spool_dir))
        if self.incidents_config is not None:
            object.__setattr__(self, "incidents_config", Path(self.incidents_config))
        if self.fingerprint_rules is not None:
            object.__setattr__(self, "fingerprint_rules", Path(self.fingerprint_rules))
            self.load_fingerprint_rules()
        if not 0 < self.evaluation_interval_seconds <= 60:
            raise ValueError(
                f"evaluation_interval_seconds must be within (0, 60], got {self.evaluation_interval_seconds!r}"
            )

    def load_fingerprint_rules(self) -> FingerprintRules | None:
        """The parsed ``fingerprint_rules`` file (None when not set); ValueError naming file and line."""
        if self.fingerprint_rules is None:
            return None
        from recoup.analytics.fingerprint_rules import load_rules

        try:
            return load_rules(self.fingerprint_rules)
        except OSError as exc:
            raise ValueError(f"fingerprint_rules: cannot read {str(self.fingerprint_rules)!r}: "
                             f"{exc.strerror or exc}") from None

    def to_json(self) -> str:
        """Every setting except the admin token (a secret: workers read it from $RECOUP_ADMIN_TOKEN)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "admin_token"}
        data["spool_dir"] = str(self.spool_dir)
        data["incidents_config"] = None if self.incidents_config is None else str(self.incidents_config)
        data["fingerprint_rules"] = None if self.fingerprint_rules is None else str(self.fingerprint_rules)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        """The inverse of `to_json` (validated again); unknown keys are an error, not silently dropped."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("server settings must be a JSON object")
        known = {f.name for f in fields(cls)} - {"admin_token"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown server settings: {', '.join(unknown)}")
        if "spool_dir" in data:
            data["spool_dir"] = Path(data["spool_dir"])
        if data.get("incidents_config") is not None:
            data["incidents_config"] = Path(data["incidents_config"])
        if data.get("fingerprint_rules") is not None:
            data["fingerprint_rules"] = Path(data["fingerprint_rules"])
        return cls(**data)
