"""``recoup templates``: mine message templates from log lines on the command line.

Kept apart from `recoup.cli` so ``recoup --help`` never imports the analytics code; the command imports
it when it runs. Streams: one JSON line out per line in, flushed at once, memory bounded by the number
of distinct templates rather than by the input.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Annotated, TextIO

import typer


def templates(
    file: Annotated[
        Path | None, typer.Argument(help="Log lines or messages, one per line (default: standard input).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="JSON file keeping template ids across runs (read if present, then written)."),
    ] = None,
    keep_header: Annotated[
        bool, typer.Option("--keep-header", help="Mine whole lines; by default a log header is set aside.")
    ] = False,
    save_every: Annotated[
        float,
        typer.Option("--save-every", min=0.0, help="With --state: also save this often (s) when templates are new."),
    ] = 30.0,
) -> None:
    """Write {"template_id", "template", "parameters"} as one JSON line per input line, in order."""
    from recoup.analytics.templates import StateError, TemplateMiner

    try:
        miner = (
            TemplateMiner.open(state, strip_header=not keep_header)
            if state
            else TemplateMiner(strip_header=not keep_header)
        )
    except (StateError, OSError) as exc:
        typer.echo(f"recoup: cannot read the template state: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if file is not None:
        try:
            source: TextIO = file.open(encoding="utf-8", errors="replace", newline=None)
        except OSError as exc:
            typer.echo(f"recoup: cannot read {file}: {exc}", err=True)
            raise typer.Exit(code=1) from None
    else:
        source = sys.stdin
        if isinstance(source, io.TextIOWrapper):  # undecodable bytes become U+FFFD instead of a crash
            source.reconfigure(errors="replace")
    out = sys.stdout
    known, saved_at = miner.template_count, time.monotonic()
    try:
        for line in source:
            found = miner.add(line.rstrip("\r\n"))
            # a long-running stream (`tail -f`) keeps its new ids even if it is killed later; saved before
            # the line is written, so an id a reader has seen is on disk when the interval has passed
            if state is not None and miner.template_count != known and time.monotonic() - saved_at >= save_every:
                miner.save(state)
                known, saved_at = miner.template_count, time.monotonic()
            record = {"template_id": found.template_id, "template": found.template, "parameters": found.parameters}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
    except BrokenPipeError:
        pass  # the reader (e.g. `head`) has gone; what was mined is still saved below
    finally:
        if file is not None:
            source.close()
        if state is not None:
            miner.save(state)


def register(app: typer.Typer) -> None:
    """Add the analytics commands to ``app``."""
    app.command("templates")(templates)
