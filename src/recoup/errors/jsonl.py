"""JSON-lines classification, for `recoup classify [FILE]`.

Input: one JSON object per line, `{"text": "..."}`. Output: one JSON line per non-blank input line, in
the same order: `{"category", "transient", "confidence", "fingerprint", "reason"}`, or, for a line that
cannot be classified, `{"error": "line N: <problem>"}` in its place (lines are never dropped or
reordered; blank lines are skipped and produce nothing).

Two ways to use it:

* `classify_lines(lines)` -- a generator of output lines; pass `on_bad=callback` to hear about bad lines.
* `JsonlClassifier().classify_lines(lines)` -- the same, and afterwards `.bad_lines` holds how many input
  lines were bad, so a CLI can exit non-zero when it is greater than 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from recoup.errors.classifier import classify
from recoup.errors.taxonomy import Classification

__all__ = ["JsonlClassifier", "classify_lines"]


def _problem(raw: str) -> tuple[str | None, str | None]:
    """(text, None) for a good line, (None, problem) for a bad one."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    if "text" not in obj:
        return None, 'missing "text"'
    text = obj["text"]
    if not isinstance(text, str):
        return None, f'"text" must be a string, got {type(text).__name__}'
    return text, None


def classify_lines(
    lines: Iterable[str],
    on_bad: Callable[[int, str], None] | None = None,
    classify_fn: Callable[[str], Classification] = classify,
) -> Iterator[str]:
    """Classify each JSON line; yield one JSON result (or error object) per non-blank line, same order.
    ``classify_fn`` is the rules by default; the CLI passes the combined classifier when it is installed."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        text, problem = _problem(raw)
        if problem is not None or text is None:
            message = f"line {number}: {problem}"
            if on_bad is not None:
                on_bad(number, message)
            yield json.dumps({"error": message})
            continue
        yield json.dumps(classify_fn(text).to_dict(), ensure_ascii=False)


class JsonlClassifier:
    """Stateful wrapper that counts bad input lines (`bad_lines`) for the CLI's exit status."""

    def __init__(self, classify_fn: Callable[[str], Classification] = classify) -> None:
        self.bad_lines = 0
        self.lines = 0
        self.classify_fn = classify_fn

    def _bad(self, _number: int, _message: str) -> None:
        self.bad_lines += 1

    def classify_lines(self, lines: Iterable[str]) -> Iterator[str]:
        for out in classify_lines(lines, on_bad=self._bad, classify_fn=self.classify_fn):
            self.lines += 1
            yield out
