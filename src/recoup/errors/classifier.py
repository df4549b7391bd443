"""PLACEHOLDER (to be replaced by the classification work): the signatures other modules rely on."""

from __future__ import annotations

from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category, Classification

_BY_TYPE: dict[type[BaseException], Category] = {
    ConnectionError: Category.NETWORK,
    TimeoutError: Category.NETWORK,
    MemoryError: Category.RESOURCE,
    FileNotFoundError: Category.FILESYSTEM,
    PermissionError: Category.FILESYSTEM,
    ValueError: Category.VALIDATION,
    TypeError: Category.PROGRAMMING,
    AttributeError: Category.PROGRAMMING,
}


def category_of(exc: BaseException) -> tuple[Category, bool]:
    """Fast path for retry decisions: (category, transient). No fingerprint is computed."""
    for klass in type(exc).__mro__:
        cat = _BY_TYPE.get(klass)  # type: ignore[arg-type]
        if cat is not None:
            return cat, cat in TRANSIENT_BY_DEFAULT
    return Category.UNKNOWN, False


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds a server asked us to wait (Retry-After) carried by `exc`, if any."""
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def classify(error: BaseException | str) -> Classification:
    if isinstance(error, BaseException):
        cat, transient = category_of(error)
        return Classification(cat, transient, 0.5, type(error).__name__, "placeholder")
    return Classification(Category.UNKNOWN, False, 0.0, "text", "placeholder")
