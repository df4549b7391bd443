"""The live progress display of `recoup load` (rich), and the final table. Imported only by the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from recoup.load.format import format_duration, format_rate
from recoup.load.report import summary_rows
from recoup.load.result import LoadResult
from recoup.load.runner import Progress
from recoup.load.thresholds import ThresholdOutcome

__all__ = ["LiveDisplay", "result_table", "threshold_table"]


class LiveDisplay:
    """A self-refreshing panel: elapsed/duration bar, rate, in flight, p99 so far, errors, dropped."""

    def __init__(self, console: Console, title: str) -> None:
        self.console, self.title = console, title
        self._live = Live(self._render(None), console=console, refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._live.__exit__(exc_type, exc, tb)

    def update(self, progress: Progress) -> None:
        self._live.update(self._render(progress))

    def _render(self, progress: Progress | None) -> Group:
        if progress is None:
            return Group(Text(f"{self.title}: starting…"))
        done = min(progress.elapsed, progress.duration)
        bar = ProgressBar(total=progress.duration, completed=done, width=30)
        line = Text.assemble(
            (f"{progress.elapsed:.1f}s / {progress.duration:g}s", "bold"),
            f"  rate {format_rate(progress.rate)}  in flight {progress.in_flight}",
            f"  p99 {format_duration(progress.p99) if progress.completed else '—'}",
            (f"  errors {progress.errors}", "red" if progress.errors else ""),
            (f"  dropped {progress.dropped}", "yellow" if progress.dropped else ""),
            f"  done {progress.completed}",
        )
        row = Table.grid(padding=(0, 2))
        row.add_row(bar, line)  # a bare ProgressBar ends without a newline: keep it in a grid cell
        return Group(Text(self.title, style="bold"), row)


def result_table(result: LoadResult) -> Table:
    table = Table(show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in summary_rows(result):
        table.add_row(label, value)
    return table


def threshold_table(outcomes: Sequence[ThresholdOutcome]) -> Table:
    table = Table(title="thresholds")
    table.add_column("threshold")
    table.add_column("measured", justify="right")
    table.add_column("result")
    for o in outcomes:
        table.add_row(o.threshold.text, o.measured_text, "[green]pass" if o.passed else "[bold red]FAIL")
    return table
