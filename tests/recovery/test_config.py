"""EngineConfig in code and from recoup.toml / pyproject.toml / YAML, with errors that name the bad key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from recoup.errors.taxonomy import Category
from recoup.recovery.config import CategoryConfig, ConfigError, EngineConfig
from recoup.recovery.engine import RecoveryEngine


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_defaults_cover_every_category() -> None:
    cfg = EngineConfig()
    assert set(cfg.categories) == set(Category)
    assert cfg.for_category(Category.PROGRAMMING).max_attempts == 1
    assert cfg.for_category(Category.NETWORK).strategies[0] == "breaker"
    assert cfg == EngineConfig()


def test_code_config_is_frozen_and_validated() -> None:
    cfg = EngineConfig(categories={Category.NETWORK: CategoryConfig(max_attempts=2)})
    assert cfg.for_category(Category.NETWORK).max_attempts == 2
    assert cfg.for_category(Category.SERVICE).max_attempts == 4  # untouched categories keep defaults
    with pytest.raises(AttributeError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"\[recovery.network\] max_attempts: expected a positive integer, got 0"):
        EngineConfig(categories={Category.NETWORK: CategoryConfig(max_attempts=0)})
    with pytest.raises(ConfigError, match="programming errors are never retried"):
        EngineConfig().with_category("programming", max_attempts=3)


def test_toml_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "recoup.toml",
        """
        [server]            # another component's table: ignored here
        port = 8000

        [recovery]
        fs_roots = ["/srv/data"]
        seed = 7

        [recovery.network]
        strategies = ["backoff", "fail_fast"]
        max_attempts = 6
        jitter = "equal"
        rto = 12.5

        [recovery.breaker]
        failure_threshold = 3

        [recovery.degrade]
        max_staleness = 60
        """,
    )
    cfg = EngineConfig.from_file(path)
    net = cfg.for_category(Category.NETWORK)
    assert net.strategies == ("backoff", "fail_fast") and net.max_attempts == 6 and net.rto == 12.5
    assert net.jitter == "equal" and net.initial_delay == 0.1
    assert cfg.fs_roots == ("/srv/data",) and cfg.seed == 7
    assert cfg.breaker.failure_threshold == 3 and cfg.breaker.reset_timeout == 30.0
    assert cfg.degrade.max_staleness == 60
    RecoveryEngine(cfg)  # builds


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[recovery.network]\nmax_attempts = -1\n",
         "recoup.toml: [recovery.network] max_attempts: expected a positive integer, got -1"),
        ("[recovery.network]\nmax_atempts = 3\n",
         "recoup.toml: [recovery.network] max_atempts: unknown key"),
        ("[recovery]\nretries = 3\n", "recoup.toml: [recovery] retries: unknown key"),
        ("[recovery.network]\njitter = \"lots\"\n",
         "recoup.toml: [recovery.network] jitter: expected one of ['none', 'full', 'equal', 'decorrelated'], "
         "got 'lots'"),
        ("[recovery.auth]\nstrategies = [\"backoff\"]\n",
         "recoup.toml: [recovery.auth] strategies: 'backoff' does not apply to auth errors"),
        ("[recovery.git]\nstrategies = [\"magic\"]\n",
         "recoup.toml: [recovery.git] strategies: unknown strategy 'magic'"),
        ("[recovery.service]\nrto = 0\n", "recoup.toml: [recovery.service] rto: expected a positive number"),
        ("[recovery.service]\ninitial_delay = true\n",
         "recoup.toml: [recovery.service] initial_delay: expected a non-negative number, got True"),
        ("[recovery.degrade]\nshrink_factor = 1.5\n",
         "recoup.toml: [recovery.degrade] shrink_factor: expected a number"),
        ("[recovery.breaker]\nopen_for = 3\n", "recoup.toml: [recovery.breaker] open_for: unknown key"),
        ("[recovery]\nfs_roots = \"/tmp\"\n", "recoup.toml: [recovery] fs_roots: expected a list of paths"),
        ("[recovery]\nnetwork = 3\n", "recoup.toml: [recovery.network]: expected a table, got 3"),
        ("[recovery\n", "recoup.toml: invalid TOML"),
    ],
)
def test_toml_errors_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path / "recoup.toml", body)
    with pytest.raises(ConfigError) as info:
        EngineConfig.from_file(path)
    assert str(info.value).startswith(message), str(info.value)


def test_pyproject_tool_recoup(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "x"

        [tool.recoup.recovery.service]
        max_attempts = 2
        """,
    )
    assert EngineConfig.discover(tmp_path).for_category(Category.SERVICE).max_attempts == 2
    write(tmp_path / "pyproject.toml", "[tool.recoup.recovery.service]\nmax_attempts = 'two'\n")
    with pytest.raises(ConfigError, match=r"^pyproject.toml: \[tool.recoup.recovery.service\] max_attempts"):
        EngineConfig.discover(tmp_path)


def test_discover_prefers_recoup_toml_and_defaults_without_files(tmp_path: Path) -> None:
    assert EngineConfig.discover(tmp_path) == EngineConfig()
    write(tmp_path / "pyproject.toml", "[tool.recoup.recovery.service]\nmax_attempts = 2\n")
    write(tmp_path / "recoup.toml", "[recovery.service]\nmax_attempts = 3\n")
    assert EngineConfig.discover(tmp_path).for_category(Category.SERVICE).max_attempts == 3


def test_yaml_file(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = write(
        tmp_path / "recoup.yaml",
        """
        recovery:
          filesystem:
            max_attempts: 5
          degrade:
            min_concurrency: 2
        """,
    )
    cfg = EngineConfig.from_file(path)
    assert cfg.for_category(Category.FILESYSTEM).max_attempts == 5 and cfg.degrade.min_concurrency == 2
    write(path, "recovery:\n  filesystem:\n    max_attempts: -1\n")
    with pytest.raises(ConfigError, match=r"^recoup.yaml: \[recovery.filesystem\] max_attempts: expected a positive"):
        EngineConfig.from_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"recoup\.toml: cannot read"):
        EngineConfig.from_file(tmp_path / "recoup.toml")


def test_engine_from_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "recoup.toml", "[recovery.network]\nmax_attempts = 2\n")
    engine = RecoveryEngine.from_config_file(tmp_path / "recoup.toml")
    assert engine.config.for_category(Category.NETWORK).max_attempts == 2
    monkeypatch.chdir(tmp_path)
    assert RecoveryEngine.from_config_file().config == engine.config
