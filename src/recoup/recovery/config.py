"""Recovery-engine configuration: frozen dataclasses, loadable from TOML (or YAML when PyYAML is installed).

File layout (``recoup.toml``; in ``pyproject.toml`` the same tables live under ``[tool.recoup]``)::

    [recovery]
    fs_roots = ["/srv/app/data"]     # where filesystem repairs may create folders / fix permission bits
    seed = 7                         # optional: deterministic jitter

    [recovery.breaker]               # one circuit breaker per endpoint (network / service errors)
    failure_threshold = 5
    reset_timeout = 30.0

    [recovery.degrade]
    max_staleness = 300.0            # seconds a stale result may be served after a transient failure
    shrink_factor = 0.5              # bulkhead concurrency multiplier while shedding load
    min_concurrency = 1
    max_entries = 1024               # stale-cache size

    [recovery.network]               # one table per category (network, service, resource, filesystem,
    strategies = ["breaker", "backoff"]  # git, validation, auth, programming, unknown); first = default
    max_attempts = 4                 # total attempts, the first included
    initial_delay = 0.1
    multiplier = 2.0
    max_delay = 10.0
    jitter = "full"                  # none | full | equal | decorrelated
    rto = 30.0                       # recovery-time objective in seconds (optional)

Other top-level tables of ``recoup.toml`` belong to other components and are ignored here; any unknown key
inside ``[recovery]`` is an error. Errors name the file, the table and the key, e.g.
``recoup.toml: [recovery.network] max_attempts: expected a positive integer, got -1``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from recoup.errors.taxonomy import Category

#: Every strategy the engine knows (see `recoup.recovery.strategies`).
STRATEGIES: frozenset[str] = frozenset(
    {"breaker", "backoff", "fallback", "degrade", "repair", "restore", "fix", "refresh", "fail_fast"}
)
#: Which strategies make sense for which category (a config naming another one is an error).
ALLOWED: Mapping[Category, frozenset[str]] = MappingProxyType(
    {
        Category.NETWORK: frozenset({"breaker", "backoff", "fallback", "degrade", "fail_fast"}),
        Category.SERVICE: frozenset({"breaker", "backoff", "fallback", "degrade", "fail_fast"}),
        Category.RESOURCE: frozenset({"degrade", "backoff", "breaker", "fallback", "fail_fast"}),
        Category.FILESYSTEM: frozenset({"repair", "backoff", "fail_fast"}),
        Category.GIT: frozenset({"restore", "fail_fast"}),
        Category.VALIDATION: frozenset({"fix", "fail_fast"}),
        Category.AUTH: frozenset({"refresh", "fail_fast"}),
        Category.PROGRAMMING: frozenset({"fail_fast"}),
        Category.UNKNOWN: frozenset({"fail_fast"}),
    }
)
_JITTERS = ("none", "full", "equal", "decorrelated")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range; the message names where."""


@dataclass(frozen=True, slots=True)
class CategoryConfig:
    """How to recover from one category. `strategies[0]` is the default; a learner may pick another."""

    strategies: tuple[str, ...] = ("backoff",)
    max_attempts: int = 4
    initial_delay: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 10.0
    jitter: str = "full"
    rto: float | None = None

    def check(self, where: str, category: Category) -> None:
        if not self.strategies:
            raise ConfigError(f"{where} strategies: expected a non-empty list of strategy names")
        for name in self.strategies:
            if name not in STRATEGIES:
                raise ConfigError(
                    f"{where} strategies: unknown strategy {name!r}; expected one of {sorted(STRATEGIES)}"
                )
            if name not in ALLOWED[category]:
                raise ConfigError(
                    f"{where} strategies: {name!r} does not apply to {category.value} errors; "
                    f"expected one of {sorted(ALLOWED[category])}"
                )
        _positive_int(where, "max_attempts", self.max_attempts)
        if category in (Category.PROGRAMMING, Category.UNKNOWN) and self.max_attempts != 1:
            raise ConfigError(f"{where} max_attempts: {category.value} errors are never retried, expected 1")
        _non_negative(where, "initial_delay", self.initial_delay)
        _non_negative(where, "max_delay", self.max_delay)
        _number(where, "multiplier", self.multiplier)
        if self.multiplier < 1:
            raise ConfigError(f"{where} multiplier: expected a number >= 1, got {self.multiplier!r}")
        if self.jitter not in _JITTERS:
            raise ConfigError(f"{where} jitter: expected one of {list(_JITTERS)}, got {self.jitter!r}")
        if self.rto is not None:
            _number(where, "rto", self.rto)
            if self.rto <= 0:
                raise ConfigError(f"{where} rto: expected a positive number of seconds, got {self.rto!r}")


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """The circuit breaker created per endpoint for network and service errors."""

    failure_threshold: int = 5
    reset_timeout: float = 30.0

    def check(self, where: str) -> None:
        _positive_int(where, "failure_threshold", self.failure_threshold)
        _non_negative(where, "reset_timeout", self.reset_timeout)


@dataclass(frozen=True, slots=True)
class DegradeConfig:
    """Graceful degradation: stale-while-error cache and load shedding through the bulkhead."""

    max_staleness: float = 300.0
    shrink_factor: float = 0.5
    min_concurrency: int = 1
    max_entries: int = 1024

    def check(self, where: str) -> None:
        _non_negative(where, "max_staleness", self.max_staleness)
        _number(where, "shrink_factor", self.shrink_factor)
        if not 0 < self.shrink_factor <= 1:
            raise ConfigError(f"{where} shrink_factor: expected a number in (0, 1], got {self.shrink_factor!r}")
        _positive_int(where, "min_concurrency", self.min_concurrency)
        _positive_int(where, "max_entries", self.max_entries)


def _cat(strategies: tuple[str, ...], max_attempts: int, initial: float = 0.1, **kw: Any) -> CategoryConfig:
    return CategoryConfig(strategies=strategies, max_attempts=max_attempts, initial_delay=initial, **kw)


DEFAULT_CATEGORIES: Mapping[Category, CategoryConfig] = MappingProxyType(
    {
        Category.NETWORK: _cat(("breaker", "backoff", "fallback", "fail_fast"), 4),
        Category.SERVICE: _cat(("breaker", "backoff", "fallback", "fail_fast"), 4),
        Category.RESOURCE: _cat(("degrade", "backoff", "fail_fast"), 4, 0.2),
        Category.FILESYSTEM: _cat(("repair", "fail_fast"), 3, 0.0, max_delay=0.0),
        Category.GIT: _cat(("restore", "fail_fast"), 2, 0.0, max_delay=0.0),
        Category.VALIDATION: _cat(("fix", "fail_fast"), 4, 0.0, max_delay=0.0),
        Category.AUTH: _cat(("refresh", "fail_fast"), 2, 0.0, max_delay=0.0),
        Category.PROGRAMMING: _cat(("fail_fast",), 1, 0.0),
        Category.UNKNOWN: _cat(("fail_fast",), 1, 0.0),
    }
)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything `RecoveryEngine` reads. Categories left out of `categories` keep their defaults.

    `sink` (anything with ``emit(event)``, e.g. an `EventBus`) receives `RecoveryAttemptEvent` and
    `RecoveryOutcomeEvent`; it is not part of equality and cannot come from a file.
    """

    categories: Mapping[Category, CategoryConfig] = field(default_factory=lambda: DEFAULT_CATEGORIES)
    fs_roots: tuple[str, ...] = ()
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)
    seed: int | None = None
    sink: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        merged = dict(DEFAULT_CATEGORIES)
        for key, value in self.categories.items():
            merged[Category(key)] = value
        object.__setattr__(self, "categories", MappingProxyType(merged))
        object.__setattr__(self, "fs_roots", tuple(os.fspath(r) for r in self.fs_roots))
        for cat, cfg in merged.items():
            cfg.check(f"[recovery.{cat.value}]", cat)
        self.breaker.check("[recovery.breaker]")
        self.degrade.check("[recovery.degrade]")

    def for_category(self, category: Category) -> CategoryConfig:
        return self.categories[category]

    def with_category(self, category: Category | str, **changes: Any) -> EngineConfig:
        """A copy with one category's settings changed, e.g. ``cfg.with_category("network", rto=5.0)``."""
        cat = Category(category)
        cats = dict(self.categories)
        cats[cat] = dataclasses.replace(cats[cat], **changes)
        return dataclasses.replace(self, categories=cats)

    # --- files ---------------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "config", prefix: str = "recovery") -> EngineConfig:
        """Build from the ``[recovery]`` table's contents; errors are prefixed by `source` and `prefix`."""
        try:
            return _from_mapping(data, source, prefix)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EngineConfig:
        """Load ``recoup.toml``, a ``pyproject.toml`` (``[tool.recoup.recovery]``) or a YAML file."""
        p = Path(path)
        name = p.name
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read {p}: {exc.strerror or exc}") from exc
        if p.suffix in (".yaml", ".yml"):
            try:
                import yaml  # lazily: PyYAML is optional
            except ImportError:
                raise ConfigError(f"{name}: YAML configuration needs PyYAML (pip install PyYAML)") from None
            try:
                doc = yaml.safe_load(raw.decode("utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"{name}: invalid YAML: {exc}") from None
        else:
            try:
                doc = tomllib.loads(raw.decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{name}: invalid TOML: {exc}") from None
        if not isinstance(doc, Mapping):
            raise ConfigError(f"{name}: expected a table at the top level")
        prefix = "recovery"
        if name == "pyproject.toml":
            doc = doc.get("tool", {}).get("recoup", {})
            prefix = "tool.recoup.recovery"
        table = doc.get("recovery", {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{name}: [{prefix}]: expected a table, got {type(table).__name__}")
        return cls.from_mapping(table, source=name, prefix=prefix)

    @classmethod
    def discover(cls, directory: str | os.PathLike[str] = ".") -> EngineConfig:
        """``recoup.toml`` in `directory`, else ``pyproject.toml``'s ``[tool.recoup]``, else the defaults."""
        d = Path(directory)
        if (d / "recoup.toml").is_file():
            return cls.from_file(d / "recoup.toml")
        if (d / "pyproject.toml").is_file():
            return cls.from_file(d / "pyproject.toml")
        return cls()


# --- validation helpers --------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(where: str, key: str, value: Any) -> None:
    if not _is_number(value):
        raise ConfigError(f"{where} {key}: expected a number, got {value!r}")


def _non_negative(where: str, key: str, value: Any) -> None:
    if not _is_number(value) or value < 0:
        raise ConfigError(f"{where} {key}: expected a non-negative number, got {value!r}")


def _positive_int(where: str, key: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where} {key}: expected a positive integer, got {value!r}")


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {value!r}")
    return value


def _fields(klass: type, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(klass)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where} {key}: unknown key; expected one of {sorted(known)}")
    return dict(table)


def _from_mapping(data: Mapping[str, Any], source: str, prefix: str) -> EngineConfig:
    top = f"[{prefix}]"
    _table(data, top)
    sections = {"breaker", "degrade", "fs_roots", "seed"} | {c.value for c in Category}
    for key in data:
        if key not in sections:
            raise ConfigError(f"{top} {key}: unknown key; expected one of {sorted(sections)}")
    roots = data.get("fs_roots", [])
    if not isinstance(roots, list) or not all(isinstance(r, str) and r for r in roots):
        raise ConfigError(f"{top} fs_roots: expected a list of paths, got {roots!r}")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ConfigError(f"{top} seed: expected an integer, got {seed!r}")
    cats: dict[Category, CategoryConfig] = {}
    for cat in Category:
        if cat.value not in data:
            continue
        where = f"[{prefix}.{cat.value}]"
        values = _fields(CategoryConfig, _table(data[cat.value], where), where)
        base = DEFAULT_CATEGORIES[cat]
        if "strategies" in values:
            s = values["strategies"]
            if not isinstance(s, list) or not all(isinstance(x, str) for x in s):
                raise ConfigError(f"{where} strategies: expected a list of strategy names, got {s!r}")
            values["strategies"] = tuple(s)
        cfg = dataclasses.replace(base, **values)
        cfg.check(where, cat)
        cats[cat] = cfg
    breaker = BreakerConfig()
    if "breaker" in data:
        where = f"[{prefix}.breaker]"
        breaker = BreakerConfig(**_fields(BreakerConfig, _table(data["breaker"], where), where))
        breaker.check(where)
    degrade = DegradeConfig()
    if "degrade" in data:
        where = f"[{prefix}.degrade]"
        degrade = DegradeConfig(**_fields(DegradeConfig, _table(data["degrade"], where), where))
        degrade.check(where)
    return EngineConfig(categories=cats, fs_roots=tuple(roots), breaker=breaker, degrade=degrade, seed=seed)
