"""Error taxonomy, rule-based classification and fingerprints (stdlib only).

`classify`, `category_of` and `retry_after_of` are resolved lazily so that importing this package stays
as cheap as importing the taxonomy.
"""

from typing import TYPE_CHECKING, Any

from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category, Classification

if TYPE_CHECKING:
    from recoup.errors.classifier import category_of, classify, retry_after_of

__all__ = ["TRANSIENT_BY_DEFAULT", "Category", "Classification", "category_of", "classify", "retry_after_of"]

_LAZY = frozenset({"classify", "category_of", "retry_after_of"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from recoup.errors import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'recoup.errors' has no attribute {name!r}")
