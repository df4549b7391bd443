"""Error taxonomy, rule-based classification and fingerprints (stdlib only)."""

from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category, Classification

__all__ = ["TRANSIENT_BY_DEFAULT", "Category", "Classification"]
