"""Fallback: value, function of the exception, per-category choice, filters, events, async."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

import pytest

from recoup.errors.taxonomy import Category
from recoup.policies.events import EventKind, PolicyEvent
from recoup.policies.fallback import Fallback


def fails(exc: BaseException) -> Callable[[], object]:
    def fn() -> object:
        raise exc

    return fn


def test_value_used_on_failure_and_success_untouched() -> None:
    fb = Fallback(value=[])
    assert fb.call(fails(ConnectionResetError())) == []
    assert fb.call(lambda: [1]) == [1]


def test_function_receives_the_exception() -> None:
    fb = Fallback(function=lambda exc: f"cached after {type(exc).__name__}")
    assert fb.call(fails(ConnectionResetError())) == "cached after ConnectionResetError"


def test_on_filter_types_and_predicate() -> None:
    fb = Fallback(value=0, on=ConnectionError)
    assert fb.call(fails(ConnectionResetError())) == 0
    with pytest.raises(ValueError):
        fb.call(fails(ValueError("bad")))
    pred = Fallback(value=0, on=lambda e: "soft" in str(e))
    assert pred.call(fails(RuntimeError("soft failure"))) == 0
    with pytest.raises(RuntimeError):
        pred.call(fails(RuntimeError("hard failure")))
    assert Fallback(value=1, on=(KeyError, ValueError)).call(fails(KeyError("k"))) == 1


def test_per_category_choice_with_default() -> None:
    fb = Fallback(
        value="default",
        per_category={
            Category.NETWORK: "offline copy",
            Category.VALIDATION: lambda exc: f"invalid: {exc}",
        },
    )
    assert fb.call(fails(ConnectionResetError())) == "offline copy"
    assert fb.call(fails(ValueError("x"))) == "invalid: x"
    assert fb.call(fails(TypeError("bug"))) == "default"


def test_per_category_without_default_reraises_other_categories() -> None:
    fb = Fallback(per_category={Category.NETWORK: None})
    assert fb.call(fails(ConnectionResetError())) is None
    original = TypeError("bug")
    with pytest.raises(TypeError) as info:
        fb.call(fails(original))
    assert info.value is original


def test_event_emitted(policy_events: list[PolicyEvent]) -> None:
    Fallback(value=1, name="prices", per_category={Category.AUTH: 2}).call(fails(ConnectionResetError("x")))
    assert [e.kind for e in policy_events] == [EventKind.FALLBACK_USED]
    assert policy_events[0].name == "prices"
    assert policy_events[0].data["category"] == "network"


def test_async_with_sync_and_async_substitutes() -> None:
    async def boom() -> str:
        raise ConnectionResetError

    async def from_cache(exc: BaseException) -> str:
        return "cache"

    assert asyncio.run(Fallback(value="v").acall(boom)) == "v"
    assert asyncio.run(Fallback(function=from_cache).acall(boom)) == "cache"
    wrapped = Fallback(function=lambda e: "sync")(boom)
    assert inspect.iscoroutinefunction(wrapped)
    assert asyncio.run(wrapped()) == "sync"

    async def bad() -> str:
        raise ValueError

    with pytest.raises(ValueError):
        asyncio.run(Fallback(value="v", on=ConnectionError).acall(bad))


def test_wrap_keeps_signature_and_sync_decorator() -> None:
    def fn(a: int, *, b: str = "x") -> str:
        return b * a

    fb = Fallback(value="")
    assert inspect.signature(fb(fn)) == inspect.signature(fn)
    assert fb(fn)(2, b="y") == "yy"


def test_configuration_errors() -> None:
    with pytest.raises(ValueError):
        Fallback()
    with pytest.raises(ValueError):
        Fallback(value=1, function=lambda e: 2)
    assert "fallback" in repr(Fallback(value=None))
