"""What every repair action hands back: a truthful, immutable account of what it changed.

Actions never raise for "nothing to do" or "refused for safety"; they say so in the report, so the
recovery engine can log it and decide the next step without parsing exception text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ActionReport:
    """The outcome of one repair action.

    ``changed`` is true only when something on disk or in a repository was modified; ``details`` lists
    each change (or each thing deliberately left alone) in words a person can read in a log;
    ``refused`` carries the reason when the action declined to act because acting would be unsafe.
    """

    action: str
    changed: bool
    details: tuple[str, ...] = field(default_factory=tuple)
    refused: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the action refused to do what was asked."""
        return self.refused is None

    def __str__(self) -> str:
        head = f"{self.action}: " + ("changed" if self.changed else "no change")
        if self.refused:
            head += f" (refused: {self.refused})"
        return "\n".join([head, *(f"  - {d}" for d in self.details)])


class ReportBuilder:
    """Collects details while an action runs, then freezes them into an :class:`ActionReport`."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.changed = False
        self.details: list[str] = []

    def change(self, detail: str) -> None:
        """Record a modification."""
        self.changed = True
        self.details.append(detail)

    def note(self, detail: str) -> None:
        """Record something observed or deliberately left alone (not a modification)."""
        self.details.append(detail)

    def build(self, refused: str | None = None) -> ActionReport:
        if refused is not None:
            self.details.append(f"refused: {refused}")
        return ActionReport(self.action, self.changed, tuple(self.details), refused)
