from __future__ import annotations

import pytest

from recoup.assess.plan import AssessConfig, make_plan


def test_plan_is_repeatable_from_seed() -> None:
    config = AssessConfig(ops=200, seed=7)
    first = [(p.fault.name if p.fault else None, p.clears_after) for p in make_plan(config)]
    second = [(p.fault.name if p.fault else None, p.clears_after) for p in make_plan(config)]
    assert first == second


def test_plan_rates_are_met_in_expectation() -> None:
    plans = make_plan(AssessConfig(ops=5000, transient_rate=0.3, permanent_rate=0.1, seed=3))
    transient = sum(p.recoverable for p in plans) / len(plans)
    permanent = sum(p.permanent for p in plans) / len(plans)
    assert 0.27 < transient < 0.33
    assert 0.08 < permanent < 0.12
    assert all(1 <= p.clears_after <= 3 for p in plans if p.recoverable)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ops", 0, "ops must be at least 1"),
        ("concurrency", 0, "concurrency"),
        ("transient_rate", 1.5, "transient_rate"),
        ("attempts", 3, "attempts (3) must exceed max_clears_after"),
    ],
)
def test_bad_config_names_the_setting(field: str, value: float, message: str) -> None:
    config = AssessConfig(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.validate()
