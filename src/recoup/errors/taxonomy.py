"""The nine error categories of shared/TAXONOMY.md and the frozen result of classifying an error."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """The cause that decides how to recover, not the tool that reported it."""

    NETWORK = "network"
    SERVICE = "service"
    RESOURCE = "resource"
    FILESYSTEM = "filesystem"
    GIT = "git"
    VALIDATION = "validation"
    AUTH = "auth"
    PROGRAMMING = "programming"
    UNKNOWN = "unknown"


#: Categories whose errors usually clear by themselves, so retrying is worth it by default.
TRANSIENT_BY_DEFAULT: frozenset[Category] = frozenset({Category.NETWORK, Category.SERVICE, Category.RESOURCE})


@dataclass(frozen=True, slots=True)
class Classification:
    """What recoup concluded about one error, and the evidence for it (`reason`)."""

    category: Category
    transient: bool
    confidence: float
    fingerprint: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["category"] = self.category.value
        return data
