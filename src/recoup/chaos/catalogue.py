"""Named faults of every category: the REAL exception (type, errno, message, attributes) of each failure.

Each fault is provoked for real once (a connection to a closed loopback port, a missing path, git outside a
repository, urllib against a local server answering 503...) and the caught exception is kept as a
template; every injection raises a fresh clone of it, so injecting costs microseconds while the error is
exactly what the real failure raises. Faults whose async form differs (asyncio's "Connect call failed",
``asyncio.wait_for``'s bare TimeoutError) have an async provoker of their own.

Faults are named ``"<category>.<what>"``; `fault(name)` looks one up, `CATALOGUE` holds them all.
"""

from __future__ import annotations

import asyncio
import copy
import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn

from recoup.errors.taxonomy import Category

__all__ = ["CATALOGUE", "Fault", "ProvocationError", "acaught", "caught", "clone", "fault", "faults_of"]

Provoker = Callable[[], BaseException]
AsyncProvoker = Callable[[], Awaitable[BaseException]]


class ProvocationError(RuntimeError):
    """Provoking a fault for real did not produce the exception it should have (e.g. git is missing)."""


def caught(action: Callable[[], object]) -> BaseException:
    """Run `action`, which must fail, and return what it raised (with no traceback holding its frames)."""
    try:
        action()
    except Exception as exc:  # the failure we came for; anything else is checked by `Fault`
        exc.__traceback__ = None
        exc.__context__ = None
        return exc
    raise ProvocationError(f"{getattr(action, '__qualname__', action)!r} was expected to fail but returned")


async def acaught(action: Callable[[], Awaitable[object]]) -> BaseException:
    """Async `caught`: await `action`, which must fail, and return what it raised."""
    try:
        await action()
    except Exception as exc:
        exc.__traceback__ = None
        exc.__context__ = None
        return exc
    raise ProvocationError(f"{getattr(action, '__qualname__', action)!r} was expected to fail but returned")


def clone(template: BaseException) -> BaseException:
    """A fresh exception equal to `template` (type, args, attributes) with no traceback, notes or chain."""
    import urllib.error  # only for the HTTP faults' templates, whose file-like body cannot be copied

    if isinstance(template, urllib.error.HTTPError):
        body = template.__dict__.get("_recoup_body", b"")
        return urllib.error.HTTPError(template.url, template.code, template.msg, template.hdrs, io.BytesIO(body))
    duplicate = copy.copy(template)
    for attr in ("__notes__", "__recoup_attempts__"):
        duplicate.__dict__.pop(attr, None)
    return duplicate


@dataclass(eq=False)
class Fault:
    """One named failure: its category, whether it clears by itself, and how to provoke it for real."""

    name: str
    category: Category
    transient: bool
    expected: type[BaseException]
    description: str
    provoke: Provoker = field(repr=False)
    aprovoke: AsyncProvoker | None = field(default=None, repr=False)
    #: The errno the provoked OSError must carry, for faults whose type alone is too broad (plain OSError).
    errno: int | None = field(default=None, kw_only=True)
    _template: BaseException | None = field(default=None, init=False, repr=False)
    _atemplate: BaseException | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _checked(self, exc: BaseException, how: str) -> BaseException:
        if not isinstance(exc, self.expected):
            raise ProvocationError(
                f"fault {self.name!r}: provoking it {how} raised {type(exc).__qualname__}: {exc} "
                f"instead of {self.expected.__qualname__}"
            ) from exc
        if self.errno is not None and getattr(exc, "errno", None) != self.errno:
            raise ProvocationError(
                f"fault {self.name!r}: provoking it {how} raised errno {getattr(exc, 'errno', None)} "
                f"({exc}) instead of errno {self.errno}"
            ) from exc
        return exc

    def template(self) -> BaseException:
        """The exception provoked for real (provoked on first use, then cached). Never raise it: clone it."""
        if self._template is None:
            with self._lock:
                if self._template is None:
                    self._template = self._checked(self.provoke(), "synchronously")
        return self._template

    async def atemplate(self) -> BaseException:
        """The async form's template: from `aprovoke` if the fault has one, else the sync one (off-loop)."""
        if self.aprovoke is None:
            if self._template is None:
                await asyncio.to_thread(self.template)
            return self.template()
        if self._atemplate is None:
            self._atemplate = self._checked(await self.aprovoke(), "asynchronously")
        return self._atemplate

    def exception(self) -> BaseException:
        """A fresh instance of the real exception, ready to raise."""
        return clone(self.template())

    async def aexception(self) -> BaseException:
        """A fresh instance of the exception async code would see."""
        return clone(await self.atemplate())

    def raise_(self) -> NoReturn:
        raise self.exception()

    async def araise(self) -> NoReturn:
        raise await self.aexception()


def _load() -> dict[str, Fault]:
    from recoup.chaos.catalogue_git import GIT_FAULTS
    from recoup.chaos.catalogue_local import LOCAL_FAULTS
    from recoup.chaos.catalogue_net import NET_FAULTS

    table: dict[str, Fault] = {}
    for entry in (*NET_FAULTS, *LOCAL_FAULTS, *GIT_FAULTS):
        if entry.name in table:
            raise RuntimeError(f"duplicate fault name {entry.name!r} in the catalogue")
        if not entry.name.startswith(f"{entry.category.value}."):
            raise RuntimeError(f"fault {entry.name!r} must be named '{entry.category.value}.<what>'")
        table[entry.name] = entry
    return table


class _Catalogue:
    """Read-only mapping of every fault by name, built on first use."""

    _table: dict[str, Fault] | None = None

    def _faults(self) -> dict[str, Fault]:
        if self._table is None:
            self._table = _load()
        return self._table

    def __getitem__(self, name: str) -> Fault:
        return self._faults()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._faults()

    def __iter__(self) -> Iterator[str]:
        return iter(self._faults())

    def __len__(self) -> int:
        return len(self._faults())

    def values(self) -> list[Fault]:
        return list(self._faults().values())

    def names(self) -> list[str]:
        return list(self._faults())


CATALOGUE = _Catalogue()


def fault(name: str) -> Fault:
    """The catalogue fault called `name` (``"network.connection-refused"``); a clear error if there is none."""
    if name not in CATALOGUE:
        import difflib

        close = difflib.get_close_matches(name, CATALOGUE.names(), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else f"; known: {', '.join(CATALOGUE)}"
        raise KeyError(f"no fault named {name!r} in the recoup chaos catalogue{hint}")
    return CATALOGUE[name]


def faults_of(category: Category | str) -> list[Fault]:
    """Every catalogue fault of one category."""
    wanted = Category(category)
    return [entry for entry in CATALOGUE.values() if entry.category is wanted]
