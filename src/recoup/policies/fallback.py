"""Fallback: answer with a substitute when a call fails, chosen by the error's category.

``Fallback(value=[])`` returns a constant; ``Fallback(function=lambda exc: cached())`` computes one
from the exception; ``per_category={Category.NETWORK: cached, Category.AUTH: None}`` picks a
substitute per category (callables there are called with the exception, anything else is the
value). An error outside ``on=`` (types or a predicate; default: every `Exception`), or in a
category with no substitute and no default, propagates unchanged.

The substitute must have the wrapped function's return type: the policy is typed as returning
``R`` so that it composes in a `Pipeline`, and cannot check that for you. In `wrap_async`, a
substitute function may be sync or async (an awaitable result is awaited).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, ParamSpec, TypeVar, cast

from recoup.clock import SYSTEM_CLOCK, Clock
from recoup.errors.classifier import category_of
from recoup.errors.taxonomy import Category
from recoup.policies import events as _events
from recoup.policies.base import Decorates
from recoup.policies.events import EventKind, PolicyEvent

P = ParamSpec("P")
R = TypeVar("R")

_MISSING: Any = object()


class Fallback(Decorates):
    """Substitute a value (or a function of the exception) for a failed call."""

    __slots__ = ("_on_pred", "_on_types", "clock", "function", "name", "per_category", "value")

    def __init__(
        self,
        value: Any = _MISSING,
        *,
        function: Callable[[BaseException], Any] | None = None,
        on: type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool] = Exception,
        per_category: Mapping[Category, Any] | None = None,
        name: str = "fallback",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if value is not _MISSING and function is not None:
            raise ValueError("give either value= or function=, not both")
        if value is _MISSING and function is None and not per_category:
            raise ValueError("give value=, function= or per_category=")
        self.value = value
        self.function = function
        self.per_category = dict(per_category) if per_category else None
        self.name = name
        self.clock = clock
        self._on_types: tuple[type[BaseException], ...] | None = None
        self._on_pred: Callable[[BaseException], bool] | None = None
        if isinstance(on, type):
            self._on_types = (on,)
        elif isinstance(on, tuple):
            self._on_types = on
        else:
            self._on_pred = on

    def substitute(self, exc: BaseException) -> tuple[bool, Any]:
        """The decision: (True, substitute-or-awaitable) to fall back, (False, None) to re-raise."""
        if self._on_types is not None:
            if not isinstance(exc, self._on_types):
                return False, None
        elif self._on_pred is not None and not self._on_pred(exc):
            return False, None
        category: Category | None = None
        chosen: Any = _MISSING
        if self.per_category is not None:
            category = category_of(exc)[0]
            if category in self.per_category:
                option = self.per_category[category]
                chosen = option(exc) if callable(option) else option
        if chosen is _MISSING:
            if self.function is not None:
                chosen = self.function(exc)
            elif self.value is not _MISSING:
                chosen = self.value
            else:
                return False, None
        if _events._subscribers:
            _events.emit(
                PolicyEvent(
                    EventKind.FALLBACK_USED,
                    "fallback",
                    self.name,
                    self.clock.wall(),
                    {
                        "error": f"{type(exc).__qualname__}: {exc}",
                        "category": None if category is None else category.value,
                    },
                )
            )
        return True, chosen

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """`fn` with failures replaced by the substitute."""
        decide = self.substitute

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                use, value = decide(exc)
                if not use:
                    raise
            return cast(R, value)

        return wrapper

    def wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Async `fn` with failures replaced by the substitute (awaited if it is awaitable)."""
        return self._wrap_coroutine(fn)

    def _wrap_coroutine(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        decide = self.substitute

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                use, value = decide(exc)
                if not use:
                    raise
            if inspect.isawaitable(value):
                value = await value
            return cast(R, value)

        return wrapper

    def __repr__(self) -> str:
        return f"Fallback(name={self.name!r})"
