"""Strategy learning: which recovery strategy recovers fastest from each error fingerprint.

`Learner` is the bandit the `RecoveryEngine` consults (``choose``) and informs (``record``); outcomes
live in a `MemoryLearningStore` or a `SQLiteLearningStore` (one WAL file, survives restarts). The
objective and the algorithm are described in `recoup.recovery.learning.learner`.
"""

from recoup.recovery.learning.learner import Learner
from recoup.recovery.learning.stats import ArmKey, ArmStats, Counts
from recoup.recovery.learning.store import (
    SCHEMA_VERSION,
    LearningStore,
    MemoryLearningStore,
    SQLiteLearningStore,
)

__all__ = [
    "SCHEMA_VERSION",
    "ArmKey",
    "ArmStats",
    "Counts",
    "Learner",
    "LearningStore",
    "MemoryLearningStore",
    "SQLiteLearningStore",
]
