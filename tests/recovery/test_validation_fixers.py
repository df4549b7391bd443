"""Validation fixers on their own and through the engine (each fixer once per call, in order)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recoup.recovery.engine import RecoveryEngine, recovery_report
from recoup.recovery.validation import CallArgs, FixerRegistry, decode_bytes, pydantic_coerce, strip_bom
from recoup.telemetry.events import Outcome
from recoup.testing import FakeClock


def f(*args: Any, **kwargs: Any) -> None:
    pass


def test_strip_bom_str_and_bytes() -> None:
    call = CallArgs(f, ("\ufeff{}", b"\xef\xbb\xbf[]", 3), {"k": "\ufeffv"})
    fixed = strip_bom(ValueError(), call)
    assert fixed is not None
    assert fixed.args == ("{}", b"[]", 3) and fixed.kwargs == {"k": "v"}
    assert strip_bom(ValueError(), fixed) is None


def test_decode_bytes_utf8_then_latin1() -> None:
    fixed = decode_bytes(ValueError(), CallArgs(f, ("héllo".encode(), b"caf\xe9", "s")))
    assert fixed is not None and fixed.args == ("héllo", "café", "s")
    assert decode_bytes(ValueError(), CallArgs(f, ("already",))) is None


def test_pydantic_coerce_dict_and_json() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Order(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        id: int
        qty: int = 1

    def place(order: Order, note: str = "") -> int:
        if not isinstance(order, Order):
            raise ValueError("expected an Order")
        return order.id * order.qty

    fixed = pydantic_coerce(ValueError(), CallArgs(place, ({"id": "3", "qty": 2},), {"note": "x"}))
    assert fixed is not None and isinstance(fixed.args[0], Order) and fixed.kwargs == {"note": "x"}
    fixed = pydantic_coerce(ValueError(), CallArgs(place, (), {"order": '{"id": 4}'}))
    assert fixed is not None and fixed.kwargs["order"] == Order(id=4)
    assert pydantic_coerce(ValueError(), CallArgs(place, ({"id": "not a number"},))) is None

    engine = RecoveryEngine(clock=FakeClock())
    assert engine.run(place, {"id": 5, "qty": 2}) == 10  # type: ignore[arg-type]
    report = engine.last_report
    assert report is not None and "fixer pydantic_coerce" in report.attempts[0].action


def test_fixers_tried_in_order_each_once_then_fail(clock: FakeClock) -> None:
    used: list[str] = []

    def first(exc: BaseException, call: CallArgs) -> CallArgs | None:
        used.append("first")
        return None

    def broken(exc: BaseException, call: CallArgs) -> CallArgs | None:
        used.append("broken")
        raise RuntimeError("fixer bug")

    def wrong(exc: BaseException, call: CallArgs) -> CallArgs | None:
        used.append("wrong")
        return call.replace(args=("still {bad",))

    engine = RecoveryEngine(clock=clock, fixers=[first, broken, wrong])
    calls: list[str] = []

    def parse(text: str) -> Any:
        calls.append(text)
        return json.loads(text)

    with pytest.raises(json.JSONDecodeError) as info:
        engine.run(parse, "{bad")
    assert used == ["first", "broken", "wrong"]  # each once, in order
    assert calls == ["{bad", "still {bad"]
    report = recovery_report(info.value)
    assert report is not None and report.outcome is Outcome.GAVE_UP
    assert "broken (raised RuntimeError: fixer bug)" in report.attempts[-1].action


def test_registry_register_first_and_names(clock: FakeClock) -> None:
    registry = FixerRegistry([])
    assert len(registry) == 0

    def swap_quotes(exc: BaseException, call: CallArgs) -> CallArgs | None:
        text = call.args[0]
        return call.replace(args=(text.replace("'", '"'),)) if isinstance(text, str) and "'" in text else None

    registry.register(strip_bom)
    registry.register(swap_quotes, first=True, name="quotes")
    assert registry.names == ("quotes", "strip_bom")
    engine = RecoveryEngine(clock=clock, fixers=registry)
    assert engine.run(json.loads, "{'a': 1}") == {"a": 1}
    engine.register_fixer(decode_bytes)
    assert engine.fixers.names == ("quotes", "strip_bom", "decode_bytes")
