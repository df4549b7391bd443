"""Rule-based classification of errors: exception objects, tracebacks, tool output, any error text.

Every rule that fires adds weight to one category (`rules.py`); the heaviest category wins and the
confidence grows with its margin over the runner-up. Exception objects are read by duck typing
(`exceptions.py`) along their whole cause/context chain, so a RuntimeError wrapping a refused connection
is network. Text is split into message lines and frames first (`text.py`) so stack frames and quoted
source never count as evidence.

`category_of` is the hot path of retry: it caches the verdict per exception type when the type alone
decides and never computes a fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable

from recoup.errors import exceptions as _exc
from recoup.errors.fingerprint import fingerprint as _fingerprint
from recoup.errors.rules import (
    ERRNO,
    INSTANCE_DEPENDENT,
    MYSQL_CODES,
    PERMANENT_STATUSES,
    Evidence,
    compiled,
    sqlstate_category,
    status_category,
    type_name_evidence,
)
from recoup.errors.taxonomy import TRANSIENT_BY_DEFAULT, Category, Classification
from recoup.errors.text import in_app_path, parse

__all__ = ["category_of", "classify", "retry_after_of", "text_evidence"]

#: Below this total weight nothing is recognisable: the error is `unknown`.
_MIN_SCORE = 2.0
#: Longer error texts are cut to their head and tail: the cause is almost always named there.
_MAX_BODY = 8000
_DECISIVE_BUILTINS = frozenset({"ConnectionError", "TimeoutError", "ValueError", "PermissionError"})


def _decide(evidence: Iterable[Evidence]) -> tuple[Category, float, str]:
    """(category, confidence, reason) from weighed evidence."""
    totals: dict[Category, float] = {}
    best: dict[Category, Evidence] = {}
    for ev in evidence:
        if ev.weight <= 0:
            continue
        totals[ev.category] = totals.get(ev.category, 0.0) + ev.weight
        if ev.category not in best or ev.weight > best[ev.category].weight:
            best[ev.category] = ev
    if not totals:
        return Category.UNKNOWN, 0.5, "no recognisable evidence"
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    top_cat, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if top < _MIN_SCORE:
        return Category.UNKNOWN, 0.4, f"only weak evidence ({best[top_cat].reason})"
    confidence = top / (top + second) * min(1.0, top / 5.0)
    return top_cat, round(max(0.05, min(0.99, confidence)), 3), best[top_cat].reason


def text_evidence(text: str, weight: float = 1.0) -> list[Evidence]:
    """Evidence from error text (message lines only; frames and quoted source are ignored)."""
    parsed = parse(text)
    return _evidence_from_parsed(parsed.messages, parsed.types, weight)


def _evidence_from_parsed(messages: list[str], types: list[str], weight: float) -> list[Evidence]:
    body = "\n".join(messages)
    if len(body) > _MAX_BODY:
        body = body[: _MAX_BODY // 2] + "\n" + body[-_MAX_BODY // 2 :]
    lowered = body.lower()
    rules = compiled()
    out: list[Evidence] = []
    for pattern, rule in rules.text_rules:
        m = pattern.search(lowered)
        if m:
            snippet = " ".join(m.group(0).split())[:48]
            out.append(Evidence(rule.category, rule.weight * weight, f"{rule.reason}: {snippet!r}"))
    seen_types: set[str] = set()
    for name in types:
        bare = name.rsplit(".", 1)[-1]
        if bare in seen_types:
            continue
        seen_types.add(bare)
        found = type_name_evidence(name, name if "." in name else "")
        out.extend(Evidence(e.category, e.weight * weight, e.reason) for e in found)
    statuses: set[int] = set()
    for m in rules.status.finditer(body):
        code = int(next(g for g in m.groups() if g))
        if code in statuses:
            continue
        statuses.add(code)
        cat = status_category(code)
        if cat is not None:
            out.append(Evidence(cat, 6.0 * weight, f"HTTP {code}"))
    for m in rules.errno_in_text.finditer(body):
        number = int(next(g for g in m.groups() if g))
        if number in ERRNO:
            cat, name = ERRNO[number]
            out.append(Evidence(cat, 4.0 * weight, f"errno {name}"))
    states: set[str] = set()
    server_reason = "fatal:" in lowered
    for m in rules.sqlstate.finditer(body):
        state = next(g for g in m.groups() if g)
        if state in states:
            continue  # a driver repeats its SQLSTATE in every chained exception: one piece of evidence
        states.add(state)
        if state.startswith("08") and server_reason:
            continue  # "connection exception", yet the server answered with its own reason, which says more
        cat = sqlstate_category(state)
        if cat is not None:
            out.append(Evidence(cat, 4.0 * weight, f"SQLSTATE {state}"))
    for m in rules.mysql_code.finditer(body):
        code = int(next(g for g in m.groups() if g))
        cat = MYSQL_CODES.get(code)
        if cat is not None:
            out.append(Evidence(cat, 5.0 * weight, f"MySQL error {code}"))
    return out


# --------------------------------------------------------------------------- exception objects


def _exception_evidence(exc: BaseException) -> list[Evidence]:
    out: list[Evidence] = []
    for link, weight in _exc.chain(exc):
        out.extend(Evidence(e.category, e.weight * weight, e.reason) for e in _type_info(type(link)).evidence)
        out.extend(Evidence(e.category, e.weight * weight, e.reason) for e in _exc.instance_evidence(link))
        message = _safe_str(link)
        attached = _exc.attached_text(link)
        if attached:
            message = f"{message}\n{attached}" if message else attached
        if message:
            parsed = parse(message)
            out.extend(_evidence_from_parsed(parsed.messages, parsed.types, weight))
    return out


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return ""


def _exception_frames(exc: BaseException) -> list[tuple[str, str]]:
    links = [link for link, _ in _exc.chain(exc)]
    frames: list[tuple[str, str]] = []
    for link in reversed(links):
        tb = link.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            tb = tb.tb_next
            path = code.co_filename
            if in_app_path(path):
                base = path.replace("\\", "/").rsplit("/", 1)[-1]
                frames.append((base.rsplit(".", 1)[0] if "." in base else base, code.co_name))
    return frames


def _transient(category: Category, exc: BaseException | None) -> bool:
    transient = category in TRANSIENT_BY_DEFAULT
    if exc is not None:
        status = _exc.status_of(exc)
        if status in PERMANENT_STATUSES:
            return False
    return transient


def _classify_exception(exc: BaseException) -> Classification:
    category, confidence, reason = _decide(_exception_evidence(exc))
    message = _safe_str(exc).strip().splitlines()
    fp = _fingerprint(_exc.qualname(type(exc)), message[0] if message else "", _exception_frames(exc))
    return Classification(category, _transient(category, exc), confidence, fp, reason)


_CHAIN_SEPARATORS = (
    "\nDuring handling of the above exception, another exception occurred:\n",
    "\nThe above exception was the direct cause of the following exception:\n",
)


#: A new traceback that is not chained to the one before it: an unrelated earlier error in the same output.
_TRACEBACK_HEADER = "\nTraceback (most recent call last):"


def _last_chain_start(text: str) -> int:
    """Where the last traceback chain starts: the last traceback header not chained to the one before it."""
    at = text.rfind(_TRACEBACK_HEADER)
    while at > 0 and any(text.endswith(sep, 0, at) for sep in _CHAIN_SEPARATORS):
        at = text.rfind(_TRACEBACK_HEADER, 0, at)
    return max(at, 0)


def _text_chain_evidence(text: str) -> list[Evidence]:
    """Evidence from a chained Python traceback: the reported (last) exception counts fully, the
    exceptions it was raised from count like an exception object's context (less). Tracebacks that are not chained
    to the last one (a warning a library printed on the way, an earlier request's error in a log) count least."""
    start = _last_chain_start(text)
    unrelated, text = text[:start], text[start:]
    sections = [text]
    for sep in _CHAIN_SEPARATORS:
        sections = [part for section in sections for part in section.split(sep)]
    out: list[Evidence] = []
    if unrelated:
        parsed = parse(unrelated)
        out.extend(_evidence_from_parsed(parsed.messages, parsed.types, 0.3))
    for index, section in enumerate(sections):
        parsed = parse(section)
        out.extend(_evidence_from_parsed(parsed.messages, parsed.types, 1.0 if index == len(sections) - 1 else 0.6))
    return out


def _frame_evidence(text: str) -> list[Evidence]:
    """Evidence from where the error was raised (stack frames included), for messages that do not name it."""
    lowered = (text if len(text) <= _MAX_BODY else text[: _MAX_BODY // 2] + "\n" + text[-_MAX_BODY // 2 :]).lower()
    out: list[Evidence] = []
    for pattern, rule in compiled().frame_rules:
        if pattern.search(lowered):
            out.append(Evidence(rule.category, rule.weight, rule.reason))
    return out


def _classify_text(text: str) -> Classification:
    parsed = parse(text)
    if any(sep in text for sep in _CHAIN_SEPARATORS) or _last_chain_start(text) > 0:
        evidence = _text_chain_evidence(text)
    else:
        evidence = _evidence_from_parsed(parsed.messages, parsed.types, 1.0)
    evidence += _frame_evidence(text)
    category, confidence, reason = _decide(evidence)
    if parsed.last_type:
        fp = _fingerprint(parsed.last_type, parsed.last_message.splitlines()[0] if parsed.last_message else "",
                          parsed.frames)
    else:
        fp = _fingerprint("text", "\n".join(parsed.messages[:5]), parsed.frames)
    return Classification(category, category in TRANSIENT_BY_DEFAULT, confidence, fp, reason)


def classify(error: BaseException | str) -> Classification:
    """Classify an exception (with its chain) or any error text: traceback, log line, tool stderr."""
    if isinstance(error, BaseException):
        return _classify_exception(error)
    return _classify_text(str(error))


# --------------------------------------------------------------------------- hot path


class _TypeInfo:
    """What a type alone says: its evidence, and the verdict when no instance can change it."""

    __slots__ = ("decided", "evidence")

    def __init__(self, evidence: list[Evidence], decided: tuple[Category, bool] | None) -> None:
        self.evidence = evidence
        self.decided = decided


_TYPES: dict[type, _TypeInfo] = {}


def _type_info(klass: type) -> _TypeInfo:
    info = _TYPES.get(klass)
    if info is not None:
        return info
    evidence = _exc.type_evidence(klass)
    decided: tuple[Category, bool] | None = None
    state = getattr(klass, "sqlstate", None)
    if isinstance(state, str) and sqlstate_category(state) is not None:
        cat = sqlstate_category(state)
        assert cat is not None
        evidence = [*evidence, Evidence(cat, 6.0, f"SQLSTATE {state}")]
    name = klass.__name__
    dependent = name in INSTANCE_DEPENDENT and not (klass.__module__ == "builtins" and name in _DECISIVE_BUILTINS)
    if not dependent and evidence:
        category, confidence, _ = _decide(evidence)
        if category is not Category.UNKNOWN and confidence >= 0.6:
            decided = (category, category in TRANSIENT_BY_DEFAULT)
    info = _TypeInfo(evidence, decided)
    if len(_TYPES) < 4096:
        _TYPES[klass] = info
    return info


def category_of(exc: BaseException) -> tuple[Category, bool]:
    """Fast path for retry decisions: (category, transient). No fingerprint is computed."""
    info = _TYPES.get(type(exc)) or _type_info(type(exc))
    if info.decided is not None:
        return info.decided
    status = _exc.status_of(exc)
    if status is not None:
        cat = status_category(status)
        if cat is not None:
            return cat, cat in TRANSIENT_BY_DEFAULT and status not in PERMANENT_STATUSES
    attributes = _exc.instance_evidence(exc)
    if attributes:  # errno, SQLSTATE, driver error number: decisive without reading the message
        category, confidence, _ = _decide([*info.evidence, *attributes])
        if category is not Category.UNKNOWN and confidence >= 0.6:
            return category, category in TRANSIENT_BY_DEFAULT
    category, _, _ = _decide(_exception_evidence(exc))
    return category, _transient(category, exc)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds a server (Retry-After header) or a recoup policy (`retry_after`) asked us to wait, if any."""
    return _exc.retry_after(exc)


