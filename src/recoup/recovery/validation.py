"""Validation fixers: repair a call's arguments after a validation error, then let the engine retry.

A fixer is any callable ``fixer(exc, call) -> CallArgs | None``: it gets the exception and the call
(function, positional and keyword arguments) and returns new arguments, or None when it has nothing to fix.
The engine tries the registry's fixers in order, each at most once per call, and retries after the first
one that changes something. Built-ins:

* `strip_bom`: drop a leading UTF-8 byte-order mark from str and bytes arguments;
* `decode_bytes`: turn bytes arguments into str (UTF-8, else Latin-1, which never fails);
* `pydantic_coerce`: for parameters annotated with a pydantic model, validate a dict / JSON argument into
  the model. pydantic is never imported by recoup: the fixer only acts when pydantic is already loaded
  (an annotation naming a pydantic model implies it is).
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, get_type_hints

_BOM_STR = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"
_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})


class CallArgs(NamedTuple):
    """One call: the function and its arguments (immutable). `replace` makes the fixed copy."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = _NO_KWARGS

    def replace(self, args: tuple[Any, ...] | None = None, kwargs: Mapping[str, Any] | None = None) -> CallArgs:
        return CallArgs(self.fn, self.args if args is None else args, dict(self.kwargs if kwargs is None else kwargs))


class Fixer(Protocol):
    """Returns fixed arguments for the call, or None when this fixer does not apply."""

    def __call__(self, exc: BaseException, call: CallArgs) -> CallArgs | None: ...


def _map_values(call: CallArgs, change: Callable[[Any], Any]) -> CallArgs | None:
    """Apply `change` to every argument; a new CallArgs if any changed (identity test), else None."""
    changed = False
    args = []
    for a in call.args:
        b = change(a)
        changed |= b is not a
        args.append(b)
    kwargs = {}
    for k, a in call.kwargs.items():
        b = change(a)
        changed |= b is not a
        kwargs[k] = b
    return call.replace(tuple(args), kwargs) if changed else None


def _without_bom(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_BOM_STR):
        return value[len(_BOM_STR) :]
    if isinstance(value, bytes) and value.startswith(_BOM_BYTES):
        return value[len(_BOM_BYTES) :]
    return value


def strip_bom(exc: BaseException, call: CallArgs) -> CallArgs | None:
    """Remove a leading UTF-8 BOM from str/bytes arguments."""
    return _map_values(call, _without_bom)


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return value


def decode_bytes(exc: BaseException, call: CallArgs) -> CallArgs | None:
    """Decode bytes arguments to str: UTF-8 (a BOM dropped), else Latin-1."""
    return _map_values(call, _decoded)


def _pydantic_model(annotation: Any) -> Any:
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return None
    base = pydantic.BaseModel
    return annotation if isinstance(annotation, type) and issubclass(annotation, base) else None


def pydantic_coerce(exc: BaseException, call: CallArgs) -> CallArgs | None:
    """Validate dict/JSON arguments of pydantic-model-annotated parameters into model instances."""
    if "pydantic" not in sys.modules:
        return None
    try:
        try:
            local = inspect.getclosurevars(call.fn).nonlocals  # models defined in an enclosing function
        except TypeError:
            local = {}
        hints = get_type_hints(call.fn, localns=dict(local))
        params = list(inspect.signature(call.fn).parameters)
        bound = inspect.signature(call.fn).bind_partial(*call.args, **call.kwargs)
    except (TypeError, ValueError, NameError):
        return None
    args, kwargs = list(call.args), dict(call.kwargs)
    changed = False
    for name, value in bound.arguments.items():
        model = _pydantic_model(hints.get(name))
        if model is None or isinstance(value, model):
            continue
        try:
            if isinstance(value, str | bytes):
                coerced = model.model_validate_json(value)
            else:
                coerced = model.model_validate(value)
        except Exception:  # pydantic.ValidationError: this fixer cannot help
            return None
        if name in kwargs:
            kwargs[name] = coerced
        else:
            args[params.index(name)] = coerced
        changed = True
    return call.replace(tuple(args), kwargs) if changed else None


def _name(fixer: Fixer) -> str:
    return str(getattr(fixer, "__name__", None) or type(fixer).__name__)


class FixerRegistry:
    """An ordered, thread-safe list of named fixers."""

    def __init__(self, fixers: Iterable[Fixer] | None = None) -> None:
        self._lock = threading.Lock()
        self._fixers: tuple[tuple[str, Fixer], ...] = ()
        for f in fixers if fixers is not None else DEFAULT_FIXERS:
            self.register(f)

    def register(self, fixer: Fixer, *, name: str | None = None, first: bool = False) -> Fixer:
        """Add a fixer (at the end, or in front with `first`); usable as a decorator."""
        entry = (name or _name(fixer), fixer)
        with self._lock:
            self._fixers = (entry, *self._fixers) if first else (*self._fixers, entry)
        return fixer

    def __iter__(self) -> Any:
        return iter(self._fixers)

    def __len__(self) -> int:
        return len(self._fixers)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self._fixers)


DEFAULT_FIXERS: tuple[Fixer, ...] = (strip_bom, decode_bytes, pydantic_coerce)
